// Package journal holds the types of Boxwire's one ordered journal and the
// rule for following it. Every state change appends entries inside its own
// transaction; readers follow by position and are only woken by notices.
package journal

import (
	"encoding/json"
	"time"
)

// Entry is one committed change. Position is strictly increasing over the
// whole server, but may have gaps (a rolled-back append burns its number).
type Entry struct {
	Position int64
	ID       string // UUID, stable across surfaces (a box event id)
	Scope    string // a box id, "org:<id>", "identity:<id>"
	Type     string // e.g. "msg.text", "identity.updated"
	ActorID  string // identity that caused it, "" for the server
	RefID    string // the entry this one acts on (referrer_id), "" if none
	Payload  json.RawMessage
	At       time.Time
}

// Notice tells readers that entries up to Position exist in Scope. It is a
// wake-up call, not data: a reader that misses one catches up by position.
type Notice struct {
	Position int64  `json:"p"`
	Scope    string `json:"s"`
}

// Query selects entries after a position.
type Query struct {
	After  int64    // read entries with Position > After
	Scopes []string // nil: every scope
	Limit  int      // 0: DefaultLimit
}

// DefaultLimit bounds one read of the journal.
const DefaultLimit = 500

// IdentityScope is the scope of an identity's own entries (notifications,
// settings, profile changes).
func IdentityScope(id string) string { return "identity:" + id }
