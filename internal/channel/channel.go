// Package channel is how Boxwire talks to a messaging channel: the
// outbound send, and the inbound events (messages, delivery statuses,
// template reviews) a channel reports. Its subpackages implement it:
// sandbox (no network) and whatsapp (the WhatsApp Cloud API).
package channel

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Account is what a transport needs to know about the sending API account.
type Account struct {
	ID          string
	PhoneNumber string // E.164
	// WhatsApp Cloud API details (empty for the sandbox).
	PhoneNumberID string
	AccessToken   string
}

// Outgoing is one message to send: Text, a Template, or Media (with
// Text as its caption, which may be empty).
type Outgoing struct {
	To       string // E.164
	Text     string
	Template *TemplateSend
	Media    *MediaSend
}

// MediaSend is a file to send: its kind (image, video, audio, document,
// sticker), type and name, and how to read it. Open may be called once
// per attempt.
type MediaSend struct {
	Kind        string
	ContentType string
	FileName    string
	Size        int64
	Open        func() (io.ReadCloser, error)
}

// TemplateSend is a template message: the approved template's name and
// its placeholder values in order ({{1}}, {{2}}, …).
type TemplateSend struct {
	Name     string
	Language string // e.g. "en"; default "en"
	Params   []string
}

// Sender delivers outgoing messages on one kind of channel.
type Sender interface {
	// Send hands m to the channel and returns the channel's message id.
	Send(ctx context.Context, a Account, m Outgoing) (channelMessageID string, err error)
}

// Error is a refusal by the channel. Permanent errors are not retried:
// the message fails with Error() as its reason.
type Error struct {
	Code      int    // the channel's error code, e.g. WhatsApp's 131047
	Message   string // the channel's words
	Permanent bool
}

func (e *Error) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("channel error %d: %s", e.Code, e.Message)
	}
	return "channel error: " + e.Message
}

// CodeReengagement is WhatsApp's "Re-engagement message": more than 24
// hours have passed since the customer last replied.
const CodeReengagement = 131047

// Inbound is a message a contact wrote.
type Inbound struct {
	ChannelMessageID string
	From             string // E.164
	Name             string // the contact's profile name, if the channel gives one
	Text             string // for a file, its caption
	At               time.Time
	Media            *MediaRef // a file the channel holds, to fetch
}

// MediaRef names a file a channel holds for an incoming message.
type MediaRef struct {
	ID       string // the channel's media id
	Kind     string // image, video, audio, document, sticker
	MimeType string // as the channel announced it
	FileName string // a document's name
}

// MediaFetcher is a channel from which incoming files are fetched.
type MediaFetcher interface {
	// FetchMedia opens the file ref names. Errors are as Sender.Send's:
	// a permanent *Error will not clear up (the file is gone, the token
	// is refused); others may.
	FetchMedia(ctx context.Context, a Account, ref MediaRef) (Download, error)
}

// Download is an incoming file being read from its channel.
type Download struct {
	// Body is the file; a read fails if the bytes do not match what the
	// channel announced (a checksum).
	Body        io.ReadCloser
	ContentType string
	Size        int64 // as announced; -1 unknown
}

// Status is a delivery status of an outgoing message.
type Status struct {
	ChannelMessageID string
	Status           string // sent, delivered, read, failed
	Reason           string // with failed
	At               time.Time
}

// TemplateReview is a template's new review status (Meta's
// message_template_status_update: APPROVED, REJECTED, PAUSED, DISABLED…).
type TemplateReview struct {
	Name   string
	Status string
	Reason string
}

// Events are what one inbound channel callback reported.
type Events struct {
	Messages  []Inbound
	Statuses  []Status
	Templates []TemplateReview
}

// Add appends o's events to e's.
func (e *Events) Add(o Events) {
	e.Messages = append(e.Messages, o.Messages...)
	e.Statuses = append(e.Statuses, o.Statuses...)
	e.Templates = append(e.Templates, o.Templates...)
}

// Empty reports whether e holds no event.
func (e Events) Empty() bool {
	return len(e.Messages)+len(e.Statuses)+len(e.Templates) == 0
}
