package main

import (
	"strings"
	"testing"
)

// TestMessagingQuickstart runs the README's quickstart against the real
// binary: from an empty server to a sandbox conversation. An admin makes
// an API account and a webhook, a contact writes in (the webhook fires),
// an agent replies inside the session window, the window closes (the
// messaging clock is moved 25 hours) and the agent's reply is refused,
// then a broadcast of an approved template goes out instead.
func TestMessagingQuickstart(t *testing.T) {
	sc := storeConfig(t)
	p := startProcess(t, sc, "--test-clock", "--webhook-allow-private")

	// 1. The first admin, from the command line.
	if out, code := runCLI(t, sc, "user", "add", "--email", "ada@acme.test", "--password", "correct horse",
		"--name", "Ada Admin", "--org", "Acme", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %d %s", code, out)
	}
	admin := newAPI(t, p.url, "ada@acme.test", "correct horse")

	// 2. An API account on the sandbox channel.
	account := admin.call("POST", "/apiaccount", map[string]any{"name": "Lettings", "phoneNumber": "+44 7902 111100",
		"channel": "sandbox"}, 201)
	accountID := account["apiAccountId"].(string)
	if account["phoneNumber"] != "+447902111100" {
		t.Fatalf("phoneNumber not normalised to E.164: %v", account)
	}

	// 3. A webhook for messages; its secret is shown once.
	hooks := newHookReceiver(t, 0)
	hook := admin.call("POST", "/webhook", map[string]any{"type": "message", "targetUrl": hooks.URL, "isEnabled": true}, 201)
	secret, _ := hook["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("the create response does not hold the signing secret: %v", hook)
	}
	if again := admin.call("GET", "/webhook/"+hook["webhookId"].(string), nil, 200); again["secret"] != nil {
		t.Fatalf("GET /webhook shows the secret again: %v", again)
	}

	// 4. A contact writes in: the contact is created, the webhook fires.
	in := admin.call("POST", "/apiaccount/"+accountID+"/sandbox/inbound", map[string]any{
		"mobileNumber": "+447902111123", "message": "Hi, is the flat still available?", "name": "Jack"}, 201)
	contacts := admin.items("/contact?mobileNumber=%2B447902111123")
	if len(contacts) != 1 || contacts[0]["name"] != "Jack" || contacts[0]["apiAccountId"] != accountID {
		t.Fatalf("the contact who wrote in: %v", contacts)
	}
	contactID := contacts[0]["contactId"].(string)
	hooks.waitEvent(t, secret, "message.created", func(m map[string]any) bool {
		return m["messageId"] == in["messageId"] && m["messageDirection"] == "incoming"
	})

	// 5. An agent in a team with the account replies.
	agent := admin.call("POST", "/user", map[string]any{"firstName": "Bob", "lastName": "Agent", "email": "bob@acme.test",
		"password": "battery staple", "role": "agent"}, 201)
	admin.call("POST", "/team", map[string]any{"name": "Lettings team", "apiAccountIds": []string{accountID},
		"userIds": []string{agent["userId"].(string)}}, 201)
	bob := newAPI(t, p.url, "bob@acme.test", "battery staple")
	reply := bob.call("POST", "/message", map[string]any{"apiAccountId": accountID, "contactId": contactID,
		"message": "Yes it is! When would you like to view it?"}, 201)
	if reply["messageDirection"] != "outgoing" || reply["senderFirstName"] != "Bob" || reply["conversationId"] != in["conversationId"] {
		t.Fatalf("the reply: %v", reply)
	}
	bob.waitField("/message/"+reply["messageId"].(string), "isRead", true)
	hooks.waitEvent(t, secret, "message.created", func(m map[string]any) bool { return m["messageId"] == reply["messageId"] })

	// 6. A day later the window is closed: a session message is refused.
	admin.call("POST", "/_test/clock", map[string]any{"advance": "25h"}, 200)
	problem := bob.refused("POST", "/message", map[string]any{"apiAccountId": accountID, "contactId": contactID,
		"message": "Still interested?"}, 409, "contactId")
	if !strings.Contains(problem["detail"].(string), "broadcast") {
		t.Fatalf("the refusal does not say to send a template broadcast: %v", problem)
	}

	// 7. An approved template goes out as a broadcast instead.
	tpl := admin.call("POST", "/template", map[string]any{"apiAccountId": accountID, "name": "follow_up",
		"templateText": "Hi {{1}}, are you still interested in {{2}}?", "templateExample": "Hi [Jack], … [the flat]?"}, 201)
	if tpl["status"] != "Pending" {
		t.Fatalf("a new template is not Pending: %v", tpl)
	}
	templateID := tpl["templateId"].(string)
	bob.refused("POST", "/broadcast", map[string]any{"apiAccountId": accountID, "contactId": contactID,
		"templateId": templateID, "message": "Hi Jack, are you still interested in the flat?"}, 400, "templateId")
	admin.call("PUT", "/template/"+templateID, map[string]any{"status": "Approved"}, 200)
	bob.refused("POST", "/broadcast", map[string]any{"apiAccountId": accountID, "contactId": contactID,
		"templateId": templateID, "message": "Hi Jack, are you still interested in {{2}}?"}, 400, "message")
	b := bob.call("POST", "/broadcast", map[string]any{"apiAccountId": accountID, "contactId": contactID,
		"templateId": templateID, "message": "Hi Jack, are you still interested in the flat?"}, 201)
	if b["status"] != "Queued" || b["broadcastId"] == "" {
		t.Fatalf("a new broadcast: %v", b)
	}
	done := bob.waitField("/broadcast/"+b["broadcastId"].(string), "status", "Read")
	sent := bob.call("GET", "/message/"+done["messageId"].(string), nil, 200)
	if sent["isTemplateMessage"] != true || sent["isDelivered"] != true || sent["bodyText"] != b["message"] {
		t.Fatalf("the broadcast's message: %v", sent)
	}
	hooks.waitEvent(t, secret, "message.created", func(m map[string]any) bool { return m["isTemplateMessage"] == true })

	// The conversation holds all three messages, in order.
	msgs := bob.items("/message?conversationId=" + in["conversationId"].(string) + "&fromDate=2000-01-01")
	if len(msgs) != 3 || msgs[0]["messageId"] != in["messageId"] || msgs[2]["messageId"] != sent["messageId"] {
		t.Fatalf("the conversation's messages: %v", msgs)
	}
}
