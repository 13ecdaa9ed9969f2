// Package sandbox is a channel with no network, for trying Boxwire out
// and for tests: every valid send succeeds, and the statuses a real
// channel would report later are available at once from Progress.
package sandbox

import (
	"context"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/channel"
)

// idPrefix marks sandbox message ids so they can never be mistaken for
// (or collide with) a real channel's ids in the same database.
const idPrefix = "sandbox."

// Sender is the sandbox channel. The zero value is ready to use.
type Sender struct{}

var _ channel.Sender = Sender{}

// Send accepts m without delivering it anywhere and returns a fresh
// message id. It refuses, permanently, only an Outgoing that breaks the
// channel.Outgoing contract, because retrying cannot fix those.
func (Sender) Send(ctx context.Context, _ channel.Account, m channel.Outgoing) (string, error) {
	if err := check(m); err != nil {
		return "", err
	}
	// Honour cancellation like a real transport, so callers that rely on
	// it behave the same with the sandbox.
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return newID(), nil
}

// Progress is what the sandbox reports after the send of id: delivered,
// then read. The service applies them in order, so a sandbox message
// goes sent → delivered → read. Both carry the time at, which the
// caller takes from its clock.
func Progress(id string, at time.Time) []channel.Status {
	return []channel.Status{
		{ChannelMessageID: id, Status: "delivered", At: at},
		{ChannelMessageID: id, Status: "read", At: at},
	}
}

func newID() string { return idPrefix + uuid.NewString() }

func check(m channel.Outgoing) error {
	switch {
	case m.To == "":
		return refuse("the recipient is missing")
	case m.Media != nil && m.Template != nil:
		return refuse("the message has both a file and a template")
	case m.Media != nil:
		return checkMedia(m.Media)
	case m.Text == "" && m.Template == nil:
		return refuse("the message has neither text nor template")
	case m.Text != "" && m.Template != nil:
		return refuse("the message has both text and template")
	case m.Template != nil && m.Template.Name == "":
		return refuse("the template has no name")
	}
	return nil
}

func refuse(msg string) error { return &channel.Error{Message: msg, Permanent: true} }

// checkMedia "delivers" a file the way a phone would receive it: the
// whole file is read, so a file that cannot be read fails the send.
func checkMedia(m *channel.MediaSend) error {
	if m.Kind == "" || m.Open == nil {
		return refuse("the file has no kind or cannot be read")
	}
	f, err := m.Open()
	if err != nil {
		return err // passing: the store may be back on the next attempt
	}
	defer f.Close()
	n, err := io.Copy(io.Discard, f)
	if err != nil {
		return err
	}
	if m.Size >= 0 && n != m.Size {
		return refuse("the file is not the size it was kept with")
	}
	return nil
}
