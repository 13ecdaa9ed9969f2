package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
)

const conversationFrom = `conversations v
	LEFT JOIN org_members vu ON vu.org_id = v.org_id AND vu.identity_id = v.user_id
	LEFT JOIN teams vt ON vt.id = v.team_id`

const conversationCols = `v.id, v.org_id, v.api_account_id, v.contact_id, v.folder, v.created_at,
	COALESCE(v.user_id, ''), COALESCE(vu.first_name, ''), COALESCE(vu.last_name, ''),
	COALESCE(v.team_id, ''), COALESCE(vt.name, ''), COALESCE(vt.description, '')`

func scanConversation(row scanner, v *msgrules.Conversation) error {
	var created int64
	var u msgrules.UserRef
	var t msgrules.TeamRef
	if err := row.Scan(&v.ConversationID, &v.OrgID, &v.APIAccountID, &v.ContactID, &v.Folder, &created,
		&u.UserID, &u.FirstName, &u.LastName, &t.TeamID, &t.Name, &t.Description); err != nil {
		return err
	}
	v.DateTime = fromMicros(created)
	v.User, v.Team = nil, nil
	if u.UserID != "" {
		v.User = &u
	}
	if t.TeamID != "" {
		v.Team = &t
	}
	return nil
}

// EnsureConversation returns the conversation of a contact on its API
// account, starting one in the inbox if there is none yet.
func (t *Tx) EnsureConversation(ctx context.Context, c msgrules.Contact) (v msgrules.Conversation, created bool, err error) {
	v, err = conversations.one(ctx, t.q, conversations.anyOrg().eq("v.api_account_id", c.APIAccountID).eq("v.contact_id", c.ContactID))
	if errs.CodeOf(err) != errs.NotFound {
		return v, false, err
	}
	v = msgrules.Conversation{ConversationID: uuid.NewString(), OrgID: c.OrgID, APIAccountID: c.APIAccountID,
		ContactID: c.ContactID, Folder: msgrules.FolderInbox, DateTime: t.now}
	_, err = t.q.ExecContext(ctx, `INSERT INTO conversations (id, org_id, api_account_id, contact_id, folder, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, v.ConversationID, v.OrgID, v.APIAccountID, v.ContactID, v.Folder, micros(v.DateTime))
	return v, true, errs.Wrap(err, "create conversation")
}

// UpdateConversation stores the assignment and folder of v.
func (t *Tx) UpdateConversation(ctx context.Context, v msgrules.Conversation) error {
	var user, team string
	if v.User != nil {
		user = v.User.UserID
	}
	if v.Team != nil {
		team = v.Team.TeamID
	}
	_, err := t.q.ExecContext(ctx, `UPDATE conversations SET user_id = $3, team_id = $4, folder = $5 WHERE id = $1 AND org_id = $2`,
		v.ConversationID, v.OrgID, nullString(user), nullString(team), v.Folder)
	return errs.Wrap(err, "update conversation")
}

// conversations are reached through their API account.
var conversations = table[msgrules.Conversation]{from: conversationFrom, alias: "v.", accountCol: "v.api_account_id",
	cols: conversationCols, order: "v.created_at, v.id", what: "conversation", scan: scanConversation}

// Conversation reads one conversation within r.
func (s *Store) Conversation(ctx context.Context, r Reach, id string) (msgrules.Conversation, error) {
	return conversations.one(ctx, s.rq, conversations.within(r).eq("v.id", id))
}

// Conversations lists the conversations within r.
func (s *Store) Conversations(ctx context.Context, r Reach, f Filter) ([]msgrules.Conversation, int, error) {
	q := conversations.within(r).eq("v.api_account_id", f.APIAccountID).eq("v.folder", f.Folder).
		eq("v.user_id", f.UserID).eq("v.team_id", f.TeamID).eq("v.contact_id", f.ContactID)
	return conversations.page(ctx, s.rq, q, f.Offset)
}

const messageFrom = `messages m JOIN contacts mc ON mc.id = m.contact_id
	LEFT JOIN org_members ms ON ms.org_id = m.org_id AND ms.identity_id = m.sender_id`

const messageCols = `m.id, m.org_id, m.body_text, m.api_account_id, m.created_at, m.conversation_id, m.direction,
	m.is_template, m.is_sent, m.is_delivered, m.is_read, m.failed_reason, COALESCE(m.channel_message_id, ''),
	COALESCE(m.broadcast_id, ''), mc.id, mc.mobile_number, mc.name, mc.status,
	COALESCE(ms.first_name, ''), COALESCE(ms.last_name, ''),
	m.media_type, COALESCE(m.media_id, ''), m.file_name, m.file_location, m.media_status, m.media_error`

func scanMessage(row scanner, m *msgrules.Message) error {
	var created int64
	c := &m.Contact
	err := row.Scan(&m.MessageID, &m.OrgID, &m.BodyText, &m.APIAccountID, &created, &m.ConversationID, &m.MessageDirection,
		&m.IsTemplateMessage, &m.IsSent, &m.IsDelivered, &m.IsRead, &m.FailedReason, &m.ChannelMessageID,
		&m.BroadcastID, &c.ContactID, &c.MobileNumber, &c.Name, &c.Status, &m.SenderFirstName, &m.SenderLastName,
		&m.MediaType, &m.MediaID, &m.FileName, &m.FileLocation, &m.MediaStatus, &m.MediaError)
	m.DateTime = fromMicros(created)
	c.APIAccountID = m.APIAccountID
	return err
}

// NewMessage is a message to store.
type NewMessage struct {
	msgrules.Message
	ContactID string
	SenderID  string
	Queued    bool // outgoing, to be sent by the channel sender
	// MediaSource is the channel's id of an incoming file still to fetch
	// (MediaStatus pending), MediaMIME the type the channel announced.
	MediaSource string
	MediaMIME   string
}

// CreateMessage stores a message and returns it as read back. A channel
// message id already stored on the account is a Conflict: the channel
// delivered the same message twice.
func (t *Tx) CreateMessage(ctx context.Context, n NewMessage) (msgrules.Message, error) {
	id := uuid.NewString()
	state := "done"
	if n.Queued {
		state = "queued"
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO messages (id, org_id, api_account_id, conversation_id, contact_id, body_text,
		direction, is_template, send_state, channel_message_id, sender_id, broadcast_id, created_at,
		media_type, media_id, file_name, file_location, media_status, media_error, media_source, media_mime, media_next_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
		id, n.OrgID, n.APIAccountID, n.ConversationID, n.ContactID, n.BodyText, n.MessageDirection, n.IsTemplateMessage,
		state, nullString(n.ChannelMessageID), nullString(n.SenderID), nullString(n.BroadcastID), micros(n.DateTime),
		n.MediaType, nullString(n.MediaID), n.FileName, n.FileLocation, n.MediaStatus, n.MediaError, n.MediaSource, n.MediaMIME,
		0)
	if err = t.store.conflict(err, "messageId", "this channel message is already stored"); err != nil {
		return msgrules.Message{}, errs.Wrap(err, "create message")
	}
	return t.Message(ctx, id)
}

// messages are reached through their API account; the contact and the
// sender's names come joined.
var messages = table[msgrules.Message]{from: messageFrom, alias: "m.", accountCol: "m.api_account_id",
	cols: messageCols, order: "m.created_at, m.id", what: "message", scan: scanMessage}

// Message reads a message in the transaction.
func (t *Tx) Message(ctx context.Context, id string) (msgrules.Message, error) {
	return messages.one(ctx, t.q, messages.anyOrg().eq("m.id", id))
}

// MessageByChannelID reads the message a channel status is about.
func (t *Tx) MessageByChannelID(ctx context.Context, accountID, channelID string) (msgrules.Message, error) {
	return messages.one(ctx, t.q, messages.anyOrg().eq("m.api_account_id", accountID).eq("m.channel_message_id", channelID))
}

// SetDelivery stores a message's delivery flags (m's, as Delivery says).
func (t *Tx) SetDelivery(ctx context.Context, m msgrules.Message) error {
	_, err := t.q.ExecContext(ctx, `UPDATE messages SET is_sent = $2, is_delivered = $3, is_read = $4, failed_reason = $5 WHERE id = $1`,
		m.MessageID, m.IsSent, m.IsDelivered, m.IsRead, m.FailedReason)
	return errs.Wrap(err, "set delivery")
}

// Message reads one message within r.
func (s *Store) Message(ctx context.Context, r Reach, id string) (msgrules.Message, error) {
	return messages.one(ctx, s.rq, messages.within(r).eq("m.id", id))
}

// Messages lists the messages within r, oldest first.
func (s *Store) Messages(ctx context.Context, r Reach, f Filter) ([]msgrules.Message, int, error) {
	q := messages.within(r).eq("m.api_account_id", f.APIAccountID).eq("m.contact_id", f.ContactID).
		eq("m.conversation_id", f.ConversationID).between("m.created_at", f.From, f.To).inbox("m.api_account_id", f.InboxID)
	return messages.page(ctx, s.rq, q, f.Offset)
}

// dueSends selects the queued outgoing messages due at $1, oldest due
// first, at most $2. The order is total, so the same statement in one
// transaction selects the same rows.
const dueSends = ` FROM messages WHERE send_state = 'queued' AND next_attempt_at <= $1
	ORDER BY next_attempt_at, created_at, id LIMIT $2`

// SendsDue reports, from a read, whether any send is due: the sender
// polls every second, and an idle poll should not cost a write.
func (s *Store) SendsDue(ctx context.Context, now time.Time) (bool, error) {
	ids, err := column(ctx, s.rq, `SELECT id`+dueSends, micros(now), 1)
	return len(ids) > 0, errs.Wrap(err, "read due sends")
}

// ClaimSends takes up to limit queued outgoing messages that are due,
// leasing them until lease so another node's sender leaves them alone.
func (t *Tx) ClaimSends(ctx context.Context, now, lease time.Time, limit int) ([]string, error) {
	ids, err := column(ctx, t.q, `SELECT id`+dueSends, micros(now), limit)
	if err != nil || len(ids) == 0 {
		return nil, errs.Wrap(err, "claim sends")
	}
	_, err = t.q.ExecContext(ctx, `UPDATE messages SET next_attempt_at = $3 WHERE id IN (SELECT id`+dueSends+`)`,
		micros(now), limit, micros(lease))
	return ids, errs.Wrap(err, "claim sends")
}

// SendDone takes a message out of the send queue, with the channel's id
// when the send succeeded ("" when the channel refused it for good). Its
// delivery flags are SetDelivery's.
func (t *Tx) SendDone(ctx context.Context, id, channelID string) error {
	_, err := t.q.ExecContext(ctx, `UPDATE messages SET send_state = 'done', channel_message_id = $2,
		send_attempts = send_attempts + 1 WHERE id = $1`, id, nullString(channelID))
	return errs.Wrap(err, "record send")
}

// SendRetry counts a failed attempt and puts the message back in the
// queue, due at next(attempts).
func (t *Tx) SendRetry(ctx context.Context, id string, next func(attempts int) time.Time) (attempts int, err error) {
	err = t.q.QueryRowContext(ctx, `UPDATE messages SET send_attempts = send_attempts + 1
		WHERE id = $1 RETURNING send_attempts`, id).Scan(&attempts)
	if err != nil {
		return 0, errs.Wrap(err, "requeue send")
	}
	_, err = t.q.ExecContext(ctx, `UPDATE messages SET next_attempt_at = $2 WHERE id = $1`, id, micros(next(attempts)))
	return attempts, errs.Wrap(err, "requeue send")
}

const broadcastCols = `b.id, b.org_id, b.api_account_id, b.contact_id, b.template_id, COALESCE(b.message_id, ''), b.message,
	b.status, b.reason, b.params, b.created_at`

func scanBroadcast(row scanner, b *msgrules.Broadcast) error {
	var created int64
	var params string
	if err := row.Scan(&b.BroadcastID, &b.OrgID, &b.APIAccountID, &b.ContactID, &b.TemplateID, &b.MessageID, &b.Message,
		&b.Status, &b.Reason, &params, &created); err != nil {
		return err
	}
	b.DateTime = fromMicros(created)
	return json.Unmarshal([]byte(params), &b.Params)
}

// CreateBroadcast stores b, assigning its id and time.
func (t *Tx) CreateBroadcast(ctx context.Context, b *msgrules.Broadcast) error {
	b.BroadcastID = uuid.NewString()
	if b.DateTime.IsZero() {
		b.DateTime = t.now
	}
	params, _ := json.Marshal(b.Params)
	_, err := t.q.ExecContext(ctx, `INSERT INTO broadcasts (id, org_id, api_account_id, contact_id, template_id, message, params,
		status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, b.BroadcastID, b.OrgID, b.APIAccountID, b.ContactID,
		b.TemplateID, b.Message, string(params), b.Status, micros(b.DateTime))
	return errs.Wrap(err, "create broadcast")
}

// SetBroadcast stores a broadcast's status, reason and message id.
func (t *Tx) SetBroadcast(ctx context.Context, b msgrules.Broadcast) error {
	_, err := t.q.ExecContext(ctx, `UPDATE broadcasts SET status = $2, reason = $3, message_id = $4 WHERE id = $1`,
		b.BroadcastID, b.Status, b.Reason, nullString(b.MessageID))
	return errs.Wrap(err, "update broadcast")
}

// broadcasts are reached through their API account.
var broadcasts = table[msgrules.Broadcast]{from: "broadcasts b", alias: "b.", accountCol: "b.api_account_id",
	cols: broadcastCols, order: "b.created_at, b.id", what: "broadcast", scan: scanBroadcast}

// Broadcast reads a broadcast in the transaction.
func (t *Tx) Broadcast(ctx context.Context, id string) (msgrules.Broadcast, error) {
	return broadcasts.one(ctx, t.q, broadcasts.anyOrg().eq("b.id", id))
}

// Broadcast reads one broadcast within r.
func (s *Store) Broadcast(ctx context.Context, r Reach, id string) (msgrules.Broadcast, error) {
	return broadcasts.one(ctx, s.rq, broadcasts.within(r).eq("b.id", id))
}

// Broadcasts lists the broadcasts within r.
func (s *Store) Broadcasts(ctx context.Context, r Reach, f Filter) ([]msgrules.Broadcast, int, error) {
	q := broadcasts.within(r).eq("b.api_account_id", f.APIAccountID).eq("b.contact_id", f.ContactID).
		inbox("b.api_account_id", f.InboxID)
	return broadcasts.page(ctx, s.rq, q, f.Offset)
}

// Conversation reads a conversation in the transaction, as it now is.
func (t *Tx) Conversation(ctx context.Context, id string) (msgrules.Conversation, error) {
	return conversations.one(ctx, t.q, conversations.anyOrg().eq("v.id", id))
}

// MessageByID reads a message of any organisation, for the sender.
func (s *Store) MessageByID(ctx context.Context, id string) (msgrules.Message, error) {
	return messages.one(ctx, s.rq, messages.anyOrg().eq("m.id", id))
}

// BroadcastByID reads a broadcast of any organisation, for the sender.
func (s *Store) BroadcastByID(ctx context.Context, id string) (msgrules.Broadcast, error) {
	return broadcasts.one(ctx, s.rq, broadcasts.anyOrg().eq("b.id", id))
}

// earlyStatusTTL is how long a status for an unknown message is kept:
// the send's answer comes within seconds, or the status was about a
// message sent by another system.
const earlyStatusTTL = 24 * time.Hour

// KeepEarlyStatus keeps a status whose message is not known yet, and
// drops those kept longer than a day.
func (t *Tx) KeepEarlyStatus(ctx context.Context, accountID, channelID, status, reason string) error {
	if _, err := t.q.ExecContext(ctx, `DELETE FROM early_statuses WHERE created_at < $1`, micros(t.now.Add(-earlyStatusTTL))); err != nil {
		return errs.Wrap(err, "prune early statuses")
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO early_statuses (api_account_id, channel_message_id, status, reason, created_at)
		VALUES ($1, $2, $3, $4, $5)`, accountID, channelID, status, reason, micros(t.now))
	return errs.Wrap(err, "keep early status")
}

// TakeEarlyStatuses returns and forgets the statuses kept for a message.
func (t *Tx) TakeEarlyStatuses(ctx context.Context, accountID, channelID string) (statuses, reasons []string, err error) {
	rows, err := t.q.QueryContext(ctx, `SELECT status, reason FROM early_statuses
		WHERE api_account_id = $1 AND channel_message_id = $2 ORDER BY created_at`, accountID, channelID)
	if err != nil {
		return nil, nil, errs.Wrap(err, "read early statuses")
	}
	for rows.Next() {
		var st, reason string
		if err := rows.Scan(&st, &reason); err != nil {
			rows.Close()
			return nil, nil, errs.Wrap(err, "read early statuses")
		}
		statuses, reasons = append(statuses, st), append(reasons, reason)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(statuses) == 0 {
		return nil, nil, errs.Wrap(err, "read early statuses")
	}
	_, err = t.q.ExecContext(ctx, `DELETE FROM early_statuses WHERE api_account_id = $1 AND channel_message_id = $2`, accountID, channelID)
	return statuses, reasons, errs.Wrap(err, "forget early statuses")
}

// Template reads a template in the transaction.
func (t *Tx) Template(ctx context.Context, id string) (msgrules.TemplateView, error) {
	return templates.one(ctx, t.q, templates.anyOrg().eq("t.id", id))
}

// ConversationIn reads a conversation within r in the transaction.
func (t *Tx) ConversationIn(ctx context.Context, r Reach, id string) (msgrules.Conversation, error) {
	return conversations.one(ctx, t.q, conversations.within(r).eq("v.id", id))
}
