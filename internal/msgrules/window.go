package msgrules

import (
	"time"

	"github.com/boxwire/boxwire/internal/errs"
)

// SessionWindow is how long after a contact's last incoming message the
// channel (WhatsApp) accepts free-form session messages to them.
const SessionWindow = 24 * time.Hour

// ReasonSessionWindowClosed is the field reason of a refused session
// message, so clients can tell it from other conflicts and switch to a
// template broadcast.
const ReasonSessionWindowClosed = "session_window_closed"

// CheckSessionWindow allows an outgoing session message only while the
// window is open: the contact has written and less than SessionWindow
// has passed (at exactly 24 hours it is closed, as WhatsApp counts it).
//
// The refusal is a Conflict (409), like writing to a closed box: the
// request is well formed but the conversation's current state forbids
// it, and the same request succeeds once the contact writes again. The
// field is contactId because it is that contact's silence that closes
// the window; the message says what to do instead.
func CheckSessionWindow(lastIncoming, now time.Time) error {
	if !lastIncoming.IsZero() && now.Sub(lastIncoming) < SessionWindow {
		return nil
	}
	msg := "the contact has never written, so the 24-hour session window is not open: " +
		"send a template broadcast (POST /broadcast) instead"
	if !lastIncoming.IsZero() {
		msg = "the 24-hour session window is closed (the contact last wrote at " +
			lastIncoming.UTC().Format(time.RFC3339) + "): send a template broadcast (POST /broadcast) instead"
	}
	return &errs.Error{Code: errs.Conflict, Message: msg, Where: errs.NotDefined,
		Fields: map[string]string{"contactId": ReasonSessionWindowClosed}}
}
