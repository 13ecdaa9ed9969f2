package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestUploadsSurviveKill9WithoutOrphans kills the server with SIGKILL
// while clients upload files, restarts it on the same data, and checks
// that every upload that got a 201 downloads byte-identical, and that
// after the restart's sweep the file store holds exactly the files the
// database refers to: no orphan, no unfinished upload. On the local
// directory and on S3, with the engine under test (SQLite, or
// PostgreSQL with BOXWIRE_TEST_POSTGRES).
func TestUploadsSurviveKill9WithoutOrphans(t *testing.T) {
	t.Run("dir", func(t *testing.T) { uploadsSurviveKill9(t, "") })
	t.Run("s3", func(t *testing.T) {
		url, _ := s3Server(t)
		uploadsSurviveKill9(t, url)
	})
}

func uploadsSurviveKill9(t *testing.T, blobsURL string) {
	const writers = 4
	sc := storeConfig(t)
	var extra []string
	if blobsURL != "" {
		extra = []string{"--blobs", blobsURL}
	}
	if out, code := runCLI(t, sc, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", out)
	}
	for w := range writers {
		if out, code := runCLI(t, sc, "user", "add", "--email", fmt.Sprintf("u%d@example.com", w), "--password", "uploader-password", "--name", "Uploader"); code != 0 {
			t.Fatalf("user add: %s", out)
		}
	}
	p := startProcess(t, sc, extra...)
	type writer struct {
		c     *client
		box   string
		acked map[string][32]byte // file id → SHA-256 of what was sent
	}
	ws := make([]*writer, writers)
	for w := range ws {
		c := newClient(t, p.url)
		tok := c.login(fmt.Sprintf("u%d@example.com", w), "uploader-password")
		c.http.Jar = nil
		c.hdr.Set("Authorization", "Bearer "+tok)
		u := &user{client: c}
		ws[w] = &writer{c: c, box: u.createBox(t, "Files", "limited")["id"].(string), acked: map[string][32]byte{}}
	}

	var (
		mu    sync.Mutex
		total int
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for _, wr := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				data := make([]byte, 1+(i*7919)%(1<<20)) // up to 1 MiB, of varied sizes
				rand.Read(data)
				id, err := postFile(wr.c, wr.box, data)
				if err != nil {
					time.Sleep(5 * time.Millisecond) // the server is gone; keep trying until told to stop
					continue
				}
				mu.Lock()
				wr.acked[id] = sha256.Sum256(data)
				total++
				mu.Unlock()
			}
		}()
	}
	waitFor(t, 90*time.Second, "30 acknowledged uploads", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return total >= 30
	})
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	close(stop)
	wg.Wait()

	// What a crash can leave, made sure of: a file kept whose transaction
	// never committed, and an upload never kept (the kill may or may not
	// have left some of its own).
	files, err := openBlobs(context.Background(), Config{StoreConfig: sc, Blobs: blobsURL})
	if err != nil {
		t.Fatal(err)
	}
	orphan, err := files.Receive(bytes.NewReader([]byte("kept, never committed")), 100, "file")
	if err != nil {
		t.Fatal(err)
	}
	if err := orphan.Keep(uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	if _, err := files.Receive(bytes.NewReader([]byte("received, never kept")), 100, "file"); err != nil {
		t.Fatal(err)
	}

	p2 := startProcess(t, sc, append(extra, "--blob-sweep-grace", "1ms")...)
	swept := regexp.MustCompile(`"msg":"file store swept","store":"files","orphans_removed":(\d+),"unfinished_uploads_removed":(\d+)`)
	var m []string
	waitFor(t, 30*time.Second, "the start-up sweep of the file store", func() bool {
		m = swept.FindStringSubmatch(p2.logs.String())
		return m != nil
	})
	orphans, _ := strconv.Atoi(m[1])
	unfinished, _ := strconv.Atoi(m[2])
	t.Logf("%d acknowledged uploads; the sweep removed %d orphans and %d unfinished uploads", total, orphans, unfinished)
	if orphans < 1 || unfinished < 1 {
		t.Fatalf("the sweep removed %d orphans and %d unfinished uploads, want at least the planted one of each", orphans, unfinished)
	}

	// Every acknowledged upload is there, byte-identical.
	for w, wr := range ws {
		wr.c.base = p2.url
		for id, sum := range wr.acked {
			r := wr.c.do("GET", "/encrypted-files/"+id, nil)
			if r.status != 200 || sha256.Sum256(r.body) != sum {
				t.Errorf("writer %d: acknowledged file %s after kill -9: %d, %d bytes that differ from those sent", w, id, r.status, len(r.body))
			}
		}
	}

	// The store holds what the database refers to, and nothing else.
	var listed []string
	err = files.List(context.Background(), func(id string, _ time.Time) error {
		listed = append(listed, id)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s := openSameStore(t, sc)
	if gone, err := s.UnreferencedBlobs(context.Background(), listed); err != nil || len(gone) != 0 {
		t.Fatalf("after the sweep the store holds %d files the database does not refer to: %v (%v)", len(gone), gone, err)
	}
	held := map[string]bool{}
	for _, id := range listed {
		held[id] = true
	}
	for _, wr := range ws {
		for id := range wr.acked {
			if !held[id] {
				t.Errorf("acknowledged file %s is not in the store", id)
			}
		}
	}
	if n, err := files.RemoveUnfinished(context.Background(), time.Now().Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("after the sweep %d unfinished uploads were left (%v)", n, err)
	}
}

// postFile uploads data to a box as a file, and returns its id once the
// server answered 201; a server gone is an error, never a test failure.
func postFile(c *client, boxID string, data []byte) (string, error) {
	body, contentType := fileUpload(data)
	req, err := http.NewRequest("POST", c.base+"/boxes/"+boxID+"/encrypted-files", body)
	if err != nil {
		return "", err
	}
	for k, v := range c.hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", contentType)
	res, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	if res.StatusCode != 201 {
		return "", fmt.Errorf("upload: %d %s", res.StatusCode, b)
	}
	var ev struct {
		Content struct {
			FileID string `json:"encrypted_file_id"`
		} `json:"content"`
	}
	if err := json.Unmarshal(b, &ev); err != nil || ev.Content.FileID == "" {
		return "", fmt.Errorf("upload answered %s", b)
	}
	return ev.Content.FileID, nil
}
