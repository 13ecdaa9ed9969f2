package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/boxwire/boxwire/internal/journal"
)

func TestOperationalEndpoints(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	c := newClient(t, ts.URL())
	if r := c.do("GET", "/healthz", nil); r.status != 200 || r.json(t)["status"] != "ok" {
		t.Fatalf("healthz: %d %s", r.status, r.body)
	}
	r := c.do("GET", "/readyz", nil)
	if r.status != 200 || r.json(t)["store"] != ts.Store.Engine() {
		t.Fatalf("readyz: %d %s", r.status, r.body)
	}
	r = c.do("GET", "/metrics", nil)
	for _, want := range []string{"# TYPE boxwire_http_requests_total counter", `boxwire_http_requests_total{code="200",route="GET /readyz"} 1`,
		"boxwire_store_commit_batch_size_bucket", "go_goroutines"} {
		if !strings.Contains(string(r.body), want) {
			t.Fatalf("metrics lack %q", want)
		}
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("metrics content type %q", ct)
	}
	if r := c.do("GET", "/no/such/thing", nil); r.status != 404 || r.json(t)["code"] != "not_found" {
		t.Fatalf("unknown path: %d %s", r.status, r.body)
	}

	// readyz says when the store is gone.
	ts.Store.Close()
	if r := c.do("GET", "/readyz", nil); r.status != 503 {
		t.Fatalf("readyz with a closed store: %d", r.status)
	}
}

func TestUserAddAndLogin(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	out, code := ts.cli(t, "user", "add", "--email", "Erin@Example.com", "--password", "erin-password", "--name", "Erin E", "--org", "Acme", "--role", "admin")
	if code != 0 || !strings.Contains(out, "created user Erin E <erin@example.com>") || !strings.Contains(out, "in Acme as admin") {
		t.Fatalf("user add (server running): exit %d: %s", code, out)
	}
	for _, bad := range [][]string{
		{"--email", "erin@example.com", "--password", "erin-password", "--name", "Again"},
		{"--email", "nope", "--password", "erin-password", "--name", "X"},
		{"--email", "f@example.com", "--password", "short", "--name", "X"},
		{"--email", "f@example.com", "--password", "long-enough", "--name", "X", "--org", "Acme", "--role", "owner"},
	} {
		out, code := ts.cli(t, append([]string{"user", "add"}, bad...)...)
		if code == 0 || !strings.Contains(out, "--") {
			t.Errorf("user add %v: exit %d %q, want a failure naming the flag", bad, code, out)
		}
	}

	c := newClient(t, ts.URL())
	body := map[string]string{"username": "erin@example.com", "password": "erin-password"}
	r := c.do("POST", "/oauth/token", body)
	if r.status != 400 || r.fields(t)["X-Calling-Application"] != "required" || r.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("token without X-Calling-Application: %d %s", r.status, r.body)
	}
	r = c.do("POST", "/oauth/token", map[string]string{"username": "erin@example.com", "password": "wrong-password"}, "X-Calling-Application", "t")
	if r.status != 401 {
		t.Fatalf("wrong password: %d %s", r.status, r.body)
	}
	r = c.do("POST", "/oauth/token", `{"username": 5}`, "X-Calling-Application", "t")
	if r.status != 400 || r.fields(t)["username"] != "malformed" {
		t.Fatalf("username of the wrong type: %d %s", r.status, r.body)
	}
	r = c.do("POST", "/oauth/token", body, "X-Calling-Application", "t")
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	tok := r.json(t)
	if tok["token_type"] != "Bearer" || tok["scope"] == "" || len(tok) != 4 {
		t.Fatalf("token response %v: want exactly access_token, token_type, scope, expires_at", tok)
	}
	expiresAt, err := time.Parse(time.RFC3339, tok["expires_at"].(string))
	if err != nil {
		t.Fatalf("expires_at: %v", err)
	}
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok["access_token"].(string), &claims); err != nil || !claims.ExpiresAt.Time.Equal(expiresAt) {
		t.Fatalf("JWT exp %v vs expires_at %v (%v)", claims.ExpiresAt, expiresAt, err)
	}
	var refresh *http.Cookie
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.Name == "refreshToken" {
			refresh = ck
		}
	}
	if refresh == nil || !refresh.HttpOnly || refresh.Value == "" {
		t.Fatalf("refreshToken cookie %+v: want an HttpOnly cookie", refresh)
	}
}

func TestBearerAndCookieAuth(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	ts.cli(t, "user", "add", "--email", "finn@example.com", "--password", "finn-password", "--name", "Finn")
	ts.cli(t, "user", "add", "--email", "gale@example.com", "--password", "gale-password", "--name", "Gale")

	bearer := newClient(t, ts.URL())
	tok := bearer.login("finn@example.com", "finn-password")
	bearer.http.Jar = nil // bearer only: no cookies
	bearer.hdr.Set("Authorization", "Bearer "+tok)
	me := bearer.do("GET", "/csrf", nil)
	if me.status != 200 || me.json(t)["csrf_token"] == "" {
		t.Fatalf("GET /csrf with bearer: %d %s", me.status, me.body)
	}
	finnID := claimsOf(t, tok).Subject
	r := bearer.do("GET", "/identities/"+finnID, nil)
	if r.status != 200 || r.json(t)["identifier_value"] != "finn@example.com" || r.json(t)["display_name"] != "Finn" {
		t.Fatalf("own identity: %d %s", r.status, r.body)
	}
	other := newClient(t, ts.URL())
	galeTok := other.login("gale@example.com", "gale-password")
	if r := bearer.do("GET", "/identities/"+claimsOf(t, galeTok).Subject, nil); r.status != 403 || r.json(t)["code"] != "forbidden" {
		t.Fatalf("someone else's identity: %d %s", r.status, r.body)
	}
	if r := bearer.do("GET", "/identities/not-a-uuid", nil); r.status != 400 || r.json(t)["origin"] != "path" || r.fields(t)["id"] != "malformed" {
		t.Fatalf("malformed id: %d %s", r.status, r.body)
	}
	// Bad input names the field and changes nothing.
	if r := bearer.do("PATCH", "/identities/"+finnID, `{"display_name": 42}`); r.status != 400 || r.fields(t)["display_name"] != "malformed" {
		t.Fatalf("display_name of the wrong type: %d %s", r.status, r.body)
	}
	if r := bearer.do("PATCH", "/identities/"+finnID, map[string]string{"display_name": strings.Repeat("x", 65)}); r.status != 400 || r.fields(t)["display_name"] != "too_long" {
		t.Fatalf("display_name too long: %d %s", r.status, r.body)
	}
	if r := bearer.do("PATCH", "/identities/"+finnID, map[string]string{"avatar_url": "javascript:alert(1)"}); r.status != 400 || r.fields(t)["avatar_url"] != "malformed" {
		t.Fatalf("bad avatar_url: %d %s", r.status, r.body)
	}
	if r := bearer.do("GET", "/identities/"+finnID, nil); r.json(t)["display_name"] != "Finn" || r.json(t)["avatar_url"] != nil {
		t.Fatalf("refused updates changed the identity: %s", r.body)
	}
	if r := bearer.do("PATCH", "/identities/"+finnID, map[string]string{"display_name": "Finn F"}); r.status != 204 {
		t.Fatalf("bearer PATCH needs no CSRF token: %d %s", r.status, r.body)
	}

	// The cookie pair from the login, as a browser holds it.
	browser := newClient(t, ts.URL())
	browser.login("finn@example.com", "finn-password")
	if r := browser.do("GET", "/identities/"+finnID, nil); r.status != 200 || r.json(t)["display_name"] != "Finn F" {
		t.Fatalf("cookie GET: %d %s", r.status, r.body)
	}
	patch := map[string]string{"display_name": "Finn by cookie"}
	// As Misakey's reference: a missing and a wrong X-CSRF-Token are both
	// 403 {csrf_token: invalid}.
	if r := browser.do("PATCH", "/identities/"+finnID, patch); r.status != 403 || r.fields(t)["csrf_token"] != "invalid" || r.json(t)["origin"] != "not_defined" {
		t.Fatalf("cookie PATCH without CSRF token: %d %s", r.status, r.body)
	}
	if r := browser.do("PATCH", "/identities/"+finnID, patch, "X-CSRF-Token", me.json(t)["csrf_token"].(string)); r.status != 403 || r.fields(t)["csrf_token"] != "invalid" {
		t.Fatalf("cookie PATCH with another session's CSRF token: %d %s", r.status, r.body)
	}
	csrf := browser.do("GET", "/csrf", nil).json(t)["csrf_token"].(string)
	if r := browser.do("PATCH", "/identities/"+finnID, patch, "X-CSRF-Token", csrf); r.status != 204 {
		t.Fatalf("cookie PATCH with CSRF token: %d %s", r.status, r.body)
	}

	// Cookies must come as the pair.
	lone := newClient(t, ts.URL())
	lone.http.Jar = nil
	if r := lone.do("GET", "/csrf", nil, "Cookie", "accesstoken="+tok); r.status != 401 || r.fields(t)["tokentype"] != "required" || r.json(t)["origin"] != "cookies" {
		t.Fatalf("accesstoken without tokentype: %d %s", r.status, r.body)
	}
	if r := lone.do("GET", "/csrf", nil, "Cookie", "accesstoken="+tok+"; tokentype=mac"); r.status != 401 || r.fields(t)["tokentype"] != "invalid" {
		t.Fatalf("tokentype not bearer: %d %s", r.status, r.body)
	}
	if r := lone.do("GET", "/csrf", nil); r.status != 401 {
		t.Fatalf("no credentials: %d %s", r.status, r.body)
	}
	if r := lone.do("GET", "/csrf", nil, "Authorization", "Basic Zm9vOmJhcg=="); r.status != 401 || r.fields(t)["Authorization"] != "malformed" {
		t.Fatalf("basic auth: %d %s", r.status, r.body)
	}
}

func TestTokensExpireRotateAndRevoke(t *testing.T) {
	sc := storeConfig(t)
	ts := startServer(t, sc)
	ts.cli(t, "user", "add", "--email", "hale@example.com", "--password", "hale-password", "--name", "Hale")
	c := newClient(t, ts.URL())
	tok := c.login("hale@example.com", "hale-password")
	get := func(token string) int {
		return c.do("GET", "/identities/"+claimsOf(t, token).Subject, nil, "Authorization", "Bearer "+token).status
	}
	if s := get(tok); s != 200 {
		t.Fatalf("fresh token: %d", s)
	}
	// Forged: right claims, wrong key.
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claimsOf(t, tok)).SignedString([]byte("guessed key"))
	if s := get(forged); s != 401 {
		t.Fatalf("forged token: %d", s)
	}

	// Refresh with the cookie rotates it; the old one then revokes the session.
	oldJar := snapshotCookies(t, c, "refreshToken")
	r := c.do("POST", "/oauth/token", map[string]string{"grant_type": "refresh_token"}, "X-Calling-Application", "boxwire-tests")
	if r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	fresh := r.json(t)["access_token"].(string)
	if newJar := snapshotCookies(t, c, "refreshToken"); newJar == oldJar || newJar == "" {
		t.Fatal("refresh did not rotate the refreshToken cookie")
	}
	if s := get(fresh); s != 200 {
		t.Fatalf("refreshed token: %d", s)
	}
	r = c.do("POST", "/oauth/token", "grant_type=refresh_token", "X-Calling-Application", "boxwire-tests",
		"Content-Type", "application/x-www-form-urlencoded", "Cookie", "refreshToken="+oldJar)
	if r.status != 401 {
		t.Fatalf("reused refresh token: %d %s", r.status, r.body)
	}
	if s := get(fresh); s != 401 {
		t.Fatalf("token of a session revoked for refresh reuse: %d", s)
	}

	// Revocation.
	tok2 := c.login("hale@example.com", "hale-password")
	if r := c.do("POST", "/oauth/revoke", map[string]string{"token": tok2}); r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if s := get(tok2); s != 401 {
		t.Fatalf("revoked token: %d", s)
	}

	// Expiry, with the server's clock moved past the token's lifetime.
	tok3 := c.login("hale@example.com", "hale-password")
	ts.clock.Advance(16 * time.Minute)
	if s := get(tok3); s != 401 {
		t.Fatalf("expired token: %d", s)
	}

	// The signing key survives a restart: a token issued before still works.
	ts.clock.offset.Store(0)
	tok4 := c.login("hale@example.com", "hale-password")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.Close(ctx); err != nil {
		t.Fatal(err)
	}
	ts2 := startServer(t, sc)
	c2 := newClient(t, ts2.URL())
	if s := c2.do("GET", "/identities/"+claimsOf(t, tok4).Subject, nil, "Authorization", "Bearer "+tok4).status; s != 200 {
		t.Fatalf("token from before the restart: %d", s)
	}
}

func TestFailedLoginsAreSlowedDown(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	ts.cli(t, "user", "add", "--email", "ivy@example.com", "--password", "ivy-password", "--name", "Ivy")
	c := newClient(t, ts.URL())
	var r response
	for range 7 {
		r = c.do("POST", "/oauth/token", map[string]string{"username": "ivy@example.com", "password": "guess"}, "X-Calling-Application", "t")
	}
	if r.status != 429 || r.header.Get("Retry-After") == "" || r.json(t)["code"] != "rate_limited" {
		t.Fatalf("7th guess: %d %s (Retry-After %q)", r.status, r.body, r.header.Get("Retry-After"))
	}
	// Even the right password waits until the delay is over.
	r = c.do("POST", "/oauth/token", map[string]string{"username": "ivy@example.com", "password": "ivy-password"}, "X-Calling-Application", "t")
	if r.status != 429 {
		t.Fatalf("right password while throttled: %d", r.status)
	}
	ts.clock.Advance(time.Minute)
	if r := c.do("POST", "/oauth/token", map[string]string{"username": "ivy@example.com", "password": "ivy-password"}, "X-Calling-Application", "t"); r.status != 200 {
		t.Fatalf("after the delay: %d %s", r.status, r.body)
	}
}

func TestRequestIDsReachTheLog(t *testing.T) {
	// At debug level, so that the health check is logged too.
	ts := startServer(t, storeConfig(t), func(c *Config) { c.LogLevel = "debug" })
	c := newClient(t, ts.URL())
	for _, path := range []string{"/healthz", "/csrf", "/nowhere"} {
		r := c.do("GET", path, nil)
		id := r.header.Get("X-Request-Id")
		if id == "" {
			t.Fatalf("%s: no X-Request-Id", path)
		}
		waitFor(t, 5*time.Second, "the log line of "+path, func() bool {
			return strings.Contains(ts.logs.String(), `"request_id":"`+id+`"`)
		})
	}
}

// TestProfileChangesAreJournaled checks that a write and its journal entry
// are one transaction, and that the entry wakes a follower after commit.
func TestProfileChangesAreJournaled(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	ts.cli(t, "user", "add", "--email", "jo@example.com", "--password", "jo-password", "--name", "Jo")
	sub := ts.Broker.Subscribe(16)
	defer sub.Close()
	c := newClient(t, ts.URL())
	tok := c.login("jo@example.com", "jo-password")
	id := claimsOf(t, tok).Subject
	if r := c.do("PATCH", "/identities/"+id, map[string]string{"display_name": "Jo J"}, "Authorization", "Bearer "+tok); r.status != 204 {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	select {
	case n := <-sub.C:
		if n.Scope != journal.IdentityScope(id) {
			t.Fatalf("notice for scope %q", n.Scope)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notice after the commit")
	}
	entries, err := ts.Store.ReadJournal(context.Background(), journal.Query{Scopes: []string{journal.IdentityScope(id)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Type != "identity.created" || entries[1].Type != "identity.updated" ||
		!strings.Contains(string(entries[1].Payload), `"Jo J"`) || entries[1].ActorID != id {
		t.Fatalf("journal of the identity: %+v", entries)
	}
}

func claimsOf(t *testing.T, token string) jwt.RegisteredClaims {
	t.Helper()
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func snapshotCookies(t *testing.T, c *client, name string) string {
	t.Helper()
	for _, ck := range c.http.Jar.Cookies(mustURL(t, c.base+"/oauth/token")) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func TestMigrateCommand(t *testing.T) {
	sc := storeConfig(t)
	out, code := runCLI(t, sc, "migrate")
	if code != 0 || !strings.Contains(out, "schema at version 14") {
		t.Fatalf("migrate on an empty database: exit %d: %s", code, out)
	}
	again, code := runCLI(t, sc, "migrate")
	if code != 0 || again != out {
		t.Fatalf("migrate twice: exit %d: %q then %q", code, out, again)
	}
	if out, code := runCLI(t, StoreConfig{Data: sc.Data, Database: "mysql://nope"}, "migrate"); code == 0 || !strings.Contains(out, "--database") {
		t.Fatalf("a database URL of another kind: exit %d: %s", code, out)
	}
}
