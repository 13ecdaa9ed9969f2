package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestWebAppIsServed checks that the binary serves the web app at "/" and
// its files under /app/, while every API route keeps precedence: unknown
// paths still get the API's JSON 404, and API clients asking an
// invitation link's path get the API's answer, not the page.
func TestWebAppIsServed(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	c := newClient(t, ts.URL())

	page := c.do("GET", "/", nil, "Accept", "text/html")
	if page.status != 200 || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(page.body), `<script type="module" src="/app/main.js">`) {
		t.Fatalf("GET /: %d %s %.200s", page.status, page.header.Get("Content-Type"), page.body)
	}
	csp := page.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("the page's CSP: %q", csp)
	}
	js := c.do("GET", "/app/main.js", nil)
	if js.status != 200 || !strings.Contains(js.header.Get("Content-Type"), "javascript") || js.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET /app/main.js: %d %v", js.status, js.header)
	}
	// A browser revalidates; the same file answers 304.
	if r := c.do("GET", "/app/main.js", nil, "If-None-Match", js.header.Get("ETag")); r.status != http.StatusNotModified {
		t.Fatalf("revalidation: %d", r.status)
	}
	// Compressed when asked (the Go client decompresses transparently
	// unless the header is set by hand, as here).
	if r := c.do("GET", "/app/vendor/tweetnacl/nacl-fast.min.js", nil, "Accept-Encoding", "gzip"); r.status != 200 || r.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: %d %v", r.status, r.header)
	}
	// The vendored library ships with its licence.
	if r := c.do("GET", "/app/vendor/tweetnacl/LICENSE", nil); r.status != 200 || !strings.Contains(string(r.body), "public domain") {
		t.Fatalf("tweetnacl's licence: %d", r.status)
	}

	for _, p := range []string{"/app/nope.js", "/app/index.html", "/no-such-api", "/app/../go.mod"} {
		r := c.do("GET", p, nil, "Accept", "text/html")
		if r.status != 404 || !strings.Contains(r.header.Get("Content-Type"), "json") {
			t.Fatalf("GET %s: %d %s %s", p, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
	if r := c.do("POST", "/", "{}"); r.status != 404 || !strings.Contains(r.header.Get("Content-Type"), "json") {
		t.Fatalf("POST /: %d %s", r.status, r.body)
	}

	// An invitation link: a browser navigating gets the page; an API
	// client (no HTML asked, or a bearer token) gets the API.
	box := "/boxes/5d7b8f0e-6f7e-4f8a-9d1c-0b3a1f2e4c5d"
	if r := c.do("GET", box, nil, "Accept", "text/html,application/xhtml+xml,*/*;q=0.8"); r.status != 200 || !strings.Contains(string(r.body), "/app/main.js") {
		t.Fatalf("a browser opening an invitation link: %d %.200s", r.status, r.body)
	}
	if r := c.do("GET", box, nil); r.status != 401 || r.json(t)["code"] != "unauthorized" {
		t.Fatalf("the API at the same path: %d %s", r.status, r.body)
	}
	if r := c.do("GET", box, nil, "Accept", "text/html", "Authorization", "Bearer x"); r.status != 401 {
		t.Fatalf("a bearer client asking HTML: %d %s", r.status, r.body)
	}
	if r := c.do("GET", "/boxes/joined", nil, "Accept", "text/html"); r.status != 401 {
		t.Fatalf("/boxes/joined is the API's: %d %s", r.status, r.body)
	}
	if r := c.do("GET", "/healthz", nil, "Accept", "text/html"); r.status != 200 || r.json(t)["status"] != "ok" {
		t.Fatalf("healthz: %d %s", r.status, r.body)
	}
}

// TestMessagingCookieAuthAndCSRF: the web app signs in with cookies, so
// the messaging surface accepts the cookie pair too; it plays the
// attacker: a forged request carries the victim's cookies (a browser
// sends them) but cannot read the CSRF token, and changes nothing.
func TestMessagingCookieAuthAndCSRF(t *testing.T) {
	a := setUpAcme(t)
	browser := newClient(t, a.ts.URL())
	browser.login("ada@acme.test", "correct horse")

	if r := browser.do("GET", "/apiaccount", nil); r.status != 200 {
		t.Fatalf("cookie GET on the messaging surface: %d %s", r.status, r.body)
	}
	send := map[string]any{"name": "Forged", "phoneNumber": "+447902111155", "channel": "sandbox"}
	if r := browser.do("POST", "/apiaccount", send); r.status != 403 || r.header.Get("Content-Type") != "application/problem+json" ||
		!strings.Contains(string(r.body), "X-CSRF-Token") {
		t.Fatalf("cookie POST without X-CSRF-Token: %d %s", r.status, r.body)
	}
	// Another session's token (the attacker's own) does not pass either.
	attacker := newClient(t, a.ts.URL())
	attacker.login("olga@other.test", "correct horse")
	theirs := attacker.do("GET", "/csrf", nil).json(t)["csrf_token"].(string)
	if r := browser.do("POST", "/apiaccount", send, "X-CSRF-Token", theirs); r.status != 403 {
		t.Fatalf("cookie POST with another session's CSRF token: %d %s", r.status, r.body)
	}
	// A form post, as a cross-site page would make it.
	if r := browser.do("POST", "/apiaccount", `{"name":"Forged","phoneNumber":"+447902111155","channel":"sandbox"}`,
		"Content-Type", "application/x-www-form-urlencoded", "Origin", "https://evil.example"); r.status != 403 {
		t.Fatalf("a forged form post: %d %s", r.status, r.body)
	}
	for _, acc := range a.admin.items("/apiaccount") {
		if acc["name"] == "Forged" {
			t.Fatalf("a refused request created %v", acc)
		}
	}
	csrf := browser.do("GET", "/csrf", nil).json(t)["csrf_token"].(string)
	if r := browser.do("POST", "/apiaccount", send, "X-CSRF-Token", csrf); r.status != 201 {
		t.Fatalf("cookie POST with the session's CSRF token: %d %s", r.status, r.body)
	}
	// The cookies set by the login are HttpOnly: no script reads them.
	r := newClient(t, a.ts.URL()).do("POST", "/oauth/token", map[string]string{"username": "ada@acme.test", "password": "correct horse"}, "X-Calling-Application", "t")
	for _, ck := range r.header.Values("Set-Cookie") {
		if !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite") {
			t.Fatalf("cookie %q", ck)
		}
	}
}
