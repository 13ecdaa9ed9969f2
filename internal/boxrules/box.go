// Package box holds the rules of end-to-end encrypted boxes (DESIGN §4):
// who may see a box, who may post which event, and how events fold into
// their targets. No I/O: the service in internal/boxservice loads the state,
// asks these functions, and applies what they decide.
package boxrules

import (
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/printable"
)

// Access modes and lifecycles.
const (
	Limited = "limited"
	Public  = "public"
	Open    = "open"
	Closed  = "closed"
)

// Box is a box's current state.
type Box struct {
	ID         string
	Title      string
	PublicKey  string
	AccessMode string
	Lifecycle  string
	CreatorID  string
	OwnerOrgID string
	CreatedAt  time.Time
	// LastPosition is the journal position of the box's newest listed event.
	LastPosition int64
}

// Access is an active access.add rule.
type Access struct {
	EventID         string
	RestrictionType string // "identifier" | "email_domain"
	Value           string
}

// State is what access decisions need: the box and its active rules.
type State struct {
	Box
	Accesses []Access
}

// IsAdmin reports whether id administers the box: its creator.
func (s State) IsAdmin(id string) bool { return s.CreatorID == id }

// HasAccess is DESIGN §4's access rule. The creator always has access; a
// closed box gives no one else any; a public box gives every identity
// access; a limited box needs an active rule matching the identifier or
// its e-mail domain, and only a verified identifier matches: an address
// claimed without proof reaches nothing (DESIGN §3).
func (s State) HasAccess(who identity.Identity) bool {
	switch {
	case s.IsAdmin(who.ID):
		return true
	case s.Lifecycle == Closed:
		return false
	case s.AccessMode == Public:
		return true
	case !who.Verified():
		return false
	}
	ident := strings.ToLower(who.IdentifierValue)
	domain := identity.Domain(ident)
	for _, a := range s.Accesses {
		switch a.RestrictionType {
		case RestrictIdentifier:
			if strings.EqualFold(a.Value, ident) {
				return true
			}
		case RestrictEmailDomain:
			if strings.EqualFold(a.Value, domain) {
				return true
			}
		}
	}
	return false
}

// JoinRule is the identifier rule a join records, as Misakey's reference
// does: a member who joined a public box, or through an e-mail domain
// rule, keeps access when the box turns limited or the domain rule goes.
// It is nil when an active identifier rule names the member already, for
// the admin, and for an unproven identifier (a rule for it would let in
// whoever proves the address later, who never joined).
func (s State) JoinRule(who identity.Identity) *AccessContent {
	if s.IsAdmin(who.ID) || !who.Verified() {
		return nil
	}
	ident := strings.ToLower(who.IdentifierValue)
	for _, a := range s.Accesses {
		if a.RestrictionType == RestrictIdentifier && strings.EqualFold(a.Value, ident) {
			return nil
		}
	}
	return &AccessContent{RestrictionType: RestrictIdentifier, Value: ident}
}

// Writable refuses every write to a closed box with a conflict.
func (s State) Writable() error {
	if s.Lifecycle == Closed {
		return &errs.Error{Code: errs.Conflict, Message: "the box is closed", Where: errs.NotDefined,
			Fields: map[string]string{"lifecycle": errs.Conflicts}}
	}
	return nil
}

// Restriction types of access rules.
const (
	RestrictIdentifier  = "identifier"
	RestrictEmailDomain = "email_domain"
)

// Title validates a box title: 1 to 50 characters.
func Title(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return "", errs.Field(errs.Body, field, errs.Required, "%s is required", field)
	case n > 50:
		return "", errs.Field(errs.Body, field, errs.TooLong, "%s must be at most 50 characters", field)
	}
	if why := printable.Name(s); why != "" {
		return "", errs.Field(errs.Body, field, errs.Malformed, "%s %s", field, why)
	}
	return s, nil
}

// AESRSAPrefix marks a public key of the AES-RSA scheme Misakey's
// reference accepts besides NaCl keys.
const AESRSAPrefix = "com.misakey.aes-rsa-enc:"

// maxKey bounds a public key: an RSA-4096 key in url64 is about 740
// characters. The reference sets no bound; storage needs one.
const maxKey = 4096

// PublicKey validates the public key of a box or a message as Misakey's
// reference does: unpadded url-safe base64 of any length (Boxwire's own
// clients send 32-byte X25519 keys, but clients in the wild send others),
// or AESRSAPrefix followed by unpadded url-safe base64. Decoding is the
// clients' business: the server never uses the key.
func PublicKey(field, s string) error {
	if s == "" {
		return errs.Field(errs.Body, field, errs.Required, "%s is required", field)
	}
	if !url64(strings.TrimPrefix(s, AESRSAPrefix), maxKey) {
		return errs.Field(errs.Body, field, errs.Malformed, "%s must be unpadded url-safe base64 (or %s followed by it)", field, AESRSAPrefix)
	}
	return nil
}

// IdentityKey validates an identity's NaCl public key: unpadded url-safe
// base64, as the reference checks it.
func IdentityKey(field, s string) error {
	if s == "" {
		return errs.Field(errs.Body, field, errs.Required, "%s is required", field)
	}
	if !url64(s, maxKey) {
		return errs.Field(errs.Body, field, errs.Malformed, "%s must be unpadded url-safe base64", field)
	}
	return nil
}

// URLSafe validates an unpadded url-safe base64 value such as a key
// share's hash: the reference's pattern [A-Za-z0-9_-]+, at most 1024
// characters.
func URLSafe(field, s string) error {
	if s == "" {
		return errs.Field(errs.Body, field, errs.Required, "%s is required", field)
	}
	if !url64(s, 1024) {
		return errs.Field(errs.Body, field, errs.Malformed, "%s must be unpadded url-safe base64", field)
	}
	return nil
}

// url64 reports whether s is 1 to max characters of the url-safe base64
// alphabet, without padding: the reference's pattern ^[a-zA-Z0-9_-]+$.
// Whether it decodes (a length of 4n+1 does not) is not checked, as in
// the reference.
func url64(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// MaxEncrypted bounds an encrypted message; files travel separately.
const MaxEncrypted = 64 << 10

// StdBase64 validates standard (padded) base64 ciphertext.
func StdBase64(field, s string, limit int) error {
	if s == "" {
		return errs.Field(errs.Body, field, errs.Required, "%s is required", field)
	}
	if len(s) > limit {
		return &errs.Error{Code: errs.TooLarge, Where: errs.Body, Fields: map[string]string{field: "too_large"},
			Message: field + " is too large"}
	}
	if _, err := base64.StdEncoding.DecodeString(s); err != nil {
		return errs.Field(errs.Body, field, errs.Malformed, "%s must be standard base64", field)
	}
	return nil
}
