package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/boxwire/boxwire/internal/channel"
	"github.com/boxwire/boxwire/internal/printable"
)

// Change is what one change of a webhook delivery reported, with the
// accounts it was for: Meta sends one app's notifications for every
// business phone number to the same URL, so inbound messages must be
// routed by PhoneNumberID.
type Change struct {
	BusinessAccountID string // entry.id
	PhoneNumberID     string // metadata.phone_number_id; empty for template reviews
	Events            channel.Events
}

// ParseWebhook decodes a webhook POST body into the events it reports,
// all changes merged. Use ParseChanges to know which phone number each
// inbound message was sent to. Like ParseChanges, it returns what it
// could read along with the error naming what it could not.
func ParseWebhook(body []byte) (channel.Events, error) {
	changes, err := ParseChanges(body)
	var all channel.Events
	for _, c := range changes {
		all.Add(c.Events)
	}
	return all, err
}

// ParseChanges decodes a webhook POST body change by change. Changes of
// fields other than messages and message_template_status_update (which
// Boxwire does not subscribe to) are skipped. An item Boxwire cannot read
// (no message id, a sender that is not digits, a bad timestamp) is left
// out and reported in the error, next to the changes that could be read:
// Meta sends a body once it is acknowledged, so one bad item must not
// cost the others.
func ParseChanges(body []byte) ([]Change, error) {
	var n notification
	if err := json.Unmarshal(body, &n); err != nil {
		return nil, fmt.Errorf("whatsapp webhook: %w", err)
	}
	if n.Object != "whatsapp_business_account" {
		return nil, fmt.Errorf("whatsapp webhook: object %q is not whatsapp_business_account", n.Object)
	}
	var out []Change
	var bad []error
	for _, e := range n.Entry {
		for _, ch := range e.Changes {
			c, ok, err := parseChange(ch.Field, ch.Value)
			if err != nil {
				bad = append(bad, fmt.Errorf("whatsapp webhook: %s change of %s: %w", ch.Field, e.ID, err))
			}
			if ok {
				c.BusinessAccountID = e.ID
				out = append(out, c)
			}
		}
	}
	return out, errors.Join(bad...)
}

type notification struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Changes []struct {
			Field string          `json:"field"`
			Value json.RawMessage `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

func parseChange(field string, value json.RawMessage) (Change, bool, error) {
	switch field {
	case "messages":
		c, ok, err := parseMessages(value)
		return c, ok, err
	case "message_template_status_update":
		c, err := parseTemplateReview(value)
		return c, err == nil, err
	}
	return Change{}, false, nil
}

// messagesValue is the value of a "messages" change: inbound messages
// (with the senders' profiles in contacts) or statuses of ours.
type messagesValue struct {
	Metadata struct {
		PhoneNumberID string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []struct {
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
		WaID string `json:"wa_id"`
	} `json:"contacts"`
	Messages []inbound `json:"messages"`
	Statuses []status  `json:"statuses"`
}

// parseMessages reads a messages change; ok is false when nothing of it
// could be read, and err names the items left out.
func parseMessages(raw json.RawMessage) (c Change, ok bool, err error) {
	var v messagesValue
	if err := strictUnmarshal(raw, &v); err != nil {
		return Change{}, false, err
	}
	c = Change{PhoneNumberID: v.Metadata.PhoneNumberID}
	var bad []error
	for _, m := range v.Messages {
		in, err := m.toInbound()
		if err != nil {
			bad = append(bad, err)
			continue
		}
		in.Name = printable.Clean(v.senderName(m.From)) // a name, shown to agents
		c.Events.Messages = append(c.Events.Messages, in)
	}
	for _, s := range v.Statuses {
		st, keep, err := s.toStatus()
		if err != nil {
			bad = append(bad, err)
			continue
		}
		if keep {
			c.Events.Statuses = append(c.Events.Statuses, st)
		}
	}
	return c, true, errors.Join(bad...)
}

func (v messagesValue) senderName(waID string) string {
	for _, c := range v.Contacts {
		if c.WaID == waID {
			return c.Profile.Name
		}
	}
	if len(v.Contacts) == 1 {
		// One message, one profile: Meta has sent the wa_id in another
		// form (a changed number), but the profile is still the sender's.
		return v.Contacts[0].Profile.Name
	}
	return ""
}

// status is one entry of "statuses": a delivery report for a message we
// sent. Only errors matter beyond the basics; conversation and pricing
// are billing data.
type status struct {
	ID          string      `json:"id"`
	Status      string      `json:"status"`
	Timestamp   unixSeconds `json:"timestamp"`
	RecipientID string      `json:"recipient_id"`
	Errors      []apiError  `json:"errors"`
}

type apiError struct {
	Code      int    `json:"code"`
	Title     string `json:"title"`
	Message   string `json:"message"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
}

// deliveryStatuses are the statuses channel.Status carries. Meta has
// others ("played" for voice messages, "deleted"), which say nothing
// about delivery and are skipped.
var deliveryStatuses = map[string]bool{"sent": true, "delivered": true, "read": true, "failed": true}

func (s status) toStatus() (channel.Status, bool, error) {
	if s.ID == "" {
		return channel.Status{}, false, errors.New("a status without a message id")
	}
	if why := printable.Storable(s.ID); why != "" {
		return channel.Status{}, false, fmt.Errorf("status of %q: the id %s", s.ID, why)
	}
	if !deliveryStatuses[s.Status] {
		return channel.Status{}, false, nil
	}
	if time.Time(s.Timestamp).IsZero() {
		return channel.Status{}, false, fmt.Errorf("status of %s without a timestamp", s.ID)
	}
	st := channel.Status{ChannelMessageID: s.ID, Status: s.Status, At: time.Time(s.Timestamp)}
	if s.Status == "failed" {
		st.Reason = printable.Clean(failureReason(s.Errors))
	}
	return st, true, nil
}

// failureReason is the human text kept with a failed message, e.g.
// "131047 Re-engagement message: Message failed to send because more
// than 24 hours have passed…".
func failureReason(errs []apiError) string {
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		title := e.Title
		if title == "" {
			title = e.Message
		}
		parts = append(parts, strings.TrimSpace(strconv.Itoa(e.Code)+" "+describe(e.Code, title, e.ErrorData.Details)))
	}
	return strings.Join(parts, "; ")
}

// templateValue is the value of a message_template_status_update change.
type templateValue struct {
	Event string `json:"event"`
	Name  string `json:"message_template_name"`
	// Reason is null when the template is scheduled for deletion, and
	// "NONE" when there is nothing to say.
	Reason        *string `json:"reason"`
	RejectionInfo *struct {
		Reason string `json:"reason"`
	} `json:"rejection_info"`
}

func parseTemplateReview(raw json.RawMessage) (Change, error) {
	var v templateValue
	if err := strictUnmarshal(raw, &v); err != nil {
		return Change{}, err
	}
	if v.Name == "" || v.Event == "" {
		return Change{}, errors.New("a template review without template name or event")
	}
	if why := printable.Storable(v.Name + v.Event); why != "" {
		return Change{}, fmt.Errorf("template review of %q: %s", v.Name, why)
	}
	review := channel.TemplateReview{Name: v.Name, Status: v.Event}
	if v.Reason != nil && *v.Reason != "NONE" {
		review.Reason = *v.Reason
	}
	if v.RejectionInfo != nil && v.RejectionInfo.Reason != "" {
		review.Reason = strings.TrimPrefix(review.Reason+": "+v.RejectionInfo.Reason, ": ")
	}
	review.Reason = printable.Clean(review.Reason)
	return Change{Events: channel.Events{Templates: []channel.TemplateReview{review}}}, nil
}

// strictUnmarshal refuses a missing or null value, which would otherwise
// decode into an empty change and hide a malformed delivery.
func strictUnmarshal(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return errors.New("no value")
	}
	return json.Unmarshal(raw, v)
}

// unixSeconds is a webhook timestamp: unix seconds, which Meta writes
// as a string ("1749416383"); a bare number is accepted too.
type unixSeconds time.Time

func (u *unixSeconds) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	secs, err := strconv.ParseInt(s, 10, 64)
	if err != nil || secs < 0 {
		return fmt.Errorf("timestamp %s is not unix seconds", b)
	}
	*u = unixSeconds(time.Unix(secs, 0).UTC())
	return nil
}
