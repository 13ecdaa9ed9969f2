package main

import (
	"bytes"
	"context"
	"mime/multipart"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// The conformance test drives the boxes surface as a client written for
// Misakey's backend (misakey/backend at 24075cb) does: a browser session
// in the cookies accesstoken + tokentype=bearer, X-CSRF-Token from
// GET /csrf on every unsafe request, the reference's request bodies, and
// the reference's answers (status, JSON keys, error details), written from
// its source. docs/compatibility.md lists the routes and what stays
// different.

// misakeyClient is a cookie session, as the reference's web app holds one.
type misakeyClient struct {
	*client
	id, email, csrf string
}

func (ts *testServer) misakeyClient(t *testing.T, name string) *misakeyClient {
	t.Helper()
	u := ts.user(t, name) // creates the account; its bearer client is not used
	c := newClient(t, ts.URL())
	c.login(u.email, name+"-password") // sets the cookie pair
	for _, ck := range c.http.Jar.Cookies(mustURL(t, ts.URL())) {
		if ck.Name == "accesstoken" && ck.Value == "" {
			t.Fatal("the login left an empty accesstoken cookie")
		}
	}
	r := c.do("GET", "/csrf", nil)
	expect(t, "GET /csrf", r, 200)
	mc := &misakeyClient{client: c, id: u.id, email: u.email, csrf: r.json(t)["csrf_token"].(string)}
	if mc.csrf == "" {
		t.Fatalf("GET /csrf: %s", r.body)
	}
	return mc
}

// call sends a request with the session's cookies and, when the method is
// unsafe, its X-CSRF-Token — never an Authorization header.
func (m *misakeyClient) call(method, path string, body any, headers ...string) response {
	m.t.Helper()
	if method != "GET" && method != "HEAD" {
		headers = append([]string{"X-CSRF-Token", m.csrf}, headers...)
	}
	return m.do(method, path, body, headers...)
}

// shape checks that a JSON object holds every named key.
func shape(t *testing.T, what string, m map[string]any, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, ok := m[n]; !ok {
			t.Fatalf("%s: no %q in %v", what, n, keys(m))
		}
	}
}

// refused checks an error in the reference's envelope: status, code and
// exactly the given details.
func refused(t *testing.T, what string, r response, status int, code string, details map[string]string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
	m := r.json(t)
	shape(t, what, m, "code", "origin", "desc", "details")
	if m["code"] != code {
		t.Fatalf("%s: code %v, want %s: %s", what, m["code"], code, r.body)
	}
	got := r.fields(t)
	if len(got) != len(details) {
		t.Fatalf("%s: details %v, want %v", what, got, details)
	}
	for k, v := range details {
		if got[k] != v {
			t.Fatalf("%s: details %v, want %v", what, got, details)
		}
	}
}

var (
	boxViewKeys   = []string{"id", "server_created_at", "owner_org_id", "public_key", "title", "access_mode", "creator", "last_event", "events_count", "settings"}
	eventViewKeys = []string{"type", "content", "box_id", "id", "server_event_created_at", "referrer_id", "sender"}
	senderKeys    = []string{"id", "display_name", "avatar_url", "identifier_value", "identifier_kind"}
)

func TestMisakeyConformance(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob, eve := ts.misakeyClient(t, "Alice"), ts.misakeyClient(t, "Bob"), ts.misakeyClient(t, "Eve")
	notMember := map[string]string{"reason": "not_member", "sender_id": "forbidden"}

	// The session boundary: no cookie, no CSRF token, a wrong one.
	anon := newClient(t, ts.URL())
	refused(t, "no cookie", anon.do("GET", "/boxes/joined", nil), 401, "unauthorized", map[string]string{"accesstoken": "required"})
	newBox := map[string]any{"title": "Holidays", "public_key": "ShouldBeUnpaddedUrlSafeBase64"}
	refused(t, "POST /boxes without X-CSRF-Token", alice.do("POST", "/boxes", newBox), 403, "forbidden", map[string]string{"csrf_token": "invalid"})
	refused(t, "POST /boxes with another session's token", alice.do("POST", "/boxes", newBox, "X-CSRF-Token", bob.csrf), 403, "forbidden", map[string]string{"csrf_token": "invalid"})
	if n := alice.call("HEAD", "/boxes/joined", nil).header.Get("X-Total-Count"); n != "0" {
		t.Fatalf("refused creations made boxes: X-Total-Count %q", n)
	}

	// POST /boxes (create_box.go): validation names the fields.
	// (The reference names every faulty field at once; Boxwire the first.)
	refused(t, "POST /boxes without title", alice.call("POST", "/boxes", map[string]any{"public_key": "K"}), 400, "bad_request", map[string]string{"title": "required"})
	refused(t, "POST /boxes without key", alice.call("POST", "/boxes", map[string]any{"title": "T"}), 400, "bad_request", map[string]string{"public_key": "required"})
	r := alice.call("POST", "/boxes", newBox)
	expect(t, "POST /boxes", r, 201)
	box := r.json(t)
	shape(t, "box view", box, boxViewKeys...)
	shape(t, "box settings", box["settings"].(map[string]any), "identity_id", "box_id", "muted")
	shape(t, "box creator", box["creator"].(map[string]any), senderKeys...)
	id := box["id"].(string)
	expect(t, "GET /boxes/{id} by its creator", alice.call("GET", "/boxes/"+id, nil), 200)
	refused(t, "GET /boxes/{id} malformed", alice.call("GET", "/boxes/nope", nil), 400, "bad_request", map[string]string{"id": "malformed"})
	refused(t, "GET /boxes/{id} without access", eve.call("GET", "/boxes/"+id, nil), 403, "forbidden", map[string]string{"id": "forbidden", "reason": "no_access"})

	// Key shares (create_key_share.go, get_key_share.go, get_encrypted_key_share.go).
	hash := "Q2hhbmdlVGhpc0hhc2g"
	share := map[string]any{"other_share_hash": hash, "share": ciphertext("misakey share"), "box_id": id, "encrypted_invitation_key_share": ciphertext("invitation share")}
	refused(t, "POST /box-key-shares by a stranger", eve.call("POST", "/box-key-shares", share), 403, "forbidden", map[string]string{"id": "forbidden", "reason": "no_access"})
	r = alice.call("POST", "/box-key-shares", share)
	expect(t, "POST /box-key-shares", r, 201)
	shape(t, "created key share", r.json(t), "other_share_hash", "share", "box_id")
	r = alice.call("GET", "/box-key-shares/"+hash, nil)
	expect(t, "GET /box-key-shares/{hash}", r, 200)
	if got := keys(r.json(t)); strings.Join(got, ",") != "box_id,other_share_hash,share" {
		t.Fatalf("key share keys %v", got)
	}
	refused(t, "GET /box-key-shares/{unknown}", alice.call("GET", "/box-key-shares/Tm9TdWNoSGFzaA", nil), 404, "not_found", map[string]string{"other_share_hash": "not_found"})
	r = alice.call("GET", "/box-key-shares/encrypted-invitation-key-share?box_id="+id, nil)
	if expect(t, "GET encrypted-invitation-key-share", r, 200); strings.TrimSpace(string(r.body)) != `"`+ciphertext("invitation share")+`"` {
		t.Fatalf("encrypted invitation key share: %s", r.body)
	}
	refused(t, "GET encrypted-invitation-key-share without box_id", alice.call("GET", "/box-key-shares/encrypted-invitation-key-share", nil), 400, "bad_request", map[string]string{"box_id": "required"})

	// An outsider of a public box: the door only (get_box_public.go), then
	// not_member everywhere a member is needed (members.go).
	expect(t, "state.access_mode public", alice.call("POST", "/boxes/"+id+"/events", map[string]any{"type": "state.access_mode", "content": map[string]string{"value": "public"}}), 201)
	r = bob.call("GET", "/boxes/"+id+"/public?other_share_hash="+hash, nil)
	expect(t, "GET /boxes/{id}/public", r, 200)
	shape(t, "public box", r.json(t), "title", "creator", "owner_org_id")
	refused(t, "GET /boxes/{id} by a non-member", bob.call("GET", "/boxes/"+id, nil), 403, "forbidden", notMember)
	refused(t, "GET /boxes/{id}/members by a non-member", bob.call("GET", "/boxes/"+id+"/members", nil), 403, "forbidden", notMember)
	refused(t, "GET /boxes/{id}/events by a non-member", bob.call("GET", "/boxes/"+id+"/events", nil), 403, "forbidden", notMember)
	refused(t, "msg.text by a non-member", bob.call("POST", "/boxes/"+id+"/events", text("hello")), 403, "forbidden", notMember)

	// Events (create_event.go), as the reference's client sends them.
	refused(t, "an unknown event type", bob.call("POST", "/boxes/"+id+"/events", map[string]any{"type": "msg.bogus"}), 400, "bad_request", map[string]string{"type": "malformed"})
	r = bob.call("POST", "/boxes/"+id+"/events", map[string]any{"type": "member.join"})
	expect(t, "member.join", r, 201)
	shape(t, "join event", r.json(t), eventViewKeys...)
	r = bob.call("POST", "/boxes/"+id+"/events", text("hello"))
	expect(t, "msg.text", r, 201)
	msg := r.json(t)
	shape(t, "msg.text event", msg, eventViewKeys...)
	shape(t, "sender", msg["sender"].(map[string]any), senderKeys...)
	expect(t, "msg.edit", bob.call("POST", "/boxes/"+id+"/events", map[string]any{"type": "msg.edit", "referrer_id": msg["id"], "content": map[string]string{"new_encrypted": ciphertext("hello!"), "new_public_key": randomKey()}}), 201)
	refused(t, "msg.delete of another's message", eve.call("POST", "/boxes/"+id+"/events", map[string]any{"type": "msg.delete", "referrer_id": msg["id"]}), 403, "forbidden", notMember)
	expect(t, "msg.delete", bob.call("POST", "/boxes/"+id+"/events", map[string]any{"type": "msg.delete", "referrer_id": msg["id"]}), 201)
	r = bob.call("GET", "/boxes/"+id+"/events?offset=0&limit=10", nil)
	expect(t, "GET /boxes/{id}/events", r, 200)
	for _, e := range list(t, r) {
		shape(t, "listed event", e, eventViewKeys...)
	}
	if r := bob.call("HEAD", "/boxes/"+id+"/events", nil); r.status != 204 || r.header.Get("X-Total-Count") == "" {
		t.Fatalf("HEAD /boxes/{id}/events: %d %v", r.status, r.header)
	}
	refused(t, "a negative limit", bob.call("GET", "/boxes/"+id+"/events?limit=-1", nil), 400, "bad_request", map[string]string{"limit": "invalid"})
	r = bob.call("GET", "/boxes/"+id+"/members", nil)
	if expect(t, "GET /boxes/{id}/members", r, 200); len(list(t, r)) != 2 {
		t.Fatalf("members: %s", r.body)
	}

	// Files (upload_encrypted_file.go, download_encrypted_file.go).
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("msg_encrypted_content", ciphertext("a file"))
	mw.WriteField("msg_public_key", randomKey())
	fw, _ := mw.CreateFormFile("encrypted_file", "blob")
	fw.Write([]byte("encrypted bytes"))
	mw.Close()
	r = bob.call("POST", "/boxes/"+id+"/encrypted-files", body.String(), "Content-Type", mw.FormDataContentType())
	expect(t, "POST /boxes/{id}/encrypted-files", r, 201)
	fileEvent := r.json(t)
	shape(t, "msg.file event", fileEvent, eventViewKeys...)
	fileID, _ := fileEvent["content"].(map[string]any)["encrypted_file_id"].(string)
	if r := bob.call("GET", "/encrypted-files/"+fileID, nil); r.status != 200 || string(r.body) != "encrypted bytes" || r.header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("GET /encrypted-files/{id}: %d %v %q", r.status, r.header, r.body)
	}
	r = bob.call("GET", "/boxes/"+id+"/files", nil)
	if expect(t, "GET /boxes/{id}/files", r, 200); len(list(t, r)) != 1 {
		t.Fatalf("files: %s", r.body)
	}

	// Unread counts (ack_new_events_count.go) and settings (box settings).
	refused(t, "ack without identity_id", bob.call("PUT", "/boxes/"+id+"/new-events-count/ack", nil), 400, "bad_request", map[string]string{"identity_id": "required"})
	refused(t, "ack with a malformed identity_id", bob.call("PUT", "/boxes/"+id+"/new-events-count/ack", map[string]string{"identity_id": "me"}), 400, "bad_request", map[string]string{"identity_id": "malformed"})
	refused(t, "ack for another identity", bob.call("PUT", "/boxes/"+id+"/new-events-count/ack", map[string]string{"identity_id": alice.id}), 403, "forbidden", map[string]string{})
	expect(t, "ack", alice.call("PUT", "/boxes/"+id+"/new-events-count/ack", map[string]string{"identity_id": alice.id}), 204)
	if n := alice.call("GET", "/boxes/"+id, nil).json(t)["events_count"]; n != float64(0) {
		t.Fatalf("events_count after the ack: %v", n)
	}
	settings := "/box-users/" + bob.id + "/boxes/" + id + "/settings"
	expect(t, "PUT settings", bob.call("PUT", settings, map[string]bool{"muted": true}), 204)
	r = bob.call("GET", settings, nil)
	if expect(t, "GET settings", r, 200); r.json(t)["muted"] != true || r.json(t)["identity_id"] != bob.id || r.json(t)["box_id"] != id {
		t.Fatalf("settings: %s", r.body)
	}
	refused(t, "GET another identity's settings", alice.call("GET", settings, nil), 403, "forbidden", map[string]string{})

	// Accesses (batch_create_events.go, list_accesses.go).
	refused(t, "a batch with no type nor events", alice.call("POST", "/boxes/"+id+"/batch-events", map[string]any{"batch_type": "everything"}), 400, "bad_request", map[string]string{"batch_type": "malformed", "events": "required"})
	refused(t, "a batch by a member", bob.call("POST", "/boxes/"+id+"/batch-events", map[string]any{"batch_type": "accesses", "events": []any{accessAdd("identifier", eve.email)}}), 403, "forbidden", map[string]string{})
	expect(t, "a batch by the admin", alice.call("POST", "/boxes/"+id+"/batch-events", map[string]any{"batch_type": "accesses", "events": []any{accessAdd("email_domain", "example.org")}}), 201)
	r = alice.call("GET", "/boxes/"+id+"/accesses", nil)
	expect(t, "GET /boxes/{id}/accesses", r, 200)
	if got := list(t, r); len(got) < 2 || got[0]["type"] != "access.add" {
		t.Fatalf("accesses (the domain rule and bob's join): %s", r.body)
	}
	refused(t, "GET /boxes/{id}/accesses by a member", bob.call("GET", "/boxes/"+id+"/accesses", nil), 403, "forbidden", map[string]string{})

	// Joined boxes (list_boxes.go).
	r = bob.call("GET", "/boxes/joined?offset=0&limit=10", nil)
	if expect(t, "GET /boxes/joined", r, 200); len(list(t, r)) != 1 {
		t.Fatalf("joined: %s", r.body)
	}
	shape(t, "joined box", list(t, r)[0], boxViewKeys...)
	if r := bob.call("HEAD", "/boxes/joined", nil); r.status != 204 || r.header.Get("X-Total-Count") != "1" {
		t.Fatalf("HEAD /boxes/joined: %d %v", r.status, r.header)
	}

	// Identities (sso identity.go, profile.go).
	r = bob.call("GET", "/identities/"+bob.id, nil)
	expect(t, "GET /identities/{id}", r, 200)
	shape(t, "identity", r.json(t), "id", "account_id", "identifier_value", "identifier_kind", "display_name", "notifications", "avatar_url", "color", "mfa_method", "pubkey", "non_identified_pubkey", "has_account")
	refused(t, "GET another identity", alice.call("GET", "/identities/"+bob.id, nil), 403, "forbidden", map[string]string{})
	refused(t, "PATCH an unknown second factor", bob.call("PATCH", "/identities/"+bob.id, map[string]string{"mfa_method": "sms"}), 400, "bad_request", map[string]string{"mfa_method": "malformed"})
	refused(t, "PATCH an unknown frequency", bob.call("PATCH", "/identities/"+bob.id, map[string]string{"notifications": "hourly"}), 400, "bad_request", map[string]string{"notifications": "malformed"})
	bobKey, bobOpenKey := randomKey(), randomKey()
	expect(t, "PATCH /identities/{id}", bob.call("PATCH", "/identities/"+bob.id, map[string]string{"display_name": "Bob B", "pubkey": bobKey, "non_identified_pubkey": bobOpenKey, "notifications": "moderate"}), 204)
	r = alice.call("GET", "/identities/"+bob.id+"/profile", nil)
	expect(t, "GET /identities/{id}/profile", r, 200)
	shape(t, "profile", r.json(t), "id", "display_name", "avatar_url", "identifier_value", "identifier_kind", "contactable", "non_identified_pubkey")
	r = bob.call("GET", "/identities/"+bob.id+"/profile/config", nil)
	if expect(t, "GET profile/config", r, 200); r.json(t)["email"] != false {
		t.Fatalf("profile config: %s", r.body)
	}
	refused(t, "PATCH profile/config without email", bob.call("PATCH", "/identities/"+bob.id+"/profile/config", map[string]any{}), 400, "bad_request", map[string]string{"email": "required"})
	expect(t, "PATCH profile/config", bob.call("PATCH", "/identities/"+bob.id+"/profile/config", map[string]bool{"email": true}), 204)
	r = alice.call("GET", "/identities/pubkey?identifier_value="+bob.email, nil)
	if expect(t, "GET /identities/pubkey", r, 200); strings.TrimSpace(string(r.body)) != `["`+bobKey+`"]` {
		t.Fatalf("pubkeys: %s", r.body)
	}
	refused(t, "GET /identities/pubkey without a value", alice.call("GET", "/identities/pubkey", nil), 400, "bad_request", map[string]string{"identifier_value": "required"})

	// Auto-invitation → crypto action + notification (access_events.go,
	// invitations.go, crypto_action.go, identity_notifications.go).
	limited := alice.call("POST", "/boxes", map[string]any{"title": "Invitations", "public_key": randomKey()}).json(t)["id"].(string)
	invite := map[string]any{"type": "access.add", "content": map[string]any{"restriction_type": "identifier", "value": bob.email, "auto_invite": true}}
	refused(t, "auto_invite without its extra", alice.call("POST", "/boxes/"+limited+"/batch-events", map[string]any{"batch_type": "accesses", "events": []any{invite}}), 400, "bad_request", map[string]string{"events[0].extra": "required"})
	invite["extra"] = map[string]string{bobKey: ciphertext("box key for bob")}
	expect(t, "auto_invite", alice.call("POST", "/boxes/"+limited+"/batch-events", map[string]any{"batch_type": "accesses", "events": []any{invite}}), 201)
	actions := "/accounts/" + bob.id + "/crypto/actions"
	r = bob.call("GET", actions, nil)
	expect(t, "GET crypto actions", r, 200)
	got := list(t, r)
	if len(got) != 1 {
		t.Fatalf("crypto actions: %s", r.body)
	}
	shape(t, "crypto action", got[0], "id", "type", "box_id", "encryption_public_key", "encrypted", "created_at")
	aid := got[0]["id"].(string)
	expect(t, "GET one crypto action", bob.call("GET", actions+"/"+aid, nil), 200)
	refused(t, "another account's crypto actions", alice.call("GET", actions, nil), 403, "forbidden", map[string]string{})
	refused(t, "DELETE another account's crypto action", alice.call("DELETE", "/accounts/"+alice.id+"/crypto/actions/"+aid, nil), 404, "not_found", nil)
	expect(t, "DELETE a crypto action", bob.call("DELETE", actions+"/"+aid, nil), 204)
	notes := "/identities/" + bob.id + "/notifications"
	if r := bob.call("HEAD", notes, nil); r.status != 204 || r.header.Get("X-Total-Count") == "0" || r.header.Get("X-Total-Count") == "" {
		t.Fatalf("HEAD notifications: %d %v", r.status, r.header)
	}
	r = bob.call("GET", notes, nil)
	expect(t, "GET notifications", r, 200)
	var ids []string
	for _, n := range list(t, r) {
		shape(t, "notification", n, "id", "type", "details", "created_at", "acknowledged_at")
		ids = append(ids, n["id"].(string))
	}
	refused(t, "acknowledge malformed ids", bob.call("PUT", notes+"/acknowledgement?ids=x", nil), 400, "bad_request", map[string]string{"ids": "malformed"})
	expect(t, "acknowledge", bob.call("PUT", notes+"/acknowledgement?ids="+strings.Join(ids, ","), nil), 204)
	if r := bob.call("HEAD", notes, nil); r.header.Get("X-Total-Count") != "0" {
		t.Fatalf("unacknowledged after the acknowledgement: %v", r.header)
	}

	// Contact (box_user_contact.go).
	contact := map[string]any{
		"identity_id":     bob.id,
		"box":             map[string]string{"title": "Alice and Bob", "public_key": randomKey()},
		"key_share":       map[string]string{"other_share_hash": "Q29udGFjdEhhc2g", "misakey_share": ciphertext("contact share"), "encrypted_invitation_key_share": ciphertext("contact invitation")},
		"invitation_data": map[string]string{bobOpenKey: ciphertext("contact box key")},
	}
	refused(t, "contact through another identity", alice.call("POST", "/box-users/"+bob.id+"/contact", contact), 403, "forbidden", map[string]string{})
	r = alice.call("POST", "/box-users/"+alice.id+"/contact", contact)
	expect(t, "POST /box-users/{id}/contact", r, 201)
	shape(t, "contact box", r.json(t), boxViewKeys...)

	// Realtime (box_users_ws.go): the cookie session opens the socket,
	// receives event.new, and its ack frame resets the count.
	wsURL := "ws" + strings.TrimPrefix(ts.URL(), "http") + "/box-users/" + alice.id + "/ws"
	if _, res, err := websocket.Dial(context.Background(), wsURL, nil); err == nil || res == nil || res.StatusCode != 401 {
		t.Fatalf("a socket without a session: %v %v", err, res)
	}
	conn, _, err := websocket.Dial(context.Background(), wsURL, &websocket.DialOptions{HTTPClient: alice.http})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	frames := &collector{}
	go func() {
		for {
			var f frame
			if err := wsjson.Read(context.Background(), conn, &f); err != nil {
				return
			}
			frames.add(f)
		}
	}()
	waitFor(t, 5*time.Second, "the socket registered", func() bool { return ts.Hub.Connections() >= 1 })
	expect(t, "bob posts", bob.call("POST", "/boxes/"+id+"/events", text("are you there?")), 201)
	frames.waitFor(t, "event.new with owner_org_id", func(fs []frame) bool {
		for _, f := range fs {
			if f.Type == "event.new" && f.field("box_id") == id && f.field("owner_org_id") != "" {
				return true
			}
		}
		return false
	})
	if err := wsjson.Write(context.Background(), conn, map[string]any{"type": "ack", "object": map[string]string{"sender_id": alice.id, "box_id": id}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the ack frame to reset the count", func() bool {
		return alice.call("GET", "/boxes/"+id, nil).json(t)["events_count"] == float64(0)
	})

	// DELETE /boxes/{id} (delete_box.go): the confirmation first, then
	// the admin only; box.delete reaches the members.
	refused(t, "delete without confirmation", alice.call("DELETE", "/boxes/"+id, nil), 400, "bad_request", map[string]string{"user_confirmation": "required"})
	refused(t, "delete with a wrong confirmation", alice.call("DELETE", "/boxes/"+id, map[string]string{"user_confirmation": "yes"}), 400, "bad_request", map[string]string{"user_confirmation": "malformed"})
	refused(t, "delete by a member", bob.call("DELETE", "/boxes/"+id, map[string]string{"user_confirmation": "delete"}), 403, "forbidden", map[string]string{})
	expect(t, "the box survives refused deletions", bob.call("GET", "/boxes/"+id, nil), 200)
	expect(t, "delete", alice.call("DELETE", "/boxes/"+id, map[string]string{"user_confirmation": "supprimer"}), 204)
	frames.waitFor(t, "box.delete", func(fs []frame) bool {
		for _, f := range fs {
			if f.Type == "box.delete" && f.field("id") == id && f.field("sender_id") == alice.id && f.field("owner_org_id") != "" {
				return true
			}
		}
		return false
	})
}
