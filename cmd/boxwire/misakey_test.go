package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// Behaviour of Misakey's reference backend that its clients depend on
// (docs/compatibility.md).

// TestPublicBoxesShowOnlyTheirDoorToOutsiders: an identity that has not
// joined a public box sees its title and creator, not its content; once
// it joins, a recorded identifier rule keeps it in when the box turns
// limited, while those who never joined are out.
func TestPublicBoxesShowOnlyTheirDoorToOutsiders(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob, carol := ts.user(t, "Alice"), ts.user(t, "Bob"), ts.user(t, "Carol")
	hash := strings.TrimRight(randomKey(), "=")
	created := alice.do("POST", "/boxes", map[string]any{"title": "Town square", "public_key": randomKey(), "access_mode": "public",
		"key_share": map[string]string{"misakey_share": ciphertext("s"), "other_share_hash": hash}})
	expect(t, "create", created, 201)
	id := created.json(t)["id"].(string)
	expect(t, "alice posts", alice.post(t, id, text("welcome")), 201)

	r := bob.do("GET", "/boxes/"+id, nil)
	expect(t, "an outsider reads the box view", r, 403, "reason", "not_member", "sender_id", "forbidden")
	for _, path := range []string{"/events", "/members", "/files"} {
		expect(t, "an outsider reads "+path, bob.do("GET", "/boxes/"+id+path, nil), 403, "reason", "not_member")
	}
	if pub := bob.do("GET", "/boxes/"+id+"/public?other_share_hash="+hash, nil); pub.status != 200 || pub.json(t)["title"] != "Town square" {
		t.Fatalf("the public door: %d %s", pub.status, pub.body)
	}

	expect(t, "bob joins", bob.post(t, id, map[string]any{"type": "member.join"}), 201)
	view := bob.do("GET", "/boxes/"+id, nil)
	expect(t, "a member reads the box view", view, 200)
	if view.json(t)["last_event"] == nil {
		t.Fatalf("the member's view has no last event: %s", view.body)
	}
	rules := list(t, alice.do("GET", "/boxes/"+id+"/accesses", nil))
	if len(rules) != 1 || rules[0]["sender"].(map[string]any)["id"] != bob.id {
		t.Fatalf("the join recorded no identifier rule sent by bob: %v", rules)
	}
	c := rules[0]["content"].(map[string]any)
	if c["restriction_type"] != "identifier" || c["value"] != "bob@example.com" {
		t.Fatalf("recorded rule: %v", c)
	}
	// Leaving and joining again records no second rule.
	expect(t, "bob leaves", bob.post(t, id, map[string]any{"type": "member.leave"}), 201)
	expect(t, "bob joins again", bob.post(t, id, map[string]any{"type": "member.join"}), 201)
	if n := len(list(t, alice.do("GET", "/boxes/"+id+"/accesses", nil))); n != 1 {
		t.Fatalf("%d rules after a second join, want 1", n)
	}

	expect(t, "alice limits the box", alice.post(t, id, map[string]any{"type": "state.access_mode", "content": map[string]any{"value": "limited"}}), 201)
	expect(t, "bob, who joined, still reads", bob.do("GET", "/boxes/"+id+"/events", nil), 200)
	expect(t, "bob still posts", bob.post(t, id, text("still here")), 201)
	expect(t, "carol, who never joined, is out", carol.do("GET", "/boxes/"+id, nil), 403, "id", "forbidden", "reason", "no_access")
	expect(t, "carol cannot join", carol.post(t, id, map[string]any{"type": "member.join"}), 403)
}

// TestKeysAsLenientAsTheReference: a Misakey client's keys of other
// sizes and schemes are accepted; what the reference refuses still is.
func TestKeysAsLenientAsTheReference(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice := ts.user(t, "Alice")
	aesRSA := "com.misakey.aes-rsa-enc:" + strings.Repeat("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A", 12)
	r := alice.do("POST", "/boxes", map[string]any{"title": "Legacy", "public_key": "ShouldBeUnpaddedUrlSafeBase64",
		"key_share": map[string]string{"misakey_share": "lBHT1vfwFAIBig5Nj+sD+w==", "other_share_hash": "ShouldBeUnpaddedUrlSafeBase64"}})
	expect(t, "a box with the seed's placeholder key", r, 201)
	id := r.json(t)["id"].(string)
	if r.json(t)["public_key"] != "ShouldBeUnpaddedUrlSafeBase64" {
		t.Fatalf("the key is not kept as sent: %s", r.body)
	}
	expect(t, "an AES-RSA box", alice.do("POST", "/boxes", map[string]any{"title": "RSA", "public_key": aesRSA}), 201)
	expect(t, "a message to an AES-RSA key", alice.post(t, id, map[string]any{"type": "msg.text",
		"content": map[string]string{"encrypted": ciphertext("hi"), "public_key": aesRSA}}), 201)
	expect(t, "the key share by its odd hash", alice.do("GET", "/box-key-shares/ShouldBeUnpaddedUrlSafeBase64", nil), 200)
	expect(t, "an identity key of 31 bytes", alice.do("PATCH", "/identities/"+alice.id, map[string]string{"pubkey": "Nz4nJMj5DOd4UGXXOlH8Ww"}), 204)

	// Still refused: what is not url-safe base64, as the reference.
	expect(t, "a key with spaces", alice.do("POST", "/boxes", map[string]any{"title": "x", "public_key": "not a key"}), 400, "public_key", "malformed")
	expect(t, "a padded key", alice.do("POST", "/boxes", map[string]any{"title": "x", "public_key": "AAAA=="}), 400, "public_key", "malformed")
	expect(t, "no key", alice.do("POST", "/boxes", map[string]any{"title": "x"}), 400, "public_key", "required")
	expect(t, "a hash in the std alphabet", alice.do("POST", "/boxes", map[string]any{"title": "x", "public_key": "abc",
		"key_share": map[string]string{"misakey_share": "lBHT1vfwFAIBig5Nj+sD+w==", "other_share_hash": "a+b/c"}}), 400, "key_share.other_share_hash", "malformed")
	expect(t, "an AES-RSA identity key", alice.do("PATCH", "/identities/"+alice.id, map[string]string{"pubkey": aesRSA}), 400, "pubkey", "malformed")

	// Access before validation where the reference checks it first: a
	// well-formed event to an unknown box is 403, never 400.
	expect(t, "an event to an unknown box", alice.post(t, "8a1d1c3e-3f53-4c1f-9a51-2f5b7d7a0d11", map[string]any{"type": "msg.text",
		"content": map[string]string{"encrypted": ciphertext("hi"), "public_key": "ShouldBeUnpaddedUrlSafeBase64"}}), 403)
}

// TestWebSocketAcksAsMisakeysClient: Misakey's client sends an ack frame
// on its socket whenever it reads a box. It resets the unread count and
// reaches the identity's other streams; an ack for someone else, or any
// other message, ends the connection and changes nothing.
func TestWebSocketAcksAsMisakeysClient(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob := ts.user(t, "Alice"), ts.user(t, "Bob")
	id := alice.createBox(t, "Acks", "public")["id"].(string)
	expect(t, "bob joins", bob.post(t, id, map[string]any{"type": "member.join"}), 201)
	for i := 0; i < 2; i++ {
		expect(t, "alice posts", alice.post(t, id, text("news")), 201)
	}
	if n := bob.unreadCount(t, id); n != 2 {
		t.Fatalf("bob's unread count %v, want 2", n)
	}
	phone, _ := bob.dialWS(t, "")
	_, laptop := bob.dialWS(t, "")
	ack := func(c *websocket.Conn, sender, box string) {
		t.Helper()
		if err := wsjson.Write(context.Background(), c, map[string]any{"type": "ack", "object": map[string]string{"sender_id": sender, "box_id": box}}); err != nil {
			t.Fatal(err)
		}
	}
	ack(laptop, bob.id, id)
	waitFor(t, 5*time.Second, "the ack to reset bob's count", func() bool { return bob.unreadCount(t, id) == 0 })
	phone.waitFor(t, "the ack on bob's other stream", func(fs []frame) bool {
		for _, f := range fs {
			if f.Type == "ack" && f.field("box_id") == id && f.field("sender_id") == bob.id {
				return true
			}
		}
		return false
	})

	// Bob acks for Alice: refused, and her count stays.
	expect(t, "bob posts", bob.post(t, id, text("from bob")), 201)
	aliceUnread := alice.unreadCount(t, id)
	if aliceUnread < 1 {
		t.Fatalf("alice's unread count %v, want bob's message at least", aliceUnread)
	}
	for _, c := range []struct {
		name  string
		frame any
	}{
		{"an ack for another identity", map[string]any{"type": "ack", "object": map[string]string{"sender_id": alice.id, "box_id": id}}},
		{"an ack without a box", map[string]any{"type": "ack", "object": map[string]string{"sender_id": bob.id}}},
		{"another message", map[string]any{"type": "subscribe"}},
	} {
		col, conn := bob.dialWS(t, "")
		if err := wsjson.Write(context.Background(), conn, c.frame); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, c.name+" to end the connection", func() bool {
			col.mu.Lock()
			defer col.mu.Unlock()
			return websocket.CloseStatus(col.closed) == websocket.StatusPolicyViolation
		})
	}
	if n := alice.unreadCount(t, id); n != aliceUnread {
		t.Fatalf("after bob's ack for her, alice's unread count is %v, want %v", n, aliceUnread)
	}
}

// TestAutoInviteAsTheReference: an identifier rule with auto_invite leaves
// the identity it names an invitation (a crypto action and a
// notification); its extra is checked as the reference checks it, and a
// refused rule changes nothing.
func TestAutoInviteAsTheReference(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob := ts.user(t, "Alice"), ts.user(t, "Bob")
	bobKey := randomKey()
	expect(t, "bob sets his key", bob.do("PATCH", "/identities/"+bob.id, map[string]string{"pubkey": bobKey}), 204)
	id := alice.createBox(t, "Invitations", "limited")["id"].(string)
	invite := func(value string, auto bool, extra any) map[string]any {
		ev := map[string]any{"type": "access.add", "content": map[string]any{"restriction_type": "identifier", "value": value, "auto_invite": auto}}
		if extra != nil {
			ev["extra"] = extra
		}
		return ev
	}
	sealed := ciphertext("the box key, for bob")
	for _, c := range []struct {
		name   string
		ev     map[string]any
		status int
		fields []string
	}{
		{"auto_invite without extra", invite(bob.email, true, nil), 400, []string{"events[0].extra", "required"}},
		{"extra without auto_invite", invite(bob.email, false, map[string]string{bobKey: sealed}), 400, []string{"events[0].auto_invite", "invalid"}},
		{"two invitations in extra", invite(bob.email, true, map[string]string{bobKey: sealed, randomKey(): sealed}), 400, []string{"events[0].extra", "malformed"}},
		{"an invitation that is not base64", invite(bob.email, true, map[string]string{bobKey: "not base64!"}), 400, []string{"events[0].extra", "malformed"}},
		{"a key that is not bob's", invite(bob.email, true, map[string]string{randomKey(): sealed}), 400, []string{"events[0].extra", "invalid"}},
		{"nobody with that identifier", invite("nobody@example.com", true, map[string]string{bobKey: sealed}), 404, []string{"events[0].content.value", "not_found"}},
	} {
		expect(t, c.name, alice.batch(t, id, c.ev), c.status, c.fields...)
	}
	if n := len(list(t, alice.do("GET", "/boxes/"+id+"/accesses", nil))); n != 0 {
		t.Fatalf("refused rules left %d accesses", n)
	}
	if n := len(list(t, bob.do("GET", "/identities/"+bob.id+"/crypto/actions", nil))); n != 0 {
		t.Fatalf("refused rules left bob %d crypto actions", n)
	}

	expect(t, "the invitation", alice.batch(t, id, invite(bob.email, true, map[string]string{bobKey: sealed})), 201)
	actions := list(t, bob.do("GET", "/identities/"+bob.id+"/crypto/actions", nil))
	if len(actions) != 1 || actions[0]["box_id"] != id || actions[0]["encryption_public_key"] != bobKey || actions[0]["encrypted"] != sealed {
		t.Fatalf("bob's crypto actions: %v", actions)
	}
	var noted bool
	for _, n := range list(t, bob.do("GET", "/identities/"+bob.id+"/notifications", nil)) {
		d, _ := n["details"].(map[string]any)
		if n["type"] == "box.auto_invite" && d["box_id"] == id && d["cryptoaction_id"] == actions[0]["id"] && d["owner_org_id"] != nil && d["owner_org_id"] != "" {
			noted = true
		}
	}
	if !noted {
		t.Fatal("bob has no box.auto_invite notification naming the crypto action")
	}
	expect(t, "the same rule again", alice.batch(t, id, invite(bob.email, false, nil)), 409, "content", "conflict", "box_id", "conflict")
	expect(t, "bob joins", bob.post(t, id, map[string]any{"type": "member.join"}), 201)
}

// TestMembersAddInvitationLinks: POST /box-key-shares adds a link beside
// the box's others (members only), and the newest link's encrypted
// invitation share is for members, not for anyone signed in as in the
// reference.
func TestMembersAddInvitationLinks(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob, eve := ts.user(t, "Alice"), ts.user(t, "Bob"), ts.user(t, "Eve")
	first := strings.TrimRight(randomKey(), "=")
	r := alice.do("POST", "/boxes", map[string]any{"title": "Links", "public_key": randomKey(), "access_mode": "public",
		"key_share": map[string]string{"misakey_share": ciphertext("s1"), "other_share_hash": first, "encrypted_invitation_key_share": ciphertext("inv1")}})
	expect(t, "create", r, 201)
	id := r.json(t)["id"].(string)
	expect(t, "bob joins", bob.post(t, id, map[string]any{"type": "member.join"}), 201)

	second := strings.TrimRight(randomKey(), "=")
	body := map[string]string{"box_id": id, "other_share_hash": second, "share": ciphertext("s2"), "encrypted_invitation_key_share": ciphertext("inv2")}
	r = bob.do("POST", "/box-key-shares", body)
	expect(t, "a member adds a link", r, 201)
	if got := r.json(t); got["share"] != body["share"] || got["box_id"] != id || got["other_share_hash"] != second {
		t.Fatalf("the answer is not the share as sent: %s", r.body)
	}
	for _, h := range []string{first, second} {
		expect(t, "both links work", bob.do("GET", "/box-key-shares/"+h, nil), 200)
	}
	r = bob.do("GET", "/box-key-shares/encrypted-invitation-key-share?box_id="+id, nil)
	expect(t, "the newest link's invitation share", r, 200)
	if strings.TrimSpace(string(r.body)) != `"`+ciphertext("inv2")+`"` {
		t.Fatalf("encrypted invitation key share: %s", r.body)
	}

	// Refused, and nothing added.
	third := strings.TrimRight(randomKey(), "=")
	expect(t, "an outsider adds a link", eve.do("POST", "/box-key-shares", map[string]string{"box_id": id, "other_share_hash": third, "share": ciphertext("s3")}), 403, "reason", "not_member")
	expect(t, "an outsider reads the invitation share", eve.do("GET", "/box-key-shares/encrypted-invitation-key-share?box_id="+id, nil), 403, "reason", "not_member")
	expect(t, "a hash used already", bob.do("POST", "/box-key-shares", body), 409, "other_share_hash", "conflict")
	expect(t, "no share", bob.do("POST", "/box-key-shares", map[string]string{"box_id": id, "other_share_hash": third}), 400, "share", "required")
	expect(t, "a share that is not base64", bob.do("POST", "/box-key-shares", map[string]string{"box_id": id, "other_share_hash": third, "share": "not base64!"}), 400, "share", "malformed")
	expect(t, "no box", bob.do("POST", "/box-key-shares", map[string]string{"other_share_hash": third, "share": ciphertext("s3")}), 400, "box_id", "required")
	expect(t, "a box id that is not one", bob.do("GET", "/box-key-shares/encrypted-invitation-key-share?box_id=nope", nil), 400, "box_id", "malformed")
	expect(t, "the third link was never added", bob.do("GET", "/box-key-shares/"+third, nil), 404, "other_share_hash", "not_found")

	// The admin's rotation replaces every link.
	rotated := strings.TrimRight(randomKey(), "=")
	expect(t, "alice rotates", alice.post(t, id, map[string]any{"type": "state.key_share",
		"extra": map[string]string{"misakey_share": ciphertext("s4"), "other_share_hash": rotated}}), 201)
	expect(t, "bob's link is gone", bob.do("GET", "/box-key-shares/"+second, nil), 404, "other_share_hash", "not_found")
	r = bob.do("GET", "/box-key-shares/encrypted-invitation-key-share?box_id="+id, nil)
	if r.status != 200 || strings.TrimSpace(string(r.body)) != "null" {
		t.Fatalf("after a rotation without one, the invitation share: %d %s", r.status, r.body)
	}
}

// TestIdentityPreferencesAsTheReference: PATCH /identities/{id} validates
// notifications, color and mfa_method as Misakey's reference does instead
// of ignoring them; what it refuses changes nothing.
func TestIdentityPreferencesAsTheReference(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice := ts.user(t, "Alice")
	me := func() map[string]any { return alice.do("GET", "/identities/"+alice.id, nil).json(t) }
	if got := me(); got["notifications"] != "minimal" || got["color"] != nil || got["mfa_method"] != "disabled" || got["has_account"] != true {
		t.Fatalf("a new identity's preferences: %v", got)
	}
	patch := func(body map[string]any) response { return alice.do("PATCH", "/identities/"+alice.id, body) }
	expect(t, "preferences", patch(map[string]any{"notifications": "frequent", "color": "#3f51b5", "mfa_method": "disabled"}), 204)
	if got := me(); got["notifications"] != "frequent" || got["color"] != "#3f51b5" {
		t.Fatalf("preferences not kept: %v", got)
	}
	for _, c := range []struct {
		name   string
		body   map[string]any
		status int
		fields []string
	}{
		{"an unknown frequency", map[string]any{"notifications": "hourly"}, 400, []string{"notifications", "malformed"}},
		{"a colour of 6 characters", map[string]any{"color": "#3f51b"}, 400, []string{"color", "malformed"}},
		{"an unknown second factor", map[string]any{"mfa_method": "sms"}, 400, []string{"mfa_method", "malformed"}},
		{"TOTP without a secret", map[string]any{"mfa_method": "totp"}, 409, []string{"mfa_method", "conflict", "reason", "no credential"}},
		{"WebAuthn without a credential", map[string]any{"mfa_method": "webauthn", "notifications": "moderate"}, 409, []string{"mfa_method", "conflict"}},
	} {
		expect(t, c.name, patch(c.body), c.status, c.fields...)
	}
	if got := me(); got["notifications"] != "frequent" || got["color"] != "#3f51b5" || got["mfa_method"] != "disabled" {
		t.Fatalf("refused changes changed something: %v", got)
	}
}

// TestProfileSharesTheAddressByChoice: the public profile shows an
// identity's address only once it chose to (profile config) and the
// address is proven; contactable says whether an invitation can reach it.
func TestProfileSharesTheAddressByChoice(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob := ts.user(t, "Alice"), ts.user(t, "Bob")
	profile := func() map[string]any {
		r := alice.do("GET", "/identities/"+bob.id+"/profile", nil)
		expect(t, "bob's profile", r, 200)
		return r.json(t)
	}
	if p := profile(); p["identifier_value"] != "" || p["contactable"] != false {
		t.Fatalf("a keyless, unshared profile: %v", p)
	}
	expect(t, "bob sets a key", bob.do("PATCH", "/identities/"+bob.id, map[string]string{"non_identified_pubkey": randomKey()}), 204)
	if p := profile(); p["contactable"] != true || p["identifier_value"] != "" {
		t.Fatalf("with a key, still unshared: %v", p)
	}
	if got := bob.do("GET", "/identities/"+bob.id+"/profile/config", nil).json(t); got["email"] != false {
		t.Fatalf("the default profile config: %v", got)
	}
	expect(t, "alice changes bob's config", alice.do("PATCH", "/identities/"+bob.id+"/profile/config", map[string]bool{"email": true}), 403)
	expect(t, "alice reads bob's config", alice.do("GET", "/identities/"+bob.id+"/profile/config", nil), 403)
	expect(t, "a config without email", bob.do("PATCH", "/identities/"+bob.id+"/profile/config", map[string]any{}), 400, "email", "required")
	if p := profile(); p["identifier_value"] != "" {
		t.Fatalf("refused changes shared bob's address: %v", p)
	}
	expect(t, "bob shares his address", bob.do("PATCH", "/identities/"+bob.id+"/profile/config", map[string]bool{"email": true}), 204)
	if p := profile(); p["identifier_value"] != bob.email || p["identifier_kind"] != "email" {
		t.Fatalf("a shared address: %v", p)
	}
	if out, code := ts.cli(t, "user", "unverify", "--email", bob.email); code != 0 {
		t.Fatalf("user unverify: %s", out)
	}
	if p := profile(); p["identifier_value"] != "" || p["contactable"] != false {
		t.Fatalf("an unproven address is shown or invitable: %v", p)
	}
}
