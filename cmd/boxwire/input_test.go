package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/api"
)

// TestEveryRouteRefusesTextTheStoresDisagreeOn walks the server's own
// route table, so a route added later is covered without editing this
// test: on every route, a path parameter or query value holding a NUL
// byte or invalid UTF-8, and a JSON body holding \u0000, invalid UTF-8
// or a lone surrogate, get a 400 naming the field, on SQLite as on
// PostgreSQL (which would answer 500 where the text reached it).
func TestEveryRouteRefusesTextTheStoresDisagreeOn(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	if out, code := ts.cli(t, "user", "add", "--email", "root@acme.example", "--password", "root-password",
		"--name", "Root", "--org", "acme", "--role", "admin"); code != 0 {
		t.Fatal(out)
	}
	c := newClient(t, ts.URL())
	c.hdr.Set("Authorization", "Bearer "+c.login("root@acme.example", "root-password"))
	c.hdr.Set("X-Calling-Application", "boxwire-tests")
	c.http.Jar = nil

	routes := ts.http.Handler.(*api.Handler).Routes()
	if len(routes) < 50 {
		t.Fatalf("only %d routes listed: %v", len(routes), routes)
	}
	// Routes whose handler reads no JSON body: only their path and query
	// are tried.
	noJSON := map[string]string{
		"POST /boxes/{id}/encrypted-files": "multipart upload",
		"POST /media":                      "multipart upload (TestMessagingMultipartTextTheStoresDisagreeOn)",
		"POST /channels/whatsapp/{id}":     "Meta's signed callback, read raw (TestWhatsAppCallbackWithABadMessage)",
		"POST /_test/clock":                "test clock, off here",
	}
	badSegments := map[string]string{"%00": "NUL", "a%00b": "NUL", "%FF": "invalid UTF-8", "%C3%28": "invalid UTF-8"}
	badBodies := map[string]string{
		`{"x":"a\u0000b"}`:        "x",
		`{"x":{"y":"\u0000"}}`:    "x.y",
		"{\"x\":\"\xff\"}":        "x",
		`{"x":"\ud800"}`:          "x",
		`{"x":["ok","\udc00z"]}`:  "x",
		`{"x":"ok","a\u0000":""}`: "body",
	}
	for _, route := range routes {
		method, pattern, ok := strings.Cut(route, " ")
		if !ok {
			continue // the catch-all "/"
		}
		names, fill := wildcardsOf(pattern)
		for _, name := range names {
			for seg, what := range badSegments {
				path := fill(name, seg)
				r := c.do(method, path+"?ok=1", nil)
				wantRefused(t, route, "path "+name+" with "+what, r, name)
			}
		}
		for _, q := range []string{"q=%00", "q=%FF", "q=a%00", "q=ok&q=%C3%28"} {
			r := c.do(method, fill("", "")+"?"+q, nil)
			wantRefused(t, route, "query "+q, r, "q")
		}
		if method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions || noJSON[route] != "" {
			continue
		}
		path := fill("", "")
		// A route that reads no body answers a harmless one as it answers
		// the bad ones (DELETE /boxes/{id}: 403 or 404): nothing was read.
		ignored := c.do(method, path, `{"x":"ok"}`).status
		for body, field := range badBodies {
			r := c.do(method, path, body)
			if r.status == ignored && r.status != http.StatusBadRequest && r.status < 500 {
				continue
			}
			wantRefused(t, route, "body "+body, r, field)
		}
	}

	// The unauthenticated sign-in, also form-encoded as OAuth clients send it.
	anon := newClient(t, ts.URL())
	for form, field := range map[string]string{"username=a%00&password=x": "username", "username=a&password=%FF": "password",
		"grant_type=%00": "grant_type", "%FF=1": "body"} {
		r := anon.do("POST", "/oauth/token", form, "Content-Type", "application/x-www-form-urlencoded", "X-Calling-Application", "t")
		wantRefused(t, "POST /oauth/token", "form "+form, r, field)
	}
	r := anon.do("POST", "/oauth/token", map[string]string{"username": "root@acme.example", "password": "x"},
		"X-Calling-Application", "t\xff")
	wantRefused(t, "POST /oauth/token", "X-Calling-Application", r, "X-Calling-Application")
}

// wildcardsOf lists pattern's wildcards and returns a function writing a
// path where wildcard name is seg and the others a fresh UUID.
func wildcardsOf(pattern string) ([]string, func(name, seg string) string) {
	var names []string
	parts := strings.Split(pattern, "/")
	for _, p := range parts {
		if strings.HasPrefix(p, "{") && p != "{$}" {
			names = append(names, strings.Trim(p, "{}."))
		}
	}
	return names, func(name, seg string) string {
		out := make([]string, len(parts))
		for i, p := range parts {
			switch {
			case !strings.HasPrefix(p, "{"):
				out[i] = p
			case strings.Trim(p, "{}.") == name:
				out[i] = seg
			default:
				out[i] = uuid.NewString()
			}
		}
		return strings.Join(out, "/")
	}
}

func wantRefused(t *testing.T, route, what string, r response, field string) {
	t.Helper()
	if r.status != http.StatusBadRequest {
		t.Errorf("%s, %s: got %d, want 400: %s", route, what, r.status, r.body)
		return
	}
	named := r.fields(t)
	if ci, ok := r.json(t)["context_info"].(map[string]any); ok { // Box's shape
		for _, e := range ci["errors"].([]any) {
			named[e.(map[string]any)["name"].(string)] = "named"
		}
	}
	if _, ok := named[field]; !ok {
		t.Errorf("%s, %s: the 400 does not name %s: %s", route, what, field, r.body)
	}
}

// TestNamesAndTitlesRefuseControlCharacters: a carriage return, escape
// sequence or other control character (newline and tab excepted) in a
// name or title is refused with a 400 naming the field, on every surface;
// nothing is created or changed.
func TestNamesAndTitlesRefuseControlCharacters(t *testing.T) {
	a := setUpAcme(t)
	ana := a.ts.user(t, "Ana")
	for _, bad := range []string{"a\rb", "\x1b[31mred", "back\bspace", "del\x7f", "csi\u009b2J", "nul\x00"} {
		expect(t, "box title "+bad, ana.do("POST", "/boxes", map[string]string{"title": bad, "public_key": randomKey()}), 400, "title", "malformed")
		expect(t, "display name "+bad, ana.do("PATCH", "/identities/"+ana.id, map[string]string{"display_name": bad}), 400, "display_name", "malformed")
		a.admin.refused("POST", "/team", map[string]any{"name": bad}, 400, "name")
		a.admin.refused("PUT", "/team/"+a.teamID, map[string]any{"name": bad}, 400, "name")
		a.admin.refused("POST", "/apiaccount", map[string]any{"name": bad, "phoneNumber": "+447902111190", "channel": "sandbox"}, 400, "name")
		a.admin.refused("POST", "/user", map[string]any{"firstName": bad, "lastName": "X", "email": "x@acme.test",
			"password": "battery staple", "role": "agent"}, 400, "firstName")
		a.admin.refused("POST", "/contact", map[string]any{"mobileNumber": "+447902111191", "name": bad,
			"status": "Presubscribed", "apiAccountId": a.account}, 400, "name")
	}
	if r := ana.do("GET", "/identities/"+ana.id, nil); r.json(t)["display_name"] != "Ana" {
		t.Fatalf("a refused display name changed it: %s", r.body)
	}
	if team := a.admin.call("GET", "/team/"+a.teamID, nil, 200); team["name"] != "Lettings team" {
		t.Fatalf("a refused team name changed it: %v", team)
	}
	// Newline and tab are text.
	expect(t, "a title with a tab", ana.do("POST", "/boxes", map[string]string{"title": "Plans\tMay", "public_key": randomKey()}), 201)
	a.admin.call("POST", "/team", map[string]any{"name": "Two\nlines"}, 201)
}
