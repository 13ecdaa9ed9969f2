package main

// Conformance of the messaging API to seed 004 (the msgboxx API
// documentation, /work/shared/seeds/004_20903a23ed03baaf.txt) with
// DESIGN §6 (typos fixed: POST /message, POST /webhook; /webhooks and
// /inboxes/{id} are aliases) and the decisions in docs/messaging.md.
//
// The seed lives outside the repository, so its shapes are copied here:
// every key, JSON type, status code and list form below is written from
// seed 004's example responses. Keys the server writes beyond the seed's
// are allowed only where a shape's allow-list names them, with the reason.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

// seedKind is a JSON type as seed 004's examples show it.
type seedKind string

const (
	seedStr  seedKind = "string"
	seedDate seedKind = "RFC 3339 date string"
	seedBool seedKind = "bool"
	seedNum  seedKind = "number"
	seedArr  seedKind = "array"
	seedObj  seedKind = "object"
)

// seedField is one key's expected value.
type seedField struct {
	kind     seedKind
	nullable bool       // null allowed: only where the server documents it
	shape    *seedShape // an object's shape, or an array's element shape
	elem     seedKind   // an array of scalars: their kind
}

// seedExtra is an allow-listed key the seed does not show, and why.
type seedExtra struct {
	seedField
	why string
}

// seedShape is the exact set of keys of one JSON object.
type seedShape struct {
	name  string
	keys  map[string]seedField
	extra map[string]seedExtra
}

var (
	seedS    = seedField{kind: seedStr}
	seedD    = seedField{kind: seedDate}
	seedB    = seedField{kind: seedBool}
	seedN    = seedField{kind: seedNum}
	seedTags = seedField{kind: seedArr, elem: seedStr}
)

func seedObjOf(s *seedShape) seedField     { return seedField{kind: seedObj, shape: s} }
func seedNullObjOf(s *seedShape) seedField { return seedField{kind: seedObj, shape: s, nullable: true} }
func seedArrOf(s *seedShape) seedField     { return seedField{kind: seedArr, shape: s} }

// The shapes, copied from seed 004's example responses.
var (
	// POST /oauth/token.
	seedTokenShape = &seedShape{name: "token", keys: map[string]seedField{
		"access_token": seedS, "token_type": seedS, "scope": seedS, "expires_at": seedD}}

	// GET /apiaccount items, GET /apiaccount/{id}.
	seedAPIAccountShape = &seedShape{name: "apiaccount", keys: map[string]seedField{
		"apiAccountId": seedS, "phoneNumber": seedS, "name": seedS, "datetime": seedD},
		extra: map[string]seedExtra{
			// Not in docs/messaging.md: DESIGN §6 ("an API account is one channel number (channel: sandbox | whatsapp)") and README's quickstart.
			"channel": {seedS, "DESIGN §6: an API account is one channel number, channel sandbox | whatsapp"},
		}}

	// GET /broadcast items, GET /broadcast/{id}, POST /broadcast.
	seedBroadcastShape = &seedShape{name: "broadcast", keys: map[string]seedField{
		"broadcastId": seedS, "apiAccountId": seedS, "contactId": seedS, "messageId": seedS,
		"message": seedS, "status": seedS, "dateTime": seedD},
		extra: map[string]seedExtra{
			// Not in docs/messaging.md as a response key (only as the input POST /broadcast names).
			"templateId": {seedS, "the template the broadcast was sent with (POST /broadcast's templateId, echoed)"},
			"reason":     {seedS, "docs/messaging.md: the broadcast follows its message ... or Failed with reason"},
		}}

	// GET /contact items, GET /contact/{id}, POST /contact, PUT /contact/{id}.
	seedContactShape = &seedShape{name: "contact", keys: map[string]seedField{
		"contactId": seedS, "mobileNumber": seedS, "name": seedS, "status": seedS, "email": seedS,
		"apiAccountId": seedS, "datetime": seedD, "tags": seedTags}}

	// The user and team of GET /conversation/{id}.
	seedConvUserShape = &seedShape{name: "conversation.user", keys: map[string]seedField{
		"firstName": seedS, "lastName": seedS, "userId": seedS}}
	seedConvTeamShape = &seedShape{name: "conversation.team", keys: map[string]seedField{
		"name": seedS, "description": seedS, "teamId": seedS}}

	// A conversation, one (GET /conversation/{id}) or listed (GET
	// /conversation, boxwire's): the seed's user, team and folder, user and
	// team null when unassigned (the seed: "Will never return both"), plus
	// the ids docs/messaging.md names, so a listed one can be used.
	seedConversationExtra = map[string]seedExtra{
		"conversationId": {seedS, "docs/messaging.md: a conversation also carries conversationId, apiAccountId, contactId, dateTime"},
		"apiAccountId":   {seedS, "docs/messaging.md: a conversation also carries conversationId, apiAccountId, contactId, dateTime"},
		"contactId":      {seedS, "docs/messaging.md: a conversation also carries conversationId, apiAccountId, contactId, dateTime"},
		"dateTime":       {seedD, "docs/messaging.md: a conversation also carries conversationId, apiAccountId, contactId, dateTime"},
	}
	seedConversationShape = &seedShape{name: "conversation", keys: map[string]seedField{
		"user": seedNullObjOf(seedConvUserShape), "team": seedNullObjOf(seedConvTeamShape), "folder": seedS},
		extra: seedConversationExtra}
	seedConversationItemShape = &seedShape{name: "conversation list item", keys: seedConversationShape.keys,
		extra: seedConversationExtra}

	// GET /inbox items (the seed writes dateTime there).
	seedInboxItemShape = &seedShape{name: "inbox list item", keys: map[string]seedField{
		"inboxId": seedS, "apiAccountId": seedS, "name": seedS, "dateTime": seedD},
		extra: map[string]seedExtra{
			// Not in docs/messaging.md; internal/msgrules/model.go's Inbox comment.
			"datetime": {seedD, "the seed writes datetime for one inbox (GET /inboxes/{id}); both spellings are written"},
		}}

	// GET /inboxes/{id} (the seed writes datetime there), and the admin writes.
	seedInboxShape = &seedShape{name: "inbox", keys: map[string]seedField{
		"inboxId": seedS, "name": seedS, "apiAccountId": seedS, "datetime": seedD},
		extra: map[string]seedExtra{
			"dateTime": {seedD, "the seed writes dateTime in GET /inbox's items; both spellings are written"},
		}}

	// The contact inside a message.
	seedMessageContactShape = &seedShape{name: "message.contact", keys: map[string]seedField{
		"contactId": seedS, "mobileNumber": seedS, "name": seedS, "status": seedS, "apiAccountId": seedS}}

	// GET /message items, GET /message/{id}, POST /message.
	seedMessageShape = &seedShape{name: "message", keys: map[string]seedField{
		"messageId": seedS, "bodyText": seedS, "apiAccountId": seedS, "dateTime": seedD,
		"conversationId": seedS, "fileLocation": seedS, "messageDirection": seedS,
		"isTemplateMessage": seedB, "isSent": seedB, "isDelivered": seedB, "isRead": seedB,
		"contact": seedObjOf(seedMessageContactShape), "senderFirstName": seedS, "senderLastName": seedS},
		extra: map[string]seedExtra{
			"failedReason": {seedS, "docs/messaging.md: a failed message has failedReason (omitted otherwise)"},
			// Not in docs/messaging.md.
			"broadcastId": {seedS, "a broadcast's template message names its broadcast (omitted otherwise)"},
		}}

	// The API account and user references of GET /team and GET /user.
	seedAccountRefShape = &seedShape{name: "apiAccount ref", keys: map[string]seedField{
		"name": seedS, "apiAccountid": seedS},
		extra: map[string]seedExtra{
			"apiAccountId": {seedS, "docs/messaging.md: the seed spells the account id apiAccountid in these rows; apiAccountId is written too"},
		}}
	seedUserRefShape = &seedShape{name: "user ref", keys: map[string]seedField{
		"firstName": seedS, "lastName": seedS, "userId": seedS}}

	// GET /team items (a bare array).
	seedTeamShape = &seedShape{name: "team", keys: map[string]seedField{
		"name": seedS, "description": seedS, "teamId": seedS,
		"apiAccounts": seedArrOf(seedAccountRefShape), "users": seedArrOf(seedUserRefShape)}}

	// GET /user items (a bare array): apiAccount is null for a user who
	// reaches no API account (docs/messaging.md).
	seedUserRowShape = &seedShape{name: "user row", keys: map[string]seedField{
		"user": seedObjOf(seedUserRefShape), "apiAccount": seedNullObjOf(seedAccountRefShape)}}

	// One user (GET /user/{id} and the admin writes; not in the seed): the
	// seed's user.
	seedUserShape = &seedShape{name: "user", keys: seedUserRefShape.keys,
		extra: map[string]seedExtra{
			"email": {seedS, "docs/messaging.md: PUT /user/{id} changes firstName, lastName, role, email and password (shown to admins and the user)"},
			"role":  {seedS, "docs/messaging.md: users have role admin or agent; PUT /user/{id} changes it (shown to admins and the user)"},
		}}

	// GET /template items, GET /template/{id}.
	seedTemplateShape = &seedShape{name: "template", keys: map[string]seedField{
		"templateId": seedS, "apiAccountId": seedS, "status": seedS, "name": seedS,
		"templateText": seedS, "templateExample": seedS, "dateTime": seedD}}

	// GET /webhook items, GET /webhook/{id}, PUT /webhook/{id}.
	seedWebhookShape = &seedShape{name: "webhook", keys: map[string]seedField{
		"webhookId": seedS, "type": seedS, "targetUrl": seedS, "isEnabled": seedB, "failureCount": seedN, "isZapier": seedB}}

	// POST /webhook.
	seedWebhookCreatedShape = &seedShape{name: "created webhook", keys: seedWebhookShape.keys,
		extra: map[string]seedExtra{
			"secret": {seedS, "docs/messaging.md: the create response holds secret (whsec_…), never shown again"},
		}}

	// paging of every paged list.
	seedPagingShape = &seedShape{name: "paging", keys: map[string]seedField{"recordCount": seedN, "pages": seedN}}
)

// seedForm is how a response body is laid out.
type seedForm int

const (
	seedOne   seedForm = iota // one object of the shape
	seedPage                  // {items: [shape], paging: {recordCount, pages}}
	seedList                  // a bare array of the shape (GET /team, GET /user)
	seedEmpty                 // no body (PUT /conversation, DELETE /webhook)
)

// seedEndpoint is one row of the conformance table.
type seedEndpoint struct {
	method, path string // the path with {id} for the record's id
	status       int
	form         seedForm
	shape        *seedShape
}

// seedEndpoints: methods, paths, statuses and shapes of seed 004 (201
// for creates and 204 for DELETE /webhook as the seed lists them), with
// the admin writes DESIGN §6 adds on the same paths and the sandbox's
// inbound endpoint (docs/messaging.md).
var seedEndpoints = []seedEndpoint{
	{"POST", "/oauth/token", 200, seedOne, seedTokenShape},

	{"GET", "/apiaccount", 200, seedPage, seedAPIAccountShape},
	{"GET", "/apiaccount/{id}", 200, seedOne, seedAPIAccountShape},
	{"POST", "/apiaccount", 201, seedOne, seedAPIAccountShape},
	{"PUT", "/apiaccount/{id}", 200, seedOne, seedAPIAccountShape},
	{"POST", "/apiaccount/{id}/sandbox/inbound", 201, seedOne, seedMessageShape},

	{"GET", "/broadcast", 200, seedPage, seedBroadcastShape},
	{"GET", "/broadcast/{id}", 200, seedOne, seedBroadcastShape},
	{"POST", "/broadcast", 201, seedOne, seedBroadcastShape},

	{"GET", "/contact", 200, seedPage, seedContactShape},
	{"GET", "/contact/{id}", 200, seedOne, seedContactShape},
	{"POST", "/contact", 201, seedOne, seedContactShape},
	{"PUT", "/contact/{id}", 200, seedOne, seedContactShape},

	{"GET", "/conversation/{id}", 200, seedOne, seedConversationShape},
	{"PUT", "/conversation/{id}", 200, seedEmpty, nil},
	{"GET", "/conversation", 200, seedPage, seedConversationItemShape},

	{"GET", "/inbox", 200, seedPage, seedInboxItemShape},
	{"GET", "/inbox/{id}", 200, seedOne, seedInboxShape},
	{"GET", "/inboxes/{id}", 200, seedOne, seedInboxShape},
	{"POST", "/inbox", 201, seedOne, seedInboxShape},
	{"PUT", "/inbox/{id}", 200, seedOne, seedInboxShape},

	{"GET", "/message", 200, seedPage, seedMessageShape},
	{"GET", "/message/{id}", 200, seedOne, seedMessageShape},
	{"POST", "/message", 201, seedOne, seedMessageShape},

	{"GET", "/team", 200, seedList, seedTeamShape},
	{"GET", "/team/{id}", 200, seedOne, seedTeamShape},
	{"POST", "/team", 201, seedOne, seedTeamShape},
	{"PUT", "/team/{id}", 200, seedOne, seedTeamShape},

	{"GET", "/template", 200, seedPage, seedTemplateShape},
	{"GET", "/template/{id}", 200, seedOne, seedTemplateShape},
	{"POST", "/template", 201, seedOne, seedTemplateShape},
	{"PUT", "/template/{id}", 200, seedOne, seedTemplateShape},

	{"GET", "/user", 200, seedList, seedUserRowShape},
	{"GET", "/user/{id}", 200, seedOne, seedUserShape},
	{"POST", "/user", 201, seedOne, seedUserShape},
	{"PUT", "/user/{id}", 200, seedOne, seedUserShape},

	{"GET", "/webhook", 200, seedPage, seedWebhookShape},
	{"GET", "/webhooks", 200, seedPage, seedWebhookShape},
	{"GET", "/webhook/{id}", 200, seedOne, seedWebhookShape},
	{"POST", "/webhook", 201, seedOne, seedWebhookCreatedShape},
	{"PUT", "/webhook/{id}", 200, seedOne, seedWebhookShape},
	{"DELETE", "/webhook/{id}", 204, seedEmpty, nil},
}

// seedUnknownID is an id no record has (the seed's own example id).
const seedUnknownID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"

// seedRun calls the table's endpoints and collects the differences.
type seedRun struct {
	t        *testing.T
	reported map[string]bool
	covered  map[string]bool
}

func newSeedRun(t *testing.T) *seedRun {
	return &seedRun{t: t, reported: map[string]bool{}, covered: map[string]bool{}}
}

// errorf reports a difference once per key, however many items show it.
func (s *seedRun) errorf(key, format string, args ...any) {
	s.t.Helper()
	if s.reported[key] {
		return
	}
	s.reported[key] = true
	s.t.Errorf(format, args...)
}

func seedFind(method, route string) seedEndpoint {
	for _, e := range seedEndpoints {
		if e.method == method && e.path == route {
			return e
		}
	}
	panic("no such row in seedEndpoints: " + method + " " + route)
}

// hit calls the table's row method+route with id in place of {id} and
// query appended, checks the status, the body's form and shape, and
// returns the decoded body (nil when the status is not the row's).
func (s *seedRun) hit(c *msgClient, method, route, id, query string, body any, headers ...string) any {
	s.t.Helper()
	e := seedFind(method, route)
	s.covered[method+" "+route] = true
	path := strings.Replace(route, "{id}", id, 1) + query
	r := c.do(method, path, body, headers...)
	where := method + " " + route
	if r.status != e.status {
		s.t.Errorf("%s: status %d, want %d (seed 004): %s", method+" "+path, r.status, e.status, r.body)
		return nil
	}
	if e.form == seedEmpty {
		if len(r.body) != 0 {
			s.errorf(where+" body", "%s: body %q, want none (seed 004)", where, r.body)
		}
		return nil
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.errorf(where+" content-type", "%s: Content-Type %q, want application/json", where, ct)
	}
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		s.t.Errorf("%s: body is not JSON: %v: %s", where, err, r.body)
		return nil
	}
	switch e.form {
	case seedOne:
		s.value(where, seedObjOf(e.shape), v)
	case seedList:
		s.value(where, seedArrOf(e.shape), v)
	case seedPage:
		s.value(where, seedObjOf(&seedShape{name: "page", keys: map[string]seedField{
			"items": seedArrOf(e.shape), "paging": seedObjOf(seedPagingShape)}}), v)
		if p, ok := v.(map[string]any); ok {
			s.paging(where, p)
		}
	}
	return v
}

// paging checks the counts of a page against its items.
func (s *seedRun) paging(where string, p map[string]any) {
	items, _ := p["items"].([]any)
	pg, _ := p["paging"].(map[string]any)
	n, _ := pg["recordCount"].(float64)
	pages, _ := pg["pages"].(float64)
	if want := float64((int(n) + 99) / 100); pages != want {
		s.t.Errorf("%s: paging %v: pages should be %v for %v records at 100 a page", where, pg, want, n)
	}
	if len(items) > 100 || float64(len(items)) > n {
		s.t.Errorf("%s: %d items with paging %v", where, len(items), pg)
	}
}

// value checks v against f; where names it in the messages.
func (s *seedRun) value(where string, f seedField, v any) {
	s.t.Helper()
	if v == nil {
		if !f.nullable {
			s.errorf(where+" null", "%s: null, want %s (seed 004; no documented null)", where, f.kind)
		}
		return
	}
	ok := true
	switch f.kind {
	case seedStr:
		_, ok = v.(string)
	case seedDate:
		str, isStr := v.(string)
		if ok = isStr; ok {
			if _, err := time.Parse(time.RFC3339, str); err != nil {
				s.errorf(where+" date", "%s: %q is not an RFC 3339 date: %v", where, str, err)
			}
		}
	case seedBool:
		_, ok = v.(bool)
	case seedNum:
		_, ok = v.(float64)
	case seedObj:
		var m map[string]any
		if m, ok = v.(map[string]any); ok {
			s.shape(where, f.shape, m)
		}
	case seedArr:
		var list []any
		if list, ok = v.([]any); ok {
			el := seedField{kind: f.elem}
			if f.shape != nil {
				el = seedObjOf(f.shape)
			}
			for _, it := range list {
				s.value(where+"[]", el, it)
			}
		}
	}
	if !ok {
		s.errorf(where+" type", "%s: %T %v, want %s (seed 004)", where, v, v, f.kind)
	}
}

// shape checks that m has every key of sh with its type, and no key
// beyond them but the allow-listed ones.
func (s *seedRun) shape(where string, sh *seedShape, m map[string]any) {
	s.t.Helper()
	for _, k := range seedSortedKeys(sh.keys) {
		v, ok := m[k]
		if !ok {
			s.errorf(where+" lacks "+k, "%s: %s lacks %q, which seed 004 shows: %v", where, sh.name, k, m)
			continue
		}
		s.value(where+"."+k, sh.keys[k], v)
	}
	for _, k := range seedSortedKeys(m) {
		if _, ok := sh.keys[k]; ok {
			continue
		}
		if x, ok := sh.extra[k]; ok {
			s.value(where+"."+k, x.seedField, m[k])
			continue
		}
		s.errorf(where+" extra "+k, "%s: %s has %q = %v, which seed 004 does not show and no allow-list entry documents", where, sh.name, k, m[k])
	}
}

func seedSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// obj, items and list are hit for the three forms.
func (s *seedRun) obj(c *msgClient, method, route, id string, body any, headers ...string) map[string]any {
	s.t.Helper()
	m, _ := s.hit(c, method, route, id, "", body, headers...).(map[string]any)
	return m
}

func (s *seedRun) items(c *msgClient, route, query string) []map[string]any {
	s.t.Helper()
	p, _ := s.hit(c, "GET", route, "", query, nil).(map[string]any)
	raw, _ := p["items"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, it := range raw {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func (s *seedRun) list(c *msgClient, route string) []map[string]any {
	s.t.Helper()
	raw, _ := s.hit(c, "GET", route, "", "", nil).([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, it := range raw {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// create is obj for a record the test goes on with: it stops the test
// when there is none.
func (s *seedRun) create(c *msgClient, method, route, id string, body any, key string) (map[string]any, string) {
	s.t.Helper()
	m := s.obj(c, method, route, id, body)
	v, _ := m[key].(string)
	if v == "" {
		s.t.Fatalf("%s %s: no %s to go on with: %v", method, route, key, m)
	}
	return m, v
}

// problem checks an error answer: its status and problem+json.
func (s *seedRun) problem(c *client, method, path string, body any, status int, headers ...string) {
	s.t.Helper()
	r := c.do(method, path, body, headers...)
	if r.status != status {
		s.t.Errorf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.body)
		return
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		s.t.Errorf("%s %s: %d with Content-Type %q, want application/problem+json", method, path, status, ct)
		return
	}
	var p map[string]any
	if err := json.Unmarshal(r.body, &p); err != nil || p["status"] != float64(status) {
		s.t.Errorf("%s %s: problem body %s", method, path, r.body)
	}
}

func (s *seedRun) allCovered() {
	s.t.Helper()
	for _, e := range seedEndpoints {
		if !s.covered[e.method+" "+e.path] {
			s.t.Errorf("the test never called %s %s", e.method, e.path)
		}
	}
}

// TestSeedMessagingShapes calls every endpoint of seed 004 and checks its
// status and the exact keys and JSON types of its answer.
func TestSeedMessagingShapes(t *testing.T) {
	a := setUpAcme(t)
	s := newSeedRun(t)
	ad, ag := a.admin, a.agent

	// Token: the seed's four fields; DESIGN §3: 400 without X-Calling-Application.
	anon := &msgClient{client: newClient(t, a.ts.URL()), t: t}
	login := map[string]string{"username": "ada@acme.test", "password": "correct horse"}
	tok := s.obj(anon, "POST", "/oauth/token", "", login, "X-Calling-Application", "seed-004")
	if tok["token_type"] != "Bearer" {
		t.Errorf("token_type %v, want Bearer", tok["token_type"])
	}
	s.problem(anon.client, "POST", "/oauth/token", login, 400)

	// API accounts (admin writes: DESIGN §6).
	_, support := s.create(ad, "POST", "/apiaccount", "", map[string]any{"name": "Support", "phoneNumber": "+447902111102", "channel": "sandbox"}, "apiAccountId")
	if acc := s.obj(ad, "PUT", "/apiaccount/{id}", support, map[string]any{"name": "Support desk"}); acc != nil && acc["name"] != "Support desk" {
		t.Errorf("PUT /apiaccount: %v", acc)
	}
	if got := s.items(ad, "/apiaccount", ""); len(got) != 3 {
		t.Errorf("GET /apiaccount: %d accounts, want 3", len(got))
	}
	s.obj(ag, "GET", "/apiaccount/{id}", a.account, nil)

	// Inboxes, at /inbox and the seed's /inboxes/{id}.
	_, inbox := s.create(ad, "POST", "/inbox", "", map[string]any{"apiAccountId": a.account, "name": "my inbox"}, "inboxId")
	s.obj(ad, "PUT", "/inbox/{id}", inbox, map[string]any{"name": "Lettings inbox"})
	s.items(ag, "/inbox", "")
	s.obj(ag, "GET", "/inbox/{id}", inbox, nil)
	if x := s.obj(ag, "GET", "/inboxes/{id}", inbox, nil); x != nil && x["name"] != "Lettings inbox" {
		t.Errorf("GET /inboxes/{id}: %v", x)
	}

	// Contacts; the seed's 409 for a mobile number already on the account.
	_, jill := s.create(ad, "POST", "/contact", "", map[string]any{"mobileNumber": "+447902111124", "name": "Miss Customer",
		"status": "Presubscribed", "email": "miss@somewhereelse.com", "apiAccountId": a.other}, "contactId")
	s.problem(ad.client, "POST", "/contact", map[string]any{"mobileNumber": "+447902111124", "name": "Again",
		"status": "Presubscribed", "apiAccountId": a.other}, 409)
	c := s.obj(ag, "PUT", "/contact/{id}", a.contact, map[string]any{"status": "Subscribed", "tags": []string{"customer", "prospect"}})
	if tags, _ := c["tags"].([]any); len(tags) != 2 {
		t.Errorf("PUT /contact tags: %v", c)
	}
	s.obj(ag, "PUT", "/contact/{id}", a.contact, map[string]any{"tags": []string{}}) // the seed's "tags": [] stays an array
	s.obj(ad, "GET", "/contact/{id}", jill, nil)
	s.items(ad, "/contact", "")

	// A contact writes in (sandbox), then a session message goes out.
	in := s.obj(ad, "POST", "/apiaccount/{id}/sandbox/inbound", a.account, map[string]any{"mobileNumber": "+447902111123",
		"message": "Is the 2 bedroom house in Swindon still free?", "name": "Jack"})
	conv, _ := in["conversationId"].(string)
	if conv == "" {
		t.Fatalf("the inbound message has no conversation: %v", in)
	}
	_, out := s.create(ag, "POST", "/message", "", map[string]any{"apiAccountId": a.account, "contactId": a.contact,
		"message": "Hi John, that sounds good progress, keep me informed please."}, "messageId")
	ag.waitField("/message/"+out, "isRead", true)
	if m := s.obj(ag, "GET", "/message/{id}", out, nil); m != nil && (m["messageDirection"] != "outgoing" || m["senderFirstName"] != "Bob") {
		t.Errorf("GET /message/{id}: %v", m)
	}
	if got := s.items(ag, "/message", "?page=1"); len(got) != 2 {
		t.Errorf("GET /message: %d messages, want 2", len(got))
	}

	// The conversation: unassigned, then a user, then a team; PUT answers
	// 200 with an empty body.
	v := s.obj(ag, "GET", "/conversation/{id}", conv, nil)
	if v != nil && (v["user"] != nil || v["team"] != nil || v["folder"] != "inbox") {
		t.Errorf("a new conversation: %v", v)
	}
	s.hit(ag, "PUT", "/conversation/{id}", conv, "", map[string]any{"userId": a.agentID, "teamId": "", "folder": "inbox"})
	v = s.obj(ag, "GET", "/conversation/{id}", conv, nil)
	if u, _ := v["user"].(map[string]any); u == nil || u["userId"] != a.agentID || v["team"] != nil {
		t.Errorf("assigned to a user: %v", v)
	}
	s.hit(ag, "PUT", "/conversation/{id}", conv, "", map[string]any{"teamId": a.teamID})
	s.hit(ag, "PUT", "/conversation/{id}", conv, "", map[string]any{"folder": "archive"})
	v = s.obj(ag, "GET", "/conversation/{id}", conv, nil)
	if tm, _ := v["team"].(map[string]any); tm == nil || tm["teamId"] != a.teamID || v["user"] != nil || v["folder"] != "archive" {
		t.Errorf("assigned to a team, archived: %v", v)
	}
	s.items(ag, "/conversation", "")

	// Templates and a broadcast.
	text := "Hi {{1}}, thanks for the conversation earlier about {{2}} lets catch up soon."
	_, tpl := s.create(ad, "POST", "/template", "", map[string]any{"apiAccountId": a.account, "name": "follow_up", "templateText": text,
		"templateExample": "Hi [John], thanks for the conversation earlier about [the 2 bedroom house you are interested in,] lets catch up soon."}, "templateId")
	s.obj(ad, "PUT", "/template/{id}", tpl, map[string]any{"status": "Approved"})
	s.obj(ag, "GET", "/template/{id}", tpl, nil)
	s.items(ag, "/template", "")
	_, bc := s.create(ag, "POST", "/broadcast", "", map[string]any{"apiAccountId": a.account, "contactId": a.contact, "templateId": tpl,
		"message": "Hi Jack, thanks for the conversation earlier about the 2 bedroom house in Swindon lets catch up soon."}, "broadcastId")
	ag.waitField("/broadcast/"+bc, "status", "Read")
	b := s.obj(ag, "GET", "/broadcast/{id}", bc, nil)
	s.items(ag, "/broadcast", "")
	if mid, _ := b["messageId"].(string); mid != "" {
		if m := s.obj(ag, "GET", "/message/{id}", mid, nil); m != nil && m["isTemplateMessage"] != true {
			t.Errorf("a broadcast's message: %v", m)
		}
	} else {
		t.Errorf("a sent broadcast has no messageId: %v", b)
	}

	// Teams and users: bare arrays.
	_, head := s.create(ad, "POST", "/team", "", map[string]any{"name": "Head Office", "description": "Accounts, billing, etc",
		"apiAccountIds": []string{support}}, "teamId")
	s.obj(ad, "PUT", "/team/{id}", head, map[string]any{"description": "Accounts and billing"})
	s.obj(ag, "GET", "/team/{id}", a.teamID, nil)
	if got := s.list(ag, "/team"); len(got) != 2 {
		t.Errorf("GET /team: %d teams, want 2", len(got))
	}
	_, carl := s.create(ad, "POST", "/user", "", map[string]any{"firstName": "Carl", "lastName": "Nobody", "email": "carl@acme.test",
		"password": "a long password", "role": "agent"}, "userId")
	s.obj(ad, "PUT", "/user/{id}", carl, map[string]any{"lastName": "Somebody"})
	s.obj(ag, "GET", "/user/{id}", carl, nil)
	var carlRows, bobRows int
	for _, row := range s.list(ag, "/user") {
		u, _ := row["user"].(map[string]any)
		switch u["userId"] {
		case carl:
			carlRows++
			if row["apiAccount"] != nil {
				t.Errorf("a user who reaches no API account: %v", row)
			}
		case a.agentID:
			bobRows++
			if acc, _ := row["apiAccount"].(map[string]any); acc["apiAccountid"] != a.account {
				t.Errorf("the agent's row: %v", row)
			}
		}
	}
	if carlRows != 1 || bobRows != 1 {
		t.Errorf("GET /user: %d rows for Carl, %d for Bob; want 1 each", carlRows, bobRows)
	}

	// Webhooks, at /webhook and /webhooks; the secret only on create.
	h, hook := s.create(ad, "POST", "/webhook", "", map[string]any{"type": "message",
		"targetUrl": "https://webhook.example.test/6899463c-c692-4610-a138-5ba069f690bc", "isEnabled": false}, "webhookId")
	if sec, _ := h["secret"].(string); !strings.HasPrefix(sec, "whsec_") {
		t.Errorf("POST /webhook secret: %v", h)
	}
	s.items(ad, "/webhook", "")
	s.items(ad, "/webhooks", "")
	s.obj(ad, "GET", "/webhook/{id}", hook, nil)
	if w := s.obj(ad, "PUT", "/webhook/{id}", hook, map[string]any{"type": "contact",
		"targetUrl": "https://hooks.example.test/hooks/standard/11043413/", "isEnabled": false}); w != nil && w["type"] != "contact" {
		t.Errorf("PUT /webhook: %v", w)
	}
	s.hit(ad, "DELETE", "/webhook/{id}", hook, "", nil)
	s.problem(ad.client, "GET", "/webhook/"+hook, nil, 404)

	// 404 for unknown ids.
	for _, p := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/apiaccount/", nil}, {"GET", "/broadcast/", nil}, {"GET", "/contact/", nil},
		{"PUT", "/contact/", map[string]any{"name": "x"}}, {"GET", "/conversation/", nil},
		{"PUT", "/conversation/", map[string]any{"folder": "inbox"}}, {"GET", "/inbox/", nil}, {"GET", "/inboxes/", nil},
		{"GET", "/message/", nil}, {"GET", "/template/", nil}, {"GET", "/team/", nil}, {"GET", "/user/", nil},
		{"GET", "/webhook/", nil}, {"GET", "/webhooks/", nil}, {"PUT", "/webhook/", map[string]any{"isEnabled": false}},
		{"DELETE", "/webhook/", nil},
	} {
		s.problem(ad.client, p.method, p.path+seedUnknownID, p.body, 404)
	}

	// 401 without a bearer token and with a bad one.
	bad := tok["access_token"].(string)
	bad = bad[:len(bad)-4] + strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return 'A'
	}, bad[len(bad)-4:])
	for _, p := range []struct{ method, path string }{
		{"GET", "/apiaccount"}, {"GET", "/apiaccount/" + a.account}, {"GET", "/broadcast"}, {"POST", "/broadcast"},
		{"GET", "/contact"}, {"GET", "/contact/" + a.contact}, {"POST", "/contact"}, {"PUT", "/contact/" + a.contact},
		{"GET", "/conversation/" + conv}, {"PUT", "/conversation/" + conv}, {"GET", "/inbox"}, {"GET", "/inboxes/" + inbox},
		{"GET", "/message"}, {"GET", "/message/" + out}, {"POST", "/message"}, {"GET", "/team"}, {"GET", "/template"},
		{"GET", "/template/" + tpl}, {"GET", "/user"}, {"GET", "/webhook"}, {"GET", "/webhooks"}, {"POST", "/webhook"},
	} {
		var body any
		if p.method != "GET" {
			body = map[string]any{}
		}
		s.problem(newClient(t, a.ts.URL()), p.method, p.path, body, 401)
		for _, authz := range []string{"Bearer " + bad, "Bearer not-a-token", "Basic " + bad} {
			s.problem(newClient(t, a.ts.URL()), p.method, p.path, body, 401, "Authorization", authz)
		}
	}
	s.allCovered()
}

// seedSet is the set of key's values over items.
func seedSet(items []map[string]any, key string) map[string]bool {
	out := map[string]bool{}
	for _, it := range items {
		if v, ok := it[key].(string); ok {
			out[v] = true
		}
	}
	return out
}

// expectSet checks that GET route+query lists exactly want (by key).
func (s *seedRun) expectSet(c *msgClient, route, query, key string, want ...string) {
	s.t.Helper()
	got := seedSet(s.items(c, route, query), key)
	w := map[string]bool{}
	for _, id := range want {
		w[id] = true
	}
	if fmt.Sprint(seedSortedKeys(got)) != fmt.Sprint(seedSortedKeys(w)) {
		s.t.Errorf("GET %s%s: %s %v, want %v", route, query, key, seedSortedKeys(got), seedSortedKeys(w))
	}
}

// TestSeedMessagingFilters creates records on two API accounts and checks
// that every filter seed 004 lists for a list narrows it correctly.
func TestSeedMessagingFilters(t *testing.T) {
	a := setUpAcme(t)
	s := newSeedRun(t)
	ad := a.admin
	A, B := a.account, a.other
	jack := a.contact
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return "?" + v.Encode()
	}

	_, inboxA := s.create(ad, "POST", "/inbox", "", map[string]any{"apiAccountId": A, "name": "Lettings inbox"}, "inboxId")
	_, inboxB := s.create(ad, "POST", "/inbox", "", map[string]any{"apiAccountId": B, "name": "Sales inbox"}, "inboxId")
	_, jill := s.create(ad, "POST", "/contact", "", map[string]any{"mobileNumber": "+447902111124", "name": "Jill",
		"status": "Presubscribed", "apiAccountId": B}, "contactId")

	// Messages: Jack writes on A; two hours later Kim (new) and Jill write
	// on B and Jack is answered on A.
	inbound := func(account, mobile, name, text string) map[string]any {
		m, _ := s.create(ad, "POST", "/apiaccount/{id}/sandbox/inbound", account, map[string]any{"mobileNumber": mobile, "message": text, "name": name}, "messageId")
		return m
	}
	mJ1 := inbound(A, "+447902111123", "Jack", "hello")
	ad.call("POST", "/_test/clock", map[string]any{"advance": "2h"}, 200)
	mK1 := inbound(B, "+447902111125", "Kim", "hi there")
	mL1 := inbound(B, "+447902111124", "Jill", "me too")
	mJ2, _ := s.create(ad, "POST", "/message", "", map[string]any{"apiAccountId": A, "contactId": jack, "message": "hi Jack"}, "messageId")
	kimRef, _ := mK1["contact"].(map[string]any)
	kim, _ := kimRef["contactId"].(string)
	if kim == "" {
		t.Fatalf("the inbound message names no contact: %v", mK1)
	}
	id := func(m map[string]any) string { return m["messageId"].(string) }
	convJ, convK := mJ1["conversationId"].(string), mK1["conversationId"].(string)

	s.expectSet(ad, "/message", "", "messageId", id(mJ1), id(mK1), id(mL1), id(mJ2))
	s.expectSet(ad, "/message", q("apiAccountId", A), "messageId", id(mJ1), id(mJ2))
	s.expectSet(ad, "/message", q("apiAccountId", B), "messageId", id(mK1), id(mL1))
	s.expectSet(ad, "/message", q("inboxId", inboxA), "messageId", id(mJ1), id(mJ2))
	s.expectSet(ad, "/message", q("inboxId", inboxB), "messageId", id(mK1), id(mL1))
	s.expectSet(ad, "/message", q("contactId", jack), "messageId", id(mJ1), id(mJ2))
	s.expectSet(ad, "/message", q("contactId", kim), "messageId", id(mK1))
	s.expectSet(ad, "/message", q("contactId", jill), "messageId", id(mL1))
	s.expectSet(ad, "/message", q("conversationId", convJ), "messageId", id(mJ1), id(mJ2))
	s.expectSet(ad, "/message", q("conversationId", convK), "messageId", id(mK1))
	s.expectSet(ad, "/message", q("apiAccountId", B, "contactId", jill), "messageId", id(mL1))
	t0, err := time.Parse(time.RFC3339, mJ1["dateTime"].(string))
	if err != nil {
		t.Fatalf("message dateTime: %v", err)
	}
	hour := t0.Add(time.Hour).Format(time.RFC3339Nano)
	s.expectSet(ad, "/message", q("fromDate", hour), "messageId", id(mK1), id(mL1), id(mJ2))
	s.expectSet(ad, "/message", q("toDate", hour), "messageId", id(mJ1))
	s.expectSet(ad, "/message", q("fromDate", t0.Add(-time.Minute).Format(time.RFC3339Nano), "toDate", hour), "messageId", id(mJ1))
	s.expectSet(ad, "/message", q("fromDate", hour, "apiAccountId", A), "messageId", id(mJ2))
	s.expectSet(a.agent, "/message", q("fromDate", hour), "messageId", id(mJ2)) // the agent reaches A only

	// Contacts: Jack on A; Jill, then Kim on B.
	s.expectSet(ad, "/contact", "", "contactId", jack, jill, kim)
	s.expectSet(ad, "/contact", q("apiAccountId", A), "contactId", jack)
	s.expectSet(ad, "/contact", q("apiAccountId", B), "contactId", jill, kim)
	s.expectSet(ad, "/contact", q("mobileNumber", "+447902111124"), "contactId", jill)
	s.expectSet(ad, "/contact", q("mobileNumber", "+447902111123"), "contactId", jack)
	s.expectSet(ad, "/contact", q("mobileNumber", "+447902111199"), "contactId")
	dates := map[string]time.Time{}
	for _, c := range s.items(ad, "/contact", "") {
		d, err := time.Parse(time.RFC3339, c["datetime"].(string))
		if err != nil {
			t.Fatalf("contact datetime: %v", err)
		}
		dates[c["contactId"].(string)] = d
	}
	if !dates[jill].Before(dates[kim]) || dates[kim].Sub(dates[jill]) < 2*time.Microsecond {
		t.Fatalf("contacts' datetimes do not follow their creation: %v", dates)
	}
	mid := dates[jill].Add(dates[kim].Sub(dates[jill]) / 2).Format(time.RFC3339Nano)
	s.expectSet(ad, "/contact", q("fromDate", mid), "contactId", kim)
	s.expectSet(ad, "/contact", q("toDate", mid), "contactId", jack, jill)
	s.expectSet(ad, "/contact", q("fromDate", dates[jack].Add(-time.Minute).Format(time.RFC3339Nano), "toDate", mid), "contactId", jack, jill)
	s.expectSet(ad, "/contact", q("toDate", mid, "apiAccountId", B), "contactId", jill)

	// Inboxes.
	s.expectSet(ad, "/inbox", "", "inboxId", inboxA, inboxB)
	s.expectSet(ad, "/inbox", q("apiAccountId", A), "inboxId", inboxA)
	s.expectSet(ad, "/inbox", q("apiAccountId", B), "inboxId", inboxB)

	// Templates: follow_up on both accounts, reminder on A.
	text := "Hi {{1}}, about {{2}}."
	tpl := func(account, name string) string {
		_, id := s.create(ad, "POST", "/template", "", map[string]any{"apiAccountId": account, "name": name, "templateText": text}, "templateId")
		s.obj(ad, "PUT", "/template/{id}", id, map[string]any{"status": "Approved"})
		return id
	}
	tA, tB, tR := tpl(A, "follow_up"), tpl(B, "follow_up"), tpl(A, "reminder")
	s.expectSet(ad, "/template", "", "templateId", tA, tB, tR)
	s.expectSet(ad, "/template", q("apiAccountId", A), "templateId", tA, tR)
	s.expectSet(ad, "/template", q("apiAccountId", B), "templateId", tB)
	s.expectSet(ad, "/template", q("name", "follow_up"), "templateId", tA, tB)
	s.expectSet(ad, "/template", q("name", "reminder"), "templateId", tR)
	s.expectSet(ad, "/template", q("name", "follow_up", "apiAccountId", A), "templateId", tA)
	s.expectSet(ad, "/template", q("name", "nothing_here"), "templateId")

	// Broadcasts: to Jack on A, to Kim and Jill on B.
	broadcast := func(account, contact, template, first string) string {
		_, id := s.create(ad, "POST", "/broadcast", "", map[string]any{"apiAccountId": account, "contactId": contact,
			"templateId": template, "message": "Hi " + first + ", about the flat."}, "broadcastId")
		return id
	}
	bJ, bK, bL := broadcast(A, jack, tA, "Jack"), broadcast(B, kim, tB, "Kim"), broadcast(B, jill, tB, "Jill")
	s.expectSet(ad, "/broadcast", "", "broadcastId", bJ, bK, bL)
	s.expectSet(ad, "/broadcast", q("apiAccountId", A), "broadcastId", bJ)
	s.expectSet(ad, "/broadcast", q("apiAccountId", B), "broadcastId", bK, bL)
	s.expectSet(ad, "/broadcast", q("inboxId", inboxA), "broadcastId", bJ)
	s.expectSet(ad, "/broadcast", q("inboxId", inboxB), "broadcastId", bK, bL)
	s.expectSet(ad, "/broadcast", q("contactId", jack), "broadcastId", bJ)
	s.expectSet(ad, "/broadcast", q("contactId", kim), "broadcastId", bK)
	s.expectSet(ad, "/broadcast", q("contactId", jill, "apiAccountId", B), "broadcastId", bL)
	s.expectSet(ad, "/broadcast", q("contactId", jill, "apiAccountId", A), "broadcastId")

	// The agent reaches A only: a filter never widens that.
	s.expectSet(a.agent, "/contact", q("mobileNumber", "+447902111124"), "contactId")
}

// seedPaged checks that GET route+query honours page for a list of n
// records: 100 a page, page 2 holds the rest, page 3 is empty, no record
// is on two pages, and no page parameter is page 1.
func (s *seedRun) seedPaged(c *msgClient, route, query, key string, n int) {
	s.t.Helper()
	sep := "?"
	if query != "" {
		sep = "&"
	}
	get := func(page string) ([]map[string]any, map[string]any) {
		p, _ := s.hit(c, "GET", route, "", query+page, nil).(map[string]any)
		pg, _ := p["paging"].(map[string]any)
		raw, _ := p["items"].([]any)
		var items []map[string]any
		for _, it := range raw {
			if m, ok := it.(map[string]any); ok {
				items = append(items, m)
			}
		}
		return items, pg
	}
	def, _ := get("")
	p1, pg := get(sep + "page=1")
	p2, pg2 := get(sep + "page=2")
	p3, _ := get(sep + "page=3")
	wantPages := float64((n + 99) / 100)
	if pg["recordCount"] != float64(n) || pg["pages"] != wantPages || pg2["recordCount"] != float64(n) {
		s.t.Errorf("GET %s%s: paging %v (page 2: %v), want recordCount %d, pages %v", route, query, pg, pg2, n, wantPages)
	}
	if len(p1) != 100 || len(p2) != n-100 || len(p3) != 0 {
		s.t.Errorf("GET %s%s: pages hold %d, %d, %d items, want 100, %d, 0", route, query, len(p1), len(p2), len(p3), n-100)
	}
	all := seedSet(append(append([]map[string]any{}, p1...), p2...), key)
	if len(all) != n {
		s.t.Errorf("GET %s%s: pages 1 and 2 hold %d distinct records, want %d", route, query, len(all), n)
	}
	if fmt.Sprint(seedSortedKeys(seedSet(def, key))) != fmt.Sprint(seedSortedKeys(seedSet(p1, key))) {
		s.t.Errorf("GET %s%s: no page is not page 1", route, query)
	}
	s.problem(c.client, "GET", route+query+sep+"page=0", nil, 400)
}

// TestSeedMessagingPaging fills every paged list past one page (100) and
// checks that each honours page.
func TestSeedMessagingPaging(t *testing.T) {
	a := setUpAcme(t)
	s := newSeedRun(t)
	ad := a.admin
	const n = 101
	_, P := s.create(ad, "POST", "/apiaccount", "", map[string]any{"name": "Paging", "phoneNumber": "+447902111102", "channel": "sandbox"}, "apiAccountId")
	_, Q := s.create(ad, "POST", "/apiaccount", "", map[string]any{"name": "Broadcasts", "phoneNumber": "+447902111103", "channel": "sandbox"}, "apiAccountId")

	// n contacts write in on P: n contacts, conversations and messages.
	for i := range n {
		ad.call("POST", "/apiaccount/"+P+"/sandbox/inbound", map[string]any{"mobileNumber": fmt.Sprintf("+4479022%05d", i), "message": "hi"}, 201)
		ad.call("POST", "/inbox", map[string]any{"apiAccountId": P, "name": fmt.Sprintf("inbox %d", i)}, 201)
		ad.call("POST", "/template", map[string]any{"apiAccountId": P, "name": fmt.Sprintf("t_%d", i), "templateText": "Hi {{1}}"}, 201)
		ad.call("POST", "/webhook", map[string]any{"type": "message", "targetUrl": fmt.Sprintf("https://hooks.example.test/%d", i), "isEnabled": false}, 201)
	}
	for i := 4; i < n; i++ { // 4 accounts so far
		ad.call("POST", "/apiaccount", map[string]any{"name": fmt.Sprintf("Account %d", i), "phoneNumber": fmt.Sprintf("+4479023%05d", i), "channel": "sandbox"}, 201)
	}
	s.seedPaged(ad, "/contact", "?apiAccountId="+P, "contactId", n)
	s.seedPaged(ad, "/message", "?apiAccountId="+P, "messageId", n)
	s.seedPaged(ad, "/conversation", "?apiAccountId="+P, "conversationId", n)
	s.seedPaged(ad, "/inbox", "?apiAccountId="+P, "inboxId", n)
	s.seedPaged(ad, "/template", "?apiAccountId="+P, "templateId", n)
	s.seedPaged(ad, "/webhook", "", "webhookId", n)
	s.seedPaged(ad, "/webhooks", "", "webhookId", n)
	s.seedPaged(ad, "/apiaccount", "", "apiAccountId", n)

	// n broadcasts on Q.
	ad.call("POST", "/apiaccount/"+Q+"/sandbox/inbound", map[string]any{"mobileNumber": "+447902111123", "message": "hi"}, 201)
	contact := ad.items("/contact?apiAccountId=" + Q)[0]["contactId"].(string)
	tpl := ad.call("POST", "/template", map[string]any{"apiAccountId": Q, "name": "hello", "templateText": "Hi {{1}}"}, 201)["templateId"].(string)
	ad.call("PUT", "/template/"+tpl, map[string]any{"status": "Approved"}, 200)
	for range n {
		ad.call("POST", "/broadcast", map[string]any{"apiAccountId": Q, "contactId": contact, "templateId": tpl, "message": "Hi Jack"}, 201)
	}
	s.seedPaged(ad, "/broadcast", "?apiAccountId="+Q, "broadcastId", n)
}
