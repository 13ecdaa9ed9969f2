package identity_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
)

func TestNewCodeIsUnambiguousAndFresh(t *testing.T) {
	shape := regexp.MustCompile(`^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$`) // no I, O, 0, 1
	seen := map[string]bool{}
	for range 1000 {
		c := identity.NewCode()
		if !shape.MatchString(c) {
			t.Fatalf("code %q is not XXXX-XXXX in the unambiguous alphabet", c)
		}
		if seen[c] {
			t.Fatalf("code %q drawn twice in 1000", c)
		}
		seen[c] = true
	}
}

func TestCheckCode(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	pending := func(change func(*identity.PendingCode)) *identity.PendingCode {
		p := &identity.PendingCode{IdentifierValue: "a@b.test", Hash: identity.HashCode("ABCD-EFGH"),
			SentAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Minute)}
		if change != nil {
			change(p)
		}
		return p
	}
	for _, tc := range []struct {
		name    string
		p       *identity.PendingCode
		current string
		code    string
		reason  string // "" for accepted
	}{
		{"right", pending(nil), "a@b.test", "ABCD-EFGH", ""},
		{"spelled loosely", pending(nil), "a@b.test", " abcd efgh ", ""},
		{"without its dash", pending(nil), "a@b.test", "abcdefgh", ""},
		{"wrong", pending(nil), "a@b.test", "ABCD-EFGJ", errs.Invalid_},
		{"empty", pending(nil), "a@b.test", " ", errs.Required},
		{"none pending", nil, "a@b.test", "ABCD-EFGH", errs.Invalid_},
		{"sent to the old address", pending(nil), "new@b.test", "ABCD-EFGH", errs.Invalid_},
		{"expired", pending(func(p *identity.PendingCode) { p.ExpiresAt = now }), "a@b.test", "ABCD-EFGH", errs.Invalid_},
		{"too many attempts", pending(func(p *identity.PendingCode) { p.Attempts = identity.MaxCodeAttempts }), "a@b.test", "ABCD-EFGH", errs.Invalid_},
		{"one attempt left", pending(func(p *identity.PendingCode) { p.Attempts = identity.MaxCodeAttempts - 1 }), "a@b.test", "ABCD-EFGH", ""},
	} {
		err := identity.CheckCode(tc.p, tc.current, tc.code, now)
		if got := errs.As(err).Fields["code"]; (err == nil) != (tc.reason == "") || (err != nil && got != tc.reason) {
			t.Errorf("%s: %v, want reason %q", tc.name, err, tc.reason)
		}
	}
}
