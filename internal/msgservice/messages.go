package msgservice

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/boxwire/boxwire/internal/channel"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
	"github.com/boxwire/boxwire/internal/store"
)

// Messages lists the messages the caller reaches: by the seed's rule, the
// last 24 hours unless fromDate or toDate is given.
func (s *Service) Messages(ctx context.Context, f store.Filter, page int) (msgrules.Page[msgrules.Message], error) {
	if f.From.IsZero() && f.To.IsZero() {
		f.From = s.now().Add(-24 * time.Hour)
	}
	return list(ctx, s, f, page, s.Store.Messages)
}

// Message reads one message the caller reaches.
func (s *Service) Message(ctx context.Context, id string) (msgrules.Message, error) {
	return one(ctx, s, id, s.Store.Message)
}

// MessageInput is the body of POST /message. A file comes as File (a
// multipart part, received with ReceiveFile) or as the FileLocation of a
// file kept before; Message is then its caption, and may be empty.
type MessageInput struct {
	APIAccountID string `json:"apiAccountId"`
	ContactID    string `json:"contactId"`
	Message      string `json:"message"`
	FileLocation string `json:"fileLocation"`
	File         *File  `json:"-"`
}

// SendMessage queues a session message to a contact. It is refused
// outside the contact's 24-hour session window, where only a template
// broadcast may be sent.
func (s *Service) SendMessage(ctx context.Context, in MessageInput) (msgrules.Message, error) {
	defer in.File.Discard()
	m, err := s.member(ctx)
	if err != nil {
		return msgrules.Message{}, err
	}
	c, err := s.addressee(ctx, m, in.APIAccountID, in.ContactID)
	if err != nil {
		return msgrules.Message{}, err
	}
	file, err := s.attachment(ctx, m, c.APIAccountID, in)
	if err != nil {
		return msgrules.Message{}, err
	}
	text, err := captionOrText(file, in.Message)
	if err != nil {
		return msgrules.Message{}, err
	}
	now := s.now()
	if err := msgrules.CheckSessionWindow(c.LastIncoming, now); err != nil {
		return msgrules.Message{}, err
	}
	msg := msgrules.Message{BodyText: text, MessageDirection: msgrules.Outgoing, DateTime: now}
	var kept string // a file received with this request, kept under this id
	if in.File != nil {
		a, err := s.Store.APIAccount(ctx, store.ReachOf(m), c.APIAccountID)
		if err != nil {
			return msgrules.Message{}, err
		}
		md, err := s.keep(in.File, a)
		if err != nil {
			return msgrules.Message{}, err
		}
		file, kept = &md, md.MediaID
	}
	if file != nil {
		msg.MediaType, msg.MediaID, msg.FileName = file.MediaType, file.MediaID, file.FileName
		msg.FileLocation, msg.MediaStatus = file.FileLocation, msgrules.MediaReady
	}
	var out msgrules.Message
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if kept != "" {
			if err := tx.CreateMedia(ctx, *file, m.UserID); err != nil {
				return err
			}
		}
		out, err = s.addMessage(ctx, tx, c, m.UserID, store.NewMessage{Queued: true, SenderID: m.UserID, Message: msg})
		return err
	})
	if err != nil && kept != "" {
		s.Media.Remove(kept)
	}
	if err == nil {
		s.wake()
	}
	return out, err
}

// captionOrText checks the text of a message: required without a file,
// optional with one, and refused with a kind of file WhatsApp sends bare.
func captionOrText(file *msgrules.Media, v string) (string, error) {
	if file == nil {
		return messageText("message", v)
	}
	if strings.TrimSpace(v) == "" {
		return "", nil
	}
	if !msgrules.TakesCaption(file.MediaType) {
		return "", errs.Field(errs.Body, "message", errs.Invalid_, "a %s is sent without a caption: leave message empty", file.MediaType)
	}
	return messageText("message", v)
}

// addressee reads the contact a message or broadcast goes to, checking
// that it is on the named API account.
func (s *Service) addressee(ctx context.Context, m msgrules.Member, accountID, contactID string) (msgrules.Contact, error) {
	a, err := account(ctx, s.Store.APIAccount, m, "apiAccountId", accountID)
	if err != nil {
		return msgrules.Contact{}, err
	}
	if contactID == "" {
		return msgrules.Contact{}, errs.Field(errs.Body, "contactId", errs.Required, "contactId is required")
	}
	c, err := s.Store.Contact(ctx, store.ReachOf(m), contactID)
	if errs.CodeOf(err) == errs.NotFound || (err == nil && c.APIAccountID != a.APIAccountID) {
		return c, errs.Field(errs.Body, "contactId", errs.Invalid_, "no contact %q on API account %s", contactID, a.APIAccountID)
	}
	if err == nil && c.Status == msgrules.Unsubscribed {
		return c, errs.Field(errs.Body, "contactId", errs.Invalid_, "the contact has unsubscribed")
	}
	return c, err
}

func messageText(field, v string) (string, error) {
	switch {
	case strings.TrimSpace(v) == "":
		return "", errs.Field(errs.Body, field, errs.Required, "%s is required", field)
	case !validText(v) || utf8.RuneCountInString(v) > msgrules.MaxMessageText:
		return "", errs.Field(errs.Body, field, errs.Invalid_, "%s must be text of at most %d characters", field, msgrules.MaxMessageText)
	}
	return v, nil
}

// addMessage stores a message in the contact's conversation, starting the
// conversation if needed, and journals both.
func (s *Service) addMessage(ctx context.Context, tx *store.Tx, c msgrules.Contact, actor string, n store.NewMessage) (msgrules.Message, error) {
	v, created, err := tx.EnsureConversation(ctx, c)
	if err != nil {
		return msgrules.Message{}, err
	}
	if created {
		if err := record(ctx, tx, c.OrgID, actor, msgrules.EntryConversationCreated, v.ConversationID, v); err != nil {
			return msgrules.Message{}, err
		}
	}
	n.OrgID, n.APIAccountID, n.ConversationID, n.ContactID = c.OrgID, c.APIAccountID, v.ConversationID, c.ContactID
	msg, err := tx.CreateMessage(ctx, n)
	if err != nil {
		return msg, err
	}
	return msg, record(ctx, tx, c.OrgID, actor, msgrules.EntryMessageCreated, msg.MessageID, msg)
}

// InboundInput is the body of POST /apiaccount/{id}/sandbox/inbound.
// A multipart body may add a File, as a customer's photo or document;
// Message is then its caption and may be empty. DateTime, optional, is
// when the contact wrote (RFC 3339), as Meta's callbacks carry a
// timestamp: a message written more than a day ago leaves the window
// closed, as it would on WhatsApp.
type InboundInput struct {
	MobileNumber string `json:"mobileNumber"`
	Message      string `json:"message"`
	Name         string `json:"name"`
	File         *File  `json:"-"`
	DateTime     string `json:"dateTime"`
}

// inboundSkew is how far ahead of the server's clock a sandbox message's
// dateTime may be: a client's clock a little fast is not an error.
const inboundSkew = time.Minute

// writtenTime reads an inbound message's optional dateTime: zero when
// absent, refused when malformed or in the future.
func writtenTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return t, errs.Field(errs.Body, "dateTime", errs.Malformed, "dateTime must be an RFC 3339 date-time such as 2024-04-30T14:03:25Z")
	}
	if time.Until(t) > inboundSkew {
		return t, errs.Field(errs.Body, "dateTime", errs.Invalid_, "dateTime is in the future: a contact cannot have written then yet")
	}
	return t, nil
}

// SandboxInbound makes a contact write in on a sandbox API account, as a
// channel would report it (admins): the contact is created if new, and
// its session window opens.
func (s *Service) SandboxInbound(ctx context.Context, accountID string, in InboundInput) (msgrules.Message, error) {
	defer in.File.Discard()
	m, err := s.admin(ctx)
	if err != nil {
		return msgrules.Message{}, err
	}
	a, err := s.Store.APIAccount(ctx, store.ReachOf(m), accountID)
	if err != nil {
		return msgrules.Message{}, err
	}
	if a.Channel != msgrules.ChannelSandbox {
		return msgrules.Message{}, errs.E(errs.Conflict, "only a sandbox API account takes injected messages; this one is %s", a.Channel)
	}
	mobile, err := msgrules.ChannelNumber("mobileNumber", in.MobileNumber)
	if err != nil {
		return msgrules.Message{}, err
	}
	var file *msgrules.Media
	if in.File != nil {
		file = &msgrules.Media{MediaType: in.File.Kind}
	}
	text, err := captionOrText(file, in.Message)
	if err != nil {
		return msgrules.Message{}, err
	}
	if in.Name != "" {
		if _, err := name("name", &in.Name); err != nil {
			return msgrules.Message{}, err
		}
	}
	at, err := writtenTime(in.DateTime)
	if err != nil {
		return msgrules.Message{}, err
	}
	if in.File != nil {
		md, err := s.keep(in.File, a)
		if err != nil {
			return msgrules.Message{}, err
		}
		file = &md
	}
	msg, _, err := s.receiveWith(ctx, a, channel.Inbound{From: mobile, Name: strings.TrimSpace(in.Name), Text: text, At: at}, file)
	if err != nil && file != nil {
		s.Media.Remove(file.MediaID)
	}
	return msg, err
}

// receive stores a message a contact wrote. A channel message id already
// stored is a redelivery: the stored message is returned, dup set.
func (s *Service) receive(ctx context.Context, a msgrules.APIAccount, in channel.Inbound) (msg msgrules.Message, dup bool, err error) {
	return s.receiveWith(ctx, a, in, nil)
}

// receiveWith is receive, with a file already kept (the sandbox's), which
// is recorded with the message.
func (s *Service) receiveWith(ctx context.Context, a msgrules.APIAccount, in channel.Inbound, file *msgrules.Media) (msg msgrules.Message, dup bool, err error) {
	now := writtenAt(s.now(), in.At)
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if in.ChannelMessageID != "" {
			msg, err = tx.MessageByChannelID(ctx, a.APIAccountID, in.ChannelMessageID)
			if err == nil {
				dup = true
				return nil
			}
			if errs.CodeOf(err) != errs.NotFound {
				return err
			}
		}
		c, err := s.writer(ctx, tx, a, in)
		if err != nil {
			return err
		}
		if err := s.contactWrote(ctx, tx, c, now); err != nil {
			return err
		}
		n := store.NewMessage{Message: msgrules.Message{
			ChannelMessageID: in.ChannelMessageID, BodyText: in.Text, MessageDirection: msgrules.Incoming, DateTime: now}}
		if in.Media != nil {
			s.pendingMedia(&n, in.Media)
		}
		if file != nil {
			if err := tx.CreateMedia(ctx, *file, ""); err != nil {
				return err
			}
			n.MediaType, n.MediaID, n.FileName = file.MediaType, file.MediaID, file.FileName
			n.FileLocation, n.MediaStatus = file.FileLocation, msgrules.MediaReady
		}
		msg, err = s.addMessage(ctx, tx, c, "", n)
		return err
	})
	if err == nil && !dup && in.Media != nil {
		s.wakeFetcher()
	}
	return msg, dup, err
}

// pendingMedia marks an incoming message's file to be fetched, or failed
// at once when this server keeps no files.
func (s *Service) pendingMedia(n *store.NewMessage, ref *channel.MediaRef) {
	n.MediaType, n.FileName, n.MediaSource, n.MediaMIME = ref.Kind, msgrules.FileName(ref.FileName), ref.ID, ref.MimeType
	n.MediaStatus = msgrules.MediaPending
	if s.Media == nil {
		n.MediaStatus, n.MediaError = msgrules.MediaFailed, "this server keeps no message files"
	}
}

// writtenAt is when an incoming message was written, on the messaging
// clock: now, less the age the channel reports. A message the channel
// redelivers days later must not reopen the session window as if new.
func writtenAt(now, channelAt time.Time) time.Time {
	if channelAt.IsZero() {
		return now
	}
	if age := time.Since(channelAt); age > 0 {
		return now.Add(-age).Truncate(time.Microsecond)
	}
	return now
}

// contactWrote opens the contact's window from at (never moving it back)
// and subscribes a contact who was only presubscribed: they wrote to us.
func (s *Service) contactWrote(ctx context.Context, tx *store.Tx, c msgrules.Contact, at time.Time) error {
	if err := tx.ContactWrote(ctx, c.ContactID, at.UnixMicro()); err != nil {
		return err
	}
	if c.Status != msgrules.Presubscribed {
		return nil
	}
	c.Status = msgrules.Subscribed
	if err := tx.UpdateContact(ctx, c); err != nil {
		return err
	}
	return record(ctx, tx, c.OrgID, "", msgrules.EntryContactUpdated, c.ContactID, c)
}

// writer is the contact who wrote in, created (Subscribed: they wrote
// to us) if the number is new on the account.
func (s *Service) writer(ctx context.Context, tx *store.Tx, a msgrules.APIAccount, in channel.Inbound) (msgrules.Contact, error) {
	c, err := tx.ContactByMobile(ctx, a.APIAccountID, in.From)
	if errs.CodeOf(err) != errs.NotFound {
		return c, err
	}
	c = msgrules.Contact{OrgID: a.OrgID, APIAccountID: a.APIAccountID, MobileNumber: in.From, Name: in.Name,
		Status: msgrules.Subscribed}
	if c.Name == "" {
		c.Name = in.From
	}
	if err := tx.CreateContact(ctx, &c); err != nil {
		return c, err
	}
	return c, record(ctx, tx, a.OrgID, "", msgrules.EntryContactCreated, c.ContactID, c)
}

// applyStatus folds a channel's delivery status into the message it is
// about, and into its broadcast. A status for a message not known yet is
// kept: the channel may report a delivery before the send's answer has
// told Boxwire the message's id (or it is about another system's message,
// and is dropped after a day).
func (s *Service) applyStatus(ctx context.Context, accountID string, st channel.Status) error {
	if !msgrules.IsDeliveryStatus(st.Status) {
		return nil // a status the rules do not model
	}
	return s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		msg, err := tx.MessageByChannelID(ctx, accountID, st.ChannelMessageID)
		if errs.CodeOf(err) == errs.NotFound {
			return tx.KeepEarlyStatus(ctx, accountID, st.ChannelMessageID, st.Status, st.Reason)
		}
		if err != nil {
			return err
		}
		d, _ := msg.Delivery().Apply(st.Status, st.Reason)
		if d == msg.Delivery() {
			return nil
		}
		return s.setDelivery(ctx, tx, msg, d)
	})
}

// withEarlyStatuses folds into d the statuses that arrived for a message
// before its send was recorded.
func withEarlyStatuses(ctx context.Context, tx *store.Tx, accountID, channelID string, d msgrules.Delivery) (msgrules.Delivery, error) {
	statuses, reasons, err := tx.TakeEarlyStatuses(ctx, accountID, channelID)
	for i, st := range statuses {
		d, _ = d.Apply(st, reasons[i])
	}
	return d, err
}

// setDelivery stores a message's new delivery and its broadcast's status.
func (s *Service) setDelivery(ctx context.Context, tx *store.Tx, msg msgrules.Message, d msgrules.Delivery) error {
	msg = msg.WithDelivery(d)
	if err := tx.SetDelivery(ctx, msg); err != nil {
		return err
	}
	if err := record(ctx, tx, msg.OrgID, "", msgrules.EntryMessageUpdated, msg.MessageID, msg); err != nil {
		return err
	}
	if msg.BroadcastID == "" {
		return nil
	}
	b, err := tx.Broadcast(ctx, msg.BroadcastID)
	if err != nil {
		return err
	}
	b.Status, b.Reason = msgrules.BroadcastStatus(d, true), d.FailureReason
	if d.IsSent {
		b.MessageID = msg.MessageID
	}
	if err := tx.SetBroadcast(ctx, b); err != nil {
		return err
	}
	return record(ctx, tx, b.OrgID, "", msgrules.EntryBroadcastUpdated, b.BroadcastID, b)
}
