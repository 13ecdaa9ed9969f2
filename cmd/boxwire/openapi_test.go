package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/boxwire/boxwire/internal/api"
	"github.com/boxwire/boxwire/internal/api/openapi"
)

// documentRoutes lists the document's operations as mux patterns
// ("GET /boxes/{id}"), HEAD left out: the mux answers HEAD on GET routes.
func documentRoutes(t *testing.T, doc []byte) []string {
	t.Helper()
	var d struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	var out []string
	for path, item := range d.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "patch":
				out = append(out, strings.ToUpper(method)+" "+path)
			case "head":
				if _, ok := item["get"]; !ok {
					t.Errorf("HEAD %s is documented without GET: the mux serves HEAD only on GET routes", path)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIDocumentsEveryRoute walks the server's route table: a route
// added without documenting it, or a documented path that is no route,
// fails here, named.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	routes := ts.http.Handler.(*api.Handler).Routes()
	if len(routes) < 100 {
		t.Fatalf("only %d routes listed", len(routes))
	}
	res, err := http.Get(ts.URL() + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	written, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(served) != string(written) {
		t.Fatal("GET /openapi.json does not serve the document in the repository")
	}
	documented := documentRoutes(t, served)
	for _, r := range routes {
		if _, skip := notInDocument[r]; skip {
			continue
		}
		if !slices.Contains(documented, r) {
			t.Errorf("route %q is not in internal/api/openapi/openapi.yaml", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("internal/api/openapi/openapi.yaml documents %q, which is no route", d)
		}
	}
	for r := range notInDocument {
		if !slices.Contains(routes, r) && r != "POST /_test/clock" {
			t.Errorf("notInDocument names %q, which is no route any more", r)
		}
	}
}

// TestOpenAPIScenarioOverEverySurface drives the three surfaces, the
// sign-in and the operational endpoints through clients whose every
// exchange docCheck validates against the document; any disagreement
// fails the test, naming the request and what differs.
func TestOpenAPIScenarioOverEverySurface(t *testing.T) {
	a := setUpAcme(t)
	ts := a.ts
	checks := []*docCheck{a.admin.http.Transport.(*docCheck)}
	seen := func() map[string]int {
		out := map[string]int{}
		for _, c := range checks {
			c.mu.Lock()
			for k, n := range c.seen {
				out[k] += n
			}
			c.mu.Unlock()
		}
		return out
	}

	// Operations and sign-in.
	anon := newClient(t, ts.URL())
	checks = append(checks, anon.http.Transport.(*docCheck))
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/openapi.json"} {
		expect(t, p, anon.do("GET", p, nil), 200)
	}
	expect(t, "no credentials", anon.do("GET", "/contact", nil), 401)
	expect(t, "bad password", anon.do("POST", "/oauth/token", map[string]string{"username": "ada@acme.test", "password": "wrong"},
		"X-Calling-Application", "openapi-test"), 401)
	tok := a.admin.call("POST", "/oauth/tokens", map[string]any{"name": "ci"}, 201)
	a.admin.call("GET", "/oauth/tokens", nil, 200)
	expect(t, "revoke API token", a.admin.do("DELETE", "/oauth/tokens/"+tok["id"].(string), nil), 204)

	// Messaging (seed 004).
	a.admin.call("GET", "/apiaccount", nil, 200)
	a.admin.call("GET", "/apiaccount/"+a.account, nil, 200)
	a.admin.call("PUT", "/apiaccount/"+a.account, map[string]any{"name": "Lettings desk"}, 200)
	inbox := a.admin.call("POST", "/inbox", map[string]any{"apiAccountId": a.account, "name": "Front"}, 201)["inboxId"].(string)
	a.admin.call("GET", "/inboxes?apiAccountId="+a.account, nil, 200)
	a.admin.call("PUT", "/inboxes/"+inbox, map[string]any{"name": "Front desk"}, 200)
	a.admin.call("GET", "/inbox/"+inbox, nil, 200)
	a.admin.call("GET", "/contact?mobileNumber=%2B447902111123", nil, 200)
	a.admin.call("PUT", "/contact/"+a.contact, map[string]any{"name": "Jack R", "tags": []string{"vip"}}, 200)
	a.admin.call("GET", "/contact/"+a.contact, nil, 200)
	a.admin.call("POST", "/apiaccount/"+a.account+"/sandbox/inbound", map[string]any{"mobileNumber": "+447902111123", "message": "Hi"}, 201)
	sent := a.admin.call("POST", "/message", map[string]any{"apiAccountId": a.account, "contactId": a.contact, "message": "Hello"}, 201)
	a.admin.call("GET", "/message/"+sent["messageId"].(string), nil, 200)
	a.admin.call("GET", "/message?conversationId="+sent["conversationId"].(string)+"&fromDate=2020-01-01", nil, 200)
	conv := sent["conversationId"].(string)
	a.admin.call("GET", "/conversation?folder=inbox", nil, 200)
	expect(t, "assign", a.admin.do("PUT", "/conversation/"+conv, map[string]any{"teamId": a.teamID}), 200)
	a.admin.call("GET", "/conversation/"+conv, nil, 200)
	tpl := a.admin.call("POST", "/template", map[string]any{"apiAccountId": a.account, "name": "hello", "templateText": "Hi {{1}}", "templateExample": "Hi Jack"}, 201)["templateId"].(string)
	a.admin.call("PUT", "/template/"+tpl, map[string]any{"status": "Approved"}, 200)
	a.admin.call("GET", "/template", nil, 200)
	a.admin.call("GET", "/template/"+tpl, nil, 200)
	bc := a.admin.call("POST", "/broadcast", map[string]any{"apiAccountId": a.account, "contactId": a.contact, "templateId": tpl, "message": "Hi Jack"}, 201)
	a.admin.call("GET", "/broadcast", nil, 200)
	a.admin.call("GET", "/broadcast/"+bc["broadcastId"].(string), nil, 200)
	a.admin.call("GET", "/team/"+a.teamID, nil, 200)
	a.admin.call("PUT", "/team/"+a.teamID, map[string]any{"description": "lets flats and houses"}, 200)
	if r := a.admin.do("GET", "/team", nil); r.status != 200 {
		t.Fatalf("GET /team: %d %s", r.status, r.body)
	}
	if r := a.admin.do("GET", "/user", nil); r.status != 200 {
		t.Fatalf("GET /user: %d %s", r.status, r.body)
	}
	a.admin.call("GET", "/user/"+a.agentID, nil, 200)
	a.admin.call("PUT", "/user/"+a.agentID, map[string]any{"firstName": "Robert"}, 200)
	hook := a.admin.call("POST", "/webhook", map[string]any{"type": "message", "targetUrl": "https://hooks.example.com/boxwire"}, 201)["webhookId"].(string)
	a.admin.call("GET", "/webhooks", nil, 200)
	a.admin.call("PUT", "/webhooks/"+hook, map[string]any{"isEnabled": false}, 200)
	a.admin.call("GET", "/webhook/"+hook, nil, 200)
	expect(t, "delete webhook", a.admin.do("DELETE", "/webhook/"+hook, nil), 204)
	expect(t, "template kept by its broadcast", a.admin.do("DELETE", "/template/"+tpl, nil), 409)
	expect(t, "delete inbox", a.admin.do("DELETE", "/inbox/"+inbox, nil), 204)
	expect(t, "bad page", a.admin.do("GET", "/contact?page=0", nil), 400)
	expect(t, "unknown contact", a.admin.do("GET", "/contact/"+uuidZero, nil), 404)

	// Boxes (seeds 000-002), with a bearer client and a browser session.
	alice := ts.user(t, "Alice")
	checks = append(checks, alice.http.Transport.(*docCheck))
	bob := ts.misakeyClient(t, "Bob")
	checks = append(checks, bob.http.Transport.(*docCheck))
	bx := alice.createBox(t, "Plans", "public")
	boxID := bx["id"].(string)
	expect(t, "post text", alice.post(t, boxID, text("hello")), 201)
	expect(t, "bob joins", bob.call("POST", "/boxes/"+boxID+"/events", map[string]any{"type": "member.join"}), 201)
	expect(t, "bob writes", bob.call("POST", "/boxes/"+boxID+"/events", text("hi alice")), 201)
	expect(t, "joined", alice.do("GET", "/boxes/joined", nil), 200)
	expect(t, "count joined", alice.do("HEAD", "/boxes/joined", nil), 204)
	expect(t, "box", bob.call("GET", "/boxes/"+boxID, nil), 200)
	expect(t, "events", alice.do("GET", "/boxes/"+boxID+"/events?offset=0&limit=10", nil), 200)
	expect(t, "members", alice.do("GET", "/boxes/"+boxID+"/members", nil), 200)
	expect(t, "accesses", alice.do("GET", "/boxes/"+boxID+"/accesses", nil), 200)
	expect(t, "files", alice.do("GET", "/boxes/"+boxID+"/files", nil), 200)
	expect(t, "public without other_share_hash", bob.call("GET", "/boxes/"+boxID+"/public", nil), 400)
	expect(t, "ack", bob.call("PUT", "/boxes/"+boxID+"/new-events-count/ack", map[string]string{"identity_id": bob.id}), 204)
	expect(t, "settings", bob.call("GET", "/box-users/"+bob.id+"/boxes/"+boxID+"/settings", nil), 200)
	expect(t, "mute", bob.call("PUT", "/box-users/"+bob.id+"/boxes/"+boxID+"/settings", map[string]bool{"muted": true}), 204)
	expect(t, "identity", bob.call("GET", "/identities/"+bob.id, nil), 200)
	expect(t, "rename", bob.call("PATCH", "/identities/"+bob.id, map[string]string{"display_name": "Bobby"}), 204)
	expect(t, "profile", alice.do("GET", "/identities/"+bob.id+"/profile", nil), 200)
	expect(t, "profile config", bob.call("GET", "/identities/"+bob.id+"/profile/config", nil), 200)
	expect(t, "share email", bob.call("PATCH", "/identities/"+bob.id+"/profile/config", map[string]bool{"email": true}), 204)
	expect(t, "notifications", bob.call("GET", "/identities/"+bob.id+"/notifications", nil), 200)
	expect(t, "crypto actions", bob.call("GET", "/identities/"+bob.id+"/crypto/actions", nil), 200)
	expect(t, "pubkeys", alice.do("GET", "/identities/pubkey?identifier_value="+bob.email, nil), 200)
	expect(t, "no csrf", bob.do("POST", "/boxes/"+boxID+"/events", text("x")), 403)
	expect(t, "unknown box", alice.do("GET", "/boxes/"+uuidZero, nil), 403)
	expect(t, "bad event", alice.post(t, boxID, map[string]any{"type": "msg.text"}), 400)
	expect(t, "delete box", alice.do("DELETE", "/boxes/"+boxID, map[string]string{"user_confirmation": "delete"}), 204)

	// The Box-compatible event stream (seed 003).
	expect(t, "stream page", alice.do("GET", "/2.0/events?stream_position=0", nil), 200)
	expect(t, "stream now", alice.do("GET", "/events?stream_position=now", nil), 200)
	expect(t, "realtime servers", alice.do("OPTIONS", "/2.0/events", nil), 200)
	expect(t, "long poll", alice.do("GET", "/2.0/events/realtime?stream_position=0", nil), 200)
	expect(t, "bad position", alice.do("GET", "/2.0/events?stream_position=x", nil), 400)

	got := seen()
	for _, want := range []string{"GET /healthz", "POST /oauth/token", "POST /message", "GET /2.0/events", "OPTIONS /2.0/events",
		"POST /boxes", "GET /boxes/" + boxID, "GET /2.0/events/realtime"} {
		if got[want] == 0 {
			t.Errorf("the scenario validated no %s: %v", want, got)
		}
	}
}

const uuidZero = "00000000-0000-4000-8000-000000000000"

// recordTB keeps what docCheck reports instead of failing the test.
type recordTB struct {
	testing.TB
	errs []string
}

func (r *recordTB) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

type cannedTransport struct {
	status int
	ctype  string
	body   string
}

func (c cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: c.status, Header: http.Header{"Content-Type": {c.ctype}},
		Body: io.NopCloser(strings.NewReader(c.body)), Request: req}, nil
}

// TestOpenAPICheckCatchesDrift shows docCheck failing on what a drifted
// server would answer: a missing field, a wrong type, an undocumented
// status, another surface's error shape, an accepted request the
// document does not allow, and an undocumented path.
func TestOpenAPICheckCatchesDrift(t *testing.T) {
	goodBox := `{"id":"` + uuidZero + `","server_created_at":"2026-01-01T00:00:00Z","public_key":"k","title":"t","access_mode":"limited",` +
		`"owner_org_id":"","lifecycle":"open","creator":{"id":"` + uuidZero + `","display_name":"A","avatar_url":null,"identifier_value":"a@x","identifier_kind":"email"},` +
		`"last_event":null,"events_count":0}`
	cases := []struct {
		name, method, path, body string
		res                      cannedTransport
		want                     string // "" when the exchange is right
	}{
		{"a right box", "GET", "/boxes/" + uuidZero, "", cannedTransport{200, "application/json", goodBox}, ""},
		{"a right refusal", "GET", "/boxes/" + uuidZero, "", cannedTransport{404, "application/json",
			`{"code":"not_found","origin":"not_defined","desc":"no box","details":{}}`}, ""},
		{"a missing field", "GET", "/boxes/" + uuidZero, "", cannedTransport{200, "application/json",
			strings.Replace(goodBox, `"events_count":0`, `"x":0`, 1)}, "events_count"},
		{"a wrong type", "GET", "/boxes/" + uuidZero, "", cannedTransport{200, "application/json",
			strings.Replace(goodBox, `"events_count":0`, `"events_count":"0"`, 1)}, "events_count"},
		{"an undocumented status", "POST", "/boxes", `{"title":"t"}`, cannedTransport{200, "application/json", goodBox}, "200"},
		{"another surface's error", "GET", "/contact", "", cannedTransport{404, "application/problem+json",
			`{"code":"not_found","origin":"not_defined","desc":"x","details":{}}`}, "requestId"},
		{"a request the document refuses", "POST", "/message", `{"apiAccountId":"` + uuidZero + `","message":"hi"}`,
			cannedTransport{201, "application/json", `{}`}, "contactId"},
		{"an undocumented path", "GET", "/nowhere", "", cannedTransport{200, "application/json", `{}`}, "nowhere"},
	}
	for _, c := range cases {
		rec := &recordTB{TB: t}
		check := &docCheck{t: rec, next: c.res, seen: map[string]int{}}
		req, _ := http.NewRequest(c.method, "http://127.0.0.1:1"+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer x")
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if _, err := check.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		all := strings.Join(rec.errs, "\n")
		switch {
		case c.want == "" && len(rec.errs) > 0:
			t.Errorf("%s: reported %s", c.name, all)
		case c.want != "" && !strings.Contains(all, c.want):
			t.Errorf("%s: want a report naming %q, got %q", c.name, c.want, all)
		}
	}
}
