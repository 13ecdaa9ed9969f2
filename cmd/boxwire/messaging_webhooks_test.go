package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The outbound webhook tests use hookReceiver (messaging_helpers_test.go),
// a local target that answers 500 to its first failFirst deliveries and
// checks every signature when its events are read.

// hookAttempts is how many deliveries h was sent, refused ones included.
func hookAttempts(h *hookReceiver) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.attempts
}

// hookFailUntil makes h refuse deliveries until it has been sent n in all.
func hookFailUntil(h *hookReceiver, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failFirst = n
}

// hookAccepted returns the deliveries h answered 200 to, as received.
func hookAccepted(h *hookReceiver) []hookDelivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.deliveries)
}

// hookData returns field of the data of each event of type typ, in order.
func hookData(t *testing.T, events []hookEvent, typ, field string) []string {
	t.Helper()
	var out []string
	for _, e := range events {
		var data map[string]any
		if err := json.Unmarshal(e.Data, &data); err != nil {
			t.Fatalf("event %s: data %s: %v", e.Type, e.Data, err)
		}
		if e.Type == typ {
			out = append(out, fmt.Sprint(data[field]))
		}
	}
	return out
}

// waitHookData waits until h's events of type typ carry exactly want in
// field, in that order (deliveries follow the journal's order).
func waitHookData(t *testing.T, h *hookReceiver, secret, typ, field string, want []string) {
	t.Helper()
	var got []string
	waitFor(t, 30*time.Second, fmt.Sprintf("%s %s %v", typ, field, want), func() bool {
		got = hookData(t, h.events(t, secret), typ, field)
		return len(got) >= len(want)
	})
	if !slices.Equal(got, want) {
		t.Fatalf("%s events: %s %v, want %v", typ, field, got, want)
	}
}

// checkStandardWebhooks checks each accepted delivery against the
// Standard Webhooks specification itself, independently of the server's
// msgrules.VerifyWebhook: the signature is "v1," and the base64
// HMAC-SHA256, keyed with the base64 after "whsec_", of
// "{webhook-id}.{webhook-timestamp}.{body}".
func checkStandardWebhooks(t *testing.T, secret string, deliveries []hookDelivery) {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if !strings.HasPrefix(secret, "whsec_") || err != nil || len(key) < 24 {
		t.Fatalf("the secret %q is not whsec_ and base64 of at least 24 bytes", secret)
	}
	for _, d := range deliveries {
		id, ts := d.header.Get("webhook-id"), d.header.Get("webhook-timestamp")
		unix, err := strconv.ParseInt(ts, 10, 64)
		if id == "" || err != nil || math.Abs(float64(time.Now().Unix()-unix)) > 300 {
			t.Fatalf("webhook-id %q, webhook-timestamp %q: want an id and the current unix time", id, ts)
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "."))
		mac.Write(d.body)
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if !slices.Contains(strings.Fields(d.header.Get("webhook-signature")), want) {
			t.Fatalf("delivery %s: webhook-signature %q does not hold %s", id, d.header.Get("webhook-signature"), want)
		}
		if ct := d.header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("delivery %s: Content-Type %q", id, ct)
		}
		var e hookEvent
		if err := json.Unmarshal(d.body, &e); err != nil || e.Type == "" || len(e.Data) == 0 {
			t.Fatalf("delivery %s: body %s is not {type, timestamp, data}", id, d.body)
		}
		if _, err := time.Parse(time.RFC3339, e.Timestamp); err != nil {
			t.Fatalf("delivery %s: timestamp %q is not RFC 3339", id, e.Timestamp)
		}
	}
}

// newContact creates a contact on account and returns its id.
func newContact(a *msgClient, account, mobile string) string {
	a.t.Helper()
	return a.call("POST", "/contact", map[string]any{"mobileNumber": mobile, "name": "C " + mobile,
		"status": "Presubscribed", "apiAccountId": account}, 201)["contactId"].(string)
}

// TestWebhookDeliveriesResumeAfterRestart runs the real binary: a
// contact hook's receiver fails its first deliveries, the server is
// stopped while they are still failing and started again on the same
// data, and every contact.created (before and after the restart) arrives,
// in order, signed; the failure count goes back to 0 once one succeeds.
func TestWebhookDeliveriesResumeAfterRestart(t *testing.T) {
	sc := storeConfig(t)
	// Never disable the hook, and no rate limit on the test's requests.
	// The binary keeps its default backoff (1s doubling), hence only 3
	// failures. The receiver is on 127.0.0.1, which only an operator
	// allows.
	flags := []string{"--webhook-max-failures", "0", "--rate-limit", "0", "--webhook-allow-private"}
	p := startProcess(t, sc, flags...)
	if out, code := runCLI(t, sc, "user", "add", "--email", "ada@acme.test", "--password", "correct horse",
		"--name", "Ada Admin", "--org", "Acme", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %d %s", code, out)
	}
	admin := newAPI(t, p.url, "ada@acme.test", "correct horse")
	account := admin.call("POST", "/apiaccount", map[string]any{"name": "Lettings", "phoneNumber": "+447902111100",
		"channel": "sandbox"}, 201)["apiAccountId"].(string)
	receiver := newHookReceiver(t, 3)
	hook := admin.call("POST", "/webhook", map[string]any{"type": "contact", "targetUrl": receiver.URL}, 201)
	secret, _ := hook["secret"].(string)
	hookPath := "/webhook/" + hook["webhookId"].(string)
	if hook["isEnabled"] != true || hook["failureCount"] != 0.0 {
		t.Fatalf("a new hook: %v", hook)
	}

	var want []string
	for i := range 3 {
		want = append(want, newContact(admin, account, fmt.Sprintf("+4479021112%02d", i)))
	}
	waitFor(t, 15*time.Second, "a failed delivery to be counted", func() bool {
		return admin.call("GET", hookPath, nil, 200)["failureCount"].(float64) > 0
	})
	if n := len(hookAccepted(receiver)); n != 0 {
		t.Fatalf("%d deliveries succeeded before the restart; the test needs them still failing", n)
	}

	// A graceful stop while the hook waits to retry.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("graceful stop: %v\n%s", err, p.output)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("SIGTERM did not stop the server")
	}

	p2 := startProcess(t, sc, flags...)
	admin.base = p2.url // the token outlives the process
	for i := 3; i < 5; i++ {
		want = append(want, newContact(admin, account, fmt.Sprintf("+4479021112%02d", i)))
	}
	waitHookData(t, receiver, secret, "contact.created", "contactId", want)
	checkStandardWebhooks(t, secret, hookAccepted(receiver))
	if n := hookAttempts(receiver); n < 3+len(want) {
		t.Fatalf("the receiver was sent %d deliveries, want at least 3 failed and %d accepted", n, len(want))
	}
	h := admin.waitField(hookPath, "failureCount", 0.0)
	if h["isEnabled"] != true || h["secret"] != nil {
		t.Fatalf("the hook after its deliveries succeeded: %v", h)
	}
}

// TestWebhookFailuresDisableAndReEnable checks failureCount: it counts
// consecutive failures only (a success resets it), the hook is disabled
// when it reaches the configured maximum and then sent nothing, and an
// admin's re-enable delivers what committed meanwhile, in order.
func TestWebhookFailuresDisableAndReEnable(t *testing.T) {
	a := setUpAcme(t, func(c *Config) {
		c.WebhookBackoff, c.WebhookMaxFailures, c.WebhookAllowPrivate = 10*time.Millisecond, 3, true
	})
	create := func(h *hookReceiver) (path, secret string) {
		w := a.admin.call("POST", "/webhook", map[string]any{"type": "contact", "targetUrl": h.URL}, 201)
		return "/webhook/" + w["webhookId"].(string), w["secret"].(string)
	}
	flaky := newHookReceiver(t, 2)          // fails twice per run of failures, under the maximum
	down := newHookReceiver(t, math.MaxInt) // fails until healed
	healthy := newHookReceiver(t, 0)        // the control: sees what was committed
	flakyPath, flakySecret := create(flaky)
	downPath, downSecret := create(down)
	_, healthySecret := create(healthy)

	c1 := newContact(a.admin, a.account, "+447902111201")
	waitHookData(t, flaky, flakySecret, "contact.created", "contactId", []string{c1})
	if n := hookAttempts(flaky); n != 3 {
		t.Fatalf("the flaky receiver was sent %d deliveries, want 2 refused and 1 accepted", n)
	}
	disabled := a.admin.waitField(downPath, "isEnabled", false)
	if disabled["failureCount"] != 3.0 || hookAttempts(down) != 3 {
		t.Fatalf("a hook failing 3 times in a row: %v, %d attempts", disabled, hookAttempts(down))
	}

	// Two more failures in a row: four in all, but never three
	// consecutive, since the success in between reset the count.
	hookFailUntil(flaky, 5)
	c2 := newContact(a.admin, a.account, "+447902111202")
	c3 := newContact(a.admin, a.account, "+447902111203")
	waitHookData(t, flaky, flakySecret, "contact.created", "contactId", []string{c1, c2, c3})
	if h := a.admin.call("GET", flakyPath, nil, 200); h["isEnabled"] != true || h["failureCount"] != 0.0 {
		t.Fatalf("a hook whose failures were never 3 in a row: %v", h)
	}
	// The healthy hook has c2 and c3, so the dispatcher has seen them
	// commit; the disabled hook was not sent them.
	waitHookData(t, healthy, healthySecret, "contact.created", "contactId", []string{c1, c2, c3})
	if n := hookAttempts(down); n != 3 {
		t.Fatalf("a disabled hook was sent %d deliveries, want the 3 that disabled it", n)
	}

	// The receiver is back; the admin re-enables the hook: its count
	// starts again and the backlog is delivered, nothing dropped.
	hookFailUntil(down, 3)
	h := a.admin.call("PUT", downPath, map[string]any{"isEnabled": true}, 200)
	if h["isEnabled"] != true || h["failureCount"] != 0.0 || h["secret"] != nil {
		t.Fatalf("a re-enabled hook: %v", h)
	}
	waitHookData(t, down, downSecret, "contact.created", "contactId", []string{c1, c2, c3})
	if n := hookAttempts(down); n != 6 {
		t.Fatalf("the receiver was sent %d deliveries, want 3 refused and 3 accepted", n)
	}
	checkStandardWebhooks(t, downSecret, hookAccepted(down))
	checkStandardWebhooks(t, flakySecret, hookAccepted(flaky))
	if h := a.admin.call("GET", downPath, nil, 200); h["isEnabled"] != true || h["failureCount"] != 0.0 {
		t.Fatalf("the re-enabled hook after its backlog: %v", h)
	}

	// An admin's disabling stops deliveries too: the flaky hook is not
	// sent what the healthy one receives next.
	a.admin.call("PUT", flakyPath, map[string]any{"isEnabled": false}, 200)
	sent := hookAttempts(flaky)
	c4 := newContact(a.admin, a.account, "+447902111204")
	waitHookData(t, healthy, healthySecret, "contact.created", "contactId", []string{c1, c2, c3, c4})
	waitHookData(t, down, downSecret, "contact.created", "contactId", []string{c1, c2, c3, c4})
	if n := hookAttempts(flaky); n != sent {
		t.Fatalf("a hook the admin disabled was sent %d more deliveries", n-sent)
	}
}

// TestWebhookTypes sets one hook per type and changes records of every
// type through the API: each hook receives its type's created and
// updated events, and nothing else.
func TestWebhookTypes(t *testing.T) {
	a := setUpAcme(t, allowPrivateHooks)
	type hook struct {
		receiver *hookReceiver
		secret   string
	}
	hooks := map[string]hook{}
	for _, typ := range []string{"message", "contact", "inbox", "apiaccount", "broadcast", "template"} {
		r := newHookReceiver(t, 0)
		w := a.admin.call("POST", "/webhook", map[string]any{"type": typ, "targetUrl": r.URL, "isEnabled": true}, 201)
		if w["type"] != typ {
			t.Fatalf("a %s hook: %v", typ, w)
		}
		hooks[typ] = hook{r, w["secret"].(string)}
	}
	wait := func(typ, event string, match func(map[string]any) bool) {
		t.Helper()
		h := hooks[typ]
		h.receiver.waitEvent(t, h.secret, event, match)
	}
	is := func(field string, want any) func(map[string]any) bool {
		return func(m map[string]any) bool { return m[field] == want }
	}

	// message and contact: a new contact writes in; an agent tags one.
	in := a.admin.call("POST", "/apiaccount/"+a.account+"/sandbox/inbound", map[string]any{"mobileNumber": "+447902111130",
		"message": "hello", "name": "Nina"}, 201)
	a.agent.call("PUT", "/contact/"+a.contact, map[string]any{"tags": []string{"vip"}}, 200)
	// inbox and apiaccount: created, then renamed. The account is a
	// WhatsApp one: its secrets must not reach the hook.
	inbox := a.admin.call("POST", "/inbox", map[string]any{"apiAccountId": a.account, "name": "Front desk"}, 201)
	a.admin.call("PUT", "/inbox/"+inbox["inboxId"].(string), map[string]any{"name": "Reception"}, 200)
	acct := a.admin.call("POST", "/apiaccount", map[string]any{"name": "Support", "phoneNumber": "+447902111131", "channel": "whatsapp",
		"phoneNumberId": "106540352242923", "accessToken": "EAA-secret-access-token", "appSecret": "app-secret-not-for-hooks",
		"verifyToken": "verify-token-not-for-hooks"}, 201)
	a.admin.call("PUT", "/apiaccount/"+acct["apiAccountId"].(string), map[string]any{"name": "Support desk"}, 200)
	// template and broadcast: approved, then broadcast (the sandbox
	// reports it delivered and read, which updates the broadcast).
	tpl := a.admin.call("POST", "/template", map[string]any{"apiAccountId": a.account, "name": "hello_again",
		"templateText": "Hello {{1}}"}, 201)
	a.admin.call("PUT", "/template/"+tpl["templateId"].(string), map[string]any{"status": "Approved"}, 200)
	b := a.agent.call("POST", "/broadcast", map[string]any{"apiAccountId": a.account, "contactId": a.contact,
		"templateId": tpl["templateId"], "message": "Hello Jack"}, 201)
	// Deleted inboxes and templates reach their hooks too, as they were.
	spare := a.admin.call("POST", "/inbox", map[string]any{"apiAccountId": a.account, "name": "Spare"}, 201)
	a.admin.call("DELETE", "/inbox/"+spare["inboxId"].(string), nil, 204)
	unused := a.admin.call("POST", "/template", map[string]any{"apiAccountId": a.account, "name": "unused", "templateText": "Bye"}, 201)
	a.admin.call("DELETE", "/template/"+unused["templateId"].(string), nil, 204)

	wait("message", "message.created", is("messageId", in["messageId"]))
	wait("message", "message.updated", func(m map[string]any) bool { return m["broadcastId"] == b["broadcastId"] && m["isRead"] == true })
	wait("contact", "contact.created", is("mobileNumber", "+447902111130"))
	wait("contact", "contact.updated", is("contactId", a.contact))
	wait("inbox", "inbox.created", is("name", "Front desk"))
	wait("inbox", "inbox.updated", is("name", "Reception"))
	wait("apiaccount", "apiaccount.created", is("name", "Support"))
	wait("apiaccount", "apiaccount.updated", is("name", "Support desk"))
	wait("template", "template.created", is("status", "Pending"))
	wait("template", "template.updated", is("status", "Approved"))
	wait("inbox", "inbox.deleted", is("inboxId", spare["inboxId"]))
	wait("template", "template.deleted", is("templateId", unused["templateId"]))
	wait("broadcast", "broadcast.created", is("status", "Queued"))
	wait("broadcast", "broadcast.updated", is("status", "Read"))

	// A hook receives what commits after it was created, not the past:
	// Jack and the Lettings account were created before the hooks.
	if got := hookData(t, hooks["contact"].receiver.events(t, hooks["contact"].secret), "contact.created", "contactId"); slices.Contains(got, a.contact) {
		t.Errorf("the contact hook received a contact created before it: %v", got)
	}
	if got := hookData(t, hooks["apiaccount"].receiver.events(t, hooks["apiaccount"].secret), "apiaccount.created", "apiAccountId"); slices.Contains(got, a.account) {
		t.Errorf("the apiaccount hook received an account created before it: %v", got)
	}
	// Every hook has been sent everything up to the broadcast being read,
	// so entries of other types (conversations included) would be here.
	for typ, h := range hooks {
		for _, e := range h.receiver.events(t, h.secret) {
			if e.Type != typ+".created" && e.Type != typ+".updated" && e.Type != typ+".deleted" {
				t.Errorf("the %s hook received %s: %s", typ, e.Type, e.Data)
			}
		}
		deliveries := hookAccepted(h.receiver)
		checkStandardWebhooks(t, h.secret, deliveries)
		for _, d := range deliveries {
			for _, secret := range []string{"EAA-secret-access-token", "app-secret-not-for-hooks", "verify-token-not-for-hooks"} {
				if strings.Contains(string(d.body), secret) {
					t.Errorf("the %s hook was sent the account's %s: %s", typ, secret, d.body)
				}
			}
		}
	}
}

// TestWebhookValidation checks who may manage webhooks, what a hook may
// be, that the secret shows only once, the /webhooks alias, and delete.
func TestWebhookValidation(t *testing.T) {
	a := setUpAcme(t)
	const target = "https://hooks.example.com/boxwire"
	for _, bad := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"type": "messages", "targetUrl": target}, "type"},
		{map[string]any{"type": "conversation", "targetUrl": target}, "type"},
		{map[string]any{"targetUrl": target}, "type"},
		{map[string]any{"type": "message"}, "targetUrl"},
		{map[string]any{"type": "message", "targetUrl": "ftp://hooks.example.com/boxwire"}, "targetUrl"},
		{map[string]any{"type": "message", "targetUrl": "/relative/hook"}, "targetUrl"},
		{map[string]any{"type": "message", "targetUrl": "http://"}, "targetUrl"},
		{map[string]any{"type": "message", "targetUrl": "hooks.example.com"}, "targetUrl"},
	} {
		a.admin.refused("POST", "/webhook", bad.body, 400, bad.field)
	}
	// Agents may not see or set hooks: a hook receives the whole
	// organisation's records.
	a.agent.refused("POST", "/webhook", map[string]any{"type": "message", "targetUrl": target}, 403, "")
	a.agent.refused("GET", "/webhook", nil, 403, "")
	if got := a.admin.items("/webhook"); len(got) != 0 {
		t.Fatalf("refused creates made hooks: %v", got)
	}

	// Created through the alias, set up ahead (disabled).
	w := a.admin.call("POST", "/webhooks", map[string]any{"type": "message", "targetUrl": target, "isEnabled": false}, 201)
	id, _ := w["webhookId"].(string)
	if secret, _ := w["secret"].(string); !strings.HasPrefix(secret, "whsec_") || w["isEnabled"] != false ||
		w["failureCount"] != 0.0 || w["targetUrl"] != target || w["type"] != "message" {
		t.Fatalf("a new hook: %v", w)
	}
	for _, path := range []string{"/webhook/" + id, "/webhooks/" + id} {
		if got := a.admin.call("GET", path, nil, 200); got["webhookId"] != id || got["secret"] != nil || got["targetUrl"] != target {
			t.Fatalf("GET %s: %v", path, got)
		}
	}
	for _, path := range []string{"/webhook", "/webhooks"} {
		if got := a.admin.items(path); len(got) != 1 || got[0]["webhookId"] != id || got[0]["secret"] != nil {
			t.Fatalf("GET %s: %v", path, got)
		}
	}
	a.agent.refused("GET", "/webhook/"+id, nil, 403, "")
	a.agent.refused("PUT", "/webhook/"+id, map[string]any{"isEnabled": true}, 403, "")
	a.agent.refused("DELETE", "/webhook/"+id, nil, 403, "")
	// Another organisation's admin does not find it.
	a.outsider.refused("GET", "/webhook/"+id, nil, 404, "")
	a.outsider.refused("PUT", "/webhook/"+id, map[string]any{"isEnabled": true}, 404, "")
	a.outsider.refused("DELETE", "/webhook/"+id, nil, 404, "")
	if got := a.outsider.items("/webhook"); len(got) != 0 {
		t.Fatalf("another organisation lists %v", got)
	}

	// A bad update changes nothing; a good one shows no secret.
	a.admin.refused("PUT", "/webhook/"+id, map[string]any{"targetUrl": "mailto:ops@example.com", "isEnabled": true}, 400, "targetUrl")
	a.admin.refused("PUT", "/webhook/"+id, map[string]any{"type": "everything"}, 400, "type")
	if got := a.admin.call("GET", "/webhook/"+id, nil, 200); got["targetUrl"] != target || got["isEnabled"] != false || got["type"] != "message" {
		t.Fatalf("refused updates changed the hook: %v", got)
	}
	up := a.admin.call("PUT", "/webhooks/"+id, map[string]any{"type": "template", "isEnabled": true}, 200)
	if up["type"] != "template" || up["isEnabled"] != true || up["targetUrl"] != target || up["secret"] != nil {
		t.Fatalf("an updated hook: %v", up)
	}

	a.admin.call("DELETE", "/webhook/"+id, nil, 204)
	a.admin.refused("GET", "/webhook/"+id, nil, 404, "")
	a.admin.refused("DELETE", "/webhooks/"+id, nil, 404, "")
	a.admin.refused("PUT", "/webhook/"+id, map[string]any{"isEnabled": true}, 404, "")
	if got := a.admin.items("/webhook"); len(got) != 0 {
		t.Fatalf("after delete: %v", got)
	}
}
