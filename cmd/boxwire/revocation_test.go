package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// streamEnd is how one live stream ended: a WebSocket's close code and
// reason, an SSE error event's body, a long-poll's status and body.
type streamEnd struct {
	code   int // WebSocket close code, or HTTP status (long-poll), or 401 for an SSE error event
	body   string
	closed bool // the stream is over
}

// live is one session's three live streams: WebSocket, SSE and the Box
// long-poll, each watched by a goroutine that records how it ends.
type live struct {
	mu   sync.Mutex
	ends map[string]streamEnd
}

func (l *live) set(transport string, e streamEnd) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ends[transport] = e
}

func (l *live) snapshot() map[string]streamEnd {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]streamEnd{}
	for k, v := range l.ends {
		out[k] = v
	}
	return out
}

var transports = []string{"websocket", "sse", "longpoll"}

// openLive opens the three streams of the session behind token on base
// and waits until the node holds all three.
func openLive(t *testing.T, ts *testServer, identityID, token string) *live {
	t.Helper()
	before := ts.StreamQuota.Open(identityID)
	l := &live{ends: map[string]streamEnd{}}
	ctx, cancel := context.WithCancel(context.Background())
	// At the end, wait until the node has let go of these streams, so
	// that the next openLive of this identity counts from a settled number.
	t.Cleanup(func() {
		cancel()
		waitFor(t, 5*time.Second, "the streams let go", func() bool { return ts.StreamQuota.Open(identityID) <= before })
	})
	base := ts.URL()
	auth := http.Header{"Authorization": {"Bearer " + token}}

	d := ws.Dialer{Header: ws.HandshakeHeaderHTTP(auth)}
	conn, _, _, err := d.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/box-users/"+identityID+"/ws")
	if err != nil {
		t.Fatalf("websocket: %v", err)
	}
	context.AfterFunc(ctx, func() { conn.Close() })
	go func() {
		for {
			f, err := ws.ReadFrame(conn)
			if err != nil {
				l.set("websocket", streamEnd{closed: true, body: err.Error()})
				return
			}
			if f.Header.Masked {
				ws.Cipher(f.Payload, f.Header.Mask, 0)
			}
			if f.Header.OpCode == ws.OpClose {
				code, reason := ws.ParseCloseFrameData(f.Payload)
				l.set("websocket", streamEnd{code: int(code), body: reason, closed: true})
				return
			}
		}
	}()

	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/box-users/"+identityID+"/sse", nil)
	req.Header = auth.Clone()
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("sse: %v %v", err, res)
	}
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var e streamEnd
		errorEvent := false
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "event: error":
				errorEvent = true
			case errorEvent && strings.HasPrefix(line, "data: "):
				e.code, e.body = 401, line[6:]
			}
		}
		e.closed = true
		l.set("sse", e)
	}()

	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/2.0/events/realtime?stream_position=now", nil)
		req.Header = auth.Clone()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			l.set("longpoll", streamEnd{closed: true, body: err.Error()})
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		l.set("longpoll", streamEnd{code: res.StatusCode, body: string(b), closed: true})
	}()
	waitFor(t, 5*time.Second, "the three streams", func() bool { return ts.StreamQuota.Open(identityID) == before+3 })
	return l
}

// expectEnded waits, until the deadline, for every stream to end with the
// surface's answer to a session that ended: WebSocket close 4401, an SSE
// error event with the boxes surface's 401 body, a long-poll 401 in Box's
// shape.
func (l *live) expectEnded(t *testing.T, what string, deadline time.Time) {
	t.Helper()
	for time.Now().Before(deadline) {
		if s := l.snapshot(); s["websocket"].closed && s["sse"].closed && s["longpoll"].closed {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	s := l.snapshot()
	for _, tr := range transports {
		if !s[tr].closed {
			t.Fatalf("%s: the %s stream was still open at the deadline", what, tr)
		}
	}
	if e := s["websocket"]; e.code != 4401 || e.body == "" {
		t.Fatalf("%s: websocket closed with %d %q, want 4401 and a reason", what, e.code, e.body)
	}
	var sse map[string]any
	if e := s["sse"]; e.code != 401 || json.Unmarshal([]byte(e.body), &sse) != nil || sse["code"] != "unauthorized" || sse["desc"] == "" {
		t.Fatalf("%s: sse ended with %+v, want an error event with the 401 body", what, e)
	}
	var poll map[string]any
	if e := s["longpoll"]; e.code != 401 || json.Unmarshal([]byte(e.body), &poll) != nil || poll["type"] != "error" ||
		poll["status"] != float64(401) || poll["code"] != "unauthorized" {
		t.Fatalf("%s: long-poll ended with %+v, want Box's 401", what, e)
	}
}

// expectOpen checks that no stream ended.
func (l *live) expectOpen(t *testing.T, what string) {
	t.Helper()
	for tr, e := range l.snapshot() {
		if e.closed {
			t.Fatalf("%s: the %s stream ended: %+v", what, tr, e)
		}
	}
}

// withinOneSecond is the deadline a stream must end by.
func withinOneSecond() time.Time { return time.Now().Add(time.Second) }

// refusedStreams checks that a token opens none of the three streams.
func refusedStreams(t *testing.T, ts *testServer, identityID, token string) {
	t.Helper()
	auth := http.Header{"Authorization": {"Bearer " + token}}
	d := ws.Dialer{Header: ws.HandshakeHeaderHTTP(auth)}
	conn, _, _, err := d.Dial(context.Background(), "ws"+strings.TrimPrefix(ts.URL(), "http")+"/box-users/"+identityID+"/ws")
	if err == nil {
		conn.Close()
		t.Fatalf("a WebSocket opened with a token whose session ended")
	}
	if se, ok := err.(ws.StatusError); !ok || int(se) != 401 {
		t.Fatalf("the WebSocket handshake with an ended session: %v, want 401", err)
	}
	for _, path := range []string{"/box-users/" + identityID + "/sse", "/2.0/events/realtime?stream_position=now"} {
		req, _ := http.NewRequest("GET", ts.URL()+path, nil)
		req.Header = auth.Clone()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 401 {
			t.Fatalf("GET %s with an ended session: %d, want 401", path, res.StatusCode)
		}
	}
}

func bearer(c *client) string { return strings.TrimPrefix(c.hdr.Get("Authorization"), "Bearer ") }

// TestRevocationEndsLiveStreams: revoking a session, a password change
// (by the user, by an admin), and removal from a team or the organisation
// end the WebSocket, SSE and long-poll streams concerned within a second,
// each with its surface's 401; the streams of sessions not concerned go
// on; an ended session opens no new stream; an admin cannot remove a user
// of another organisation (nor themselves), an agent no one.
func TestRevocationEndsLiveStreams(t *testing.T) {
	a := setUpAcme(t)
	ts := a.ts
	adaSelf := claimsOf(t, bearer(a.admin.client)).Subject
	olgaSelf := claimsOf(t, bearer(a.outsider.client)).Subject

	t.Run("revoke", func(t *testing.T) {
		bob := newAPI(t, ts.URL(), "bob@acme.test", "battery staple")
		other := newAPI(t, ts.URL(), "bob@acme.test", "battery staple") // Bob's second session
		revoked, kept := openLive(t, ts, a.agentID, bearer(bob.client)), openLive(t, ts, a.agentID, bearer(other.client))
		bob.call("POST", "/oauth/revoke", map[string]string{"token": bearer(bob.client)}, 200)
		revoked.expectEnded(t, "revoked session", withinOneSecond())
		kept.expectOpen(t, "Bob's other session")
		refusedStreams(t, ts, a.agentID, bearer(bob.client))
	})

	t.Run("password changed by the user", func(t *testing.T) {
		phone := newAPI(t, ts.URL(), "ada@acme.test", "correct horse")
		laptop := newAPI(t, ts.URL(), "ada@acme.test", "correct horse")
		onPhone, onLaptop := openLive(t, ts, adaSelf, bearer(phone.client)), openLive(t, ts, adaSelf, bearer(laptop.client))
		laptop.call("PUT", "/user/"+adaSelf, map[string]any{"password": "new horse battery"}, 200)
		a.admin = laptop
		onPhone.expectEnded(t, "the user's other session", withinOneSecond())
		onLaptop.expectOpen(t, "the session that changed the password")
		refusedStreams(t, ts, adaSelf, bearer(phone.client))
		laptop.call("GET", "/user", nil, 200)
	})

	t.Run("password reset by an admin", func(t *testing.T) {
		bob := newAPI(t, ts.URL(), "bob@acme.test", "battery staple")
		bobs := openLive(t, ts, a.agentID, bearer(bob.client))
		olgas := openLive(t, ts, olgaSelf, bearer(a.outsider.client))
		a.admin.call("PUT", "/user/"+a.agentID, map[string]any{"password": "reset by ada"}, 200)
		bobs.expectEnded(t, "admin reset", withinOneSecond())
		olgas.expectOpen(t, "another organisation's user")
		refusedStreams(t, ts, a.agentID, bearer(bob.client))
		// The refresh token is revoked too.
		r := bob.do("POST", "/oauth/token", map[string]string{"grant_type": "refresh_token"}, "X-Calling-Application", "boxwire-tests")
		if r.status != 401 {
			t.Fatalf("refresh after an admin reset: %d %s, want 401", r.status, r.body)
		}
		a.agent = newAPI(t, ts.URL(), "bob@acme.test", "reset by ada")
	})

	t.Run("removed from a team", func(t *testing.T) {
		bobs := openLive(t, ts, a.agentID, bearer(a.agent.client))
		adas := openLive(t, ts, adaSelf, bearer(a.admin.client))
		a.admin.call("PUT", "/team/"+a.teamID, map[string]any{"userIds": []string{}}, 200)
		bobs.expectEnded(t, "team removal", withinOneSecond())
		adas.expectOpen(t, "the admin who changed the team")
		// Bob's session holds: he reconnects and sees what he may see now.
		openLive(t, ts, a.agentID, bearer(a.agent.client)).expectOpen(t, "Bob reconnected")
	})

	t.Run("removed from the organisation", func(t *testing.T) {
		// Refused first: an agent removes no one, an admin not a user of
		// another organisation nor themselves; nothing changes.
		a.agent.refused("DELETE", "/user/"+adaSelf, nil, 403, "")
		a.admin.refused("DELETE", "/user/"+olgaSelf, nil, 404, "")
		a.admin.refused("DELETE", "/user/"+adaSelf, nil, 400, "id")
		a.admin.refused("DELETE", "/user/not-a-uuid", nil, 400, "id")
		a.outsider.call("GET", "/user", nil, 200)
		a.agent.call("GET", "/user", nil, 200)

		bobs := openLive(t, ts, a.agentID, bearer(a.agent.client))
		olgas := openLive(t, ts, olgaSelf, bearer(a.outsider.client))
		a.admin.call("DELETE", "/user/"+a.agentID, nil, 204)
		bobs.expectEnded(t, "organisation removal", withinOneSecond())
		olgas.expectOpen(t, "another organisation's admin")
		a.agent.refused("GET", "/user", nil, 403, "")
		a.admin.refused("GET", "/user/"+a.agentID, nil, 404, "")
	})
}

// TestExpiryEndsLiveStreams: a stream ends when its access token expires
// (--access-ttl), within a second, and not before.
func TestExpiryEndsLiveStreams(t *testing.T) {
	ts := startServer(t, storeConfig(t), func(c *Config) { c.AccessTTL = 3 * time.Second })
	alice := ts.user(t, "Alice")
	exp := claimsOf(t, alice.token()).ExpiresAt.Time
	if ttl := time.Until(exp); ttl > 3*time.Second || ttl < time.Second {
		t.Fatalf("--access-ttl 3s issued a token valid for %v", ttl)
	}
	streams := openLive(t, ts, alice.id, alice.token())
	for time.Now().Before(exp.Add(-300 * time.Millisecond)) {
		s := streams.snapshot()
		if time.Now().Before(exp) {
			for tr, e := range s {
				if e.closed {
					t.Fatalf("the %s stream ended before its token expired: %+v", tr, e)
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	streams.expectEnded(t, "expiry", exp.Add(time.Second))
	refusedStreams(t, ts, alice.id, alice.token())
}

// TestRevocationReachesOtherNodes: a session revoked, or a password
// reset, on node A ends the session's streams on node B (through NATS)
// within a second, and node B then refuses the token.
func TestRevocationReachesOtherNodes(t *testing.T) {
	ns := startNATS(t)
	sc := clusterStore(t)
	withNATS := func(c *Config) { c.NATS = ns.ClientURL() }
	nodeA := startServer(t, sc, withNATS)
	nodeB := startServer(t, sc, withNATS)
	if out, code := nodeA.cli(t, "user", "add", "--email", "ada@acme.test", "--password", "correct horse", "--name", "Ada Admin",
		"--org", "Acme", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %s", out)
	}
	adminA := newAPI(t, nodeA.URL(), "ada@acme.test", "correct horse")
	bobID := adminA.call("POST", "/user", map[string]any{"firstName": "Bob", "lastName": "Agent", "email": "bob@acme.test",
		"password": "battery staple", "role": "agent"}, 201)["userId"].(string)

	// Revoked on A, streaming on B.
	bobB := newAPI(t, nodeB.URL(), "bob@acme.test", "battery staple")
	onB := openLive(t, nodeB, bobID, bearer(bobB.client))
	newClient(t, nodeA.URL()).do("POST", "/oauth/revoke", map[string]string{"token": bearer(bobB.client)})
	onB.expectEnded(t, "revoked on node A, streaming on node B", withinOneSecond())
	refusedStreams(t, nodeB, bobID, bearer(bobB.client))

	// A password reset on A ends every session of Bob on B.
	bobB = newAPI(t, nodeB.URL(), "bob@acme.test", "battery staple")
	onB = openLive(t, nodeB, bobID, bearer(bobB.client))
	adminA.call("PUT", "/user/"+bobID, map[string]any{"password": "reset by ada"}, 200)
	onB.expectEnded(t, "reset on node A, streaming on node B", withinOneSecond())
	refusedStreams(t, nodeB, bobID, bearer(bobB.client))

	// Removal from the organisation on A ends Bob's streams on B.
	bobB = newAPI(t, nodeB.URL(), "bob@acme.test", "reset by ada")
	onB = openLive(t, nodeB, bobID, bearer(bobB.client))
	adminA.call("DELETE", "/user/"+bobID, nil, 204)
	onB.expectEnded(t, "removed on node A, streaming on node B", withinOneSecond())
}
