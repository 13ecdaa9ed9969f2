package realtime

import (
	"testing"

	"github.com/boxwire/boxwire/internal/journal"
)

// TestEndingRules: which sessions each revocation entry ends.
func TestEndingRules(t *testing.T) {
	s1 := &Session{IdentityID: "alice", SessionID: "s1"}
	s2 := &Session{IdentityID: "alice", SessionID: "s2"}
	bob := &Session{IdentityID: "bob", SessionID: "s3"}
	alice := journal.IdentityScope("alice")
	for _, c := range []struct {
		name string
		e    journal.Entry
		want map[*Session]bool
	}{
		{"revoked", journal.Entry{Scope: alice, Type: SessionRevoked, Payload: []byte(`{"session_id":"s1"}`)}, map[*Session]bool{s1: true}},
		{"password", journal.Entry{Scope: alice, Type: SessionsRevoked, Payload: []byte(`{"except":"s2"}`)}, map[*Session]bool{s1: true}},
		{"reset", journal.Entry{Scope: alice, Type: SessionsRevoked, Payload: []byte(`{}`)}, map[*Session]bool{s1: true, s2: true}},
		{"access", journal.Entry{Scope: alice, Type: AccessChanged, Payload: []byte(`{}`)}, map[*Session]bool{s1: true, s2: true}},
		{"other type", journal.Entry{Scope: alice, Type: "identity.updated", Payload: []byte(`{}`)}, map[*Session]bool{}},
		{"no session id", journal.Entry{Scope: alice, Type: SessionRevoked, Payload: []byte(`{}`)}, map[*Session]bool{}},
	} {
		n, ok := endingOf(&c.e)
		for _, s := range []*Session{s1, s2, bob, nil} {
			if got := ok && n.hits(s); got != c.want[s] {
				t.Errorf("%s: ends %+v = %v, want %v", c.name, s, got, c.want[s])
			}
		}
	}
	if id, ok := Revokes(&journal.Entry{Scope: alice, Type: SessionsRevoked}); !ok || id != "alice" {
		t.Errorf("Revokes = %q %v", id, ok)
	}
	if _, ok := Revokes(&journal.Entry{Scope: alice, Type: AccessChanged}); ok {
		t.Errorf("an access change is not a revocation")
	}
}
