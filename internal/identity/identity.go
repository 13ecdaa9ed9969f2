// Package identity holds the rules about who a user is: identifiers,
// display names and organisation roles. No I/O.
package identity

import (
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/printable"
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
	// Notifications and Color are preferences Misakey's clients keep on
	// the identity: how often to send e-mail digests ("minimal" by
	// default) and a profile colour ("" for none).
	Notifications string
	Color         string
	// ShareEmail: the identity shows its address on its public profile.
	ShareEmail bool
	// DisabledAt is when the operator disabled the identity (zero: it is
	// not): it cannot sign in, and its sessions ended then.
	DisabledAt time.Time
}

// Disabled reports whether the operator disabled the identity.
func (i Identity) Disabled() bool { return !i.DisabledAt.IsZero() }

// Verified reports whether the identity's identifier is proven.
func (i Identity) Verified() bool { return !i.VerifiedAt.IsZero() }

// Notification frequencies, as Misakey's reference names them.
var notificationFrequencies = []string{"minimal", "moderate", "frequent"}

// DefaultNotifications is a new identity's frequency, as in the reference.
const DefaultNotifications = "minimal"

// Notifications validates a notification frequency.
func Notifications(field, v string) error {
	if !slices.Contains(notificationFrequencies, v) {
		return errs.Field(errs.Body, field, errs.Malformed, "%s must be minimal, moderate or frequent", field)
	}
	return nil
}

// Color validates a profile colour: seven characters, as the reference
// checks it (clients send "#rrggbb").
func Color(field, v string) error {
	if utf8.RuneCountInString(v) != 7 {
		return errs.Field(errs.Body, field, errs.Malformed, "%s must be 7 characters, such as #3f51b5", field)
	}
	return nil
}

// MFAMethod validates a second-factor choice. Boxwire has no second
// factors, so only "disabled" can be chosen: "totp" and "webauthn" are
// known but conflict, as the reference answers when no credential exists.
func MFAMethod(field, v string) error {
	switch v {
	case "disabled":
		return nil
	case "totp", "webauthn":
		return &errs.Error{Code: errs.Conflict, Message: "no " + v + " credential is registered for this identity", Where: errs.Body,
			Fields: map[string]string{field: errs.Conflicts, "reason": "no credential"}}
	}
	return errs.Field(errs.Body, field, errs.Malformed, "%s must be disabled, totp or webauthn", field)
}

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
	if why := printable.Name(s); why != "" {
		return "", errs.Field(errs.Body, field, errs.Malformed, "%s %s", field, why)
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
