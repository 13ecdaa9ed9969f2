package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/store"
	"github.com/boxwire/boxwire/internal/store/storetest"
)

// process is boxwire running as a separate OS process.
type process struct {
	cmd    *exec.Cmd
	url    string
	output *syncBuffer
	logs   *syncBuffer // its standard error: the JSON log
	exited chan error
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// startProcess runs `boxwire serve` in a child process (this test binary
// re-executing Main) and waits until it prints its address; extra are
// more flags.
func startProcess(t *testing.T, sc StoreConfig, extra ...string) *process {
	t.Helper()
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", sc.Data}
	if sc.Database != "" {
		args = append(args, "--database", sc.Database)
	}
	if sc.SecretKeyFile != "" {
		args = append(args, "--secret-key-file", sc.SecretKeyFile)
	}
	args = append(args, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, output: &syncBuffer{}, logs: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.output.Write(append(sc.Bytes(), '\n'))
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case p.url = <-urls:
	case err := <-p.exited:
		t.Fatalf("boxwire exited before serving: %v\n%s", err, p.output)
	case <-time.After(20 * time.Second):
		t.Fatalf("boxwire did not start:\n%s", p.output)
	}
	return p
}

// TestAcknowledgedWritesSurviveKill9 kills the server with SIGKILL while
// clients write, restarts it on the same data, and checks that every
// write that got a 2xx is there: in the journal, and through the API.
func TestAcknowledgedWritesSurviveKill9(t *testing.T) {
	const writers = 8
	sc := storeConfig(t)
	if out, code := runCLI(t, sc, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", out)
	}
	for w := range writers {
		if out, code := runCLI(t, sc, "user", "add", "--email", fmt.Sprintf("w%d@example.com", w), "--password", "writer-password", "--name", "Writer"); code != 0 {
			t.Fatalf("user add: %s", out)
		}
	}
	p := startProcess(t, sc)
	type writer struct {
		c      *client
		id     string
		acked  []string
		latest string
	}
	ws := make([]*writer, writers)
	for w := range ws {
		c := newClient(t, p.url)
		tok := c.login(fmt.Sprintf("w%d@example.com", w), "writer-password")
		c.http.Jar = nil
		c.hdr.Set("Authorization", "Bearer "+tok)
		ws[w] = &writer{c: c, id: claimsOf(t, tok).Subject}
	}

	var (
		mu    sync.Mutex
		total int
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for w, wr := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("w%d-%d", w, i)
				status, err := patchName(wr.c, wr.id, name)
				if err != nil || status != 204 {
					time.Sleep(5 * time.Millisecond) // the server is gone; keep trying until told to stop
					continue
				}
				mu.Lock()
				wr.acked = append(wr.acked, name)
				total++
				mu.Unlock()
			}
		}()
	}
	waitFor(t, 60*time.Second, "400 acknowledged writes", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return total >= 400
	})
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	close(stop)
	wg.Wait()

	p2 := startProcess(t, sc)
	s := openSameStore(t, sc)
	stored := map[string]bool{}
	for after := int64(0); ; {
		entries, err := s.ReadJournal(context.Background(), journal.Query{After: after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			break
		}
		for _, e := range entries {
			after = e.Position
			var payload struct {
				DisplayName string `json:"display_name"`
			}
			if e.Type == "identity.updated" && json.Unmarshal(e.Payload, &payload) == nil {
				stored[payload.DisplayName] = true
			}
		}
	}
	lost := 0
	for _, wr := range ws {
		for _, name := range wr.acked {
			if !stored[name] {
				lost++
				t.Errorf("acknowledged write %s is missing after kill -9", name)
			}
		}
	}
	t.Logf("%d acknowledged writes, %d lost, %d journal entries", total, lost, len(stored))

	// Through the API: tokens from before the crash still work, and each
	// identity holds its last acknowledged name or a later attempt.
	for w, wr := range ws {
		wr.c.base = p2.url
		r := wr.c.do("GET", "/identities/"+wr.id, nil)
		if r.status != 200 {
			t.Fatalf("writer %d after restart: %d %s", w, r.status, r.body)
		}
		got := r.json(t)["display_name"].(string)
		last := wr.acked[len(wr.acked)-1]
		var gotN, lastN int
		fmt.Sscanf(got, fmt.Sprintf("w%d-%%d", w), &gotN)
		fmt.Sscanf(last, fmt.Sprintf("w%d-%%d", w), &lastN)
		if gotN < lastN {
			t.Errorf("writer %d: display name %q is older than the last acknowledged %q", w, got, last)
		}
	}

	// SIGTERM is a graceful stop.
	if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p2.exited:
		if err != nil {
			t.Fatalf("graceful stop exited with %v\n%s", err, p2.output)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("SIGTERM did not stop the server")
	}
	waitFor(t, 5*time.Second, "the stop message", func() bool { return regexp.MustCompile(`stopped`).MatchString(p2.output.String()) })
}

func patchName(c *client, id, name string) (int, error) {
	body, _ := json.Marshal(map[string]string{"display_name": name})
	req, err := newRequest("PATCH", c.base+"/identities/"+id, body)
	if err != nil {
		return 0, err
	}
	for k, v := range c.hdr {
		req.Header[k] = v
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

// openSameStore opens, in this process, the store a child process uses.
func openSameStore(t *testing.T, sc StoreConfig) *store.Store {
	t.Helper()
	db := sc.Database
	if db == "" {
		db = filepath.Join(sc.Data, "boxwire.db")
	}
	return storetest.Reopen(t, db, store.Options{})
}
