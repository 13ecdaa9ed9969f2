package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"time"
)

// Identity is an identity as it appears in senders and member lists.
// Identifier fields are empty unless the caller may see them.
type Identity struct {
	ID              string  `json:"id"`
	DisplayName     string  `json:"display_name"`
	AvatarURL       *string `json:"avatar_url"`
	IdentifierValue string  `json:"identifier_value"`
	IdentifierKind  string  `json:"identifier_kind"`
}

// Event is a box event.
type Event struct {
	ID                   string          `json:"id"`
	Type                 string          `json:"type"`
	BoxID                string          `json:"box_id"`
	ServerEventCreatedAt time.Time       `json:"server_event_created_at"`
	Sender               Identity        `json:"sender"`
	Content              json.RawMessage `json:"content"`
	ReferrerID           *string         `json:"referrer_id"`
}

// MessageContent is the content of msg.text and msg.file events as listed:
// ciphertext, or the deletion that replaced it.
type MessageContent struct {
	Encrypted       string     `json:"encrypted"`
	PublicKey       string     `json:"public_key"`
	EncryptedFileID string     `json:"encrypted_file_id"`
	LastEditedAt    *time.Time `json:"last_edited_at"`
	Deleted         *struct {
		AtTime         time.Time `json:"at_time"`
		ByIdentifierID string    `json:"by_identifier_id"`
	} `json:"deleted"`
}

// Message decodes a message event's content.
func (e Event) Message() (MessageContent, error) {
	var m MessageContent
	err := json.Unmarshal(e.Content, &m)
	return m, err
}

// Box is a box as the API shows it.
type Box struct {
	ID              string    `json:"id"`
	ServerCreatedAt time.Time `json:"server_created_at"`
	PublicKey       string    `json:"public_key"`
	Title           string    `json:"title"`
	AccessMode      string    `json:"access_mode"`
	OwnerOrgID      *string   `json:"owner_org_id"`
	Lifecycle       string    `json:"lifecycle"`
	Creator         Identity  `json:"creator"`
	LastEvent       *Event    `json:"last_event"`
	EventsCount     int       `json:"events_count"`
	// Settings are the caller's own settings for the box.
	Settings Settings `json:"settings"`
}

// KeyShare is the server's half of an invitation link, as sent when
// creating a box or replacing its share.
type KeyShare struct {
	BoxID                       string `json:"box_id,omitempty"`
	MisakeyShare                string `json:"misakey_share"`
	OtherShareHash              string `json:"other_share_hash"`
	EncryptedInvitationKeyShare string `json:"encrypted_invitation_key_share,omitempty"`
}

// NewBox is what CreateBox sends.
type NewBox struct {
	Title      string    `json:"title"`
	PublicKey  string    `json:"public_key"`
	AccessMode string    `json:"access_mode,omitempty"`
	KeyShare   *KeyShare `json:"key_share,omitempty"`
}

// NewEvent is an event to post.
type NewEvent struct {
	Type       string    `json:"type"`
	Content    any       `json:"content,omitempty"`
	ReferrerID *string   `json:"referrer_id"`
	Extra      *KeyShare `json:"extra,omitempty"`
}

// CreateBox creates a box; the caller becomes its admin.
func (c *Client) CreateBox(ctx context.Context, in NewBox) (Box, error) {
	var b Box
	_, err := c.do(ctx, "POST", "/boxes", in, &b)
	return b, err
}

// Box reads a box.
func (c *Client) Box(ctx context.Context, id string) (Box, error) {
	var b Box
	_, err := c.do(ctx, "GET", "/boxes/"+id, nil, &b)
	return b, err
}

// JoinedBoxes lists the caller's boxes, newest activity first.
func (c *Client) JoinedBoxes(ctx context.Context, offset, limit int) ([]Box, error) {
	var out []Box
	_, err := c.do(ctx, "GET", "/boxes/joined"+pageQuery(offset, limit), nil, &out)
	return out, err
}

// CountJoinedBoxes counts the caller's boxes.
func (c *Client) CountJoinedBoxes(ctx context.Context) (int, error) {
	return c.count(ctx, "/boxes/joined")
}

// DeleteBox deletes a box (admin only), sending the confirmation the
// server asks for, as Misakey's reference does.
func (c *Client) DeleteBox(ctx context.Context, id string) error {
	_, err := c.do(ctx, "DELETE", "/boxes/"+id, map[string]string{"user_confirmation": "delete"}, nil)
	return err
}

// Members lists a box's admin and members.
func (c *Client) Members(ctx context.Context, id string) ([]Identity, error) {
	var out []Identity
	_, err := c.do(ctx, "GET", "/boxes/"+id+"/members", nil, &out)
	return out, err
}

// Accesses lists a box's active access rules (admin only).
func (c *Client) Accesses(ctx context.Context, id string) ([]Event, error) {
	var out []Event
	_, err := c.do(ctx, "GET", "/boxes/"+id+"/accesses", nil, &out)
	return out, err
}

// PostEvent creates one event.
func (c *Client) PostEvent(ctx context.Context, boxID string, ev NewEvent) (Event, error) {
	var out Event
	_, err := c.do(ctx, "POST", "/boxes/"+boxID+"/events", ev, &out)
	return out, err
}

// BatchEvents creates a batch of events, all or none.
func (c *Client) BatchEvents(ctx context.Context, boxID, batchType string, events []NewEvent) ([]Event, error) {
	var out []Event
	_, err := c.do(ctx, "POST", "/boxes/"+boxID+"/batch-events", map[string]any{"batch_type": batchType, "events": events}, &out)
	return out, err
}

// Events lists a box's events, oldest first; limit 0 for all.
func (c *Client) Events(ctx context.Context, boxID string, offset, limit int) ([]Event, error) {
	var out []Event
	_, err := c.do(ctx, "GET", "/boxes/"+boxID+"/events"+pageQuery(offset, limit), nil, &out)
	return out, err
}

// CountEvents counts a box's listed events.
func (c *Client) CountEvents(ctx context.Context, boxID string) (int, error) {
	return c.count(ctx, "/boxes/"+boxID+"/events")
}

// Files lists a box's msg.file events, oldest first.
func (c *Client) Files(ctx context.Context, boxID string, offset, limit int) ([]Event, error) {
	var out []Event
	_, err := c.do(ctx, "GET", "/boxes/"+boxID+"/files"+pageQuery(offset, limit), nil, &out)
	return out, err
}

// CountFiles counts a box's msg.file events.
func (c *Client) CountFiles(ctx context.Context, boxID string) (int, error) {
	return c.count(ctx, "/boxes/"+boxID+"/files")
}

// UploadFile streams an already encrypted file with its encrypted message;
// progress (if not nil) is called with the bytes sent so far.
func (c *Client) UploadFile(ctx context.Context, boxID string, encryptedFile io.Reader, encryptedContent, publicKey string, progress func(sent int64)) (Event, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			if err := mw.WriteField("msg_encrypted_content", encryptedContent); err != nil {
				return err
			}
			if err := mw.WriteField("msg_public_key", publicKey); err != nil {
				return err
			}
			part, err := mw.CreateFormFile("encrypted_file", "encrypted")
			if err != nil {
				return err
			}
			if _, err := io.Copy(part, &countingReader{r: encryptedFile, progress: progress}); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, "POST", c.BaseURL+"/boxes/"+boxID+"/encrypted-files", pr)
	if err != nil {
		return Event{}, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var ev Event
	_, err = c.send(req, &ev)
	pr.CloseWithError(io.ErrClosedPipe) // unblock the writer if the server answered early
	return ev, err
}

type countingReader struct {
	r        io.Reader
	n        int64
	progress func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.progress != nil && n > 0 {
		c.progress(c.n)
	}
	return n, err
}

// DownloadFile opens an encrypted file's bytes; the caller closes it.
func (c *Client) DownloadFile(ctx context.Context, fileID string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.BaseURL+"/encrypted-files/"+fileID, nil)
	if err != nil {
		return nil, err
	}
	res, err := c.roundTrip(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		defer res.Body.Close()
		return nil, errorOf(res)
	}
	return res.Body, nil
}

// StoredShare is the server's half of an invitation link as
// GET /box-key-shares/{hash} answers it (Misakey's shape: the half is
// "share").
type StoredShare struct {
	OtherShareHash string `json:"other_share_hash"`
	Share          string `json:"share"`
	BoxID          string `json:"box_id"`
}

// KeyShare fetches the server's half of an invitation link.
func (c *Client) KeyShare(ctx context.Context, otherShareHash string) (StoredShare, error) {
	var k StoredShare
	_, err := c.do(ctx, "GET", "/box-key-shares/"+url.PathEscape(otherShareHash), nil, &k)
	return k, err
}

// PublicInfo is what an invitation page shows.
type PublicInfo struct {
	Title      string   `json:"title"`
	Creator    Identity `json:"creator"`
	OwnerOrgID string   `json:"owner_org_id"`
}

// PublicBox reads a box's title and creator with an invitation's hash.
func (c *Client) PublicBox(ctx context.Context, boxID, otherShareHash string) (PublicInfo, error) {
	var p PublicInfo
	_, err := c.do(ctx, "GET", "/boxes/"+boxID+"/public?other_share_hash="+url.QueryEscape(otherShareHash), nil, &p)
	return p, err
}

// AckNewEvents resets the unread count of a box for identityID, which must
// be the caller's own identity.
func (c *Client) AckNewEvents(ctx context.Context, identityID, boxID string) error {
	_, err := c.do(ctx, "PUT", "/boxes/"+boxID+"/new-events-count/ack", map[string]string{"identity_id": identityID}, nil)
	return err
}

// Settings is an identity's per-box settings.
type Settings struct {
	IdentityID string `json:"identity_id"`
	BoxID      string `json:"box_id"`
	Muted      bool   `json:"muted"`
}

// Settings reads the caller's settings for a box.
func (c *Client) Settings(ctx context.Context, identityID, boxID string) (Settings, error) {
	var s Settings
	_, err := c.do(ctx, "GET", "/box-users/"+identityID+"/boxes/"+boxID+"/settings", nil, &s)
	return s, err
}

// SetMuted mutes or unmutes a box for the caller.
func (c *Client) SetMuted(ctx context.Context, identityID, boxID string, muted bool) error {
	_, err := c.do(ctx, "PUT", "/box-users/"+identityID+"/boxes/"+boxID+"/settings", map[string]bool{"muted": muted}, nil)
	return err
}

// ContactRequest is what Contact sends (seed 002).
type ContactRequest struct {
	ContactedIdentityID string            `json:"contacted_identity_id"`
	Box                 NewBox            `json:"box"`
	KeyShare            *KeyShare         `json:"key_share"`
	InvitationData      map[string]string `json:"invitation_data,omitempty"`
}

// Contact creates a box with another identity and invites it.
func (c *Client) Contact(ctx context.Context, identityID string, in ContactRequest) (Box, error) {
	var b Box
	_, err := c.do(ctx, "POST", "/box-users/"+identityID+"/contact", in, &b)
	return b, err
}

// Notification is a message to the caller.
type Notification struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	Details        json.RawMessage `json:"details"`
	CreatedAt      time.Time       `json:"created_at"`
	AcknowledgedAt *time.Time      `json:"acknowledged_at"`
}

// Notifications lists the caller's notifications, newest first.
func (c *Client) Notifications(ctx context.Context, identityID string, offset, limit int) ([]Notification, error) {
	var out []Notification
	_, err := c.do(ctx, "GET", "/identities/"+identityID+"/notifications"+pageQuery(offset, limit), nil, &out)
	return out, err
}

// AckNotifications marks the caller's notifications as read.
func (c *Client) AckNotifications(ctx context.Context, identityID string) error {
	_, err := c.do(ctx, "PUT", "/identities/"+identityID+"/notifications/acknowledgement", nil, nil)
	return err
}

// CryptoAction is an encrypted key delivery waiting for the caller.
type CryptoAction struct {
	ID                  string    `json:"id"`
	Type                string    `json:"type"`
	BoxID               string    `json:"box_id"`
	SenderID            string    `json:"sender_id"`
	EncryptionPublicKey string    `json:"encryption_public_key"`
	Encrypted           string    `json:"encrypted"`
	CreatedAt           time.Time `json:"created_at"`
}

// CryptoActions lists the caller's pending crypto actions.
func (c *Client) CryptoActions(ctx context.Context, identityID string) ([]CryptoAction, error) {
	var out []CryptoAction
	_, err := c.do(ctx, "GET", "/identities/"+identityID+"/crypto/actions", nil, &out)
	return out, err
}

// DeleteCryptoAction removes a consumed crypto action.
func (c *Client) DeleteCryptoAction(ctx context.Context, identityID, actionID string) error {
	_, err := c.do(ctx, "DELETE", "/identities/"+identityID+"/crypto/actions/"+actionID, nil, nil)
	return err
}

// Me is the caller's own identity, identifier and keys included.
type Me struct {
	Identity
	Pubkey              *string `json:"pubkey"`
	NonIdentifiedPubkey *string `json:"non_identified_pubkey"`
}

// Identity reads the caller's own identity.
func (c *Client) Identity(ctx context.Context, id string) (Me, error) {
	var m Me
	_, err := c.do(ctx, "GET", "/identities/"+id, nil, &m)
	return m, err
}

// IdentityUpdate changes the caller's profile and keys; nil leaves a field.
type IdentityUpdate struct {
	DisplayName         *string `json:"display_name,omitempty"`
	AvatarURL           *string `json:"avatar_url,omitempty"`
	Pubkey              *string `json:"pubkey,omitempty"`
	NonIdentifiedPubkey *string `json:"non_identified_pubkey,omitempty"`
}

// UpdateIdentity changes the caller's profile and public keys.
func (c *Client) UpdateIdentity(ctx context.Context, id string, u IdentityUpdate) error {
	_, err := c.do(ctx, "PATCH", "/identities/"+id, u, nil)
	return err
}

// Profile is an identity's public profile.
type Profile struct {
	ID                  string  `json:"id"`
	DisplayName         string  `json:"display_name"`
	AvatarURL           *string `json:"avatar_url"`
	Pubkey              *string `json:"pubkey"`
	NonIdentifiedPubkey *string `json:"non_identified_pubkey"`
}

// Profile reads another identity's public profile.
func (c *Client) Profile(ctx context.Context, id string) (Profile, error) {
	var p Profile
	_, err := c.do(ctx, "GET", "/identities/"+id+"/profile", nil, &p)
	return p, err
}

// Pubkeys looks up the public keys of the identity with an identifier.
func (c *Client) Pubkeys(ctx context.Context, identifierValue string) ([]string, error) {
	var out []string
	_, err := c.do(ctx, "GET", "/identities/pubkey?identifier_value="+url.QueryEscape(identifierValue), nil, &out)
	return out, err
}

// CSRF fetches the CSRF token for cookie-authenticated requests.
func (c *Client) CSRF(ctx context.Context) (string, error) {
	var out struct {
		Token string `json:"csrf_token"`
	}
	_, err := c.do(ctx, "GET", "/csrf", nil, &out)
	if err == nil && out.Token == "" {
		err = fmt.Errorf("csrf: empty token")
	}
	return out.Token, err
}
