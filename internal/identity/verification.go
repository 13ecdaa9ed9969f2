package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
)

// Verification codes prove that whoever enters one reads the mailbox of
// the identifier it was sent to. A code has 8 characters from a 32-letter
// alphabet without look-alikes (40 bits): with MaxCodeAttempts guesses per
// code and a code at most every CodeResendAfter, guessing is hopeless.
const (
	CodeTTL         = 30 * time.Minute
	MaxCodeAttempts = 5
	CodeResendAfter = time.Minute
	codeAlphabet    = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789" // 32: a byte maps without bias
	codeLength      = 8
)

// NewCode returns a fresh code, spelled for a person: XXXX-XXXX.
func NewCode() string {
	b := make([]byte, codeLength)
	rand.Read(b)
	var s strings.Builder
	for i, c := range b {
		if i == codeLength/2 {
			s.WriteByte('-')
		}
		s.WriteByte(codeAlphabet[int(c)%len(codeAlphabet)])
	}
	return s.String()
}

// HashCode is what the store keeps of a code: codes are random, so one
// SHA-256 suffices. Spelling is forgiven: case, spaces and dashes.
func HashCode(code string) string {
	norm := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(code)))
	sum := sha256.Sum256([]byte(norm))
	return hex.EncodeToString(sum[:])
}

// PendingCode is a code sent to an identity and not yet used.
type PendingCode struct {
	IdentifierValue string // the address it was sent to
	Hash            string
	SentAt          time.Time
	ExpiresAt       time.Time
	Attempts        int
}

// CheckCode is the rule for entering code against p, the pending code (or
// nil) of an identity whose identifier is now current. A refused attempt
// counts against p: the caller records it.
func CheckCode(p *PendingCode, current, code string, now time.Time) error {
	wrong := errs.Field(errs.Body, "code", errs.Invalid_, "the code is wrong, used or expired: ask for a new one")
	switch {
	case strings.TrimSpace(code) == "":
		return errs.Field(errs.Body, "code", errs.Required, "code is required")
	case p == nil || p.IdentifierValue != current || !now.Before(p.ExpiresAt) || p.Attempts >= MaxCodeAttempts:
		return wrong
	case subtle.ConstantTimeCompare([]byte(HashCode(code)), []byte(p.Hash)) != 1:
		return wrong
	}
	return nil
}
