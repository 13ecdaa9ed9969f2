package main

import (
	"strings"
	"testing"
)

// TestBoxEventRules walks DESIGN §4's event table: for every rule an
// allowed case and a refused one, checked by status code and details.
func TestBoxEventRules(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob, carol, dave := ts.user(t, "Alice"), ts.user(t, "Bob"), ts.user(t, "Carol"), ts.user(t, "Dave")
	carol.email = "carol@example.org" // a second domain for the email_domain rule
	ts.cli(t, "user", "add", "--email", "carol@example.org", "--password", "carol-password", "--name", "Carol O")
	carolOrg := ts.signIn(t, "carol@example.org", "carol-password")

	// Creating: title, public key, access mode.
	expect(t, "no title", alice.do("POST", "/boxes", map[string]string{"public_key": randomKey()}), 400, "title", "required")
	expect(t, "long title", alice.do("POST", "/boxes", map[string]string{"title": strings.Repeat("t", 51), "public_key": randomKey()}), 400, "title", "too_long")
	expect(t, "bad key", alice.do("POST", "/boxes", map[string]string{"title": "x", "public_key": "not base64!"}), 400, "public_key", "malformed")
	expect(t, "padded key", alice.do("POST", "/boxes", map[string]string{"title": "x", "public_key": randomKey() + "="}), 400, "public_key", "malformed")
	expect(t, "bad mode", alice.do("POST", "/boxes", map[string]any{"title": "x", "public_key": randomKey(), "access_mode": "open"}), 400, "access_mode", "invalid")
	b := alice.createBox(t, "Project", "")
	id := b["id"].(string)
	if b["access_mode"] != "limited" || b["lifecycle"] != "open" || b["title"] != "Project" || b["events_count"] != 0.0 {
		t.Fatalf("box view %v", b)
	}
	create := b["last_event"].(map[string]any)
	if create["type"] != "create" || create["content"].(map[string]any)["title"] != "Project" || create["referrer_id"] != nil {
		t.Fatalf("create event %v", create)
	}
	if b["creator"].(map[string]any)["identifier_value"] != "alice@example.com" {
		t.Fatalf("the creator sees their own identifier: %v", b["creator"])
	}

	// Who may post what.
	expect(t, "server-only create", alice.post(t, id, map[string]any{"type": "create"}), 400, "type", "malformed")
	expect(t, "server-only msg.file", alice.post(t, id, map[string]any{"type": "msg.file"}), 400, "type", "malformed")
	expect(t, "server-only kick", alice.post(t, id, map[string]any{"type": "member.kick"}), 400, "type", "malformed")
	expect(t, "access.add outside a batch", alice.post(t, id, accessAdd("identifier", "bob@example.com")), 400, "type", "malformed")
	expect(t, "unknown type", alice.post(t, id, map[string]any{"type": "msg.poll"}), 400, "type", "malformed")
	expect(t, "no type", alice.post(t, id, map[string]any{}), 400, "type", "required")
	r := alice.post(t, id, text("hello"))
	expect(t, "admin posts msg.text", r, 201)
	hello := r.json(t)
	if hello["type"] != "msg.text" || hello["box_id"] != id || hello["sender"].(map[string]any)["id"] != alice.id {
		t.Fatalf("msg.text view %v", hello)
	}
	r = alice.post(t, id, map[string]any{"type": "msg.txt", "content": map[string]string{"encrypted": ciphertext("alias"), "public_key": randomKey()}})
	expect(t, "msg.txt alias", r, 201)
	if r.json(t)["type"] != "msg.text" {
		t.Fatalf("msg.txt is stored as msg.text, got %v", r.json(t)["type"])
	}
	helloID := hello["id"].(string)
	expect(t, "msg.text with referrer", alice.post(t, id, ref("msg.text", helloID, text("x")["content"])), 400, "referrer_id", "invalid")
	expect(t, "no content", alice.post(t, id, map[string]any{"type": "msg.text"}), 400, "content", "required")
	expect(t, "bad base64", alice.post(t, id, map[string]any{"type": "msg.text", "content": map[string]string{"encrypted": "%%%", "public_key": randomKey()}}), 400, "content.encrypted", "malformed")
	expect(t, "wrong type", alice.post(t, id, map[string]any{"type": "msg.text", "content": map[string]any{"encrypted": 5, "public_key": randomKey()}}), 400, "content.encrypted", "malformed")
	expect(t, "bad referrer", alice.post(t, id, map[string]any{"type": "msg.delete", "referrer_id": "nope"}), 400, "referrer_id", "malformed")

	// Access: limited box, identifier rule.
	expect(t, "stranger reads", bob.do("GET", "/boxes/"+id, nil), 403)
	expect(t, "stranger joins", bob.post(t, id, map[string]any{"type": "member.join"}), 403)
	r = alice.batch(t, id, accessAdd("identifier", "BOB@example.com"))
	expect(t, "admin adds access", r, 201)
	bobRule := list(t, r)[0]["id"].(string)
	expect(t, "non-admin access batch", bob.batch(t, id, accessAdd("identifier", "dave@example.com")), 403)
	expect(t, "member posts before joining", bob.post(t, id, text("early")), 403)
	r = bob.post(t, id, map[string]any{"type": "member.join"})
	expect(t, "join with access", r, 201)
	bobJoin := r.json(t)["id"].(string)
	expect(t, "second join", bob.post(t, id, map[string]any{"type": "member.join"}), 409, "type", "conflict")
	expect(t, "creator joins", alice.post(t, id, map[string]any{"type": "member.join"}), 409, "type", "conflict")
	r = bob.post(t, id, text("hi alice"))
	expect(t, "member posts", r, 201)
	bobMsg := r.json(t)["id"].(string)

	// Edits: author only, folded into the target.
	edit := map[string]string{"new_encrypted": ciphertext("hi Alice!"), "new_public_key": randomKey()}
	expect(t, "admin edits another's message", alice.post(t, id, ref("msg.edit", bobMsg, edit)), 403)
	expect(t, "edit a create event", alice.post(t, id, ref("msg.edit", create["id"].(string), edit)), 400, "referrer_id", "invalid")
	expect(t, "edit unknown", bob.post(t, id, ref("msg.edit", "7f2280ed-40bd-4bba-a813-a833f022cdf9", edit)), 404, "referrer_id", "not_found")
	expect(t, "edit without referrer", bob.post(t, id, map[string]any{"type": "msg.edit", "content": edit}), 400, "referrer_id", "required")
	expect(t, "author edits", bob.post(t, id, ref("msg.edit", bobMsg, edit)), 201)
	events := bob.events(t, id)
	folded := find(events, bobMsg)
	if c := folded["content"].(map[string]any); c["encrypted"] != edit["new_encrypted"] || c["last_edited_at"] == nil {
		t.Fatalf("edit not folded into its target: %v", folded)
	}
	if strings.Contains(types(events), "msg.edit") {
		t.Fatalf("msg.edit is listed: %s", types(events))
	}

	// Deletions: author or admin; twice or edit afterwards → 410.
	expect(t, "member deletes admin's message", bob.post(t, id, ref("msg.delete", helloID, nil)), 403)
	expect(t, "admin deletes member's message", alice.post(t, id, ref("msg.delete", bobMsg, nil)), 201)
	expect(t, "delete twice", bob.post(t, id, ref("msg.delete", bobMsg, nil)), 410, "referrer_id", "gone")
	expect(t, "edit deleted", bob.post(t, id, ref("msg.edit", bobMsg, edit)), 410, "referrer_id", "gone")
	deleted := find(bob.events(t, id), bobMsg)["content"].(map[string]any)
	d, _ := deleted["deleted"].(map[string]any)
	if d == nil || d["by_identifier_id"] != alice.id || d["at_time"] == nil || deleted["encrypted"] != nil {
		t.Fatalf("deleted message shows %v", deleted)
	}

	// Leaving: not the admin; ends the join.
	expect(t, "admin leaves", alice.post(t, id, map[string]any{"type": "member.leave"}), 403)
	r = bob.post(t, id, map[string]any{"type": "member.leave"})
	expect(t, "member leaves", r, 201)
	if r.json(t)["referrer_id"] != bobJoin {
		t.Fatalf("leave refers to %v, want the join %s", r.json(t)["referrer_id"], bobJoin)
	}
	expect(t, "leave twice", bob.post(t, id, map[string]any{"type": "member.leave"}), 409)
	expect(t, "former member posts", bob.post(t, id, text("still here?")), 403)
	r = bob.post(t, id, map[string]any{"type": "member.join"})
	expect(t, "rejoin", r, 201)
	bobJoin = r.json(t)["id"].(string)

	// Email-domain rule.
	expect(t, "other domain before the rule", carolOrg.post(t, id, map[string]any{"type": "member.join"}), 403)
	expect(t, "bad domain", alice.batch(t, id, accessAdd("email_domain", "not a domain")), 400, "events[0].content.value", "malformed")
	expect(t, "bad restriction", alice.batch(t, id, accessAdd("phone", "x")), 400, "events[0].content.restriction_type", "malformed")
	expect(t, "domain rule", alice.batch(t, id, accessAdd("email_domain", "example.org")), 201)
	expect(t, "joins by domain", carolOrg.post(t, id, map[string]any{"type": "member.join"}), 201)
	expect(t, "example.com is not example.org", carol.post(t, id, map[string]any{"type": "member.join"}), 403)

	// A batch is all or nothing.
	before := len(list(t, alice.do("GET", "/boxes/"+id+"/accesses", nil)))
	r = alice.batch(t, id, ref("access.rm", bobRule, nil), accessAdd("identifier", "not-an-email"))
	expect(t, "batch with one bad event", r, 400, "events[1].content.value", "malformed")
	if after := len(list(t, alice.do("GET", "/boxes/"+id+"/accesses", nil))); after != before {
		t.Fatalf("a refused batch changed the accesses: %d → %d", before, after)
	}
	expect(t, "bob still reads", bob.do("GET", "/boxes/"+id+"/events", nil), 200)
	expect(t, "wrong batch type", alice.do("POST", "/boxes/"+id+"/batch-events", map[string]any{"batch_type": "messages", "events": []any{text("x")}}), 400, "batch_type", "malformed")
	expect(t, "empty batch", alice.do("POST", "/boxes/"+id+"/batch-events", map[string]any{"batch_type": "accesses", "events": []any{}}), 400, "events", "required")
	expect(t, "msg in a batch", alice.batch(t, id, text("x")), 400, "events[0].type", "malformed")
	expect(t, "access.rm of a message", alice.batch(t, id, ref("access.rm", helloID, nil)), 400, "events[0].referrer_id", "invalid")

	// Removing bob's access kicks him, in the same answer.
	r = alice.batch(t, id, ref("access.rm", bobRule, nil))
	expect(t, "remove access", r, 201)
	got := list(t, r)
	if types(got) != "access.rm,member.kick" {
		t.Fatalf("batch answer %s, want access.rm then member.kick", types(got))
	}
	kick := got[1]
	if kick["sender"].(map[string]any)["id"] != bob.id || kick["referrer_id"] != bobJoin || kick["content"].(map[string]any)["kicker_id"] != alice.id {
		t.Fatalf("kick event %v", kick)
	}
	expect(t, "kicked member reads", bob.do("GET", "/boxes/"+id+"/events", nil), 403)
	expect(t, "kicked member posts", bob.post(t, id, text("let me in")), 403)
	expect(t, "remove twice", alice.batch(t, id, ref("access.rm", bobRule, nil)), 410, "events[0].referrer_id", "gone")
	n := list(t, bob.do("GET", "/identities/"+bob.id+"/notifications", nil))
	if len(n) == 0 || n[0]["type"] != "member.kick" || n[0]["details"].(map[string]any)["id"] != id {
		t.Fatalf("bob's notifications %v", n)
	}
	if strings.Contains(types(alice.events(t, id)), "access.") {
		t.Fatalf("access events are listed: %s", types(alice.events(t, id)))
	}

	// Access mode: admin only; back to limited kicks who no longer matches.
	mode := func(v string) map[string]any {
		return map[string]any{"type": "state.access_mode", "content": map[string]string{"value": v}}
	}
	expect(t, "member changes mode", carolOrg.post(t, id, mode("public")), 403)
	expect(t, "bad mode", alice.post(t, id, mode("secret")), 400, "content.value", "malformed")
	expect(t, "public", alice.post(t, id, mode("public")), 201)
	expect(t, "anyone sees a public box's door", dave.do("GET", "/boxes/"+id, nil), 403, "reason", "not_member")
	expect(t, "anyone joins a public box", dave.post(t, id, map[string]any{"type": "member.join"}), 201)
	expect(t, "limited again", alice.post(t, id, mode("limited")), 201)
	// Dave's join recorded an identifier rule (as Misakey's reference
	// does): he stays. Removing that rule kicks him.
	expect(t, "dave stays", dave.do("GET", "/boxes/"+id+"/events", nil), 200)
	var daveRule string
	for _, a := range alice.getArray(t, "/boxes/"+id+"/accesses") {
		if a["content"].(map[string]any)["value"] == dave.email {
			daveRule = a["id"].(string)
		}
	}
	expect(t, "the admin removes dave's rule", alice.batch(t, id, ref("access.rm", daveRule, nil)), 201)
	expect(t, "dave was kicked", dave.do("GET", "/boxes/"+id+"/events", nil), 403)
	if last := alice.events(t, id); last[len(last)-1]["type"] != "member.kick" || last[len(last)-1]["sender"].(map[string]any)["id"] != dave.id {
		t.Fatalf("no kick after the rule went: %s", types(last))
	}

	// Key share: admin only, needs the share in extra.
	share := map[string]string{"misakey_share": ciphertext("share"), "other_share_hash": strings.TrimRight(randomKey(), "=")}
	expect(t, "member rotates key share", carolOrg.post(t, id, map[string]any{"type": "state.key_share", "extra": share}), 403)
	expect(t, "key share without extra", alice.post(t, id, map[string]any{"type": "state.key_share"}), 400, "extra", "required")
	expect(t, "key share", alice.post(t, id, map[string]any{"type": "state.key_share", "extra": share}), 201)
	expect(t, "member fetches the key share", carolOrg.do("GET", "/box-key-shares/"+share["other_share_hash"], nil), 200)
	expect(t, "stranger fetches the key share", dave.do("GET", "/box-key-shares/"+share["other_share_hash"], nil), 403)

	// Closing: admin only, irreversible, then every write is a conflict.
	closeEv := map[string]any{"type": "state.lifecycle", "content": map[string]string{"state": "closed"}}
	expect(t, "member closes", carolOrg.post(t, id, closeEv), 403)
	expect(t, "bad state", alice.post(t, id, map[string]any{"type": "state.lifecycle", "content": map[string]string{"state": "open"}}), 400, "content.state", "invalid")
	expect(t, "admin closes", alice.post(t, id, closeEv), 201)
	expect(t, "post to a closed box", alice.post(t, id, text("anyone?")), 409, "lifecycle", "conflict")
	expect(t, "close twice", alice.post(t, id, closeEv), 409, "lifecycle", "conflict")
	expect(t, "batch on a closed box", alice.batch(t, id, accessAdd("identifier", "x@example.com")), 409)
	expect(t, "member reads a closed box", carolOrg.do("GET", "/boxes/"+id+"/events", nil), 403)
	expect(t, "member posts to a closed box", carolOrg.post(t, id, text("?")), 403)
	r = alice.do("GET", "/boxes/"+id, nil)
	expect(t, "admin reads a closed box", r, 200)
	if r.json(t)["lifecycle"] != "closed" {
		t.Fatalf("lifecycle %v", r.json(t)["lifecycle"])
	}
}

// TestMalformedEventsCostNoTransaction: input that is wrong whatever the
// box says is refused before the store is touched.
func TestMalformedEventsCostNoTransaction(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice := ts.user(t, "Alice")
	id := alice.createBox(t, "Junk", "limited")["id"].(string)
	commits := func() string { // every write transaction, committed or failed
		r := alice.do("GET", "/metrics", nil)
		var lines []string
		for _, line := range strings.Split(string(r.body), "\n") {
			if strings.HasPrefix(line, "boxwire_store_commits_total{") {
				lines = append(lines, line)
			}
		}
		return strings.Join(lines, "; ")
	}
	before := commits()
	for _, ev := range []map[string]any{
		{"type": "msg.text", "content": map[string]string{"encrypted": "%%%", "public_key": randomKey()}},
		{"type": "msg.text", "content": map[string]any{"encrypted": 5}},
		{"type": "msg.text"},
		{"type": "create"},
	} {
		if r := alice.post(t, id, ev); r.status != 400 {
			t.Fatalf("%v: %d %s", ev, r.status, r.body)
		}
	}
	if r := alice.batch(t, id, text("not in a batch")); r.status != 400 || r.fields(t)["events[0].type"] != "malformed" {
		t.Fatalf("msg.text in a batch: %d %s", r.status, r.body)
	}
	if after := commits(); after != before || before == "" {
		t.Fatalf("refused input reached the store: %q → %q", before, after)
	}
}
