// Package identity holds the rules about who a user is: identifiers,
// display names and organisation roles. No I/O.
package identity

import (
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/boxwire/boxwire/internal/errs"
)

// Identity is a person who can sign in.
type Identity struct {
	ID                  string
	IdentifierValue     string // the e-mail address, lower case
	IdentifierKind      string // "email"
	DisplayName         string
	AvatarURL           string
	PasswordHash        string
	Pubkey              string
	NonIdentifiedPubkey string
	CreatedAt           time.Time
	// VerifiedAt is when the identifier was proven (zero: never). Only a
	// verified identifier matches box access rules and receives
	// invitations, so no tenant can claim another tenant's addresses.
	VerifiedAt time.Time
}

// Verified reports whether the identity's identifier is proven.
func (i Identity) Verified() bool { return !i.VerifiedAt.IsZero() }

// Domain is the domain of an e-mail identifier, lower case.
func Domain(email string) string {
	return strings.ToLower(email[strings.LastIndexByte(email, '@')+1:])
}

// Role is an identity's role in an organisation.
type Role string

const (
	Admin Role = "admin"
	Agent Role = "agent"
)

// ParseRole accepts "admin" and "agent".
func ParseRole(s string) (Role, error) {
	switch Role(s) {
	case Admin, Agent:
		return Role(s), nil
	}
	return "", errs.Field(errs.Body, "role", errs.Invalid_, "role must be admin or agent")
}

// Email validates an e-mail identifier and returns its canonical form.
// Addresses compare case-insensitively, so they are stored lower case.
func Email(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errs.Field(errs.Body, field, errs.Required, "%s is required", field)
	}
	a, err := mail.ParseAddress(s)
	// Lower-casing can lengthen a string (Ⱥ → ⱥ), so the limit applies after.
	lower := strings.ToLower(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") || len(lower) > 254 {
		return "", errs.Field(errs.Body, field, errs.Malformed, "%s must be an e-mail address", field)
	}
	return lower, nil
}

// DisplayName validates a display name: 1 to 64 characters, trimmed.
func DisplayName(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return "", errs.Field(errs.Body, field, errs.Required, "%s is required", field)
	case n > 64:
		return "", errs.Field(errs.Body, field, errs.TooLong, "%s must be at most 64 characters", field)
	}
	return s, nil
}

// MinPasswordLength is the shortest password accepted for a new identity.
const MinPasswordLength = 8

// Password checks a new password's length; strength beyond that is the
// operator's policy.
func Password(field, s string) error {
	if s == "" {
		return errs.Field(errs.Body, field, errs.Required, "%s is required", field)
	}
	if utf8.RuneCountInString(s) < MinPasswordLength {
		return errs.Field(errs.Body, field, errs.Invalid_, "%s must be at least %d characters", field, MinPasswordLength)
	}
	if len(s) > 1024 {
		return errs.Field(errs.Body, field, errs.TooLong, "%s must be at most 1024 bytes", field)
	}
	return nil
}

// AvatarURL validates an avatar URL: empty (none) or an absolute http(s)
// URL of at most 2048 bytes.
func AvatarURL(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(s) > 2048 {
		return "", errs.Field(errs.Body, field, errs.Malformed, "%s must be an http or https URL", field)
	}
	return s, nil
}
