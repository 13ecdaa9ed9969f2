package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// withToken is a client that sends an API token as its bearer.
func withToken(t *testing.T, ts *testServer, token string) *client {
	c := newClient(t, ts.URL())
	c.hdr.Set("Authorization", "Bearer "+token)
	return c
}

// TestAPITokens: a user makes a named token, uses it as a bearer on every
// surface long after access tokens expire, lists it (name, creation, last
// use; never the secret), and revokes it, which ends its live streams.
// The refused cases: a token making tokens, another user revoking or
// listing it, a wrong secret, the refresh grant, a bad name.
func TestAPITokens(t *testing.T) {
	ts := startServer(t, storeConfig(t), func(c *Config) { c.AccessTTL = time.Minute })
	ana, ben := ts.user(t, "Ana"), ts.user(t, "Ben")
	box := ana.createBox(t, "Integrations", "limited")["id"].(string)

	r := ana.do("POST", "/oauth/tokens", map[string]string{"name": "CI deploys"})
	expect(t, "create", r, 201)
	made := r.json(t)
	token, _ := made["token"].(string)
	id, _ := made["id"].(string)
	if !strings.HasPrefix(token, "bwt_"+id+".") || made["name"] != "CI deploys" || made["createdAt"] == nil || made["lastUsedAt"] != nil {
		t.Fatalf("created token %v", made)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatal("the answer holding the secret may be cached")
	}
	secret := token[strings.Index(token, ".")+1:]

	ts.clock.Advance(2 * time.Hour) // every access token has expired
	expect(t, "the password session's access token", ana.do("GET", "/identities/"+ana.id, nil), 401)
	bot := withToken(t, ts, token)
	expect(t, "boxes surface", bot.do("GET", "/identities/"+ana.id, nil), 200)
	expect(t, "post with the token", bot.do("POST", "/boxes/"+box+"/events", text("from CI")), 201)
	expect(t, "Box-compatible stream", bot.do("OPTIONS", "/2.0/events", nil), 200)
	listed := bot.do("GET", "/oauth/tokens", nil)
	expect(t, "messaging surface: list", listed, 200)
	if bytes.Contains(listed.body, []byte(secret)) || !strings.Contains(string(listed.body), `"lastUsedAt":"20`) || !strings.Contains(string(listed.body), "CI deploys") {
		t.Fatalf("the list shows %s", listed.body)
	}

	// Refused.
	expect(t, "a token makes a token", bot.do("POST", "/oauth/tokens", map[string]string{"name": "more"}), 403)
	ana, ben = ts.signIn(t, ana.email, "Ana-password"), ts.signIn(t, ben.email, "Ben-password")
	for _, bad := range []map[string]any{{}, {"name": ""}, {"name": "bad\x07name"}, {"name": strings.Repeat("n", 65)}} {
		r := ana.do("POST", "/oauth/tokens", bad)
		if r.status != 400 || r.fields(t)["name"] == "" {
			t.Fatalf("name %q: %d %s, want 400 naming name", bad["name"], r.status, r.body)
		}
	}
	expect(t, "a wrong secret", withToken(t, ts, "bwt_"+id+".not-the-secret").do("GET", "/identities/"+ana.id, nil), 401)
	refresh := newClient(t, ts.URL()).do("POST", "/oauth/token", map[string]string{"grant_type": "refresh_token", "refresh_token": id + "." + secret},
		"X-Calling-Application", "thief")
	expect(t, "the refresh grant with the token's secret", refresh, 401)
	expect(t, "another user revokes it", ben.do("DELETE", "/oauth/tokens/"+id, nil), 404)
	if r := ben.do("GET", "/oauth/tokens", nil); bytes.Contains(r.body, []byte(id)) {
		t.Fatalf("ben lists ana's token: %s", r.body)
	}
	expect(t, "still works after the refusals", bot.do("GET", "/identities/"+ana.id, nil), 200)

	streams := openLive(t, ts, ana.id, token)
	expect(t, "revoke", ana.do("DELETE", "/oauth/tokens/"+id, nil), 204)
	streams.expectEnded(t, "revoked API token", withinOneSecond())
	refusedStreams(t, ts, ana.id, token)
	expect(t, "a revoked token", bot.do("GET", "/identities/"+ana.id, nil), 401)
	expect(t, "revoked twice", ana.do("DELETE", "/oauth/tokens/"+id, nil), 404)
	if r := ana.do("GET", "/oauth/tokens", nil); bytes.Contains(r.body, []byte(id)) {
		t.Fatalf("a revoked token is listed: %s", r.body)
	}

	// A password change ends API tokens too; so many tokens are refused.
	second := ana.do("POST", "/oauth/tokens", map[string]string{"name": "second"}).json(t)["token"].(string)
	ts.mustCLI(t, "user", "passwd", "--email", ana.email, "--password", "another password")
	waitFor(t, 10*time.Second, "a password change ends the token", func() bool {
		return withToken(t, ts, second).do("GET", "/identities/"+ana.id, nil).status == 401
	})
	ana = ts.signIn(t, ana.email, "another password")
	for i := 0; i < 50; i++ {
		expect(t, "token", ana.do("POST", "/oauth/tokens", map[string]string{"name": fmt.Sprint("t", i)}), 201)
	}
	if r := ana.do("POST", "/oauth/tokens", map[string]string{"name": "one too many"}); r.status != 400 || r.fields(t)["name"] == "" {
		t.Fatalf("the 51st token: %d %s", r.status, r.body)
	}
}

// TestAPITokensFromTheCLI: boxwire token create prints the token once,
// list shows it without the secret, revoke ends it.
func TestAPITokensFromTheCLI(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	ana := ts.user(t, "Ana")
	me := terminal{t, t.TempDir(), "Ana-password"}
	me.run("login", "--server", ts.URL(), "--email", ana.email)
	out := me.run("token", "create", "nightly backup")
	token := strings.Fields(out)[0]
	if !strings.HasPrefix(token, "bwt_") || !strings.Contains(out, "not shown again") {
		t.Fatalf("token create printed %q", out)
	}
	expect(t, "the printed token", withToken(t, ts, token).do("GET", "/identities/"+ana.id, nil), 200)
	list := me.run("token", "list")
	id := strings.TrimPrefix(strings.Split(token, ".")[0], "bwt_")
	if !lineHas(list, id, "nightly backup") || strings.Contains(list, strings.Split(token, ".")[1]) {
		t.Fatalf("token list:\n%s", list)
	}
	me.run("token", "revoke", id)
	expect(t, "a revoked token", withToken(t, ts, token).do("GET", "/identities/"+ana.id, nil), 401)
	out, code := me.try("token", "revoke", id)
	if code == 0 {
		t.Fatalf("revoking twice succeeded: %s", out)
	}
	expectSentence(t, out, "not found")
}

// TestOfficialBoxSDKWithAnAPIToken: the official Box SDK given an API
// token keeps following the stream after access tokens would have
// expired, without errors (a 15-minute token made it loop on OPTIONS).
func TestOfficialBoxSDKWithAnAPIToken(t *testing.T) {
	dir, _ := filepath.Abs("../../internal/api/stream/testdata")
	nodeModules(t, dir)
	ts := startServer(t, storeConfig(t), func(c *Config) { c.LongPollHold = time.Second; c.AccessTTL = 2 * time.Second })
	alice := ts.user(t, "Alice")
	id := alice.createBox(t, "SDK", "limited")["id"].(string)
	token := alice.do("POST", "/oauth/tokens", map[string]string{"name": "Box SDK"}).json(t)["token"].(string)
	const n = 12
	cmd := exec.Command("node", "follow.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BOX_BASE_URL="+ts.URL(), "BOX_TOKEN="+token, fmt.Sprintf("EXPECT=%d", n), "TIMEOUT_MS=60000", "LINGER_MS=1000")
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the SDK to start following", func() bool { return strings.Contains(stderr.String(), "READY") })
	started := time.Now()
	writer := withToken(t, ts, token)
	for i := range n {
		if i%4 == 0 && i > 0 { // past the 2 s access-token life, over several long-poll rounds
			time.Sleep(1200 * time.Millisecond)
		}
		expect(t, "post", writer.do("POST", "/boxes/"+id+"/events", text(fmt.Sprint(i))), 201)
	}
	if time.Since(started) < 2*time.Second {
		t.Fatal("the writes did not outlast an access token")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("follow.mjs: %v\nstderr: %s\nstdout: %s", err, stderr.String(), stdout.String())
	}
	var report struct {
		Events     []json.RawMessage `json:"events"`
		ErrorCount int               `json:"error_count"`
		Requests   map[string]int    `json:"requests"`
	}
	if err := json.Unmarshal(bytes.TrimSpace([]byte(stdout.String())), &report); err != nil {
		t.Fatalf("report %q: %v", stdout.String(), err)
	}
	if len(report.Events) != n || report.ErrorCount != 0 || report.Requests["OPTIONS /2.0/events"] > 10 {
		t.Fatalf("SDK with an API token: %d events of %d, %d errors, requests %v", len(report.Events), n, report.ErrorCount, report.Requests)
	}
}
