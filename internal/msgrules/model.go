package msgrules

import (
	"encoding/json"
	"strings"
	"time"
)

// The records of the messaging API, with the JSON names of seed 004.
// The same shapes are the API's responses, the journal entries' payloads
// and the webhooks' data, so a client parses one shape everywhere.

// Member is a user of an organisation: the identity plus its role and
// messaging profile there.
type Member struct {
	UserID    string `json:"userId"`
	OrgID     string `json:"-"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Email     string `json:"email,omitempty"`
	Role      string `json:"role,omitempty"`
}

// IsAdmin reports an organisation admin, who sees every API account and
// makes the admin writes.
func (m Member) IsAdmin() bool { return m.Role == "admin" }

// APIAccount is one channel number of an organisation.
type APIAccount struct {
	APIAccountID string          `json:"apiAccountId"`
	OrgID        string          `json:"-"`
	PhoneNumber  string          `json:"phoneNumber"`
	Name         string          `json:"name"`
	Channel      string          `json:"channel"`
	Settings     ChannelSettings `json:"-"`
	DateTime     time.Time       `json:"datetime"`
}

// Channels an API account can use.
const (
	ChannelSandbox  = "sandbox"
	ChannelWhatsApp = "whatsapp"
)

// ChannelSettings are a WhatsApp account's Cloud API details. The secrets
// never leave the server: responses show only whether they are set.
type ChannelSettings struct {
	PhoneNumberID string `json:"phoneNumberId,omitempty"`
	AccessToken   string `json:"accessToken,omitempty"`
	AppSecret     string `json:"appSecret,omitempty"`
	VerifyToken   string `json:"verifyToken,omitempty"`
}

// AccountRef is how teams and users name an API account. The seed spells
// it apiAccountid there; apiAccountId is written too for consistency.
type AccountRef struct {
	Name          string `json:"name"`
	APIAccountid  string `json:"apiAccountid"`
	APIAccountID2 string `json:"apiAccountId"`
}

// UserRef is how teams and conversations name a user.
type UserRef struct {
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	UserID    string `json:"userId"`
}

// Team groups users and gives them API accounts.
type Team struct {
	Name        string       `json:"name"`
	Description string       `json:"description"`
	TeamID      string       `json:"teamId"`
	OrgID       string       `json:"-"`
	APIAccounts []AccountRef `json:"apiAccounts"`
	Users       []UserRef    `json:"users"`
}

// TeamRef is how a conversation names its team.
type TeamRef struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	TeamID      string `json:"teamId"`
}

// Inbox belongs to an API account. The seed writes dateTime in the list
// and datetime for one inbox; both are written.
type Inbox struct {
	InboxID      string    `json:"inboxId"`
	OrgID        string    `json:"-"`
	APIAccountID string    `json:"apiAccountId"`
	Name         string    `json:"name"`
	DateTime     time.Time `json:"dateTime"`
	Datetime     time.Time `json:"datetime"`
}

// Contact statuses.
const (
	Presubscribed = "Presubscribed"
	Subscribed    = "Subscribed"
	Unsubscribed  = "Unsubscribed"
)

// Contact is one mobile number on one API account.
type Contact struct {
	ContactID    string    `json:"contactId"`
	OrgID        string    `json:"-"`
	MobileNumber string    `json:"mobileNumber"`
	Name         string    `json:"name"`
	Status       string    `json:"status"`
	Email        string    `json:"email"`
	APIAccountID string    `json:"apiAccountId"`
	DateTime     time.Time `json:"datetime"`
	Tags         []string  `json:"tags"`
	// LastIncoming is when the contact last wrote (zero: never).
	LastIncoming time.Time `json:"-"`
}

// ContactRef is the contact inside a message.
type ContactRef struct {
	ContactID    string `json:"contactId"`
	MobileNumber string `json:"mobileNumber"`
	Name         string `json:"name"`
	Status       string `json:"status"`
	APIAccountID string `json:"apiAccountId"`
}

// Conversation is one contact on one API account. The seed returns only
// user, team and folder; the ids are added so a list can be used.
type Conversation struct {
	ConversationID string    `json:"conversationId"`
	OrgID          string    `json:"-"`
	APIAccountID   string    `json:"apiAccountId"`
	ContactID      string    `json:"contactId"`
	User           *UserRef  `json:"user"`
	Team           *TeamRef  `json:"team"`
	Folder         string    `json:"folder"`
	DateTime       time.Time `json:"dateTime"`
}

// Message directions.
const (
	Incoming = "incoming"
	Outgoing = "outgoing"
)

// Message is one message of a conversation.
type Message struct {
	MessageID         string     `json:"messageId"`
	OrgID             string     `json:"-"`
	BodyText          string     `json:"bodyText"`
	APIAccountID      string     `json:"apiAccountId"`
	DateTime          time.Time  `json:"dateTime"`
	ConversationID    string     `json:"conversationId"`
	FileLocation      string     `json:"fileLocation"`
	MessageDirection  string     `json:"messageDirection"`
	IsTemplateMessage bool       `json:"isTemplateMessage"`
	IsSent            bool       `json:"isSent"`
	IsDelivered       bool       `json:"isDelivered"`
	IsRead            bool       `json:"isRead"`
	FailedReason      string     `json:"failedReason,omitempty"`
	Contact           ContactRef `json:"contact"`
	SenderFirstName   string     `json:"senderFirstName"`
	SenderLastName    string     `json:"senderLastName"`
	BroadcastID       string     `json:"broadcastId,omitempty"`
	// A message with a file: its kind (image, video, audio, document,
	// sticker), name, and state. FileLocation is empty until the file is
	// kept (pending), and stays empty when it could not be (failed, with
	// MediaError saying why).
	MediaType   string `json:"mediaType,omitempty"`
	FileName    string `json:"fileName,omitempty"`
	MediaStatus string `json:"mediaStatus,omitempty"`
	MediaError  string `json:"mediaError,omitempty"`
	// ChannelMessageID is the channel's id (wamid…), internal.
	ChannelMessageID string `json:"-"`
	// MediaID is the kept file's id, internal.
	MediaID string `json:"-"`
}

// WithDelivery is m with the flags and failure reason of d.
func (m Message) WithDelivery(d Delivery) Message {
	m.IsSent, m.IsDelivered, m.IsRead, m.FailedReason = d.IsSent, d.IsDelivered, d.IsRead, ""
	if d.IsFailed {
		m.FailedReason = d.FailureReason
	}
	return m
}

// Delivery is the message's delivery as the status rules see it.
func (m Message) Delivery() Delivery {
	return Delivery{IsSent: m.IsSent, IsDelivered: m.IsDelivered, IsRead: m.IsRead,
		IsFailed: m.FailedReason != "", FailureReason: m.FailedReason}
}

// TemplateView is a template in the seed's shape.
type TemplateView struct {
	TemplateID      string    `json:"templateId"`
	APIAccountID    string    `json:"apiAccountId"`
	Status          string    `json:"status"`
	Name            string    `json:"name"`
	TemplateText    string    `json:"templateText"`
	TemplateExample string    `json:"templateExample"`
	DateTime        time.Time `json:"dateTime"`
}

// Broadcast is one template message to one contact.
type Broadcast struct {
	BroadcastID  string    `json:"broadcastId"`
	OrgID        string    `json:"-"`
	APIAccountID string    `json:"apiAccountId"`
	ContactID    string    `json:"contactId"`
	TemplateID   string    `json:"templateId"`
	MessageID    string    `json:"messageId"`
	Message      string    `json:"message"`
	Status       string    `json:"status"`
	Reason       string    `json:"reason,omitempty"`
	DateTime     time.Time `json:"dateTime"`
	Params       []string  `json:"-"`
}

// Webhook is an outbound webhook of an organisation. The secret is shown
// once, in the create response.
type Webhook struct {
	WebhookID    string `json:"webhookId"`
	OrgID        string `json:"-"`
	Type         string `json:"type"`
	TargetURL    string `json:"targetUrl"`
	IsEnabled    bool   `json:"isEnabled"`
	FailureCount int    `json:"failureCount"`
	IsZapier     bool   `json:"isZapier"`
	Secret       string `json:"secret,omitempty"`
	// Position is the last journal position the hook has dealt with.
	Position int64 `json:"-"`
}

// Page is a page of a list in the seed's shape.
type Page[T any] struct {
	Items  []T    `json:"items"`
	Paging Paging `json:"paging"`
}

// Paging counts a whole list.
type Paging struct {
	RecordCount int `json:"recordCount"`
	Pages       int `json:"pages"`
}

// PageSize is the seed's fixed page size.
const PageSize = 100

// NewPage wraps one page of items with the count of the whole list.
func NewPage[T any](items []T, recordCount int) Page[T] {
	if items == nil {
		items = []T{}
	}
	return Page[T]{Items: items, Paging: Paging{RecordCount: recordCount, Pages: (recordCount + PageSize - 1) / PageSize}}
}

// Journal entry types of the messaging records, scoped to the
// organisation ("org:<id>"). A webhook of type T receives every T.*
// entry: T.created, T.updated, and T.deleted for inboxes and templates.
const (
	EntryAPIAccountCreated   = "apiaccount.created"
	EntryAPIAccountUpdated   = "apiaccount.updated"
	EntryInboxCreated        = "inbox.created"
	EntryInboxUpdated        = "inbox.updated"
	EntryInboxDeleted        = "inbox.deleted"
	EntryContactCreated      = "contact.created"
	EntryContactUpdated      = "contact.updated"
	EntryMessageCreated      = "message.created"
	EntryMessageUpdated      = "message.updated"
	EntryTemplateCreated     = "template.created"
	EntryTemplateUpdated     = "template.updated"
	EntryTemplateDeleted     = "template.deleted"
	EntryBroadcastCreated    = "broadcast.created"
	EntryBroadcastUpdated    = "broadcast.updated"
	EntryConversationCreated = "conversation.created"
	EntryConversationUpdated = "conversation.updated"
)

// orgScopePrefix starts the journal scope of every organisation.
const orgScopePrefix = "org:"

// OrgScope is the journal scope of an organisation's messaging entries.
func OrgScope(orgID string) string { return orgScopePrefix + orgID }

// IsOrgScope reports whether a journal scope is an organisation's.
func IsOrgScope(scope string) bool { return strings.HasPrefix(scope, orgScopePrefix) }

// EntryPayload is the journal payload of a messaging record: the record
// in its API shape, which is also what webhooks and realtime frames carry.
func EntryPayload(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
