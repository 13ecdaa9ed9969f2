package main

import (
	"strings"
	"testing"
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
	expect(t, "carol, who never joined, is out", carol.do("GET", "/boxes/"+id, nil), 403, "id", "forbidden")
	expect(t, "carol cannot join", carol.post(t, id, map[string]any{"type": "member.join"}), 403)
}
