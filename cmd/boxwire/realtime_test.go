package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

type frame struct {
	Type     string          `json:"type"`
	Object   json.RawMessage `json:"object"`
	Position int64           `json:"position"`
}

func (f frame) field(name string) string {
	var m map[string]any
	json.Unmarshal(f.Object, &m)
	s, _ := m[name].(string)
	return s
}

// collector gathers frames from one connection.
type collector struct {
	mu     sync.Mutex
	frames []frame
	closed error
}

func (c *collector) add(f frame) {
	c.mu.Lock()
	c.frames = append(c.frames, f)
	c.mu.Unlock()
}

func (c *collector) snapshot() []frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]frame(nil), c.frames...)
}

func (c *collector) waitFor(t *testing.T, what string, cond func([]frame) bool) []frame {
	t.Helper()
	var got []frame
	waitFor(t, 10*time.Second, what, func() bool { got = c.snapshot(); return cond(got) })
	return got
}

func (u *user) token() string { return strings.TrimPrefix(u.hdr.Get("Authorization"), "Bearer ") }

// dialWS opens the user's WebSocket and collects its frames.
func (u *user) dialWS(t *testing.T, query string) (*collector, *websocket.Conn) {
	t.Helper()
	url := "ws" + strings.TrimPrefix(u.base, "http") + "/box-users/" + u.id + "/ws" + query
	c, _, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + u.token()}}})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	col := &collector{}
	go func() {
		for {
			var f frame
			if err := wsjson.Read(context.Background(), c, &f); err != nil {
				col.mu.Lock()
				col.closed = err
				col.mu.Unlock()
				return
			}
			col.add(f)
		}
	}()
	t.Cleanup(func() { c.CloseNow() })
	return col, c
}

// openSSE opens the user's event stream and collects its frames.
func (u *user) openSSE(t *testing.T, lastEventID string) (*collector, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", u.base+"/box-users/"+u.id+"/sse", nil)
	req.Header.Set("Authorization", "Bearer "+u.token())
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("sse: %v %v", err, res)
	}
	col := &collector{}
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var id string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				id = line[4:]
			case strings.HasPrefix(line, "data: "):
				var f frame
				json.Unmarshal([]byte(line[6:]), &f)
				if fmt.Sprint(f.Position) != id {
					f.Type = "MISMATCHED-ID:" + id
				}
				col.add(f)
			}
		}
	}()
	t.Cleanup(cancel)
	return col, cancel
}

func positionsInOrder(t *testing.T, what string, frames []frame) {
	t.Helper()
	for i := 1; i < len(frames); i++ {
		if frames[i].Position <= frames[i-1].Position {
			t.Fatalf("%s: position %d after %d", what, frames[i].Position, frames[i-1].Position)
		}
	}
}

func eventIDs(frames []frame) map[string]int {
	out := map[string]int{}
	for _, f := range frames {
		if f.Type == "event.new" {
			out[f.field("id")]++
		}
	}
	return out
}

// TestRealtimeDeliversEveryEventOnceAcrossReconnects writes from several
// goroutines while WebSocket and SSE clients follow, one of them
// reconnecting mid-way with ?since / Last-Event-ID; each must get every
// event exactly once and in order.
func TestRealtimeDeliversEveryEventOnceAcrossReconnects(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob := ts.user(t, "Alice"), ts.user(t, "Bob")
	id := alice.createBox(t, "Live", "public")["id"].(string)
	expect(t, "bob joins", bob.post(t, id, map[string]any{"type": "member.join"}), 201)

	wsAll, _ := bob.dialWS(t, "?since=0")
	sseAll, _ := bob.openSSE(t, "0")
	wsFirst, firstConn := bob.dialWS(t, "")

	var (
		mu   sync.Mutex
		sent = map[string]bool{}
		wg   sync.WaitGroup
	)
	write := func(n int, who *user) {
		defer wg.Done()
		for i := range n {
			r := who.post(t, id, text(fmt.Sprintf("m%d", i)))
			if r.status != 201 {
				t.Errorf("post: %d %s", r.status, r.body)
				return
			}
			mu.Lock()
			sent[r.json(t)["id"].(string)] = true
			mu.Unlock()
		}
	}
	wg.Add(4)
	go write(40, alice)
	go write(40, bob)
	// Mid-way, the first live client drops and resumes from its last position.
	got := wsFirst.waitFor(t, "some live frames", func(f []frame) bool { return len(f) >= 10 })
	firstConn.Close(websocket.StatusNormalClosure, "")
	last := got[len(got)-1].Position
	wsResumed, _ := bob.dialWS(t, fmt.Sprintf("?since=%d", last))
	go write(40, alice)
	go write(40, bob)
	wg.Wait()

	mu.Lock()
	want := len(sent)
	mu.Unlock()
	full := func(f []frame) bool { return len(eventIDs(f)) >= want+2 } // + create and join
	for name, col := range map[string]*collector{"ws since=0": wsAll, "sse Last-Event-ID 0": sseAll} {
		frames := col.waitFor(t, name+" to have every event", full)
		positionsInOrder(t, name, frames)
		for eid, n := range eventIDs(frames) {
			if n != 1 {
				t.Fatalf("%s: event %s delivered %d times", name, eid, n)
			}
		}
		for eid := range sent {
			if eventIDs(frames)[eid] != 1 {
				t.Fatalf("%s: event %s missing", name, eid)
			}
		}
		for _, f := range frames {
			if strings.HasPrefix(f.Type, "MISMATCHED-ID") {
				t.Fatalf("%s: SSE id does not match the frame position: %s", name, f.Type)
			}
		}
	}
	// The resumed connection plus what the first one got before it dropped
	// is everything from the first live frame on, once each.
	resumed := wsResumed.waitFor(t, "the resumed stream to catch up", func(f []frame) bool {
		return len(f) > 0 && f[len(f)-1].Position >= wsAll.snapshot()[len(wsAll.snapshot())-1].Position
	})
	joined := append(got, resumed...)
	positionsInOrder(t, "first connection then resumed", joined)
	for eid, n := range eventIDs(joined) {
		if n != 1 {
			t.Fatalf("reconnect duplicated event %s (%d times)", eid, n)
		}
	}
	var expected int
	for _, f := range wsAll.snapshot() {
		if f.Position >= got[0].Position {
			expected++
		}
	}
	if len(joined) != expected {
		t.Fatalf("first+resumed connections got %d frames, the continuous one %d from the same point", len(joined), expected)
	}
}

// TestRealtimeVisibility: frames only of boxes the identity may read at
// that moment; a kicked member gets its kick and then nothing; a closed
// box goes silent for members; nothing of another identity's scope.
func TestRealtimeVisibility(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob, eve := ts.user(t, "Alice"), ts.user(t, "Bob"), ts.user(t, "Eve")
	shared := alice.createBox(t, "Shared", "limited")["id"].(string)
	private := alice.createBox(t, "Private", "limited")["id"].(string)
	r := alice.batch(t, shared, accessAdd("identifier", bob.email))
	rule := list(t, r)[0]["id"].(string)
	bobWS, _ := bob.dialWS(t, "")
	eveWS, _ := eve.dialWS(t, "")
	bobSSE, _ := bob.openSSE(t, "")
	waitFor(t, 5*time.Second, "streams registered", func() bool { return ts.Hub.Connections() >= 3 })

	expect(t, "bob joins", bob.post(t, shared, map[string]any{"type": "member.join"}), 201)
	hello := alice.post(t, shared, text("hello bob")).json(t)["id"].(string)
	secret := alice.post(t, private, text("not for bob")).json(t)["id"].(string)
	expect(t, "alice mutes for herself", alice.do("PUT", "/box-users/"+alice.id+"/boxes/"+shared+"/settings", map[string]bool{"muted": true}), 204)
	expect(t, "bob mutes", bob.do("PUT", "/box-users/"+bob.id+"/boxes/"+shared+"/settings", map[string]bool{"muted": true}), 204)
	for name, col := range map[string]*collector{"ws": bobWS, "sse": bobSSE} {
		frames := col.waitFor(t, "bob's "+name+" to see the message and his settings", func(f []frame) bool {
			return eventIDs(f)[hello] == 1 && hasType(f, "box.settings")
		})
		if eventIDs(frames)[secret] != 0 {
			t.Fatalf("%s: bob received an event of a box he cannot read", name)
		}
		for _, f := range frames {
			if f.Type == "box.settings" && f.field("identity_id") != bob.id {
				t.Fatalf("%s: bob received another identity's settings: %s", name, f.Object)
			}
			if f.Type == "event.new" && strings.HasPrefix(f.field("type"), "access.") {
				t.Fatalf("%s: a member received an access rule: %s", name, f.Object)
			}
		}
	}

	// The kick reaches bob, then nothing more from that box.
	expect(t, "kick bob", alice.batch(t, shared, ref("access.rm", rule, nil)), 201)
	after := alice.post(t, shared, text("bob is gone")).json(t)["id"].(string)
	marker := bob.createBox(t, "Bob's own", "limited")["id"].(string)
	for name, col := range map[string]*collector{"ws": bobWS, "sse": bobSSE} {
		frames := col.waitFor(t, "bob's "+name+" to see his kick and his own box", func(f []frame) bool {
			return hasEvent(f, "member.kick") && hasBox(f, marker)
		})
		if eventIDs(frames)[after] != 0 {
			t.Fatalf("%s: a kicked member received a later event", name)
		}
		if !hasType(frames, "notification") {
			t.Fatalf("%s: no notification frame for the kick", name)
		}
	}
	if len(eveWS.snapshot()) != 0 {
		t.Fatalf("eve received %d frames of boxes she has nothing to do with: %v", len(eveWS.snapshot()), eveWS.snapshot())
	}

	// A closed box goes silent for a member; the admin still hears it.
	carol := ts.user(t, "Carol")
	open := alice.createBox(t, "Open", "public")["id"].(string)
	expect(t, "carol joins", carol.post(t, open, map[string]any{"type": "member.join"}), 201)
	carolWS, _ := carol.dialWS(t, "")
	aliceWS, _ := alice.dialWS(t, "")
	waitFor(t, 5*time.Second, "streams registered", func() bool { return ts.Hub.Connections() >= 5 })
	expect(t, "close", alice.post(t, open, map[string]any{"type": "state.lifecycle", "content": map[string]string{"state": "closed"}}), 201)
	expect(t, "delete the private box", alice.do("DELETE", "/boxes/"+private, map[string]string{"user_confirmation": "delete"}), 204)
	aliceWS.waitFor(t, "the admin to see the close and the deletion", func(f []frame) bool {
		return hasEvent(f, "state.lifecycle") && hasType(f, "box.delete")
	})
	marker2 := carol.createBox(t, "Carol's own", "limited")["id"].(string)
	frames := carolWS.waitFor(t, "carol's own box", func(f []frame) bool { return hasBox(f, marker2) })
	if hasEvent(frames, "state.lifecycle") || hasType(frames, "box.delete") {
		t.Fatalf("a member of a box that closed received: %v", frames)
	}
}

func hasType(frames []frame, typ string) bool {
	for _, f := range frames {
		if f.Type == typ {
			return true
		}
	}
	return false
}

func hasEvent(frames []frame, typ string) bool {
	for _, f := range frames {
		if f.Type == "event.new" && f.field("type") == typ {
			return true
		}
	}
	return false
}

func hasBox(frames []frame, boxID string) bool {
	for _, f := range frames {
		if f.Type == "event.new" && f.field("box_id") == boxID {
			return true
		}
	}
	return false
}

// TestRealtimeRefusals: bad input gets the surface's error, never a hang.
func TestRealtimeRefusals(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob := ts.user(t, "Alice"), ts.user(t, "Bob")
	for _, path := range []string{"/ws", "/sse"} {
		expect(t, "another identity's stream", alice.do("GET", "/box-users/"+bob.id+path, nil), 403)
		expect(t, "malformed since", alice.do("GET", "/box-users/"+alice.id+path+"?since=abc", nil), 400, "since", "invalid")
		expect(t, "negative since", alice.do("GET", "/box-users/"+alice.id+path+"?since=-4", nil), 400, "since", "invalid")
		expect(t, "since beyond the head", alice.do("GET", "/box-users/"+alice.id+path+"?since=99999999", nil), 400, "since", "invalid")
		anon := newClient(t, ts.URL())
		expect(t, "no credentials", anon.do("GET", "/box-users/"+alice.id+path, nil), 401)
	}
	// A browser from a foreign origin is refused; inbound frames are capped.
	url := "ws" + strings.TrimPrefix(ts.URL(), "http") + "/box-users/" + alice.id + "/ws"
	hdr := http.Header{"Authorization": {"Bearer " + alice.token()}, "Origin": {"https://evil.example"}}
	if _, res, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{HTTPHeader: hdr}); err == nil || res == nil || res.StatusCode != 403 {
		t.Fatalf("foreign origin: %v %v", err, res)
	}
	col, c := alice.dialWS(t, "")
	c.Write(context.Background(), websocket.MessageText, []byte(strings.Repeat("x", 9000)))
	var closed error
	waitFor(t, 5*time.Second, "the server to close the connection", func() bool {
		col.mu.Lock()
		defer col.mu.Unlock()
		closed = col.closed
		return closed != nil
	})
	if s := websocket.CloseStatus(closed); s != websocket.StatusMessageTooBig && s != websocket.StatusPolicyViolation {
		t.Fatalf("an oversize inbound frame: %v, want a 1009 or 1008 close", closed)
	}
}

// TestShutdownClosesWebSocketsGoingAway: a stopping server closes
// WebSockets with 1001, and a client that resumes after the restart from
// its last position loses nothing.
func TestShutdownClosesWebSocketsGoingAway(t *testing.T) { // and ends long-polls with reconnect
	sc := storeConfig(t)
	ts := startServer(t, sc)
	alice := ts.user(t, "Alice")
	id := alice.createBox(t, "Restart", "limited")["id"].(string)
	col, conn := alice.dialWS(t, "")
	sseCol, _ := alice.openSSE(t, "")
	waitFor(t, 5*time.Second, "streams registered", func() bool { return ts.Hub.Connections() >= 2 })
	before := alice.post(t, id, text("before")).json(t)["id"].(string)
	frames := col.waitFor(t, "the first event", func(f []frame) bool { return eventIDs(f)[before] == 1 })
	sseFrames := sseCol.waitFor(t, "the first event over SSE", func(f []frame) bool { return eventIDs(f)[before] == 1 })
	last := frames[len(frames)-1].Position
	// A Box long-poll parked at the head when the server stops.
	head := alice.boxEvents(t, "?stream_position=now").NextStreamPosition
	polled := make(chan response, 1)
	go func() { polled <- alice.do("GET", "/2.0/events/realtime?stream_type=all&stream_position="+head, nil) }()
	waitFor(t, 5*time.Second, "the long-poll to wait", func() bool { return ts.Hub.Connections() >= 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-polled; r.status != 200 || r.json(t)["message"] != "reconnect" {
		t.Fatalf("a long-poll during shutdown: %d %s, want reconnect", r.status, r.body)
	}
	waitFor(t, 5*time.Second, "the close frame", func() bool {
		col.mu.Lock()
		defer col.mu.Unlock()
		return col.closed != nil
	})
	if s := websocket.CloseStatus(col.closed); s != websocket.StatusGoingAway {
		t.Fatalf("close status %v (%v), want 1001 going away", s, col.closed)
	}
	_ = conn
	ts2 := startServer(t, sc)
	alice2 := ts2.signIn(t, alice.email, "Alice-password")
	during := alice2.post(t, id, text("while away")).json(t)["id"].(string)
	resumed, _ := alice2.dialWS(t, fmt.Sprintf("?since=%d", last))
	after := alice2.post(t, id, text("after")).json(t)["id"].(string)
	got := resumed.waitFor(t, "both events after the restart", func(f []frame) bool {
		return eventIDs(f)[during] == 1 && eventIDs(f)[after] == 1
	})
	if eventIDs(got)[before] != 0 {
		t.Fatal("the resumed stream repeated an event from before its position")
	}
	// SSE resumes with Last-Event-ID, as browsers do after a drop.
	resumedSSE, _ := alice2.openSSE(t, fmt.Sprint(sseFrames[len(sseFrames)-1].Position))
	gotSSE := resumedSSE.waitFor(t, "SSE to catch up after the restart", func(f []frame) bool {
		return eventIDs(f)[during] == 1 && eventIDs(f)[after] == 1
	})
	if eventIDs(gotSSE)[before] != 0 {
		t.Fatal("the resumed SSE stream repeated an event")
	}
}

// TestSlowReaderIsDisconnected: a client that stops reading is dropped
// instead of growing the server's memory: its bounded queue overflows or
// a write stalls, and the server closes the connection and forgets it.
func TestSlowReaderIsDisconnected(t *testing.T) {
	ts := startServer(t, storeConfig(t), func(c *Config) {
		c.StreamQueue, c.StreamWriteTimeout = 8, 300*time.Millisecond
	})
	alice := ts.user(t, "Alice")
	id := alice.createBox(t, "Firehose", "limited")["id"].(string)
	c := dialSilentWS(t, ts, alice)
	defer c.CloseNow()
	waitFor(t, 5*time.Second, "the stream to register", func() bool { return ts.Hub.Connections() == 1 })
	big := strings.Repeat("A", 30000) // large frames fill the socket buffers quickly
	body := map[string]any{"type": "msg.text", "content": map[string]string{"encrypted": ciphertext(big), "public_key": randomKey()}}
	deadline := time.Now().Add(30 * time.Second)
	for ts.Hub.Connections() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("a client that never reads was not disconnected")
		}
		expect(t, "post", alice.post(t, id, body), 201)
	}
}

// dialSilentWS opens u's WebSocket from a client with a tiny receive
// buffer that never reads: the server's writes to it soon stall.
func dialSilentWS(t *testing.T, ts *testServer, u *user) *websocket.Conn {
	t.Helper()
	dialer := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	httpc := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	url := "ws" + strings.TrimPrefix(ts.URL(), "http") + "/box-users/" + u.id + "/ws"
	c, _, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{HTTPClient: httpc,
		HTTPHeader: http.Header{"Authorization": {"Bearer " + u.token()}}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestStalledWritesDoNotHoldUpOthers: WebSockets are written by a pool of
// one goroutine per core. Clients that stop reading, more of them than
// the pool has goroutines, each stall a write for as long as the write
// timeout; a client that reads still gets every event at once.
func TestStalledWritesDoNotHoldUpOthers(t *testing.T) {
	ts := startServer(t, storeConfig(t), func(c *Config) {
		c.StreamQueue, c.StreamWriteTimeout = 100000, time.Minute
	})
	alice := ts.user(t, "Alice")
	id := alice.createBox(t, "Firehose", "limited")["id"].(string)
	silent := runtime.GOMAXPROCS(0) + 2
	for range silent {
		c := dialSilentWS(t, ts, alice)
		defer c.CloseNow()
	}
	reader, _ := alice.dialWS(t, "")
	waitFor(t, 5*time.Second, "the streams to register", func() bool { return ts.Hub.Connections() == silent+1 })

	// Enough bytes to fill the largest send buffer the kernel would give
	// a silent client's socket, and then some.
	big := strings.Repeat("A", 20000) // its frame stays under the reader's 32 KiB limit
	body := map[string]any{"type": "msg.text", "content": map[string]string{"encrypted": ciphertext(big), "public_key": randomKey()}}
	posts := maxSendBuffer(t)/len(big) + 20
	for i := range posts {
		ev := alice.post(t, id, body)
		expect(t, "post", ev, 201)
		want := ev.json(t)["id"].(string)
		reader.waitFor(t, fmt.Sprintf("event %d of %d at the reading client", i+1, posts), func(fs []frame) bool {
			return len(fs) > 0 && fs[len(fs)-1].field("id") == want
		})
	}
	if n := ts.Hub.Connections(); n != silent+1 {
		t.Fatalf("%d streams registered, want all %d: a stalled client was dropped before its write timeout", n, silent+1)
	}
}

// maxSendBuffer is the most a TCP socket's send buffer grows to here.
func maxSendBuffer(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem")
	if err != nil {
		return 4 << 20 // Linux's default
	}
	f := strings.Fields(string(b))
	n, err := strconv.Atoi(f[len(f)-1])
	if err != nil {
		t.Fatalf("tcp_wmem %q: %v", b, err)
	}
	return n
}

// TestStreamFromNowStartsAtTheHandshake: a stream opened without a
// position shows everything written once the client holds it (the 101 or
// the SSE headers), even what commits before the server has subscribed
// the connection. Clients open a stream, then write, and wait for their
// own event.
func TestStreamFromNowStartsAtTheHandshake(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice := ts.user(t, "Alice")
	id := alice.createBox(t, "Now", "public")["id"].(string)
	for i := range 15 {
		for _, transport := range []string{"websocket", "sse"} {
			var col *collector
			if transport == "websocket" {
				c, conn := alice.dialWS(t, "")
				col = c
				defer conn.CloseNow()
			} else {
				c, cancel := alice.openSSE(t, "")
				col = c
				defer cancel()
			}
			r := alice.post(t, id, text(fmt.Sprintf("right after the handshake %d", i)))
			expect(t, "alice posts", r, 201)
			event := r.json(t)["id"].(string)
			col.waitFor(t, fmt.Sprintf("round %d, %s: alice's own event", i, transport), func(fs []frame) bool {
				return eventIDs(fs)[event] == 1
			})
		}
	}
}
