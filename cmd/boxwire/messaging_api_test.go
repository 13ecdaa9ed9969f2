package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// acme is an organisation set up for the messaging tests: an admin, two
// sandbox API accounts, and an agent in a team that reaches only the first.
type acme struct {
	ts              *testServer
	admin, agent    *msgClient
	agentID, teamID string
	account, other  string // API account ids: the agent's, and one it does not reach
	contact         string // a contact on account
	outsider        *msgClient
}

func setUpAcme(t *testing.T, opts ...func(*Config)) *acme {
	ts := startServer(t, storeConfig(t), append([]func(*Config){func(c *Config) { c.TestClock = true }}, opts...)...)
	for _, u := range [][]string{{"ada@acme.test", "Ada Admin", "Acme", "admin"}, {"olga@other.test", "Olga Other", "Other", "admin"}} {
		if out, code := ts.cli(t, "user", "add", "--email", u[0], "--password", "correct horse", "--name", u[1],
			"--org", u[2], "--role", u[3]); code != 0 {
			t.Fatalf("user add: %s", out)
		}
	}
	a := &acme{ts: ts, admin: newAPI(t, ts.URL(), "ada@acme.test", "correct horse"),
		outsider: newAPI(t, ts.URL(), "olga@other.test", "correct horse")}
	a.account = a.admin.call("POST", "/apiaccount", map[string]any{"name": "Lettings", "phoneNumber": "+447902111100", "channel": "sandbox"}, 201)["apiAccountId"].(string)
	a.other = a.admin.call("POST", "/apiaccount", map[string]any{"name": "Sales", "phoneNumber": "+447902111101", "channel": "sandbox"}, 201)["apiAccountId"].(string)
	a.agentID = a.admin.call("POST", "/user", map[string]any{"firstName": "Bob", "lastName": "Agent", "email": "bob@acme.test",
		"password": "battery staple", "role": "agent"}, 201)["userId"].(string)
	a.teamID = a.admin.call("POST", "/team", map[string]any{"name": "Lettings team", "description": "lets flats",
		"apiAccountIds": []string{a.account}, "userIds": []string{a.agentID}}, 201)["teamId"].(string)
	a.agent = newAPI(t, ts.URL(), "bob@acme.test", "battery staple")
	a.contact = a.admin.call("POST", "/contact", map[string]any{"mobileNumber": "+447902111123", "name": "Jack",
		"status": "Presubscribed", "apiAccountId": a.account}, 201)["contactId"].(string)
	return a
}

func TestMessagingAdminWritesAreForAdmins(t *testing.T) {
	a := setUpAcme(t)
	inbox := a.admin.call("POST", "/inbox", map[string]any{"apiAccountId": a.account, "name": "Front desk"}, 201)["inboxId"].(string)
	tpl := a.admin.call("POST", "/template", map[string]any{"apiAccountId": a.account, "name": "hello", "templateText": "Hi {{1}}"}, 201)["templateId"].(string)
	for _, w := range []struct {
		method, path string
		body         map[string]any
	}{
		{"POST", "/apiaccount", map[string]any{"name": "X", "phoneNumber": "+447902111199", "channel": "sandbox"}},
		{"PUT", "/apiaccount/" + a.account, map[string]any{"name": "X"}},
		{"POST", "/inbox", map[string]any{"apiAccountId": a.account, "name": "X"}},
		{"POST", "/template", map[string]any{"apiAccountId": a.account, "name": "x", "templateText": "Hi"}},
		{"POST", "/team", map[string]any{"name": "X"}},
		{"PUT", "/team/" + a.teamID, map[string]any{"name": "X"}},
		{"POST", "/user", map[string]any{"firstName": "X", "lastName": "Y", "email": "x@acme.test", "password": "long enough"}},
		{"PUT", "/user/" + a.agentID, map[string]any{"role": "admin"}},
		{"POST", "/webhook", map[string]any{"type": "message", "targetUrl": "http://127.0.0.1:1/"}},
		{"POST", "/apiaccount/" + a.account + "/sandbox/inbound", map[string]any{"mobileNumber": "+447902111124", "message": "hi"}},
		// Every other call the web app's settings make.
		{"PUT", "/inbox/" + inbox, map[string]any{"name": "X"}},
		{"DELETE", "/inbox/" + inbox, nil},
		{"PUT", "/template/" + tpl, map[string]any{"status": "Approved"}},
		{"DELETE", "/template/" + tpl, nil},
		{"DELETE", "/team/" + a.teamID, nil},
		{"DELETE", "/user/" + a.agentID, nil},
		{"GET", "/webhook", nil},
	} {
		a.agent.refused(w.method, w.path, w.body, http.StatusForbidden, "")
	}
	// Nothing the agent tried exists, and nothing it tried to change or
	// delete changed.
	if got := len(a.admin.items("/apiaccount")); got != 2 {
		t.Fatalf("the admin sees %d API accounts, want 2", got)
	}
	if x := a.admin.call("GET", "/inbox/"+inbox, nil, 200); x["name"] != "Front desk" {
		t.Fatalf("the agent changed the inbox: %v", x)
	}
	if x := a.admin.call("GET", "/template/"+tpl, nil, 200); x["status"] != "Pending" {
		t.Fatalf("the agent approved the template: %v", x)
	}
	a.admin.call("GET", "/team/"+a.teamID, nil, 200)
	if u := a.admin.call("GET", "/user/"+a.agentID, nil, 200); u["role"] != "agent" {
		t.Fatalf("the agent changed their own role: %v", u)
	}
}

// TestMessagingAdminDeletes: an admin deletes inboxes, templates and
// teams (the web app's settings); a template that was broadcast is kept,
// another organisation's records are not found, and a deleted team's
// members lose its API accounts.
func TestMessagingAdminDeletes(t *testing.T) {
	a := setUpAcme(t)
	inbox := a.admin.call("POST", "/inbox", map[string]any{"apiAccountId": a.account, "name": "Front desk"}, 201)["inboxId"].(string)
	a.outsider.refused("DELETE", "/inbox/"+inbox, nil, 404, "")
	a.admin.refused("DELETE", "/inbox/not-a-uuid", nil, 400, "id")
	a.admin.call("DELETE", "/inbox/"+inbox, nil, 204)
	a.admin.refused("GET", "/inbox/"+inbox, nil, 404, "")
	a.admin.refused("DELETE", "/inboxes/"+inbox, nil, 404, "")

	unused := a.admin.call("POST", "/template", map[string]any{"apiAccountId": a.account, "name": "unused", "templateText": "Hi"}, 201)["templateId"].(string)
	sent := a.admin.call("POST", "/template", map[string]any{"apiAccountId": a.account, "name": "follow_up", "templateText": "Hi {{1}}"}, 201)["templateId"].(string)
	a.admin.call("PUT", "/template/"+sent, map[string]any{"status": "Approved"}, 200)
	a.admin.call("POST", "/broadcast", map[string]any{"apiAccountId": a.account, "contactId": a.contact, "templateId": sent, "message": "Hi Jack"}, 201)
	a.outsider.refused("DELETE", "/template/"+unused, nil, 404, "")
	a.admin.call("DELETE", "/template/"+unused, nil, 204)
	a.admin.refused("GET", "/template/"+unused, nil, 404, "")
	a.admin.refused("DELETE", "/template/"+sent, nil, 409, "id")
	if got := a.admin.items("/template"); len(got) != 1 || got[0]["templateId"] != sent {
		t.Fatalf("templates after the deletes: %v", got)
	}

	if got := a.agent.items("/apiaccount"); len(got) != 1 {
		t.Fatalf("the agent reaches %v before the team goes", got)
	}
	a.outsider.refused("DELETE", "/team/"+a.teamID, nil, 404, "")
	a.admin.call("DELETE", "/team/"+a.teamID, nil, 204)
	a.admin.refused("GET", "/team/"+a.teamID, nil, 404, "")
	a.admin.refused("DELETE", "/team/"+a.teamID, nil, 404, "")
	if got := a.agent.items("/apiaccount"); len(got) != 0 {
		t.Fatalf("the agent still reaches %v after their team was deleted", got)
	}
}

func TestMessagingVisibility(t *testing.T) {
	a := setUpAcme(t)
	otherContact := a.admin.call("POST", "/contact", map[string]any{"mobileNumber": "+447902111124", "name": "Jill",
		"status": "Subscribed", "apiAccountId": a.other}, 201)["contactId"].(string)

	// The agent reaches the account of their team only; the admin both.
	if got := a.agent.items("/apiaccount"); len(got) != 1 || got[0]["apiAccountId"] != a.account {
		t.Fatalf("the agent's API accounts: %v", got)
	}
	a.agent.refused("GET", "/apiaccount/"+a.other, nil, 404, "")
	a.agent.refused("GET", "/contact/"+otherContact, nil, 404, "")
	if got := a.agent.items("/contact"); len(got) != 1 || got[0]["contactId"] != a.contact {
		t.Fatalf("the agent's contacts: %v", got)
	}
	a.agent.refused("POST", "/message", map[string]any{"apiAccountId": a.other, "contactId": otherContact, "message": "hi"}, 400, "apiAccountId")
	if got := a.admin.items("/contact"); len(got) != 2 {
		t.Fatalf("the admin's contacts: %v", got)
	}
	// Another organisation sees nothing of Acme's.
	if got := a.outsider.items("/apiaccount"); len(got) != 0 {
		t.Fatalf("another organisation's admin sees %v", got)
	}
	a.outsider.refused("GET", "/contact/"+a.contact, nil, 404, "")
	a.outsider.refused("GET", "/team/"+a.teamID, nil, 404, "")
	a.outsider.refused("POST", "/team", map[string]any{"name": "Mine", "userIds": []string{a.agentID}}, 400, "userIds")

	// Teams and users in the seed's shapes.
	teams := a.agent.call("GET", "/team/"+a.teamID, nil, 200)
	if accs := teams["apiAccounts"].([]any); len(accs) != 1 || accs[0].(map[string]any)["apiAccountid"] != a.account {
		t.Fatalf("the team's accounts: %v", teams)
	}
	r := a.agent.do("GET", "/user", nil)
	rows := decodeList(t, r.body)
	var bobRows int
	for _, row := range rows {
		u := row["user"].(map[string]any)
		if u["userId"] == a.agentID {
			bobRows++
			if row["apiAccount"].(map[string]any)["apiAccountid"] != a.account {
				t.Fatalf("the agent is paired with %v", row)
			}
		}
	}
	if bobRows != 1 || len(rows) != 3 { // Ada × 2 accounts + Bob × 1
		t.Fatalf("GET /user: %v", rows)
	}
}

func TestMessagingContactsAndPaging(t *testing.T) {
	a := setUpAcme(t)
	// The seed's 409: one mobile number per API account; another account may hold it.
	a.admin.refused("POST", "/contact", map[string]any{"mobileNumber": "+44 7902 111123", "name": "Jack again",
		"status": "Presubscribed", "apiAccountId": a.account}, 409, "mobileNumber")
	a.admin.call("POST", "/contact", map[string]any{"mobileNumber": "+447902111123", "name": "Jack",
		"status": "Presubscribed", "apiAccountId": a.other}, 201)
	for _, bad := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"mobileNumber": "07902111123", "name": "N", "status": "Presubscribed", "apiAccountId": a.account}, "mobileNumber"},
		{map[string]any{"mobileNumber": "+447902111125", "status": "Presubscribed", "apiAccountId": a.account}, "name"},
		{map[string]any{"mobileNumber": "+447902111125", "name": "N", "status": "Keen", "apiAccountId": a.account}, "status"},
		{map[string]any{"mobileNumber": "+447902111125", "name": "N", "email": "nope", "apiAccountId": a.account}, "email"},
		{map[string]any{"mobileNumber": "+447902111125", "name": "N"}, "apiAccountId"},
		{map[string]any{"mobileNumber": 447902111125, "name": "N", "apiAccountId": a.account}, "mobileNumber"},
	} {
		a.admin.refused("POST", "/contact", bad.body, 400, bad.field)
	}
	// JSON sent the way `curl -d` labels it is still JSON; a real form is not.
	if r := a.admin.do("POST", "/contact", `{"mobileNumber":"+447902111126","name":"Curl","apiAccountId":"`+a.account+`"}`,
		"Content-Type", "application/x-www-form-urlencoded"); r.status != 201 {
		t.Fatalf("form-labelled JSON: %d %s", r.status, r.body)
	}
	if r := a.admin.do("POST", "/contact", "name=Form", "Content-Type", "application/x-www-form-urlencoded"); r.status != 400 {
		t.Fatalf("a form body: %d %s", r.status, r.body)
	}
	// PUT changes tags and status, not the account.
	c := a.agent.call("PUT", "/contact/"+a.contact, map[string]any{"status": "Subscribed", "tags": []string{"prospect", "customer"}}, 200)
	if c["status"] != "Subscribed" || len(c["tags"].([]any)) != 2 || c["mobileNumber"] != "+447902111123" {
		t.Fatalf("updated contact: %v", c)
	}
	a.agent.refused("PUT", "/contact/"+a.contact, map[string]any{"apiAccountId": a.other}, 400, "apiAccountId")

	// 100 a page: 2 + 99 contacts on the account make two pages.
	for i := range 99 {
		a.admin.call("POST", "/contact", map[string]any{"mobileNumber": fmt.Sprintf("+4479021%05d", 20000+i), "name": "C",
			"status": "Presubscribed", "apiAccountId": a.account}, 201)
	}
	first := a.admin.call("GET", "/contact?apiAccountId="+a.account, nil, 200)
	second := a.admin.call("GET", "/contact?apiAccountId="+a.account+"&page=2", nil, 200)
	paging := first["paging"].(map[string]any)
	if len(first["items"].([]any)) != 100 || len(second["items"].([]any)) != 1 || paging["recordCount"] != 101.0 || paging["pages"] != 2.0 {
		t.Fatalf("paging: %v; page 2 has %d", paging, len(second["items"].([]any)))
	}
	if len(a.admin.items("/contact?page=3")) != 0 {
		t.Fatal("a page past the end is not empty")
	}
	a.admin.refused("GET", "/contact?page=0", nil, 400, "page")
	a.admin.refused("GET", "/contact?apiAccountId=nope", nil, 400, "apiAccountId")
	a.admin.refused("GET", "/contact?fromDate=yesterday", nil, 400, "fromDate")
	a.admin.refused("GET", "/contact?mobileNumber=123", nil, 400, "mobileNumber")
	if got := a.admin.items("/contact?mobileNumber=%2B447902111123"); len(got) != 2 {
		t.Fatalf("the number is on two accounts: %v", got)
	}
	if got := a.admin.items("/contact?toDate=2000-01-01"); len(got) != 0 {
		t.Fatalf("contacts before 2000: %v", got)
	}
}

func TestMessagingSessionWindowAndMessageList(t *testing.T) {
	a := setUpAcme(t)
	// Jack never wrote: no session message, a clear 409.
	p := a.agent.refused("POST", "/message", map[string]any{"apiAccountId": a.account, "contactId": a.contact, "message": "hi"}, 409, "contactId")
	if p["detail"] == nil {
		t.Fatalf("no detail: %v", p)
	}
	in := a.admin.call("POST", "/apiaccount/"+a.account+"/sandbox/inbound", map[string]any{"mobileNumber": "+447902111123", "message": "hello"}, 201)
	for _, bad := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"apiAccountId": a.account, "contactId": a.contact}, "message"},
		{map[string]any{"apiAccountId": a.account, "message": "x"}, "contactId"},
		{map[string]any{"apiAccountId": a.other, "contactId": a.contact, "message": "x"}, "apiAccountId"},
	} {
		a.agent.refused("POST", "/message", bad.body, 400, bad.field)
	}
	out := a.agent.call("POST", "/message", map[string]any{"apiAccountId": a.account, "contactId": a.contact, "message": "hi Jack"}, 201)
	if out["isSent"] != false {
		t.Fatalf("a new message is already sent: %v", out)
	}
	a.agent.waitField("/message/"+out["messageId"].(string), "isRead", true)
	if got := a.agent.items("/message"); len(got) != 2 {
		t.Fatalf("the last 24 hours: %v", got)
	}
	// 25 hours later: the default list is empty, the dates still find them,
	// and the window is closed.
	a.admin.call("POST", "/_test/clock", map[string]any{"advance": "25h"}, 200)
	if got := a.agent.items("/message"); len(got) != 0 {
		t.Fatalf("GET /message shows messages older than 24 hours: %v", got)
	}
	today := time.Now().UTC().Format("2006-01-02")
	if got := a.agent.items("/message?fromDate=" + today + "&contactId=" + a.contact); len(got) != 2 {
		t.Fatalf("fromDate: %v", got)
	}
	a.agent.refused("POST", "/message", map[string]any{"apiAccountId": a.account, "contactId": a.contact, "message": "hi"}, 409, "contactId")
	// Writing again reopens it.
	a.admin.call("POST", "/apiaccount/"+a.account+"/sandbox/inbound", map[string]any{"mobileNumber": "+447902111123", "message": "me again"}, 201)
	a.agent.call("POST", "/message", map[string]any{"apiAccountId": a.account, "contactId": a.contact, "message": "welcome back"}, 201)
	if got := a.agent.items("/message?conversationId=" + in["conversationId"].(string) + "&fromDate=" + today); len(got) != 4 {
		t.Fatalf("the conversation: %v", got)
	}
}

func TestMessagingConversations(t *testing.T) {
	a := setUpAcme(t)
	in := a.admin.call("POST", "/apiaccount/"+a.account+"/sandbox/inbound", map[string]any{"mobileNumber": "+447902111123", "message": "hello"}, 201)
	id := in["conversationId"].(string)
	v := a.agent.call("GET", "/conversation/"+id, nil, 200)
	if v["folder"] != "inbox" || v["user"] != nil || v["team"] != nil {
		t.Fatalf("a new conversation: %v", v)
	}
	a.agent.refused("PUT", "/conversation/"+id, map[string]any{"userId": a.agentID, "teamId": a.teamID}, 400, "userId")
	a.agent.refused("PUT", "/conversation/"+id, map[string]any{"folder": "trash"}, 400, "folder")
	a.agent.refused("PUT", "/conversation/"+id, map[string]any{"userId": "6d73d10d-ada8-4de2-a9a6-f441ab344287"}, 400, "userId")
	a.agent.call("PUT", "/conversation/"+id, map[string]any{"userId": a.agentID, "teamId": ""}, 200)
	v = a.agent.call("GET", "/conversation/"+id, nil, 200)
	if u, _ := v["user"].(map[string]any); u == nil || u["userId"] != a.agentID || u["firstName"] != "Bob" || v["team"] != nil {
		t.Fatalf("assigned to the agent: %v", v)
	}
	a.agent.call("PUT", "/conversation/"+id, map[string]any{"teamId": a.teamID}, 200)
	a.agent.call("PUT", "/conversation/"+id, map[string]any{"folder": "archive"}, 200)
	v = a.agent.call("GET", "/conversation/"+id, nil, 200)
	if tm, _ := v["team"].(map[string]any); tm == nil || tm["name"] != "Lettings team" || v["user"] != nil || v["folder"] != "archive" {
		t.Fatalf("assigned to the team and archived: %v", v)
	}
	if got := a.agent.items("/conversation?folder=archive&teamId=" + a.teamID); len(got) != 1 {
		t.Fatalf("the archive: %v", got)
	}
	if got := a.agent.items("/conversation?folder=inbox"); len(got) != 0 {
		t.Fatalf("the inbox: %v", got)
	}
	a.outsider.refused("GET", "/conversation/"+id, nil, 404, "")
}

func TestMessagingTemplatesAndBroadcasts(t *testing.T) {
	a := setUpAcme(t)
	for _, bad := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"apiAccountId": a.account, "name": "Follow Up", "templateText": "Hi {{1}}"}, "name"},
		{map[string]any{"apiAccountId": a.account, "name": "f", "templateText": "Hi {{2}}"}, "templateText"},
		{map[string]any{"apiAccountId": a.account, "name": "f"}, "templateText"},
		{map[string]any{"name": "f", "templateText": "Hi"}, "apiAccountId"},
	} {
		a.admin.refused("POST", "/template", bad.body, 400, bad.field)
	}
	tpl := a.admin.call("POST", "/template", map[string]any{"apiAccountId": a.account, "name": "follow_up",
		"templateText": "Hi {{1}}, about {{2}}.", "templateExample": "Hi [Jack], about [the flat]."}, 201)
	id := tpl["templateId"].(string)
	a.admin.refused("POST", "/template", map[string]any{"apiAccountId": a.account, "name": "follow_up", "templateText": "x"}, 409, "name")
	send := func(message string) map[string]any {
		return map[string]any{"apiAccountId": a.account, "contactId": a.contact, "templateId": id, "message": message}
	}
	a.agent.refused("POST", "/broadcast", send("Hi Jack, about the flat."), 400, "templateId") // Pending
	a.admin.refused("PUT", "/template/"+id, map[string]any{"status": "Great"}, 400, "status")
	a.admin.call("PUT", "/template/"+id, map[string]any{"status": "Approved"}, 200)
	if got := a.agent.items("/template?name=follow_up"); len(got) != 1 || got[0]["status"] != "Approved" {
		t.Fatalf("templates by name: %v", got)
	}
	a.agent.refused("POST", "/broadcast", send("Hi Jack, about {{2}}."), 400, "message")
	a.agent.refused("POST", "/broadcast", send("Hello Jack, about the flat."), 400, "message")
	other := map[string]any{"apiAccountId": a.other, "contactId": a.contact, "templateId": id, "message": "Hi Jack, about the flat."}
	a.admin.refused("POST", "/broadcast", other, 400, "contactId")
	b := a.agent.call("POST", "/broadcast", send("Hi Jack, about the flat."), 201)
	if b["status"] != "Queued" {
		t.Fatalf("a new broadcast: %v", b)
	}
	done := a.agent.waitField("/broadcast/"+b["broadcastId"].(string), "status", "Read")
	if done["messageId"] == "" {
		t.Fatalf("a sent broadcast has no messageId: %v", done)
	}
	if got := a.agent.items("/broadcast?contactId=" + a.contact); len(got) != 1 {
		t.Fatalf("broadcasts of the contact: %v", got)
	}
	// Editing the text sends the template back to review.
	if t2 := a.admin.call("PUT", "/template/"+id, map[string]any{"templateText": "Hello {{1}}"}, 200); t2["status"] != "Pending" {
		t.Fatalf("an edited template: %v", t2)
	}
}

func TestMessagingRateLimitPerUserAndApplication(t *testing.T) {
	a := setUpAcme(t, func(c *Config) { c.RateLimit, c.RateBurst = 0.5, 8 })
	var limited response
	for i := 0; i < 20; i++ {
		if limited = a.agent.do("GET", "/apiaccount", nil); limited.status == http.StatusTooManyRequests {
			break
		}
	}
	if limited.status != http.StatusTooManyRequests || limited.header.Get("Retry-After") == "" {
		t.Fatalf("no 429 with Retry-After after a burst: %d %v", limited.status, limited.header)
	}
	// Another calling application of the same user has its own budget,
	// and so does another user.
	other := newClient(t, a.ts.URL())
	r := other.do("POST", "/oauth/token", map[string]string{"username": "bob@acme.test", "password": "battery staple"},
		"X-Calling-Application", "another-app")
	other.hdr.Set("Authorization", "Bearer "+r.json(t)["access_token"].(string))
	if r := other.do("GET", "/apiaccount", nil); r.status != 200 {
		t.Fatalf("another application of the same user: %d %s", r.status, r.body)
	}
	a.outsider.call("GET", "/apiaccount", nil, 200)
}

func decodeList(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := jsonUnmarshal(body, &out); err != nil {
		t.Fatalf("not a JSON array: %s", body)
	}
	return out
}

// TestUserListStreamsAcrossChunks: GET /user pairs every user with every
// account they reach, read a chunk at a time; an organisation larger than
// one chunk is listed whole, each pair once, in the list's order.
func TestUserListStreamsAcrossChunks(t *testing.T) {
	a := setUpAcme(t)
	for i := 0; i < 128; i++ {
		a.admin.call("POST", "/apiaccount", map[string]any{"name": fmt.Sprintf("Line %03d", i),
			"phoneNumber": fmt.Sprintf("+44790230%04d", i), "channel": "sandbox"}, 201)
	}
	a.admin.call("POST", "/user", map[string]any{"firstName": "Zed", "lastName": "Admin", "email": "zed@acme.test",
		"password": "long enough", "role": "admin"}, 201)
	rows := decodeList(t, a.admin.do("GET", "/user", nil).body)
	// Ada and Zed reach all 130 accounts, Bob his team's one.
	if len(rows) != 2*130+1 {
		t.Fatalf("GET /user: %d rows, want %d", len(rows), 2*130+1)
	}
	seen := map[string]bool{}
	prev := ""
	for _, row := range rows {
		u := row["user"].(map[string]any)
		acc := row["apiAccount"].(map[string]any)
		key := fmt.Sprintf("%s %s %s %s", u["firstName"], u["lastName"], u["userId"], acc["name"])
		if seen[key] {
			t.Fatalf("pair listed twice: %s", key)
		}
		seen[key] = true
		if key < prev {
			t.Fatalf("out of order: %q after %q", key, prev)
		}
		prev = key
	}
}

// TestTeamListStreamsAcrossChunks: GET /team lists teams a few at a time
// with their members; more teams than one chunk are listed whole, once
// each, by name. A team larger than the documented bound is refused.
func TestTeamListStreamsAcrossChunks(t *testing.T) {
	a := setUpAcme(t)
	for i := 0; i < 70; i++ {
		a.admin.call("POST", "/team", map[string]any{"name": fmt.Sprintf("Team %03d", i),
			"apiAccountIds": []string{a.other}, "userIds": []string{a.agentID}}, 201)
	}
	teams := decodeList(t, a.admin.do("GET", "/team", nil).body)
	if len(teams) != 71 {
		t.Fatalf("GET /team: %d teams, want 71", len(teams))
	}
	for i, tm := range teams[1:] { // after "Lettings team"
		if want := fmt.Sprintf("Team %03d", i); tm["name"] != want {
			t.Fatalf("team %d is %v, want %s", i, tm["name"], want)
		}
		users, accs := tm["users"].([]any), tm["apiAccounts"].([]any)
		if len(users) != 1 || users[0].(map[string]any)["userId"] != a.agentID ||
			len(accs) != 1 || accs[0].(map[string]any)["apiAccountid"] != a.other {
			t.Fatalf("team %d lost its members: %v", i, tm)
		}
	}
	tooMany := make([]string, 1001)
	for i := range tooMany {
		tooMany[i] = a.agentID
	}
	a.admin.refused("POST", "/team", map[string]any{"name": "Crowd", "userIds": tooMany}, 400, "userIds")
	if n := len(decodeList(t, a.admin.do("GET", "/team", nil).body)); n != 71 {
		t.Fatalf("a refused team was stored: %d teams", n)
	}
}

// TestMessagingSandboxInboundWrittenEarlier checks the sandbox's
// dateTime, Meta's timestamp: a message a contact wrote two days ago is
// stored at that time and leaves the window closed; a future or
// malformed time is a 400 naming dateTime that stores nothing.
func TestMessagingSandboxInboundWrittenEarlier(t *testing.T) {
	a := setUpAcme(t)
	path := "/apiaccount/" + a.account + "/sandbox/inbound"
	for _, bad := range []string{"yesterday", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)} {
		a.admin.refused("POST", path, map[string]any{"mobileNumber": "+447902111123", "message": "hello", "dateTime": bad}, 400, "dateTime")
	}
	if got := a.admin.items("/message?fromDate=2000-01-01"); len(got) != 0 {
		t.Fatalf("a refused inbound message was stored: %v", got)
	}
	written := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Second)
	in := a.admin.call("POST", path, map[string]any{"mobileNumber": "+447902111123", "message": "hello", "dateTime": written.Format(time.RFC3339)}, 201)
	at, err := time.Parse(time.RFC3339Nano, in["dateTime"].(string))
	if err != nil || at.Sub(written).Abs() > time.Minute {
		t.Fatalf("the message's dateTime is %v, want about %v", in["dateTime"], written)
	}
	a.agent.refused("POST", "/message", map[string]any{"apiAccountId": a.account, "contactId": a.contact, "message": "hi"}, 409, "contactId")
	// Writing now opens it.
	a.admin.call("POST", path, map[string]any{"mobileNumber": "+447902111123", "message": "still there?"}, 201)
	a.agent.call("POST", "/message", map[string]any{"apiAccountId": a.account, "contactId": a.contact, "message": "yes"}, 201)
}
