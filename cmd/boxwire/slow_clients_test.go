package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// rawRequest is a request written by hand on a TCP connection, its body
// paced: chunk bytes every interval, the way a slow client sends.
type rawRequest struct {
	method, path string
	header       http.Header
	length       int64 // Content-Length; the body may be shorter
	body         []byte
	chunk        int
	every        time.Duration
}

type rawResponse struct {
	status  int
	header  http.Header
	body    []byte
	elapsed time.Duration // from the first byte of the body sent
	sent    int           // body bytes written before the answer came
}

// send writes the request and reads the server's answer, which may come
// before the body is whole. It fails the test if no answer comes within
// wait: a server that keeps waiting for the body is what is tested.
func (rq rawRequest) send(t *testing.T, addr string, wait time.Duration) rawResponse {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var head bytes.Buffer
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", rq.method, rq.path, addr, rq.length)
	rq.header.Write(&head)
	head.WriteString("\r\n")
	if _, err := conn.Write(head.Bytes()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	stop, sent := make(chan struct{}), make(chan int, 1)
	go func() {
		n := 0
		defer func() { sent <- n }()
		tick := time.NewTicker(rq.every)
		defer tick.Stop()
		for n < len(rq.body) {
			end := min(n+rq.chunk, len(rq.body))
			if _, err := conn.Write(rq.body[n:end]); err != nil {
				return
			}
			n = end
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	finish := func() int { close(stop); return <-sent }
	conn.SetReadDeadline(time.Now().Add(wait))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		finish()
		t.Fatalf("%s %s: no answer within %v: %v", rq.method, rq.path, wait, err)
	}
	elapsed := time.Since(start)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return rawResponse{status: res.StatusCode, header: res.Header, body: b, elapsed: elapsed, sent: finish()}
}

// uploadBody is a multipart upload of data, as the boxes client sends it.
func uploadBody(data []byte) ([]byte, string) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("msg_encrypted_content", ciphertext("file message"))
	mw.WriteField("msg_public_key", randomKey())
	fw, _ := mw.CreateFormFile("encrypted_file", "blob")
	fw.Write(data)
	mw.Close()
	return body.Bytes(), mw.FormDataContentType()
}

func (u *user) uploadRequest(boxID string, data []byte, chunk int, every time.Duration) rawRequest {
	body, ct := uploadBody(data)
	return rawRequest{method: "POST", path: "/boxes/" + boxID + "/encrypted-files",
		header: http.Header{"Authorization": {"Bearer " + u.token()}, "Content-Type": {ct}},
		length: int64(len(body)), body: body, chunk: chunk, every: every}
}

func misakeyCode(t *testing.T, b []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", b, err)
	}
	s, _ := m["code"].(string)
	return s
}

// storedFiles lists what the blob directory holds, temporary files
// included: an upload that was refused must leave nothing.
func storedFiles(t *testing.T, ts *testServer) []string {
	t.Helper()
	var found []string
	root := filepath.Join(ts.Config.Data, "files")
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			found = append(found, strings.TrimPrefix(path, root))
		}
		return nil
	})
	return found
}

// TestSlowBodiesAreCutOff: a client that trickles a body in is answered
// 408 once --body-timeout has passed, instead of holding its connection
// and handler forever; an upload must keep --upload-min-rate on average,
// and one that does may take longer than --body-timeout.
func TestSlowBodiesAreCutOff(t *testing.T) {
	const timeout, rate = time.Second, 64 << 10
	ts := startServer(t, storeConfig(t), func(c *Config) { c.BodyTimeout, c.UploadMinRate = timeout, rate })
	alice := ts.user(t, "Alice")
	boxID := alice.createBox(t, "files", "limited")["id"].(string)

	t.Run("JSON body at a few bytes a second", func(t *testing.T) {
		body := []byte(`{"title": "a box", "public_key": "` + randomKey() + `", "access_mode": "limited"}`)
		rq := rawRequest{method: "POST", path: "/boxes", header: http.Header{"Authorization": {"Bearer " + alice.token()},
			"Content-Type": {"application/json"}}, length: int64(len(body)), body: body, chunk: 1, every: 200 * time.Millisecond}
		res := rq.send(t, ts.Addr(), 10*time.Second)
		if res.status != http.StatusRequestTimeout || misakeyCode(t, res.body) != "request_timeout" {
			t.Fatalf("slow JSON body: %d %s", res.status, res.body)
		}
		if res.elapsed < timeout || res.sent >= len(body) {
			t.Fatalf("cut off after %v with %d of %d bytes sent; want after %v, before the end", res.elapsed, res.sent, len(body), timeout)
		}
		if n := len(list(t, alice.do("GET", "/boxes/joined", nil))); n != 1 {
			t.Fatalf("the cut-off request created a box: %d boxes", n)
		}
	})

	t.Run("upload below the minimum rate", func(t *testing.T) {
		// 8 KiB/s against 64 KiB/s: cut off a little after the grace.
		rq := alice.uploadRequest(boxID, bytes.Repeat([]byte("x"), 256<<10), 1<<10, 125*time.Millisecond)
		res := rq.send(t, ts.Addr(), 10*time.Second)
		if res.status != http.StatusRequestTimeout || !strings.Contains(string(res.body), "bytes a second") {
			t.Fatalf("slow upload: %d %s", res.status, res.body)
		}
		if res.sent >= len(rq.body) {
			t.Fatalf("the whole upload was sent (%d bytes) before the answer", res.sent)
		}
		waitFor(t, 5*time.Second, "the cut-off upload's temporary file removed", func() bool { return len(storedFiles(t, ts)) == 0 })
	})

	t.Run("upload above the minimum rate, longer than the body timeout", func(t *testing.T) {
		// 256 KiB/s for 2.5s: four times the minimum, two and a half
		// times the body timeout.
		data := bytes.Repeat([]byte("y"), 640<<10)
		rq := alice.uploadRequest(boxID, data, 32<<10, 125*time.Millisecond)
		res := rq.send(t, ts.Addr(), 20*time.Second)
		if res.status != http.StatusCreated {
			t.Fatalf("steady upload: %d %s", res.status, res.body)
		}
		if res.elapsed < 2*timeout {
			t.Fatalf("the upload took %v; the test needs it longer than the body timeout %v", res.elapsed, timeout)
		}
		var ev struct {
			Content struct {
				FileID string `json:"encrypted_file_id"`
			} `json:"content"`
		}
		json.Unmarshal(res.body, &ev)
		got := alice.do("GET", "/encrypted-files/"+ev.Content.FileID, nil)
		if got.status != 200 || !bytes.Equal(got.body, data) {
			t.Fatalf("download: %d, %d bytes, want the %d uploaded", got.status, len(got.body), len(data))
		}
	})

	t.Run("a fast body still arrives whole", func(t *testing.T) {
		if r := alice.do("POST", "/boxes", map[string]string{"title": "t", "public_key": randomKey()}); r.status != 201 {
			t.Fatalf("create box: %d %s", r.status, r.body)
		}
	})
}

// TestUploadTooLargeByContentLength: an upload whose Content-Length cannot
// fit --max-file-size is refused from its headers: the server answers 413
// naming encrypted_file without waiting for the body (the client here
// never sends it, and asked for 100-continue), and stores nothing.
func TestUploadTooLargeByContentLength(t *testing.T) {
	const limit = 4 << 10
	ts := startServer(t, storeConfig(t), func(c *Config) { c.MaxFileSize = limit })
	alice := ts.user(t, "Alice")
	boxID := alice.createBox(t, "files", "limited")["id"].(string)
	rq := alice.uploadRequest(boxID, nil, 1, time.Second)
	rq.body = nil // the body never comes
	rq.length = limit + 2<<20
	rq.header.Set("Expect", "100-continue")
	res := rq.send(t, ts.Addr(), 5*time.Second)
	if res.status != http.StatusRequestEntityTooLarge || misakeyCode(t, res.body) != "request_entity_too_large" {
		t.Fatalf("oversize Content-Length: %d %s", res.status, res.body)
	}
	var m struct{ Details map[string]string }
	json.Unmarshal(res.body, &m)
	if m.Details["encrypted_file"] != "too_large" {
		t.Fatalf("details %v, want encrypted_file: too_large", m.Details)
	}
	if files := storedFiles(t, ts); len(files) != 0 {
		t.Fatalf("the refused upload stored %v", files)
	}
	if n := len(alice.events(t, boxID)); n != 1 {
		t.Fatalf("the box has %d events, want only its creation", n)
	}
	// Within the limit, the same client is served.
	if r := alice.upload(t, boxID, bytes.Repeat([]byte("z"), limit)); r.status != 201 {
		t.Fatalf("upload at the limit: %d %s", r.status, r.body)
	}
}

// TestLiveStreamQuota: one identity holds at most --max-streams-per-identity
// live streams on a node, WebSockets, SSE and long-polls counted together;
// the one past it gets 429 before any upgrade, another identity is still
// served, and a closed stream gives its place back.
func TestLiveStreamQuota(t *testing.T) {
	const quota = 2
	ts := startServer(t, storeConfig(t), func(c *Config) {
		c.MaxStreamsPerIdentity = quota
		c.LongPollHold = time.Minute
	})
	type opener struct {
		name string
		open func(ts *testServer, u *user) (status int, close func())
	}
	transports := []opener{{"websocket", openWS}, {"sse", openSSEStatus}, {"long-poll", openLongPoll}}
	admitted := func(status int) bool { return status == http.StatusOK || status == http.StatusSwitchingProtocols }
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			u, other := ts.user(t, "Full"+tr.name), ts.user(t, "Other"+tr.name)
			var closers []func()
			defer func() {
				for _, cl := range closers {
					cl()
				}
			}()
			for i := range quota {
				status, cl := tr.open(ts, u)
				closers = append(closers, cl)
				if !admitted(status) {
					t.Fatalf("stream %d: status %d", i+1, status)
				}
			}
			status, cl := tr.open(ts, u)
			closers = append(closers, cl)
			if status != http.StatusTooManyRequests {
				t.Fatalf("stream %d of one identity: status %d, want 429", quota+1, status)
			}
			status, cl = tr.open(ts, other)
			closers = append(closers, cl)
			if !admitted(status) {
				t.Fatalf("another identity's stream: status %d", status)
			}
			closers[0]()
			waitFor(t, 10*time.Second, "a closed stream's place given back", func() bool { return ts.StreamQuota.Open(u.id) < quota })
			status, cl = tr.open(ts, u)
			closers = append(closers, cl)
			if !admitted(status) {
				t.Fatalf("a stream in the place of a closed one: status %d", status)
			}
		})
	}
	t.Run("transports share the quota", func(t *testing.T) {
		u := ts.user(t, "Mixed")
		_, closeWS := openWS(ts, u)
		defer closeWS()
		_, closeSSE := openSSEStatus(ts, u)
		defer closeSSE()
		for _, tr := range transports {
			status, cl := tr.open(ts, u)
			cl()
			if status != http.StatusTooManyRequests {
				t.Fatalf("%s past a WebSocket and an SSE stream: status %d, want 429", tr.name, status)
			}
		}
	})
}

// openWS dials the user's WebSocket: 101 and a closer, or the refusal.
func openWS(_ *testServer, u *user) (int, func()) {
	url := "ws" + strings.TrimPrefix(u.base, "http") + "/box-users/" + u.id + "/ws"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + u.token()}}})
	if err != nil {
		if res != nil {
			return res.StatusCode, func() {}
		}
		return 0, func() {}
	}
	return http.StatusSwitchingProtocols, func() { c.CloseNow() }
}

// openSSEStatus opens the user's SSE stream: its status, and a closer.
func openSSEStatus(_ *testServer, u *user) (int, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	res, err := heldGet(ctx, u, "/box-users/"+u.id+"/sse")
	if err != nil {
		cancel()
		return 0, func() {}
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		cancel()
		return res.StatusCode, func() {}
	}
	return http.StatusOK, func() { cancel(); res.Body.Close() }
}

// openLongPoll sends a Box-compatible long-poll that has nothing to wait
// for. A refusal comes at once; an admitted long-poll answers nothing, so
// it counts as open once the server counts it against the identity.
func openLongPoll(ts *testServer, u *user) (int, func()) {
	before := ts.StreamQuota.Open(u.id)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		res, err := heldGet(ctx, u, "/2.0/events/realtime?stream_type=all&stream_position=now")
		if err != nil {
			done <- 0
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case status := <-done:
			cancel()
			return status, func() {}
		case <-time.After(10 * time.Millisecond):
		}
		if ts.StreamQuota.Open(u.id) > before {
			return http.StatusOK, cancel
		}
	}
	cancel()
	return 0, func() {}
}

// heldGet sends a GET on a connection of its own, so that closing it
// ends the stream on the server.
func heldGet(ctx context.Context, u *user, path string) (*http.Response, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", u.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+u.token())
	return (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
}
