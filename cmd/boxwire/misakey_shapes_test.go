package main

import (
	"context"
	"flag"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Shapes and paths of Misakey's reference backend that its clients read
// (issue 14 point 3; docs/compatibility.md §4). Each test drives the real
// server.

// keys returns a JSON object's keys, sorted.
func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestMisakeyKeyShareShape: GET /box-key-shares/{hash} answers exactly the
// reference's {other_share_hash, share, box_id}, and an unknown hash is
// the reference's 404, which its client turns into "invalid link".
func TestMisakeyKeyShareShape(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice := ts.user(t, "Alice")
	share := map[string]string{"misakey_share": ciphertext("half"), "other_share_hash": shareHash(),
		"encrypted_invitation_key_share": ciphertext("invitation half")}
	r := alice.do("POST", "/boxes", map[string]any{"title": "Shares", "public_key": randomKey(), "key_share": share})
	expect(t, "create", r, 201)
	id := r.json(t)["id"].(string)

	r = alice.do("GET", "/box-key-shares/"+share["other_share_hash"], nil)
	expect(t, "read the key share", r, 200)
	want := map[string]any{"other_share_hash": share["other_share_hash"], "share": share["misakey_share"], "box_id": id}
	if got := r.json(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("key share %v, want exactly %v", got, want)
	}
	r = alice.do("GET", "/box-key-shares/"+shareHash(), nil)
	expectOrigin(t, "unknown hash", r, 404, "not_found", "path", "other_share_hash", "not_found")
	if got := r.fields(t); len(got) != 1 {
		t.Fatalf("unknown hash details %v, want only other_share_hash", got)
	}
}

// TestMisakeyNotificationDetails: member.kick says {id, title,
// owner_org_id} (the client's "removed from …" text reads title), and
// box.auto_invite says {box_id, box_title, owner_org_id, cryptoaction_id}
// with the id of the crypto action the client then fetches.
func TestMisakeyNotificationDetails(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob := ts.user(t, "Alice"), ts.user(t, "Bob")
	org := ts.Boxes.SelfOrgID

	// The kick.
	id := alice.createBox(t, "Project", "limited")["id"].(string)
	r := alice.batch(t, id, accessAdd("identifier", bob.email))
	expect(t, "access for bob", r, 201)
	rule := list(t, r)[0]["id"].(string)
	expect(t, "bob joins", bob.post(t, id, map[string]any{"type": "member.join"}), 201)
	expect(t, "alice removes bob's access", alice.batch(t, id, ref("access.rm", rule, nil)), 201)
	notes := bob.getArray(t, "/identities/"+bob.id+"/notifications")
	if len(notes) != 1 || notes[0]["type"] != "member.kick" {
		t.Fatalf("bob's notifications %v", notes)
	}
	want := map[string]any{"id": id, "title": "Project", "owner_org_id": org}
	if got := notes[0]["details"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("kick details %v, want exactly %v", got, want)
	}

	// The invitation of a contact, with an entry for each of bob's keys:
	// the notification points at the non-identified key's action.
	pubkey, nonIdent := randomKey(), randomKey()
	expect(t, "bob sets his keys", bob.do("PATCH", "/identities/"+bob.id, map[string]string{"pubkey": pubkey, "non_identified_pubkey": nonIdent}), 204)
	r = alice.do("POST", "/box-users/"+alice.id+"/contact", map[string]any{"contacted_identity_id": bob.id,
		"box":             map[string]string{"title": "Alice & Bob", "public_key": randomKey()},
		"key_share":       map[string]string{"misakey_share": ciphertext("half"), "other_share_hash": shareHash()},
		"invitation_data": map[string]string{pubkey: ciphertext("for pubkey"), nonIdent: ciphertext("for non-identified")}})
	expect(t, "contact bob", r, 201)
	contactBox := r.json(t)["id"].(string)
	notes = bob.getArray(t, "/identities/"+bob.id+"/notifications")
	if len(notes) != 2 || notes[0]["type"] != "box.auto_invite" {
		t.Fatalf("bob's notifications %v", notes)
	}
	details := notes[0]["details"].(map[string]any)
	if got := keys(details); !reflect.DeepEqual(got, []string{"box_id", "box_title", "cryptoaction_id", "owner_org_id"}) {
		t.Fatalf("auto_invite details %v", details)
	}
	if details["box_id"] != contactBox || details["box_title"] != "Alice & Bob" || details["owner_org_id"] != org {
		t.Fatalf("auto_invite details %v", details)
	}
	r = bob.do("GET", "/accounts/"+bob.id+"/crypto/actions/"+details["cryptoaction_id"].(string), nil)
	expect(t, "the notification's crypto action", r, 200)
	if a := r.json(t); a["encryption_public_key"] != nonIdent || a["box_id"] != contactBox || a["encrypted"] != ciphertext("for non-identified") {
		t.Fatalf("the notification points at %v, want the non-identified key's action", a)
	}
}

// TestMisakeyAccessesNewestFirst: GET /boxes/{id}/accesses lists the
// active rules newest first, as every list of the reference.
func TestMisakeyAccessesNewestFirst(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice := ts.user(t, "Alice")
	id := alice.createBox(t, "Rules", "limited")["id"].(string)
	var added []string // oldest first
	for _, who := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		r := alice.batch(t, id, accessAdd("identifier", who))
		expect(t, "add "+who, r, 201)
		added = append(added, list(t, r)[0]["id"].(string))
	}
	r := alice.batch(t, id, accessAdd("email_domain", "example.org"), accessAdd("identifier", "d@example.com"))
	expect(t, "add two at once", r, 201)
	for _, e := range list(t, r) {
		added = append(added, e["id"].(string))
	}
	expect(t, "remove b", alice.batch(t, id, ref("access.rm", added[1], nil)), 201)
	want := []string{added[4], added[3], added[2], added[0]}
	if got := idsOf(alice.getArray(t, "/boxes/"+id+"/accesses")); !reflect.DeepEqual(got, want) {
		t.Fatalf("accesses %v, want newest first %v", got, want)
	}
}

// TestMisakeyBoxViewSettings: every box view computed for a signed-in
// caller carries the caller's settings {identity_id, box_id, muted},
// muted false by default, so Misakey's client shows a muted box as muted.
func TestMisakeyBoxViewSettings(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob := ts.user(t, "Alice"), ts.user(t, "Bob")
	settings := func(u *user, boxID string, muted bool) map[string]any {
		return map[string]any{"identity_id": u.id, "box_id": boxID, "muted": muted}
	}
	check := func(what string, view map[string]any, want map[string]any) {
		t.Helper()
		if got := view["settings"]; !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: settings %v, want %v", what, got, want)
		}
	}
	created := alice.createBox(t, "Noisy", "public")
	id := created["id"].(string)
	check("the create answer", created, settings(alice, id, false))
	expect(t, "bob joins", bob.post(t, id, map[string]any{"type": "member.join"}), 201)
	expect(t, "bob mutes", bob.do("PUT", "/box-users/"+bob.id+"/boxes/"+id+"/settings", map[string]bool{"muted": true}), 204)

	r := bob.do("GET", "/boxes/"+id, nil)
	expect(t, "bob reads the box", r, 200)
	check("bob's box view", r.json(t), settings(bob, id, true))
	check("bob's joined list", bob.getArray(t, "/boxes/joined")[0], settings(bob, id, true))
	r = alice.do("GET", "/boxes/"+id, nil)
	expect(t, "alice reads the box", r, 200)
	check("alice's box view (bob's mute is his own)", r.json(t), settings(alice, id, false))

	r = alice.do("POST", "/box-users/"+alice.id+"/contact", map[string]any{"contacted_identity_id": bob.id,
		"box":       map[string]string{"title": "Direct", "public_key": randomKey()},
		"key_share": map[string]string{"misakey_share": ciphertext("half"), "other_share_hash": shareHash()}})
	expect(t, "contact", r, 201)
	contact := r.json(t)
	check("the contact answer", contact, settings(alice, contact["id"].(string), false))
}

// TestMisakeyNotificationCount: HEAD /identities/{id}/notifications
// counts the unacknowledged notifications in X-Total-Count, and
// ?ids= acknowledges only the listed ones.
func TestMisakeyNotificationCount(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob := ts.user(t, "Alice"), ts.user(t, "Bob")
	if n := bob.headCount(t, "/identities/"+bob.id+"/notifications"); n != 0 {
		t.Fatalf("count with no notifications: %d", n)
	}
	for _, title := range []string{"One", "Two", "Three"} { // a kick notifies bob each time
		id := alice.createBox(t, title, "limited")["id"].(string)
		r := alice.batch(t, id, accessAdd("identifier", bob.email))
		expect(t, "access "+title, r, 201)
		expect(t, "bob joins "+title, bob.post(t, id, map[string]any{"type": "member.join"}), 201)
		expect(t, "kick from "+title, alice.batch(t, id, ref("access.rm", list(t, r)[0]["id"].(string), nil)), 201)
	}
	count := func() int { t.Helper(); return bob.headCount(t, "/identities/"+bob.id+"/notifications") }
	if n := count(); n != 3 {
		t.Fatalf("count %d, want 3", n)
	}
	expect(t, "alice counts bob's notifications", alice.do("HEAD", "/identities/"+bob.id+"/notifications", nil), 403)

	notes := bob.getArray(t, "/identities/"+bob.id+"/notifications")
	ackPath := "/identities/" + bob.id + "/notifications/acknowledgement"
	r := bob.do("PUT", ackPath+"?ids="+notes[0]["id"].(string)+",nope", nil)
	expectOrigin(t, "a malformed id", r, 400, "bad_request", "query", "ids", "malformed")
	if n := count(); n != 3 {
		t.Fatalf("a refused acknowledgement changed the count to %d", n)
	}
	expect(t, "alice acks bob's by id", alice.do("PUT", "/identities/"+alice.id+"/notifications/acknowledgement?ids="+notes[0]["id"].(string), nil), 204)
	if n := count(); n != 3 {
		t.Fatalf("alice acknowledged bob's notification: count %d", n)
	}
	expect(t, "bob acks two by id", bob.do("PUT", ackPath+"?ids="+notes[0]["id"].(string)+","+notes[2]["id"].(string), nil), 204)
	if n := count(); n != 1 {
		t.Fatalf("count %d after acknowledging two, want 1", n)
	}
	for i, n := range bob.getArray(t, "/identities/"+bob.id+"/notifications") {
		if acked := n["acknowledged_at"] != nil; acked != (i != 1) {
			t.Fatalf("notification %d acknowledged=%v: %v", i, acked, n)
		}
	}
	expect(t, "bob acks all", bob.do("PUT", ackPath, nil), 204)
	if n := count(); n != 0 {
		t.Fatalf("count %d after acknowledging all", n)
	}
}

// TestMisakeyCryptoActionAccountPaths: crypto actions are also served at
// the reference's /accounts/{account_id}/crypto/actions…, the account id
// being GET /identities/{id}'s account_id; only one's own, and none while
// one's address is unproven.
func TestMisakeyCryptoActionAccountPaths(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob := ts.user(t, "Alice"), ts.user(t, "Bob")
	r := bob.do("GET", "/identities/"+bob.id, nil)
	expect(t, "bob reads himself", r, 200)
	account, _ := r.json(t)["account_id"].(string)
	if account != bob.id {
		t.Fatalf("account_id %q, want bob's identity id %s", account, bob.id)
	}
	key := randomKey()
	expect(t, "bob sets a key", bob.do("PATCH", "/identities/"+bob.id, map[string]string{"non_identified_pubkey": key}), 204)
	for _, title := range []string{"First", "Second"} {
		expect(t, "contact "+title, alice.do("POST", "/box-users/"+alice.id+"/contact", map[string]any{"contacted_identity_id": bob.id,
			"box":             map[string]string{"title": title, "public_key": randomKey()},
			"key_share":       map[string]string{"misakey_share": ciphertext("half"), "other_share_hash": shareHash()},
			"invitation_data": map[string]string{key: ciphertext("invitation " + title)}}), 201)
	}
	base := "/accounts/" + account + "/crypto/actions"
	actions := bob.getArray(t, base)
	if len(actions) != 2 || actions[0]["encrypted"] != ciphertext("invitation First") {
		t.Fatalf("bob's actions at the account path %v", actions)
	}
	if old := bob.getArray(t, "/identities/"+bob.id+"/crypto/actions"); !reflect.DeepEqual(old, actions) {
		t.Fatalf("the two paths differ: %v and %v", old, actions)
	}
	first := actions[0]["id"].(string)
	r = bob.do("GET", base+"/"+first, nil)
	expect(t, "read one", r, 200)
	if !reflect.DeepEqual(r.json(t), actions[0]) {
		t.Fatalf("one action %s, listed %v", r.body, actions[0])
	}
	expect(t, "read one at the identity path", bob.do("GET", "/identities/"+bob.id+"/crypto/actions/"+first, nil), 200)
	expect(t, "an unknown action", bob.do("GET", base+"/"+uuid.NewString(), nil), 404)

	// Only one's own.
	expect(t, "alice lists bob's", alice.do("GET", base, nil), 403)
	expect(t, "alice reads bob's", alice.do("GET", base+"/"+first, nil), 403)
	expect(t, "alice deletes bob's", alice.do("DELETE", base+"/"+first, nil), 403)
	expect(t, "bob's action through alice's account", bob.do("GET", "/accounts/"+alice.id+"/crypto/actions/"+first, nil), 403)
	expect(t, "alice's account, her own path, bob's action", alice.do("GET", "/accounts/"+alice.id+"/crypto/actions/"+first, nil), 404)
	expectOrigin(t, "malformed account id", bob.do("GET", "/accounts/me/crypto/actions", nil), 400, "bad_request", "path", "account_id", "malformed")
	expectOrigin(t, "malformed action id", bob.do("GET", base+"/nope", nil), 400, "bad_request", "path", "action_id", "malformed")

	expect(t, "bob consumes one", bob.do("DELETE", base+"/"+first, nil), 204)
	expect(t, "consumed", bob.do("GET", base+"/"+first, nil), 404)
	expect(t, "deleted twice", bob.do("DELETE", base+"/"+first, nil), 404)
	left := bob.getArray(t, base)
	if len(left) != 1 {
		t.Fatalf("actions after consuming one: %v", left)
	}

	// An unproven address holds none.
	if out, code := ts.cli(t, "user", "unverify", "--email", bob.email); code != 0 {
		t.Fatalf("user unverify: %s", out)
	}
	second := left[0]["id"].(string)
	waitFor(t, 5*time.Second, "the unverification to reach bob's session", func() bool { // sessions are cached for a second
		return bob.do("GET", base+"/"+second, nil).status == 404
	})
	if got := bob.getArray(t, base); len(got) != 0 {
		t.Fatalf("an unproven identity lists %v", got)
	}
	expect(t, "an unproven identity deletes", bob.do("DELETE", base+"/"+second, nil), 404)
	if out, code := ts.cli(t, "user", "verify", "--email", bob.email); code != 0 {
		t.Fatalf("user verify: %s", out)
	}
	waitFor(t, 5*time.Second, "the proof to reach bob's session", func() bool {
		return bob.do("GET", base+"/"+second, nil).status == 200
	})
}

// TestMisakeySelfOrgID: boxes belong to the server's own organisation,
// generated once and stored (the same after a restart), or set with
// --self-org-id; box views, the invitation page, notifications and the
// realtime event.new, box.settings and box.delete frames carry it.
func TestMisakeySelfOrgID(t *testing.T) {
	sc := storeConfig(t)
	ts := startServer(t, sc)
	alice, bob := ts.user(t, "Alice"), ts.user(t, "Bob")
	org := ts.Boxes.SelfOrgID
	if uuid.Validate(org) != nil {
		t.Fatalf("generated self org id %q is not a UUID", org)
	}
	hash := shareHash()
	r := alice.do("POST", "/boxes", map[string]any{"title": "Org box", "public_key": randomKey(), "access_mode": "public",
		"key_share": map[string]string{"misakey_share": ciphertext("s"), "other_share_hash": hash}})
	expect(t, "create", r, 201)
	created := r.json(t)
	id := created["id"].(string)
	if created["owner_org_id"] != org {
		t.Fatalf("create answer owner_org_id %v, want %s", created["owner_org_id"], org)
	}
	// A creator may name the server's organisation, and no other.
	joined := alice.headCount(t, "/boxes/joined")
	r = alice.do("POST", "/boxes", map[string]any{"title": "Named org", "public_key": randomKey(), "owner_org_id": strings.ToUpper(org)})
	expect(t, "create in the self org", r, 201)
	if got := r.json(t)["owner_org_id"]; got != org {
		t.Fatalf("owner_org_id %v, want %s", got, org)
	}
	expect(t, "create in another org", alice.do("POST", "/boxes", map[string]any{"title": "Elsewhere", "public_key": randomKey(), "owner_org_id": uuid.NewString()}), 403)
	expectOrigin(t, "a malformed org", alice.do("POST", "/boxes", map[string]any{"title": "Elsewhere", "public_key": randomKey(), "owner_org_id": "acme"}),
		400, "bad_request", "body", "owner_org_id", "malformed")
	if n := alice.headCount(t, "/boxes/joined"); n != joined+1 {
		t.Fatalf("alice has %d boxes, want %d: a refused creation made one", n, joined+1)
	}

	r = bob.do("GET", "/boxes/"+id+"/public?other_share_hash="+hash, nil)
	expect(t, "the invitation page", r, 200)
	if got := r.json(t)["owner_org_id"]; got != org {
		t.Fatalf("invitation page owner_org_id %v, want %s", got, org)
	}

	// Realtime frames.
	col, _ := bob.dialWS(t, "")
	expect(t, "bob joins", bob.post(t, id, map[string]any{"type": "member.join"}), 201)
	r = alice.post(t, id, text("hello"))
	expect(t, "alice posts", r, 201)
	msg := r.json(t)["id"].(string)
	frames := col.waitFor(t, "the message frame", func(fs []frame) bool { return eventIDs(fs)[msg] == 1 })
	for _, f := range frames {
		if f.Type == "event.new" && f.field("id") == msg && f.field("owner_org_id") != org {
			t.Fatalf("event.new frame %s, want owner_org_id %s", f.Object, org)
		}
	}
	expect(t, "bob mutes", bob.do("PUT", "/box-users/"+bob.id+"/boxes/"+id+"/settings", map[string]bool{"muted": true}), 204)
	frames = col.waitFor(t, "the box.settings frame", func(fs []frame) bool { return hasType(fs, "box.settings") })
	for _, f := range frames {
		if f.Type == "box.settings" && (f.field("owner_org_id") != org || f.field("box_id") != id) {
			t.Fatalf("box.settings frame %s, want owner_org_id %s", f.Object, org)
		}
	}
	expect(t, "alice deletes the box", alice.do("DELETE", "/boxes/"+id, map[string]string{"user_confirmation": "delete"}), 204)
	frames = col.waitFor(t, "the box.delete frame", func(fs []frame) bool { return hasType(fs, "box.delete") })
	for _, f := range frames {
		if f.Type == "box.delete" {
			want := map[string]string{"id": id, "owner_org_id": org, "sender_id": alice.id, "public_key": created["public_key"].(string)}
			for k, v := range want {
				if f.field(k) != v {
					t.Fatalf("box.delete frame %s, want %s=%s", f.Object, k, v)
				}
			}
		}
	}

	// The same after a restart; a configured id applies to new boxes,
	// while a box keeps the organisation it was created in.
	before := alice.createBox(t, "Before", "limited")["id"].(string)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ts.Close(ctx)
	ts = startServer(t, sc)
	if ts.Boxes.SelfOrgID != org {
		t.Fatalf("after a restart the self org id is %s, was %s", ts.Boxes.SelfOrgID, org)
	}
	ts.Close(ctx)
	configured := uuid.NewString()
	ts = startServer(t, sc, func(c *Config) { c.SelfOrgID = strings.ToUpper(configured) })
	alice = ts.signIn(t, alice.email, "Alice-password")
	if got := alice.createBox(t, "After", "limited")["owner_org_id"]; got != configured {
		t.Fatalf("with --self-org-id a new box says %v, want %s", got, configured)
	}
	r = alice.do("GET", "/boxes/"+before, nil)
	expect(t, "the older box", r, 200)
	if got := r.json(t)["owner_org_id"]; got != org {
		t.Fatalf("an older box moved to %v, want %s", got, org)
	}

	// The flag and its environment variable; not a UUID is refused.
	t.Setenv("BOXWIRE_SELF_ORG_ID", configured)
	var cfg Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.flags(fs)
	if err := fs.Parse(nil); err != nil || cfg.SelfOrgID != configured {
		t.Fatalf("BOXWIRE_SELF_ORG_ID gives %q (%v), want %s", cfg.SelfOrgID, err, configured)
	}
	if err := fs.Parse([]string{"--self-org-id", "acme"}); err != nil {
		t.Fatal(err)
	}
	cfg.StoreConfig = StoreConfig{Data: t.TempDir()}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "--self-org-id") {
		t.Fatalf("--self-org-id acme: %v, want a refusal naming the flag", err)
	}
}

// TestMisakeyBatchFaultsNamedTogether: a batch's faulty top-level fields
// are named together, as the reference's batch_create_events.go does, and
// so are the shape faults of all its events, each under Boxwire's
// events[i] key; nothing is written.
func TestMisakeyBatchFaultsNamedTogether(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice := ts.user(t, "Alice")
	id := alice.createBox(t, "Batches", "limited")["id"].(string)
	path := "/boxes/" + id + "/batch-events"
	exactly := func(what string, r response, want map[string]string) { t.Helper(); exactFaults(t, what, r, want) }
	exactly("bad type, no events", alice.do("POST", path, map[string]any{"batch_type": "messages", "events": []any{}}),
		map[string]string{"batch_type": "malformed", "events": "required"})
	exactly("nothing", alice.do("POST", path, map[string]any{}),
		map[string]string{"batch_type": "required", "events": "required"})
	exactly("bad type, good events", alice.do("POST", path, map[string]any{"batch_type": "x", "events": []any{accessAdd("identifier", "a@example.com")}}),
		map[string]string{"batch_type": "malformed"})
	exactly("two faulty events of three", alice.batch(t, id, text("x"), accessAdd("identifier", "b@example.com"), map[string]any{"type": "access.nope"}),
		map[string]string{"events[0].type": "malformed", "events[2].type": "malformed"})
	if got := alice.getArray(t, "/boxes/"+id+"/accesses"); len(got) != 0 {
		t.Fatalf("refused batches wrote rules: %v", got)
	}
}

// TestMisakeyBodyFaultsNamedTogether: creating a box, posting a message,
// editing it and sharing a key name every faulty field of the body at
// once, as the reference's ozzo validation does; nothing is written.
func TestMisakeyBodyFaultsNamedTogether(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice := ts.user(t, "Alice")
	exactly := func(what string, r response, want map[string]string) { t.Helper(); exactFaults(t, what, r, want) }
	exactly("box without title and key", alice.do("POST", "/boxes", map[string]any{"title": "", "public_key": "not url64!"}),
		map[string]string{"title": "required", "public_key": "malformed"})
	if got := alice.getArray(t, "/boxes/joined"); len(got) != 0 {
		t.Fatalf("a refused box was created: %v", got)
	}
	id := alice.createBox(t, "Faults", "limited")["id"].(string)
	exactly("message with neither part", alice.do("POST", "/boxes/"+id+"/events", map[string]any{"type": "msg.text", "content": map[string]any{}}),
		map[string]string{"content.encrypted": "required", "content.public_key": "required"})
	exactly("key share with neither part", alice.do("POST", "/box-key-shares", map[string]any{"box_id": id}),
		map[string]string{"share": "required", "other_share_hash": "required"})
	if got := alice.getArray(t, "/boxes/"+id+"/events"); len(got) != 1 {
		t.Fatalf("refused bodies wrote events: %d, want only the create", len(got))
	}
}

// exactFaults checks a 400 whose details name exactly the fields of want.
func exactFaults(t *testing.T, what string, r response, want map[string]string) {
	t.Helper()
	if r.status != 400 {
		t.Fatalf("%s: %d %s, want 400", what, r.status, r.body)
	}
	if got := r.fields(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: details %v, want %v", what, got, want)
	}
}
