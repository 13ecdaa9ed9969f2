package realtime

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/boxwire/boxwire/internal/journal"
)

// Session is whose stream it is. A stream that names its session ends
// when the session is revoked, when its identity's password changes or
// its access is taken away (removed from a team or an organisation), and
// when its access token expires: on every node, because the first three
// are journal entries (see EndsStreams) and the last is a timer.
type Session struct {
	IdentityID string
	SessionID  string
	Expires    time.Time // the access token's expiry; zero: none
	// Check, if set, asks the store whether the session still holds. It
	// is called once the stream has subscribed, so that a revocation
	// delivered just before cannot slip between the request's
	// authentication and the subscription.
	Check func(ctx context.Context) error
}

// Ended is why the hub ended a stream: its session no longer allows it.
// Each surface answers it with its 401 (WebSocket close code 4401).
type Ended struct{ Reason string }

func (e *Ended) Error() string { return e.Reason }

// The journal entries that end live streams, all in the identity's scope
// (journal.IdentityScope). No viewer shows them.
const (
	// SessionRevoked: payload {"session_id"}; POST /oauth/revoke, a reused
	// refresh token.
	SessionRevoked = "session.revoked"
	// SessionsRevoked: payload {"except": session id or ""}; a password
	// change revokes every session of the identity but the one that made it.
	SessionsRevoked = "identity.sessions_revoked"
	// AccessChanged: the identity was removed from an organisation or a
	// team; its streams end so that the client reconnects and sees only
	// what it may see now.
	AccessChanged = "identity.access_changed"
)

// RevocationPayload is the payload of SessionRevoked and SessionsRevoked.
type RevocationPayload struct {
	SessionID string `json:"session_id,omitempty"`
	Except    string `json:"except,omitempty"`
}

// ending is what an entry ends: the streams of one identity, all or all
// but one of its sessions, or only one.
type ending struct {
	scope  string
	only   string // end only this session
	except string // end every session but this one
	reason string
}

// Revokes reports whether e revokes sessions, and whose: caches of
// checked sessions forget that identity's.
func Revokes(e *journal.Entry) (identityID string, ok bool) {
	if e.Type != SessionRevoked && e.Type != SessionsRevoked {
		return "", false
	}
	return strings.CutPrefix(e.Scope, journal.IdentityScope(""))
}

// endingOf reads what e ends, if anything.
func endingOf(e *journal.Entry) (ending, bool) {
	var p RevocationPayload
	switch e.Type {
	case SessionRevoked:
		if json.Unmarshal(e.Payload, &p) != nil || p.SessionID == "" {
			return ending{}, false
		}
		return ending{scope: e.Scope, only: p.SessionID, reason: "the session was revoked; sign in again"}, true
	case SessionsRevoked:
		json.Unmarshal(e.Payload, &p)
		return ending{scope: e.Scope, except: p.Except, reason: "the password changed; sign in again"}, true
	case AccessChanged:
		return ending{scope: e.Scope, reason: "access changed (removed from a team or organisation); reconnect"}, true
	}
	return ending{}, false
}

// hits reports whether the ending applies to session s.
func (n ending) hits(s *Session) bool {
	switch {
	case s == nil || n.scope != journal.IdentityScope(s.IdentityID):
		return false
	case n.only != "":
		return s.SessionID == n.only
	case n.except != "":
		return s.SessionID != n.except
	}
	return true
}
