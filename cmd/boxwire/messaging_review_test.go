package main

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestWhatsAppOldMessageDoesNotReopenTheWindow: Meta redelivers messages
// for days after an outage; one written three days ago is dated so, and
// does not open the session window. A +1 555 sender (Meta's test
// numbers) is a contact like any other.
func TestWhatsAppOldMessageDoesNotReopenTheWindow(t *testing.T) {
	w := setUpWhatsApp(t)
	w.fake.Now = func() time.Time { return time.Now().Add(-72 * time.Hour) }
	w.writeIn("15551234567", "Tess", "written three days ago")
	c := w.contactOn("+15551234567")
	msgs := w.admin.items("/message?fromDate=2000-01-01&contactId=" + c["contactId"].(string))
	if len(msgs) != 1 {
		t.Fatalf("messages: %v", msgs)
	}
	at, _ := time.Parse(time.RFC3339Nano, msgs[0]["dateTime"].(string))
	if age := time.Since(at); age < 71*time.Hour || age > 73*time.Hour {
		t.Fatalf("a message written three days ago is dated %v", at)
	}
	w.agent.refused("POST", "/message", map[string]any{"apiAccountId": w.account, "contactId": c["contactId"], "message": "hi"}, 409, "contactId")
}

// TestConcurrentPartialUpdatesKeepBoth: two partial PUTs at once each
// keep the other's change (the record is read and written in one
// transaction).
func TestConcurrentPartialUpdatesKeepBoth(t *testing.T) {
	a := setUpAcme(t)
	in := a.admin.call("POST", "/apiaccount/"+a.account+"/sandbox/inbound", map[string]any{"mobileNumber": "+447902111123", "message": "hi"}, 201)
	conv := "/conversation/" + in["conversationId"].(string)
	for i := range 10 {
		folder := []string{"archive", "spam"}[i%2]
		both(t, func() { a.agent.call("PUT", conv, map[string]any{"folder": folder}, 200) },
			func() { a.admin.call("PUT", conv, map[string]any{"userId": a.agentID}, 200) })
		v := a.agent.call("GET", conv, nil, 200)
		if v["folder"] != folder || v["user"] == nil {
			t.Fatalf("round %d: a concurrent update was lost: %v", i, v)
		}
		a.agent.call("PUT", conv, map[string]any{"userId": ""}, 200)

		name, tag := fmt.Sprintf("Jack %d", i), fmt.Sprintf("t%d", i)
		both(t, func() { a.agent.call("PUT", "/contact/"+a.contact, map[string]any{"name": name}, 200) },
			func() { a.admin.call("PUT", "/contact/"+a.contact, map[string]any{"tags": []string{tag}}, 200) })
		c := a.agent.call("GET", "/contact/"+a.contact, nil, 200)
		if tags := c["tags"].([]any); c["name"] != name || len(tags) != 1 || tags[0] != tag {
			t.Fatalf("round %d: a concurrent contact update was lost: %v", i, c)
		}
	}
}

func both(t *testing.T, f, g func()) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); f() }()
	go func() { defer wg.Done(); g() }()
	wg.Wait()
}

func TestMessagingReviewedRules(t *testing.T) {
	a := setUpAcme(t)
	// Writing in subscribes a presubscribed contact.
	a.admin.call("POST", "/apiaccount/"+a.account+"/sandbox/inbound", map[string]any{"mobileNumber": "+447902111123", "message": "hi"}, 201)
	if c := a.agent.call("GET", "/contact/"+a.contact, nil, 200); c["status"] != "Subscribed" {
		t.Fatalf("a presubscribed contact who wrote in: %v", c)
	}
	// A conversation goes only to someone who can see it.
	conv := a.agent.items("/conversation")[0]["conversationId"].(string)
	salesTeam := a.admin.call("POST", "/team", map[string]any{"name": "Sales team", "apiAccountIds": []string{a.other}}, 201)["teamId"].(string)
	loner := a.admin.call("POST", "/user", map[string]any{"firstName": "Lone", "lastName": "Agent", "email": "lone@acme.test",
		"password": "long enough", "role": "agent"}, 201)["userId"].(string)
	a.agent.refused("PUT", "/conversation/"+conv, map[string]any{"teamId": salesTeam}, 400, "teamId")
	a.agent.refused("PUT", "/conversation/"+conv, map[string]any{"userId": loner}, 400, "userId")
	// Agents see other users as GET /user shows them; admins see all.
	if u := a.agent.call("GET", "/user/"+loner, nil, 200); u["email"] != nil || u["role"] != nil || u["firstName"] != "Lone" {
		t.Fatalf("an agent reading another user: %v", u)
	}
	if u := a.admin.call("GET", "/user/"+loner, nil, 200); u["email"] != "lone@acme.test" || u["role"] != "agent" {
		t.Fatalf("an admin reading a user: %v", u)
	}
	a.admin.refused("POST", "/user", map[string]any{"firstName": "L", "lastName": "A", "email": "lone@acme.test",
		"password": "long enough"}, 409, "email")
	// Bad input is a 400 naming the field on both engines, never a 500.
	nul := "Jack\x00"
	a.agent.refused("PUT", "/contact/"+a.contact, map[string]any{"name": nul}, 400, "name")
	a.agent.refused("POST", "/message", map[string]any{"apiAccountId": a.account, "contactId": a.contact, "message": nul}, 400, "message")
	a.admin.refused("POST", "/team", map[string]any{"name": "T", "description": nul}, 400, "description")
	a.admin.refused("GET", "/template?name=%00x", nil, 400, "name")
	a.admin.refused("GET", "/contact?page=184467440737095517", nil, 400, "page")
	a.admin.refused("POST", "/apiaccount", map[string]any{"name": "W", "phoneNumber": "+447902111199", "channel": "whatsapp",
		"phoneNumberId": "abc/../x", "accessToken": "t", "appSecret": "s", "verifyToken": "v"}, 400, "phoneNumberId")
	// A "+" sent unencoded in the query is still a "+".
	if got := a.agent.items("/contact?mobileNumber=+447902111123"); len(got) != 1 {
		t.Fatalf("mobileNumber with a raw +: %v", got)
	}
	// Renaming an approved template sends it back to review.
	tpl := a.admin.call("POST", "/template", map[string]any{"apiAccountId": a.account, "name": "hello", "templateText": "Hi {{1}}"}, 201)
	a.admin.call("PUT", "/template/"+tpl["templateId"].(string), map[string]any{"status": "Approved"}, 200)
	if t2 := a.admin.call("PUT", "/template/"+tpl["templateId"].(string), map[string]any{"name": "hello_again"}, 200); t2["status"] != "Pending" {
		t.Fatalf("a renamed template: %v", t2)
	}
	// Meta's test numbers are accepted as an account's number.
	a.admin.call("POST", "/apiaccount", map[string]any{"name": "Test number", "phoneNumber": "+1 555 123 4567", "channel": "sandbox"}, 201)
}
