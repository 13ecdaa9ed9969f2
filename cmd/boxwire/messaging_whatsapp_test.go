package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/boxwire/boxwire/internal/channel/whatsapp/whatsapptest"
)

// The WhatsApp tests run the real server against whatsapptest, a local
// fake of Meta's Graph API written from Meta's documentation: sends go to
// it through --whatsapp-graph-url, and the deliveries Meta would post
// back (messages, statuses, template reviews) are built and signed by it.

// What the WhatsApp API account is set up with, as an admin would copy
// it from Meta's app dashboard.
const (
	waPhoneNumberID = "106540352242922"
	waAccessToken   = "EAAJB0test0access0token"
	waAppSecret     = "5f2b9c0e8d7a6b5c4d3e2f1a0b9c8d7e"
	waVerifyToken   = "boxwire-verify-me"
)

// waAcme is Acme with a WhatsApp API account whose agent team reaches it.
type waAcme struct {
	*acme
	fake    *whatsapptest.Fake
	account string  // the WhatsApp API account's id
	meta    *client // Meta's side: unauthenticated, it signs instead
}

func setUpWhatsApp(t *testing.T) *waAcme {
	fake := whatsapptest.New()
	t.Cleanup(fake.Close)
	return setUpWhatsAppVia(t, fake, fake.URL)
}

// setUpWhatsAppVia is setUpWhatsApp with the Graph API at graphURL, a
// proxy in front of fake.
func setUpWhatsAppVia(t *testing.T, fake *whatsapptest.Fake, graphURL string, opts ...func(*Config)) *waAcme {
	fake.AddNumber(waPhoneNumberID, waAccessToken)
	a := setUpAcme(t, append([]func(*Config){func(c *Config) { c.WhatsAppGraphURL = graphURL }}, opts...)...)
	w := &waAcme{acme: a, fake: fake, meta: newClient(t, a.ts.URL())}
	w.account = createWhatsAppAccount(a.admin)
	a.admin.call("POST", "/team", map[string]any{"name": "WhatsApp team", "apiAccountIds": []string{w.account},
		"userIds": []string{a.agentID}}, 201)
	return w
}

// createWhatsAppAccount adds the WhatsApp number; a WhatsApp account
// without the app secret is refused, since its callbacks could not be
// authenticated.
func createWhatsAppAccount(admin *msgClient) string {
	body := map[string]any{"name": "Lettings on WhatsApp", "phoneNumber": "+447902111160", "channel": "whatsapp",
		"phoneNumberId": waPhoneNumberID, "accessToken": waAccessToken, "verifyToken": waVerifyToken}
	admin.refused("POST", "/apiaccount", body, 400, "appSecret")
	body["appSecret"] = waAppSecret
	return admin.call("POST", "/apiaccount", body, 201)["apiAccountId"].(string)
}

func (w *waAcme) callbackPath() string { return "/channels/whatsapp/" + w.account }

// post sends a webhook delivery as Meta would, with the given
// X-Hub-Signature-256 ("" for none).
func (w *waAcme) post(body []byte, signature string) response {
	w.meta.t.Helper()
	var headers []string
	if signature != "" {
		headers = []string{"X-Hub-Signature-256", signature}
	}
	return w.meta.do("POST", w.callbackPath(), string(body), headers...)
}

// deliver posts a correctly signed delivery, which must be taken.
func (w *waAcme) deliver(body []byte) {
	w.meta.t.Helper()
	if r := w.post(body, w.fake.Sign(waAppSecret, body)); r.status != 200 {
		w.meta.t.Fatalf("a signed delivery: %d %s", r.status, r.body)
	}
}

// writeIn delivers a text message a WhatsApp user sent to the account.
func (w *waAcme) writeIn(from, name, text string) {
	w.meta.t.Helper()
	body, _ := w.fake.InboundMessage(waPhoneNumberID, from, name, text)
	w.deliver(body)
}

// contactOn returns the account's contact with mobile (E.164).
func (w *waAcme) contactOn(mobile string) map[string]any {
	w.meta.t.Helper()
	got := w.admin.items("/contact?apiAccountId=" + w.account + "&mobileNumber=" + url.QueryEscape(mobile))
	if len(got) != 1 {
		w.meta.t.Fatalf("contacts with %s on the WhatsApp account: %v", mobile, got)
	}
	return got[0]
}

// sendsTo returns the fake's send requests to a recipient (digits).
func sendsTo(f *whatsapptest.Fake, to string) []whatsapptest.Send {
	var out []whatsapptest.Send
	for _, s := range f.Sends() {
		if s.To == to {
			out = append(out, s)
		}
	}
	return out
}

// deliveryState reads a message's delivery flags and failure reason.
func deliveryState(m map[string]any) string {
	return fmt.Sprintf("isSent=%v isDelivered=%v isRead=%v failedReason=%v", m["isSent"], m["isDelivered"], m["isRead"], m["failedReason"])
}

// TestWhatsAppWebhookVerification checks Meta's subscription handshake:
// the challenge is echoed only for the account's own verify token.
func TestWhatsAppWebhookVerification(t *testing.T) {
	w := setUpWhatsApp(t)
	verify := func(accountID, mode, token string) response {
		q := url.Values{"hub.mode": {mode}, "hub.verify_token": {token}, "hub.challenge": {"1158201444"}}
		return w.meta.do("GET", "/channels/whatsapp/"+accountID+"?"+q.Encode(), nil)
	}
	r := verify(w.account, "subscribe", waVerifyToken)
	if r.status != 200 || string(r.body) != "1158201444" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("the right verify token: %d %q %s", r.status, r.body, r.header.Get("Content-Type"))
	}
	for _, bad := range []struct {
		what, account, mode, token string
		status                     int
	}{
		{"a wrong verify token", w.account, "subscribe", "guess", 403},
		{"no verify token", w.account, "subscribe", "", 403},
		{"another mode", w.account, "unsubscribe", waVerifyToken, 403},
		{"an unknown account", "6d73d10d-ada8-4de2-a9a6-f441ab344287", "subscribe", waVerifyToken, 404},
		{"not an account id", "nope", "subscribe", waVerifyToken, 404},
		// A sandbox account has no WhatsApp callback at all.
		{"a sandbox account", w.acme.account, "subscribe", waVerifyToken, 404},
	} {
		r := verify(bad.account, bad.mode, bad.token)
		if r.status != bad.status || strings.Contains(string(r.body), "1158201444") {
			t.Errorf("%s: %d %q, want %d without the challenge", bad.what, r.status, r.body, bad.status)
		}
	}
}

// TestWhatsAppInboundIsSignedAndDeduplicated checks that only deliveries
// signed with the account's app secret are taken, that a message creates
// its sender as a contact, and that Meta's redeliveries (sequential or
// concurrent) store the message once.
func TestWhatsAppInboundIsSignedAndDeduplicated(t *testing.T) {
	w := setUpWhatsApp(t)
	body, _ := w.fake.InboundMessage(waPhoneNumberID, "447902111150", "Jack", "Is the flat still available?")
	otherBody, _ := w.fake.InboundMessage(waPhoneNumberID, "447902111150", "Jack", "another body")
	for _, bad := range []struct{ what, signature string }{
		{"no signature", ""},
		{"signed with another app's secret", w.fake.Sign("not-the-app-secret", body)},
		{"the signature of another body", w.fake.Sign(waAppSecret, otherBody)},
		{"not sha256=", strings.Replace(w.fake.Sign(waAppSecret, body), "sha256=", "sha1=", 1)},
		{"not hex", "sha256=zz"},
	} {
		if r := w.post(body, bad.signature); r.status != http.StatusUnauthorized {
			t.Errorf("%s: %d %s, want 401", bad.what, r.status, r.body)
		}
	}
	if r := w.meta.do("POST", "/channels/whatsapp/6d73d10d-ada8-4de2-a9a6-f441ab344287", string(body),
		"X-Hub-Signature-256", w.fake.Sign(waAppSecret, body)); r.status != 404 {
		t.Errorf("an unknown account: %d %s, want 404", r.status, r.body)
	}
	// One Meta app posts all its numbers' notifications to every callback
	// URL: a message to another number of the app is not this account's.
	elsewhere, _ := w.fake.InboundMessage("999888777666", "447902111150", "Jack", "to another number")
	w.deliver(elsewhere)
	if got := w.admin.items("/contact?apiAccountId=" + w.account); len(got) != 0 {
		t.Fatalf("refused deliveries created contacts: %v", got)
	}
	if got := w.admin.items("/message"); len(got) != 0 {
		t.Fatalf("refused deliveries stored messages: %v", got)
	}

	// Signed: the sender becomes a Subscribed contact (they wrote to us),
	// numbered in E.164, named after their WhatsApp profile.
	w.deliver(body)
	jack := w.contactOn("+447902111150")
	if jack["status"] != "Subscribed" || jack["name"] != "Jack" || jack["mobileNumber"] != "+447902111150" {
		t.Fatalf("the contact who wrote in: %v", jack)
	}
	msgs := w.admin.items("/message?contactId=" + jack["contactId"].(string))
	if len(msgs) != 1 || msgs[0]["bodyText"] != "Is the flat still available?" || msgs[0]["messageDirection"] != "incoming" ||
		msgs[0]["apiAccountId"] != w.account {
		t.Fatalf("the inbound message: %v", msgs)
	}

	// Meta redelivers whenever it did not see a 200 in time.
	w.deliver(body)
	if got := w.admin.items("/message?contactId=" + jack["contactId"].(string)); len(got) != 1 {
		t.Fatalf("a redelivery stored the message again: %v", got)
	}
	// Redeliveries can also overlap.
	again, _ := w.fake.InboundMessage(waPhoneNumberID, "447902111150", "Jack", "Can I view it on Friday?")
	statuses := postConcurrently(t, w.ts.URL()+w.callbackPath(), again, w.fake.Sign(waAppSecret, again), 4)
	for _, s := range statuses {
		if s != 200 {
			t.Errorf("overlapping redeliveries answered %v, want 200 each", statuses)
			break
		}
	}
	if got := w.admin.items("/message?contactId=" + jack["contactId"].(string)); len(got) != 2 {
		t.Fatalf("overlapping redeliveries: %d messages, want 2: %v", len(got), got)
	}
	if got := w.admin.items("/contact?apiAccountId=" + w.account); len(got) != 1 {
		t.Fatalf("the sender was created more than once: %v", got)
	}
}

// postConcurrently posts the same signed body n times at once and
// returns the statuses (0 for a failed request).
func postConcurrently(t *testing.T, target string, body []byte, signature string, n int) []int {
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := newRequest("POST", target, body)
			if err != nil {
				return
			}
			req.Header.Set("X-Hub-Signature-256", signature)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("post %d: %v", i, err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		}()
	}
	wg.Wait()
	return statuses
}

// TestWhatsAppReplyAndOutOfOrderStatuses checks an agent's reply inside
// the session window reaches Meta as a documented text send, and that
// statuses applied in any order end in the same state.
func TestWhatsAppReplyAndOutOfOrderStatuses(t *testing.T) {
	w := setUpWhatsApp(t)
	w.writeIn("+447902111150", "Jack", "Hello?")
	jack := w.contactOn("+447902111150")
	reply := w.agent.call("POST", "/message", map[string]any{"apiAccountId": w.account, "contactId": jack["contactId"],
		"message": "Hi Jack, yes it is."}, 201)
	path := "/message/" + reply["messageId"].(string)
	m := w.agent.waitField(path, "isSent", true)
	// Unlike the sandbox, WhatsApp reports delivery itself: nothing more yet.
	if m["isDelivered"] != false || m["isRead"] != false || m["failedReason"] != nil {
		t.Fatalf("a message Meta accepted: %s", deliveryState(m))
	}

	sends := w.fake.Sends()
	if len(sends) != 1 {
		t.Fatalf("the fake received %d sends, want 1: %+v", len(sends), sends)
	}
	s := sends[0]
	if s.Status != 200 || s.PhoneNumberID != waPhoneNumberID || s.Token != waAccessToken || s.To != "447902111150" ||
		s.Type != "text" || s.Text != "Hi Jack, yes it is." {
		t.Fatalf("the send: %+v (body %s)", s, s.Body)
	}

	// A status for a message Boxwire never sent (another system's, on
	// the same number) is acknowledged and changes nothing.
	w.deliver(w.fake.StatusUpdate(waPhoneNumberID, "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJBQUFB", "read", 0))

	// Meta does not promise order: read can arrive before delivered, and
	// a late sent after both. Read implies delivered and sent, and nothing
	// later takes a flag back.
	allTrue := func(what string) {
		t.Helper()
		m := w.agent.call("GET", path, nil, 200)
		if m["isSent"] != true || m["isDelivered"] != true || m["isRead"] != true || m["failedReason"] != nil {
			t.Fatalf("after %s: %s", what, deliveryState(m))
		}
	}
	w.deliver(w.fake.StatusUpdate(waPhoneNumberID, s.ID, "read", 0))
	allTrue("read")
	w.deliver(w.fake.StatusUpdate(waPhoneNumberID, s.ID, "delivered", 0))
	allTrue("read, then delivered")
	w.deliver(w.fake.StatusUpdate(waPhoneNumberID, s.ID, "sent", 0))
	allTrue("read, delivered, then a late sent")
	w.deliver(w.fake.StatusUpdate(waPhoneNumberID, s.ID, "read", 0))
	allTrue("read again")
	// A read message arrived: a failure reported late does not undo that.
	w.deliver(w.fake.StatusUpdate(waPhoneNumberID, s.ID, "failed", 131026))
	allTrue("a late failure")
}

// TestWhatsAppTemplateReviewAndBroadcast checks that a WhatsApp
// template's status follows Meta's review webhook, not an admin, and that
// a broadcast of an approved template is sent as a template message with
// its parameters.
func TestWhatsAppTemplateReviewAndBroadcast(t *testing.T) {
	w := setUpWhatsApp(t)
	tpl := w.admin.call("POST", "/template", map[string]any{"apiAccountId": w.account, "name": "viewing_confirmed",
		"templateText": "Hi {{1}}, your viewing of {{2}} is confirmed.", "templateExample": "Hi [Jack], … [4 Elm Row] …"}, 201)
	tplPath := "/template/" + tpl["templateId"].(string)
	if tpl["status"] != "Pending" {
		t.Fatalf("a new template: %v", tpl)
	}
	w.admin.refused("PUT", tplPath, map[string]any{"status": "Approved"}, 400, "status")
	if got := w.admin.call("GET", tplPath, nil, 200); got["status"] != "Pending" {
		t.Fatalf("a refused status change changed the template: %v", got)
	}
	contact := w.admin.call("POST", "/contact", map[string]any{"mobileNumber": "+447902111151", "name": "Jill",
		"status": "Presubscribed", "apiAccountId": w.account}, 201)
	send := map[string]any{"apiAccountId": w.account, "contactId": contact["contactId"], "templateId": tpl["templateId"],
		"message": "Hi Jill, your viewing of 4 Elm Row is confirmed."}
	w.agent.refused("POST", "/broadcast", send, 400, "templateId")

	// Reviews of templates Boxwire does not know, or states it does not
	// model, are acknowledged and change nothing.
	w.deliver(w.fake.TemplateStatus("made_elsewhere", "APPROVED"))
	w.deliver(w.fake.TemplateStatus("viewing_confirmed", "PENDING_DELETION"))
	if got := w.admin.call("GET", tplPath, nil, 200); got["status"] != "Pending" {
		t.Fatalf("an unrelated review changed the template: %v", got)
	}
	// Unsigned, Meta's approval is not Meta's.
	approval := w.fake.TemplateStatus("viewing_confirmed", "APPROVED")
	if r := w.post(approval, ""); r.status != 401 {
		t.Fatalf("an unsigned review: %d %s", r.status, r.body)
	}
	if got := w.admin.call("GET", tplPath, nil, 200); got["status"] != "Pending" {
		t.Fatalf("an unsigned review changed the template: %v", got)
	}
	w.deliver(approval)
	if got := w.admin.call("GET", tplPath, nil, 200); got["status"] != "Approved" {
		t.Fatalf("after Meta's approval: %v", got)
	}

	// Jill never wrote: no session message, but the broadcast goes.
	w.agent.refused("POST", "/message", map[string]any{"apiAccountId": w.account, "contactId": contact["contactId"], "message": "hi"}, 409, "contactId")
	b := w.agent.call("POST", "/broadcast", send, 201)
	bPath := "/broadcast/" + b["broadcastId"].(string)
	if b["status"] != "Queued" {
		t.Fatalf("a new broadcast: %v", b)
	}
	sent := w.agent.waitField(bPath, "status", "Sent")
	sends := sendsTo(w.fake, "447902111151")
	if len(sends) != 1 {
		t.Fatalf("sends to Jill: %+v", sends)
	}
	s := sends[0]
	if s.Status != 200 || s.Type != "template" || s.Template != "viewing_confirmed" || s.Language != "en" ||
		!slices.Equal(s.Params, []string{"Jill", "4 Elm Row"}) || s.Token != waAccessToken || s.PhoneNumberID != waPhoneNumberID {
		t.Fatalf("the template send: %+v (body %s)", s, s.Body)
	}
	msg := w.agent.call("GET", "/message/"+sent["messageId"].(string), nil, 200)
	if msg["isTemplateMessage"] != true || msg["bodyText"] != send["message"] || msg["isSent"] != true {
		t.Fatalf("the broadcast's message: %v", msg)
	}
	w.deliver(w.fake.StatusUpdate(waPhoneNumberID, s.ID, "delivered", 0))
	if got := w.agent.call("GET", bPath, nil, 200); got["status"] != "Delivered" {
		t.Fatalf("after delivered: %v", got)
	}
	w.deliver(w.fake.StatusUpdate(waPhoneNumberID, s.ID, "read", 0))
	if got := w.agent.call("GET", bPath, nil, 200); got["status"] != "Read" {
		t.Fatalf("after read: %v", got)
	}

	// A rejection is Meta's word too.
	other := w.admin.call("POST", "/template", map[string]any{"apiAccountId": w.account, "name": "rent_due",
		"templateText": "Hi {{1}}, the rent is due."}, 201)
	w.deliver(w.fake.TemplateStatus("rent_due", "REJECTED"))
	if got := w.admin.call("GET", "/template/"+other["templateId"].(string), nil, 200); got["status"] != "Rejected" {
		t.Fatalf("after Meta's rejection: %v", got)
	}
}

// TestWhatsAppSendFailures checks how Meta's refusals end: re-engagement
// (131047) fails the message or broadcast for good with Meta's reason and
// is not retried; a transient 500 is retried until it succeeds; and a
// failure Meta reports later by webhook is recorded.
func TestWhatsAppSendFailures(t *testing.T) {
	w := setUpWhatsApp(t)
	tpl := w.admin.call("POST", "/template", map[string]any{"apiAccountId": w.account, "name": "still_interested",
		"templateText": "Hi {{1}}, are you still interested?"}, 201)
	w.deliver(w.fake.TemplateStatus("still_interested", "APPROVED"))
	w.writeIn("447902111150", "Jack", "Hello")
	w.writeIn("447902111152", "Jill", "Hello")
	jack, jill := w.contactOn("+447902111150")["contactId"], w.contactOn("+447902111152")["contactId"]

	// 1. Boxwire's window is open (Jack just wrote), but Meta says it is
	// closed: the message fails with Meta's code and is not retried.
	w.fake.ReengagementFor("+447902111150")
	m1 := w.agent.call("POST", "/message", map[string]any{"apiAccountId": w.account, "contactId": jack, "message": "Hi Jack"}, 201)
	failed := waitFailed(w.agent, "/message/"+m1["messageId"].(string))
	if !strings.Contains(failed["failedReason"].(string), "131047") || failed["isSent"] != false {
		t.Fatalf("a message Meta refused with 131047: %s", deliveryState(failed))
	}

	// 2. The same refusal of a broadcast fails the broadcast.
	w.fake.FailNext(1, 400, 131047, "Re-engagement message")
	b := w.agent.call("POST", "/broadcast", map[string]any{"apiAccountId": w.account, "contactId": jack,
		"templateId": tpl["templateId"], "message": "Hi Jack, are you still interested?"}, 201)
	fb := w.agent.waitField("/broadcast/"+b["broadcastId"].(string), "status", "Failed")
	if reason, _ := fb["reason"].(string); !strings.Contains(reason, "131047") {
		t.Fatalf("a broadcast Meta refused with 131047: %v", fb)
	}

	// 3. Meta failing (500) is retried: the sender backs off (1s first)
	// and sends again, and the message goes.
	w.fake.FailNext(1, 500, 131000, "Something went wrong")
	m3 := w.agent.call("POST", "/message", map[string]any{"apiAccountId": w.account, "contactId": jill, "message": "Hi Jill"}, 201)
	ok := waitWithin(w.agent, "/message/"+m3["messageId"].(string), "isSent", true, 20*time.Second)
	if ok["failedReason"] != nil {
		t.Fatalf("a retried message: %s", deliveryState(ok))
	}
	jillSends := sendsTo(w.fake, "447902111152")
	if len(jillSends) != 2 || jillSends[0].Status != 500 || jillSends[1].Status != 200 || jillSends[1].Text != "Hi Jill" ||
		string(jillSends[0].Body) != string(jillSends[1].Body) {
		t.Fatalf("sends to Jill: want a 500 then the same request answered 200: %+v", jillSends)
	}
	// The retry of step 3 came at least a backoff after steps 1 and 2
	// failed; had those been retried, the sender would have tried them
	// first. Jack got one text and one template request, no more.
	if got := sendsTo(w.fake, "447902111150"); len(got) != 2 || got[0].Type != "text" || got[1].Type != "template" ||
		got[0].Status != 400 || got[1].Status != 400 {
		t.Fatalf("permanent refusals were retried: sends to Jack %+v", got)
	}

	// 4. Meta can also fail a message after accepting it, by webhook.
	w.deliver(w.fake.StatusUpdate(waPhoneNumberID, jillSends[1].ID, "failed", 131047))
	late := w.agent.call("GET", "/message/"+m3["messageId"].(string), nil, 200)
	if reason, _ := late["failedReason"].(string); !strings.Contains(reason, "131047") || late["isSent"] != true || late["isDelivered"] != false {
		t.Fatalf("a sent message Meta then reported failed: %s", deliveryState(late))
	}
	// A redelivery of the failure keeps the first reason.
	w.deliver(w.fake.StatusUpdate(waPhoneNumberID, jillSends[1].ID, "failed", 131026))
	if again := w.agent.call("GET", "/message/"+m3["messageId"].(string), nil, 200); again["failedReason"] != late["failedReason"] {
		t.Fatalf("a second failure replaced the reason: %s, was %q", deliveryState(again), late["failedReason"])
	}
}

// TestWhatsAppStatusOvertakesSendAnswer checks the earliest out-of-order
// case: Meta's status webhook for a message arriving before Boxwire has
// read Meta's answer to the send (the answer is slow on the way back, or
// the webhook fast). A proxy in front of the fake has the "delivered"
// callback answered before it passes the send's answer on. Meta was told
// 200, so it will not send that status again: it must not be lost.
func TestWhatsAppStatusOvertakesSendAnswer(t *testing.T) {
	fake := whatsapptest.New()
	t.Cleanup(fake.Close)
	var callbackURL atomic.Value // set once the server is up
	acknowledged := make(chan int, 8)
	proxy := httputil.NewSingleHostReverseProxy(mustURL(t, fake.URL))
	proxy.ModifyResponse = func(res *http.Response) error {
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		res.Body = io.NopCloser(bytes.NewReader(body))
		var answer struct {
			Messages []struct {
				ID string `json:"id"`
			} `json:"messages"`
		}
		if err != nil || json.Unmarshal(body, &answer) != nil || len(answer.Messages) != 1 {
			return err
		}
		status := fake.StatusUpdate(waPhoneNumberID, answer.Messages[0].ID, "delivered", 0)
		req, err := newRequest("POST", callbackURL.Load().(string), status)
		if err != nil {
			return err
		}
		req.Header.Set("X-Hub-Signature-256", fake.Sign(waAppSecret, status))
		cb, err := http.DefaultClient.Do(req)
		if err != nil {
			acknowledged <- 0
			return nil
		}
		cb.Body.Close()
		acknowledged <- cb.StatusCode
		return nil
	}
	graph := httptest.NewServer(proxy)
	t.Cleanup(graph.Close)
	w := setUpWhatsAppVia(t, fake, graph.URL)
	callbackURL.Store(w.ts.URL() + w.callbackPath())

	w.writeIn("447902111150", "Jack", "Hello")
	jack := w.contactOn("+447902111150")
	reply := w.agent.call("POST", "/message", map[string]any{"apiAccountId": w.account, "contactId": jack["contactId"],
		"message": "Hi Jack"}, 201)
	select {
	case status := <-acknowledged:
		if status != 200 {
			t.Fatalf("the delivered callback sent before the send's answer: %d", status)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the message was never sent")
	}
	path := "/message/" + reply["messageId"].(string)
	w.agent.waitField(path, "isSent", true)
	waitFor(t, 5*time.Second, "the delivered status Meta sent (and Boxwire acknowledged) before the send's answer", func() bool {
		return w.agent.call("GET", path, nil, 200)["isDelivered"] == true
	})
}

// waitFailed waits until a message has a failure reason.
func waitFailed(a *msgClient, path string) map[string]any {
	a.t.Helper()
	var last map[string]any
	waitFor(a.t, 15*time.Second, path+" failed", func() bool {
		last = a.call("GET", path, nil, 200)
		return last["failedReason"] != nil
	})
	return last
}

// waitWithin is waitField with a longer deadline, for retries that wait
// out the sender's backoff.
func waitWithin(a *msgClient, path, field string, want any, timeout time.Duration) map[string]any {
	a.t.Helper()
	var last map[string]any
	waitFor(a.t, timeout, fmt.Sprintf("%s %s = %v", path, field, want), func() bool {
		last = a.call("GET", path, nil, 200)
		return last[field] == want
	})
	return last
}

// TestWhatsAppGraphURLFlag runs the real binary with --whatsapp-graph-url
// pointing at the fake: a contact writes in, and the reply reaches it.
func TestWhatsAppGraphURLFlag(t *testing.T) {
	fake := whatsapptest.New()
	t.Cleanup(fake.Close)
	fake.AddNumber(waPhoneNumberID, waAccessToken)
	sc := storeConfig(t)
	p := startProcess(t, sc, "--whatsapp-graph-url", fake.URL)
	if out, code := runCLI(t, sc, "user", "add", "--email", "ada@acme.test", "--password", "correct horse",
		"--name", "Ada Admin", "--org", "Acme", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %d %s", code, out)
	}
	admin := newAPI(t, p.url, "ada@acme.test", "correct horse")
	w := &waAcme{acme: &acme{admin: admin}, fake: fake, meta: newClient(t, p.url)}
	w.account = createWhatsAppAccount(admin)
	w.writeIn("447902111150", "Jack", "Hello")
	jack := w.contactOn("+447902111150")
	reply := admin.call("POST", "/message", map[string]any{"apiAccountId": w.account, "contactId": jack["contactId"], "message": "Hi Jack"}, 201)
	admin.waitField("/message/"+reply["messageId"].(string), "isSent", true)
	if s := fake.Sends(); len(s) != 1 || s[0].To != "447902111150" || s[0].Text != "Hi Jack" || s[0].Status != 200 {
		t.Fatalf("the fake's sends: %+v", s)
	}
}

// TestWhatsAppCallbackWithABadMessage: Meta batches messages and
// redelivers a whole callback until it sees a 200. A message that cannot
// be stored (a NUL, which PostgreSQL refuses in text) is logged and left
// out; the others are stored and the callback is acknowledged, on both
// stores alike. A profile name's control characters are dropped.
func TestWhatsAppCallbackWithABadMessage(t *testing.T) {
	w := setUpWhatsApp(t)
	first, _ := w.fake.InboundMessage(waPhoneNumberID, "447902111161", "Kim\x1b[2J", "first")
	bad, badID := w.fake.InboundMessage(waPhoneNumberID, "447902111162", "Lou", "nul\x00here")
	last, _ := w.fake.InboundMessage(waPhoneNumberID, "447902111163", "Max", "last")
	value := func(body []byte) map[string]any {
		var n map[string]any
		if err := json.Unmarshal(body, &n); err != nil {
			t.Fatal(err)
		}
		return n["entry"].([]any)[0].(map[string]any)["changes"].([]any)[0].(map[string]any)["value"].(map[string]any)
	}
	var batch map[string]any
	json.Unmarshal(first, &batch)
	v := batch["entry"].([]any)[0].(map[string]any)["changes"].([]any)[0].(map[string]any)["value"].(map[string]any)
	for _, other := range [][]byte{bad, last} {
		o := value(other)
		v["contacts"] = append(v["contacts"].([]any), o["contacts"].([]any)...)
		v["messages"] = append(v["messages"].([]any), o["messages"].([]any)...)
	}
	body, _ := json.Marshal(batch)
	if !strings.Contains(string(body), `\u0000`) {
		t.Fatalf("the batch does not carry the NUL: %s", body)
	}
	if r := w.post(body, w.fake.Sign(waAppSecret, body)); r.status != 200 {
		t.Fatalf("a batch with one bad message: %d %s, want 200 so Meta stops redelivering", r.status, r.body)
	}
	var texts []string
	for _, m := range w.admin.items("/message") {
		texts = append(texts, m["bodyText"].(string))
	}
	sort.Strings(texts)
	if strings.Join(texts, ",") != "first,last" {
		t.Fatalf("stored messages %q, want first and last only", texts)
	}
	if kim := w.contactOn("+447902111161"); kim["name"] != "Kim[2J" {
		t.Fatalf("a profile name with an escape sequence: %q", kim["name"])
	}
	waitFor(t, 5*time.Second, "the bad message in the log", func() bool { return strings.Contains(w.ts.logs.String(), badID) })
	// Redelivered, nothing is stored twice and nothing more is refused.
	if r := w.post(body, w.fake.Sign(waAppSecret, body)); r.status != 200 {
		t.Fatalf("the redelivery: %d %s", r.status, r.body)
	}
	if got := w.admin.items("/message"); len(got) != 2 {
		t.Fatalf("after the redelivery: %d messages", len(got))
	}
}
