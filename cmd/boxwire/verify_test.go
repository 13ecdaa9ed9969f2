package main

import (
	"strings"
	"testing"
	"time"

	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/smtpmail/smtptest"
)

// tenantBox is tenant A's limited box, shared with victim@a.test by its
// identifier and with every a.test address by domain, with an invitation
// link's key share.
type tenantBox struct{ id, hash string }

func annsBox(t *testing.T, ann *user) tenantBox {
	t.Helper()
	hash := shareHash()
	r := ann.do("POST", "/boxes", map[string]any{"title": "Acme payroll", "public_key": randomKey(),
		"key_share": map[string]string{"misakey_share": ciphertext("half"), "other_share_hash": hash}})
	expect(t, "ann creates her box", r, 201)
	b := tenantBox{id: r.json(t)["id"].(string), hash: hash}
	expect(t, "ann shares it", ann.batch(t, b.id, accessAdd("identifier", "victim@a.test"), accessAdd("email_domain", "a.test")), 201)
	return b
}

// refusedEverywhere plays the holder of a claimed address against tenant
// A: every way into Ann's box must be refused, and nothing may reach it.
func refusedEverywhere(t *testing.T, ann, squatter *user, b tenantBox) {
	t.Helper()
	who := squatter.email
	r := squatter.do("GET", "/identities/"+squatter.id, nil)
	expect(t, who+" reads itself", r, 200)
	if r.json(t)["identifier_verified"] != false {
		t.Fatalf("%s claimed without proof is verified: %s", who, r.body)
	}
	for _, c := range []struct {
		name, method, path string
		body               any
	}{
		{"read the box", "GET", "/boxes/" + b.id, nil},
		{"list events", "GET", "/boxes/" + b.id + "/events", nil},
		{"list members", "GET", "/boxes/" + b.id + "/members", nil},
		{"join", "POST", "/boxes/" + b.id + "/events", map[string]any{"type": "member.join"}},
		{"post", "POST", "/boxes/" + b.id + "/events", text("hello")},
		{"take the key share", "GET", "/box-key-shares/" + b.hash, nil},
	} {
		expect(t, who+": "+c.name, squatter.do(c.method, c.path, c.body), 403)
	}
	expect(t, who+" is told nothing, not even to join", squatter.do("GET", "/boxes/"+b.id, nil), 403, "id", "forbidden")
	// Invitations: a key the squatter sets is not offered to senders, and
	// a contact (which would leave it the box key) is refused.
	key := randomKey()
	expect(t, who+" sets a public key", squatter.do("PATCH", "/identities/"+squatter.id, map[string]string{"pubkey": key}), 204)
	if got := stringList(t, ann.do("GET", "/identities/pubkey?identifier_value="+who, nil)); len(got) != 0 {
		t.Fatalf("ann is offered %s's key %v to encrypt an invitation", who, got)
	}
	r = ann.do("POST", "/box-users/"+ann.id+"/contact", map[string]any{"contacted_identity_id": squatter.id,
		"box":             map[string]string{"title": "For you", "public_key": randomKey()},
		"key_share":       map[string]string{"misakey_share": ciphertext("h"), "other_share_hash": shareHash()},
		"invitation_data": map[string]string{key: ciphertext("the box key")}})
	expect(t, "ann contacts "+who, r, 404, "contacted_identity_id", "not_found")
	r = squatter.do("GET", "/identities/"+squatter.id+"/crypto/actions", nil)
	expect(t, who+" lists crypto actions", r, 200)
	if n := len(list(t, r)); n != 0 {
		t.Fatalf("%s holds %d crypto actions", who, n)
	}
	if members := list(t, ann.do("GET", "/boxes/"+b.id+"/members", nil)); len(members) != 1 {
		t.Fatalf("ann's box has %d members, want only ann", len(members))
	}
}

// TestIdentifiersAreProvenNotClaimed plays tenant B's admin, who creates
// or renames users to tenant A's addresses (DESIGN §3, issue 13.1).
func TestIdentifiersAreProvenNotClaimed(t *testing.T) {
	mail := smtptest.Start(t)
	ts := startServer(t, storeConfig(t), func(c *Config) { c.SMTPURL = mail.URL() })
	for _, u := range [][]string{{"ann@a.test", "Acme"}, {"mallory@b.test", "Evil"}} {
		if out, code := ts.cli(t, "user", "add", "--email", u[0], "--password", "correct horse", "--name", "Admin",
			"--org", u[1], "--role", "admin"); code != 0 {
			t.Fatalf("user add: %s", out)
		}
	}
	ann := ts.signIn(t, "ann@a.test", "correct horse")
	b := annsBox(t, ann)
	mallory := newAPI(t, ts.URL(), "mallory@b.test", "correct horse")

	// Created for an address of tenant A.
	victimID := mallory.call("POST", "/user", map[string]any{"firstName": "Vic", "lastName": "Tim", "email": "victim@a.test",
		"password": "mallory knows", "role": "agent"}, 201)["userId"].(string)
	squatter := ts.signIn(t, "victim@a.test", "mallory knows")
	if squatter.id != victimID {
		t.Fatalf("signed in as %s, created %s", squatter.id, victimID)
	}
	refusedEverywhere(t, ann, squatter, b)

	// Renamed to one: a user of tenant B, proven at b-corp.test (a domain
	// granted to Evil), moved to an a.test address.
	if out, code := ts.cli(t, "org", "domain", "add", "Evil", "B-Corp.test"); code != 0 || !strings.Contains(out, "b-corp.test") {
		t.Fatalf("org domain add: %d %s", code, out)
	}
	agentID := mallory.call("POST", "/user", map[string]any{"firstName": "Ag", "lastName": "Ent", "email": "agent@b-corp.test",
		"password": "agent password", "role": "agent"}, 201)["userId"].(string)
	agent := ts.signIn(t, "agent@b-corp.test", "agent password")
	if v := agent.do("GET", "/identities/"+agentID, nil).json(t)["identifier_verified"]; v != true {
		t.Fatalf("a user at a domain granted to the org is not verified: %v", v)
	}
	if n := len(mail.Messages("agent@b-corp.test")); n != 0 {
		t.Fatalf("a vouched-for address got %d verification e-mails", n)
	}
	mallory.call("PUT", "/user/"+agentID, map[string]any{"email": "Other@A.test"}, 200)
	renamed := ts.signIn(t, "other@a.test", "agent password")
	refusedEverywhere(t, ann, renamed, b)

	// Mallory cannot read the mailbox: guessing the code fails, and after
	// identity.MaxCodeAttempts wrong guesses even the right code is void.
	code := mail.WaitCode(t, "victim@a.test", 1)
	for i := 0; i < identity.MaxCodeAttempts; i++ {
		expect(t, "a guessed code", squatter.do("POST", "/identities/"+squatter.id+"/identifier/verify", map[string]string{"code": "AAAA-AAAA"}), 400, "code", "invalid")
	}
	expect(t, "the right code after too many guesses", squatter.do("POST", "/identities/"+squatter.id+"/identifier/verify", map[string]string{"code": code}), 400, "code", "invalid")
	expect(t, "another code at once", squatter.do("POST", "/identities/"+squatter.id+"/identifier/codes", nil), 429)
	expect(t, "a code for someone else", squatter.do("POST", "/identities/"+ann.id+"/identifier/codes", nil), 403)
	expect(t, "verifying someone else", squatter.do("POST", "/identities/"+ann.id+"/identifier/verify", map[string]string{"code": code}), 403)
	refusedEverywhere(t, ann, squatter, b)

	// The mailbox's owner asks for a new code, reads it and proves the
	// address: then, and only then, Ann's rules let them in.
	ts.clock.Advance(identity.CodeResendAfter)
	expect(t, "a new code", squatter.do("POST", "/identities/"+squatter.id+"/identifier/codes", nil), 202)
	code = mail.WaitCode(t, "victim@a.test", 2)
	expect(t, "the owner's code", squatter.do("POST", "/identities/"+squatter.id+"/identifier/verify", map[string]string{"code": strings.ToLower(code)}), 204)
	owner := squatter
	waitFor(t, 5*time.Second, "the proof to reach the owner's session", func() bool { // sessions are cached for a second
		r := owner.do("GET", "/boxes/"+b.id, nil) // not a member yet, but no longer outside
		return r.status == 403 && r.fields(t)["reason"] == "not_member"
	})
	expect(t, "the owner joins", owner.post(t, b.id, map[string]any{"type": "member.join"}), 201)
	expect(t, "the owner takes the key share", owner.do("GET", "/box-key-shares/"+b.hash, nil), 200)
	if got := stringList(t, ann.do("GET", "/identities/pubkey?identifier_value=victim@a.test", nil)); len(got) != 1 {
		t.Fatalf("the proven owner's key is not offered: %v", got)
	}
	expect(t, "a code once verified", owner.do("POST", "/identities/"+owner.id+"/identifier/codes", nil), 409)

	// Tenant B's admin sets a password they know, or moves the address
	// back: the proof is void and the box closes again.
	mallory.call("PUT", "/user/"+victimID, map[string]any{"password": "mallory again"}, 200)
	squatter = ts.signIn(t, "victim@a.test", "mallory again")
	expect(t, "after an admin's password reset", squatter.do("GET", "/boxes/"+b.id+"/events", nil), 403)
	if n := len(mail.Messages("victim@a.test")); n != 3 {
		t.Fatalf("after the reset the owner got %d e-mails in all, want a third code", n)
	}
}

// TestOperatorVouchesForAddresses: without an SMTP server only the
// operator proves addresses; what it adds is proven, and it can take a
// proof back.
func TestOperatorVouchesForAddresses(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	ann := ts.user(t, "Ann")
	if out, code := ts.cli(t, "user", "add", "--email", "boss@b.test", "--password", "correct horse", "--name", "Boss",
		"--org", "B", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %s", out)
	}
	boss := newAPI(t, ts.URL(), "boss@b.test", "correct horse")
	boss.call("POST", "/user", map[string]any{"firstName": "New", "lastName": "Hire", "email": "hire@example.com",
		"password": "hire password", "role": "agent"}, 201)
	hire := ts.signIn(t, "hire@example.com", "hire password")
	r := ann.createBox(t, "Team", "limited")
	box := r["id"].(string)
	expect(t, "share with example.com", ann.batch(t, box, accessAdd("email_domain", "example.com")), 201)

	expect(t, "no e-mail to send a code with", hire.do("POST", "/identities/"+hire.id+"/identifier/codes", nil), 409, "identifier_value", "unverifiable")
	expect(t, "unproven hire joins", hire.post(t, box, map[string]any{"type": "member.join"}), 403)
	if out, code := ts.cli(t, "user", "verify", "--email", "hire@example.com"); code != 0 {
		t.Fatalf("user verify: %s", out)
	}
	waitFor(t, 5*time.Second, "the hire's proof to reach the session", func() bool {
		r := hire.do("GET", "/boxes/"+box, nil) // may join now: told so
		return r.status == 403 && r.fields(t)["reason"] == "not_member"
	})
	expect(t, "proven hire joins", hire.post(t, box, map[string]any{"type": "member.join"}), 201)
	if out, code := ts.cli(t, "user", "unverify", "--email", "ann@example.com"); code != 0 {
		t.Fatalf("user unverify: %s", out)
	}
	if v := ann.do("GET", "/identities/"+ann.id, nil).json(t)["identifier_verified"]; v != false {
		t.Fatalf("unverified by the operator, ann reads identifier_verified %v", v)
	}
	// One domain, one owner.
	if out, code := ts.cli(t, "org", "domain", "add", "B", "b.test"); code != 0 {
		t.Fatalf("org domain add: %s", out)
	}
	if _, code := ts.cli(t, "user", "add", "--email", "x@c.test", "--password", "correct horse", "--name", "X", "--org", "C", "--role", "admin"); code != 0 {
		t.Fatal("user add C")
	}
	if out, code := ts.cli(t, "org", "domain", "add", "C", "b.test"); code == 0 || !strings.Contains(out, "another organisation") {
		t.Fatalf("a domain granted twice: %d %s", code, out)
	}
	if out, _ := ts.cli(t, "org", "domain", "list", "B"); strings.TrimSpace(out) != "b.test" {
		t.Fatalf("org domain list B: %q", out)
	}
}
