package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type boxPage struct {
	ChunkSize          int    `json:"chunk_size"`
	NextStreamPosition string `json:"next_stream_position"`
	Entries            []struct {
		Type      string `json:"type"`
		EventID   string `json:"event_id"`
		EventType string `json:"event_type"`
		CreatedBy *struct {
			Type, ID, Name, Login string
		} `json:"created_by"`
		CreatedAt string          `json:"created_at"`
		Source    json.RawMessage `json:"source"`
	} `json:"entries"`
}

func (u *user) boxEvents(t *testing.T, query string) boxPage {
	t.Helper()
	r := u.do("GET", "/2.0/events"+query, nil)
	expect(t, "GET /2.0/events"+query, r, 200)
	var p boxPage
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBoxEventStream checks the Box-compatible surface: positions,
// stream types, limits, its error shape, OPTIONS and the long-poll.
func TestBoxEventStream(t *testing.T) {
	ts := startServer(t, storeConfig(t), func(c *Config) { c.LongPollHold = 300 * time.Millisecond })
	alice, bob := ts.user(t, "Alice"), ts.user(t, "Bob")
	now := alice.boxEvents(t, "?stream_position=now")
	if len(now.Entries) != 0 || now.NextStreamPosition == "" {
		t.Fatalf("stream_position=now: %+v", now)
	}
	id := alice.createBox(t, "Stream", "limited")["id"].(string)
	private := bob.createBox(t, "Bob's", "limited")["id"].(string)
	for i := range 7 {
		expect(t, "post", alice.post(t, id, text(fmt.Sprint(i))), 201)
	}
	expect(t, "bob posts in his own box", bob.post(t, private, text("mine")), 201)

	all := alice.boxEvents(t, "?stream_position="+now.NextStreamPosition)
	if len(all.Entries) != 8 || all.Entries[0].EventType != "create" || all.Entries[1].EventType != "msg.text" {
		t.Fatalf("alice's events after now: %d entries", len(all.Entries))
	}
	for _, e := range all.Entries {
		if e.Type != "event" || e.EventID == "" || e.CreatedBy == nil || e.CreatedBy.Type != "user" || e.CreatedBy.ID != alice.id {
			t.Fatalf("entry %+v", e)
		}
		if _, err := time.Parse(time.RFC3339, e.CreatedAt); err != nil {
			t.Fatalf("created_at %q: %v", e.CreatedAt, err)
		}
		if strings.Contains(string(e.Source), private) {
			t.Fatal("alice's stream holds bob's box")
		}
	}
	// Paging by limit continues exactly where the last page stopped.
	p1 := alice.boxEvents(t, "?limit=3&stream_position="+now.NextStreamPosition)
	p2 := alice.boxEvents(t, "?limit=3&stream_position="+p1.NextStreamPosition)
	if len(p1.Entries) != 3 || len(p2.Entries) != 3 || p1.Entries[2].EventID == p2.Entries[0].EventID || p2.Entries[0].EventID != all.Entries[3].EventID {
		t.Fatalf("pages do not continue: %v / %v", p1.Entries, p2.Entries)
	}
	// The end of the stream skips what alice may not see.
	last := alice.boxEvents(t, "?stream_position="+all.NextStreamPosition)
	if len(last.Entries) != 0 || last.NextStreamPosition != all.NextStreamPosition {
		t.Fatalf("after the end: %+v", last)
	}
	head, _ := strconv.ParseInt(bob.boxEvents(t, "?stream_position=now").NextStreamPosition, 10, 64)
	if got, _ := strconv.ParseInt(all.NextStreamPosition, 10, 64); got != head {
		t.Fatalf("alice's next position %d does not skip bob's invisible entries up to the head %d", got, head)
	}
	// stream_type=changes holds box events only.
	expect(t, "settings", alice.do("PUT", "/box-users/"+alice.id+"/boxes/"+id+"/settings", map[string]bool{"muted": true}), 204)
	changes := alice.boxEvents(t, "?stream_type=changes&stream_position="+all.NextStreamPosition)
	everything := alice.boxEvents(t, "?stream_type=all&stream_position="+all.NextStreamPosition)
	if len(changes.Entries) != 0 || len(everything.Entries) != 1 || everything.Entries[0].EventType != "box.settings" {
		t.Fatalf("changes %v, all %v", changes.Entries, everything.Entries)
	}
	// Refused input, in Box's error shape.
	for q, field := range map[string]string{"?stream_type=admin_logs": "stream_type", "?stream_position=abc": "stream_position",
		"?stream_position=-1": "stream_position", "?stream_position=99999999": "stream_position", "?limit=0": "limit", "?limit=x": "limit"} {
		r := alice.do("GET", "/2.0/events"+q, nil)
		body := r.json(t)
		ci, _ := body["context_info"].(map[string]any)
		errsList, _ := ci["errors"].([]any)
		if r.status != 400 || body["type"] != "error" || body["code"] != "bad_request" || body["request_id"] == "" ||
			len(errsList) != 1 || errsList[0].(map[string]any)["name"] != field {
			t.Fatalf("%s: %d %s", q, r.status, r.body)
		}
	}
	anon := newClient(t, ts.URL())
	if r := anon.do("GET", "/2.0/events", nil); r.status != 401 || r.json(t)["type"] != "error" {
		t.Fatalf("no token: %d %s", r.status, r.body)
	}
	if r := alice.do("GET", "/events?stream_position=now", nil); r.status != 200 {
		t.Fatalf("/events alias: %d", r.status)
	}

	// OPTIONS names the realtime server, with string ttl and max_retries.
	r := alice.do("OPTIONS", "/2.0/events", nil)
	expect(t, "OPTIONS", r, 200)
	var rs struct {
		Entries []map[string]any `json:"entries"`
	}
	json.Unmarshal(r.body, &rs)
	if len(rs.Entries) != 1 || rs.Entries[0]["type"] != "realtime_server" || rs.Entries[0]["ttl"] != "10" ||
		rs.Entries[0]["max_retries"] != "10" || rs.Entries[0]["retry_timeout"] != 610.0 {
		t.Fatalf("OPTIONS %s", r.body)
	}
	realtimeURL := rs.Entries[0]["url"].(string)
	if !strings.HasPrefix(realtimeURL, ts.URL()) {
		t.Fatalf("realtime url %q is not absolute on this server", realtimeURL)
	}
	poll := func(pos string) (string, time.Duration) {
		started := time.Now()
		r := alice.do("GET", strings.TrimPrefix(realtimeURL, ts.URL())+"&stream_position="+pos, nil)
		expect(t, "long-poll", r, 200)
		return r.json(t)["message"].(string), time.Since(started)
	}
	// Behind → new_change at once; at the head → reconnect after the hold.
	if msg, _ := poll(now.NextStreamPosition); msg != "new_change" {
		t.Fatalf("behind: %s", msg)
	}
	headNow := alice.boxEvents(t, "?stream_position=now").NextStreamPosition
	if msg, took := poll(headNow); msg != "reconnect" || took < 250*time.Millisecond {
		t.Fatalf("at the head: %s after %v", msg, took)
	}
	// A write while waiting → new_change; bob's writes do not wake alice.
	done := make(chan string, 1)
	go func() { m, _ := poll(headNow); done <- m }()
	time.Sleep(50 * time.Millisecond) // let the poll start waiting (a slower start only makes it see the write as "behind")
	expect(t, "alice posts", alice.post(t, id, text("wake")), 201)
	if msg := <-done; msg != "new_change" {
		t.Fatalf("a write while waiting: %s", msg)
	}
	headNow = alice.boxEvents(t, "?stream_position=now").NextStreamPosition
	go func() { m, _ := poll(headNow); done <- m }()
	expect(t, "bob posts", bob.post(t, private, text("not for alice")), 201)
	if msg := <-done; msg != "reconnect" {
		t.Fatalf("another user's write woke alice: %s", msg)
	}
}

// nodeModules fails in CI and skips elsewhere when a Node harness's
// packages are not installed.
func nodeModules(t *testing.T, dir string) {
	t.Helper()
	_, errNode := exec.LookPath("node")
	_, errMods := os.Stat(filepath.Join(dir, "node_modules"))
	if errNode == nil && errMods == nil {
		return
	}
	msg := fmt.Sprintf("Node or %s/node_modules missing: run `cd %s && npm ci`", dir, dir)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// TestOfficialBoxSDKFollowsTheStream runs the official box-typescript-sdk-gen
// EventStream against the real server: it must receive every event written
// while it runs, exactly once.
func TestOfficialBoxSDKFollowsTheStream(t *testing.T) {
	dir, _ := filepath.Abs("../../internal/api/stream/testdata")
	nodeModules(t, dir)
	ts := startServer(t, storeConfig(t), func(c *Config) { c.LongPollHold = time.Second })
	alice := ts.user(t, "Alice")
	id := alice.createBox(t, "SDK", "limited")["id"].(string)
	const n = 25
	cmd := exec.Command("node", "follow.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BOX_BASE_URL="+ts.URL(), "BOX_TOKEN="+alice.token(), fmt.Sprintf("EXPECT=%d", n),
		"TIMEOUT_MS=60000", "LINGER_MS=1500")
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the SDK to start following", func() bool { return strings.Contains(stderr.String(), "READY") })
	sent := map[string]bool{}
	for i := range n {
		r := alice.post(t, id, text(fmt.Sprint(i)))
		expect(t, "post", r, 201)
		sent[r.json(t)["id"].(string)] = true
		if i%5 == 4 {
			time.Sleep(200 * time.Millisecond) // spread the writes over several long-poll rounds
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("follow.mjs: %v\nstderr: %s\nstdout: %s", err, stderr.String(), stdout.String())
	}
	var report struct {
		Events []struct {
			EventID   string `json:"event_id"`
			EventType string `json:"event_type"`
		} `json:"events"`
		Duplicates    int `json:"duplicates"`
		RawDuplicates int `json:"raw_duplicates"`
		ErrorCount    int `json:"error_count"`
	}
	if err := json.Unmarshal(bytes.TrimSpace([]byte(stdout.String())), &report); err != nil {
		t.Fatalf("report %q: %v", stdout.String(), err)
	}
	got := map[string]int{}
	for _, e := range report.Events {
		got[e.EventID]++
	}
	for eid := range sent {
		if got[eid] != 1 {
			t.Fatalf("the SDK received event %s %d times (report: %s, stderr: %s)", eid, got[eid], stdout.String(), stderr.String())
		}
	}
	if report.Duplicates != 0 || report.RawDuplicates != 0 || report.ErrorCount != 0 || len(report.Events) != n {
		t.Fatalf("SDK report: %d events, %d duplicates, %d raw duplicates, %d errors", len(report.Events), report.Duplicates, report.RawDuplicates, report.ErrorCount)
	}
}

// TestTwoNodesOverNATS: writes on node B (and on both nodes at once) reach
// WebSocket, SSE and long-poll clients on node A, every entry once, in order.
func TestTwoNodesOverNATS(t *testing.T) {
	ns := startNATS(t)
	sc := clusterStore(t)
	withNATS := func(c *Config) { c.NATS = ns.ClientURL(); c.LongPollHold = 2 * time.Second }
	nodeA := startServer(t, sc, withNATS)
	nodeB := startServer(t, sc, withNATS)
	alice := nodeA.user(t, "Alice")
	aliceB := nodeB.signIn(t, alice.email, "Alice-password")
	bob := nodeA.user(t, "Bob")
	bobB := nodeB.signIn(t, bob.email, "Bob-password")
	id := aliceB.createBox(t, "Cluster", "public")["id"].(string)
	expect(t, "bob joins on B", bobB.post(t, id, map[string]any{"type": "member.join"}), 201)

	ws, _ := bob.dialWS(t, "")
	sse, _ := bob.openSSE(t, "")
	waitFor(t, 5*time.Second, "streams on node A", func() bool { return nodeA.Hub.Connections() >= 2 })
	start := bob.boxEvents(t, "?stream_position=now").NextStreamPosition
	var (
		lpMu  sync.Mutex
		lpIDs []string
	)
	lpCtx, stopLP := context.WithCancel(context.Background())
	lpDone := make(chan struct{})
	go func() { // a Box long-poll client on node A; it never fails the test itself
		defer close(lpDone)
		pos := start
		for lpCtx.Err() == nil {
			page, err := pollPage(bob, pos)
			if err != nil {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			lpMu.Lock()
			for _, e := range page.Entries {
				lpIDs = append(lpIDs, e.EventID)
			}
			lpMu.Unlock()
			pos = page.NextStreamPosition
			if len(page.Entries) == 0 {
				pollRealtime(bob, pos)
			}
		}
	}()

	var (
		mu   sync.Mutex
		sent []string
		wg   sync.WaitGroup
	)
	writer := func(u *user, n int) {
		defer wg.Done()
		for i := range n {
			r := u.post(t, id, text(fmt.Sprint(i)))
			if r.status != 201 {
				t.Errorf("post: %d %s", r.status, r.body)
				return
			}
			mu.Lock()
			sent = append(sent, r.json(t)["id"].(string))
			mu.Unlock()
		}
	}
	wg.Add(1)
	writer(aliceB, 20) // node B alone first
	wg.Add(3)
	go writer(aliceB, 30)
	go writer(bobB, 30)
	go writer(alice, 30) // and both nodes at once
	wg.Wait()

	check := func(name string, ids map[string]int, frames []frame) {
		t.Helper()
		for _, eid := range sent {
			if ids[eid] != 1 {
				t.Fatalf("%s on node A: event %s received %d times", name, eid, ids[eid])
			}
		}
		if frames != nil {
			positionsInOrder(t, name, frames)
		}
	}
	// Wait for every written id, not a count: a client that connects "from
	// now" on node A may also see the join, which node A's hub had not yet
	// passed when it connected.
	hasAll := func(ids map[string]int) bool {
		for _, eid := range sent {
			if ids[eid] == 0 {
				return false
			}
		}
		return true
	}
	for name, col := range map[string]*collector{"websocket": ws, "sse": sse} {
		frames := col.waitFor(t, name+" on node A to get every event", func(f []frame) bool { return hasAll(eventIDs(f)) })
		check(name, eventIDs(frames), frames)
	}
	waitFor(t, 20*time.Second, "the long-poll client on node A", func() bool {
		lpMu.Lock()
		defer lpMu.Unlock()
		ids := map[string]int{}
		for _, eid := range lpIDs {
			ids[eid]++
		}
		return hasAll(ids)
	})
	stopLP()
	<-lpDone
	lpMu.Lock()
	counts := map[string]int{}
	for _, eid := range lpIDs {
		counts[eid]++
	}
	lpMu.Unlock()
	check("long-poll", counts, nil)
}

// TestBoxLongPollLimit: past 32 waiting long-polls an identity gets 429 in
// Box's shape, with Retry-After spelled exactly so.
func TestBoxLongPollLimit(t *testing.T) {
	ts := startServer(t, storeConfig(t), func(c *Config) { c.LongPollHold = 3 * time.Second })
	alice := ts.user(t, "Alice")
	head := alice.boxEvents(t, "?stream_position=now").NextStreamPosition
	path := "/2.0/events/realtime?stream_type=all&stream_position=" + head
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() { defer wg.Done(); alice.do("GET", path, nil) }()
	}
	waitFor(t, 5*time.Second, "32 long-polls waiting", func() bool { return ts.Hub.Connections() >= 32 })
	req, _ := http.NewRequest("GET", ts.URL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+alice.token())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 429 || res.Header["Retry-After"] == nil || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("33rd long-poll: %d %v", res.StatusCode, res.Header)
	}
	wg.Wait()
}

// pollPage and pollRealtime are the long-poll client's requests, returning
// errors instead of failing the test (they run outside its goroutine).
func pollPage(u *user, pos string) (boxPage, error) {
	var p boxPage
	req, _ := http.NewRequest("GET", u.base+"/2.0/events?stream_position="+pos, nil)
	req.Header.Set("Authorization", "Bearer "+u.token())
	res, err := u.http.Do(req)
	if err != nil {
		return p, err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return p, fmt.Errorf("status %d", res.StatusCode)
	}
	return p, json.NewDecoder(res.Body).Decode(&p)
}

func pollRealtime(u *user, pos string) {
	req, _ := http.NewRequest("GET", u.base+"/2.0/events/realtime?stream_type=all&stream_position="+pos, nil)
	req.Header.Set("Authorization", "Bearer "+u.token())
	if res, err := u.http.Do(req); err == nil {
		res.Body.Close()
	}
}
