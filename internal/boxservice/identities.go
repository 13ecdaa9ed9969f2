package boxservice

import (
	"context"
	"encoding/base64"
	"encoding/json"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/boxrules"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/store"
)

// KeyShareView is the server's half of an invitation link, shaped as
// Misakey's reference answers it: the half is "share", and the encrypted
// invitation share is not sent (no client reads it from here).
type KeyShareView struct {
	OtherShareHash string `json:"other_share_hash"`
	Share          string `json:"share"`
	BoxID          string `json:"box_id"`
}

// KeyShare returns a box's key share to an identity with access to it.
// An unknown hash is a 404, as in the reference, whose client reads it as
// "invalid link": the hash is a secret's hash, so its absence tells a
// guesser nothing about any box.
func (s *Service) KeyShare(ctx context.Context, otherShareHash string) (KeyShareView, error) {
	if err := boxrules.URLSafe("other_share_hash", otherShareHash); err != nil {
		e := errs.As(err)
		e.Where = errs.Path
		return KeyShareView{}, e
	}
	boxID, k, err := s.Store.KeyShare(ctx, otherShareHash)
	if errs.CodeOf(err) == errs.NotFound {
		return KeyShareView{}, unknownShare()
	}
	if err != nil {
		return KeyShareView{}, err
	}
	if _, _, err := s.visible(ctx, boxID); err != nil {
		return KeyShareView{}, err
	}
	return KeyShareView{OtherShareHash: k.OtherShareHash, Share: k.MisakeyShare, BoxID: boxID}, nil
}

func unknownShare() error {
	return &errs.Error{Code: errs.NotFound, Message: "no such key share", Where: errs.Path,
		Fields: map[string]string{"other_share_hash": "not_found"}}
}

// PublicInfo is what an invitation page shows before joining.
type PublicInfo struct {
	Title      string       `json:"title"`
	Creator    IdentityView `json:"creator"`
	OwnerOrgID string       `json:"owner_org_id"`
}

// PublicBox returns a box's title and creator to anyone holding its
// current invitation link (proved by the share hash). Anything else looks
// like an unknown box.
func (s *Service) PublicBox(ctx context.Context, boxID, otherShareHash string) (PublicInfo, error) {
	who, err := caller(ctx)
	if err != nil {
		return PublicInfo{}, err
	}
	if otherShareHash == "" {
		return PublicInfo{}, errs.Field(errs.Query, "other_share_hash", errs.Required, "other_share_hash is required")
	}
	shareBox, _, err := s.Store.KeyShare(ctx, otherShareHash)
	if errs.CodeOf(err) == errs.NotFound || (err == nil && shareBox != boxID) {
		return PublicInfo{}, boxrules.NoAccess()
	}
	if err != nil {
		return PublicInfo{}, err
	}
	st, err := s.Store.BoxState(ctx, boxID)
	if err != nil || (st.Lifecycle == boxrules.Closed && !st.IsAdmin(who.ID)) {
		return PublicInfo{}, boxrules.NoAccess()
	}
	creator, err := s.Store.IdentityByID(ctx, st.CreatorID)
	if err != nil {
		return PublicInfo{}, err
	}
	return PublicInfo{Title: st.Title, Creator: identityView(creator, who.ID, st.CreatorID), OwnerOrgID: s.ownerOrg(st.Box)}, nil
}

// self checks that a path's identity id is the caller's.
func self(ctx context.Context, identityID string) (identity.Identity, error) {
	who, err := caller(ctx)
	if err != nil {
		return who, err
	}
	if who.ID != identityID {
		return who, errs.E(errs.Forbidden, "this is another identity's resource")
	}
	return who, nil
}

// Settings is an identity's per-box settings.
type Settings struct {
	IdentityID string `json:"identity_id"`
	BoxID      string `json:"box_id"`
	Muted      bool   `json:"muted"`
}

type settingsFrame struct {
	Settings
	OwnerOrgID string `json:"owner_org_id"`
}

// GetSettings reads the caller's settings for a box.
func (s *Service) GetSettings(ctx context.Context, identityID, boxID string) (Settings, error) {
	if _, err := self(ctx, identityID); err != nil {
		return Settings{}, err
	}
	if _, _, err := s.visible(ctx, boxID); err != nil {
		return Settings{}, err
	}
	muted, err := s.Store.Muted(ctx, identityID, boxID)
	return Settings{IdentityID: identityID, BoxID: boxID, Muted: muted}, err
}

// PutSettings changes the caller's settings for a box and journals the
// change in the identity's scope (its other devices learn of it).
func (s *Service) PutSettings(ctx context.Context, identityID, boxID string, muted bool) error {
	if _, err := self(ctx, identityID); err != nil {
		return err
	}
	st, _, err := s.visible(ctx, boxID)
	if err != nil {
		return err
	}
	return s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.SetMuted(ctx, identityID, boxID, muted); err != nil {
			return err
		}
		// The reference's box.settings frame also names the box's organisation.
		payload, _ := json.Marshal(settingsFrame{Settings{IdentityID: identityID, BoxID: boxID, Muted: muted}, s.ownerOrg(st.Box)})
		_, err := tx.Append(ctx, journal.Entry{Scope: journal.IdentityScope(identityID), Type: "box.settings", ActorID: identityID, Payload: payload})
		return err
	})
}

// Notifications lists the caller's notifications, newest first.
func (s *Service) Notifications(ctx context.Context, identityID string, p Page) ([]store.Notification, error) {
	if _, err := self(ctx, identityID); err != nil {
		return nil, err
	}
	if err := p.capped(); err != nil {
		return nil, err
	}
	return s.Store.Notifications(ctx, identityID, p.Offset, p.Limit)
}

// CountNotifications counts the caller's unacknowledged notifications,
// as the reference's HEAD does (the client shows it as a badge).
func (s *Service) CountNotifications(ctx context.Context, identityID string) (int, error) {
	if _, err := self(ctx, identityID); err != nil {
		return 0, err
	}
	return s.Store.CountUnackedNotifications(ctx, identityID)
}

// MaxAckIDs bounds the notification ids one acknowledgement names.
const MaxAckIDs = 100

// AckNotifications marks the caller's notifications as read: those
// named by ids, or all of them when ids is nil.
func (s *Service) AckNotifications(ctx context.Context, identityID string, ids []string) error {
	if _, err := self(ctx, identityID); err != nil {
		return err
	}
	if len(ids) > MaxAckIDs {
		return errs.Field(errs.Query, "ids", errs.Invalid_, "at most %d ids at once", MaxAckIDs)
	}
	for _, id := range ids {
		if uuid.Validate(id) != nil {
			return errs.Field(errs.Query, "ids", errs.Malformed, "ids must be comma-separated notification ids")
		}
	}
	return s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.AckNotifications(ctx, identityID, ids)
	})
}

// EachCryptoAction calls fn for the caller's pending crypto actions,
// oldest first; none while the caller's address is unproven.
func (s *Service) EachCryptoAction(ctx context.Context, identityID string, fn func(store.CryptoAction) error) error {
	who, err := self(ctx, identityID)
	if err != nil {
		return err
	}
	if !who.Verified() {
		return nil
	}
	return s.Store.EachCryptoAction(ctx, identityID, fn)
}

// CryptoAction reads one of the caller's pending crypto actions; like the
// list, none while the caller's address is unproven.
func (s *Service) CryptoAction(ctx context.Context, identityID, actionID string) (store.CryptoAction, error) {
	who, err := self(ctx, identityID)
	if err != nil {
		return store.CryptoAction{}, err
	}
	if !who.Verified() {
		return store.CryptoAction{}, errs.E(errs.NotFound, "no such crypto action")
	}
	return s.Store.CryptoAction(ctx, identityID, actionID)
}

// DeleteCryptoAction removes a crypto action the caller has consumed; an
// unproven address has none to remove.
func (s *Service) DeleteCryptoAction(ctx context.Context, identityID, actionID string) error {
	who, err := self(ctx, identityID)
	if err != nil {
		return err
	}
	if !who.Verified() {
		return errs.E(errs.NotFound, "no such crypto action")
	}
	return s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.DeleteCryptoAction(ctx, identityID, actionID)
	})
}

// PublicProfile is what anyone may know of an identity by its id: enough
// to contact it, never its identifier.
type PublicProfile struct {
	ID          string  `json:"id"`
	DisplayName string  `json:"display_name"`
	AvatarURL   *string `json:"avatar_url"`
	// The address, only when the identity chose to show it (profile
	// config) and it is proven: "" otherwise, as in Misakey's reference.
	IdentifierValue     string  `json:"identifier_value"`
	IdentifierKind      string  `json:"identifier_kind"`
	Contactable         bool    `json:"contactable"`
	Pubkey              *string `json:"pubkey"`
	NonIdentifiedPubkey *string `json:"non_identified_pubkey"`
}

// Profile returns an identity's public profile. It is contactable (POST
// /box-users/{id}/contact can invite it) when its address is proven and
// it has a key an invitation can be encrypted to.
func (s *Service) Profile(ctx context.Context, id string) (PublicProfile, error) {
	if _, err := caller(ctx); err != nil {
		return PublicProfile{}, err
	}
	i, err := s.Store.IdentityByID(ctx, id)
	if err != nil {
		return PublicProfile{}, err
	}
	p := PublicProfile{ID: i.ID, DisplayName: i.DisplayName, AvatarURL: nullable(i.AvatarURL),
		Contactable: i.Verified() && (i.NonIdentifiedPubkey != "" || i.Pubkey != ""),
		Pubkey:      nullable(i.Pubkey), NonIdentifiedPubkey: nullable(i.NonIdentifiedPubkey)}
	if i.ShareEmail && i.Verified() {
		p.IdentifierValue, p.IdentifierKind = i.IdentifierValue, i.IdentifierKind
	}
	return p, nil
}

// Pubkeys returns the public keys of the identity with an identifier, so a
// sender can encrypt an invitation for someone known by e-mail.
func (s *Service) Pubkeys(ctx context.Context, identifierValue string) ([]string, error) {
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	email, err := identity.Email("identifier_value", identifierValue)
	if err != nil {
		e := errs.As(err)
		e.Where = errs.Query
		return nil, e
	}
	i, err := s.Store.IdentityByIdentifier(ctx, email)
	// An unproven address may be anyone's claim: encrypting an invitation
	// to its key would hand the box to whoever claimed it.
	if errs.CodeOf(err) == errs.NotFound || (err == nil && (i.Pubkey == "" || !i.Verified())) {
		return []string{}, nil
	}
	if err != nil {
		return nil, err
	}
	return []string{i.Pubkey}, nil
}

// Contact is POST /box-users/{id}/contact: in one transaction, a box
// (limited) with the caller as admin, its key share, an access for the
// contacted identity, the encrypted invitation left as a crypto action for
// it, and a notification.
type Contact struct {
	ContactedIdentityID string             `json:"contacted_identity_id"`
	IdentityID          string             `json:"identity_id"` // accepted alias
	Box                 NewBox             `json:"box"`
	KeyShare            *boxrules.KeyShare `json:"key_share"`
	InvitationData      map[string]string  `json:"invitation_data"`
}

// ContactIdentity creates a box to talk with another identity.
func (s *Service) ContactIdentity(ctx context.Context, identityID string, in Contact) (BoxView, error) {
	who, err := self(ctx, identityID)
	if err != nil {
		return BoxView{}, err
	}
	contactedID := in.ContactedIdentityID
	if contactedID == "" {
		contactedID = in.IdentityID
	}
	if err := validUUID("contacted_identity_id", contactedID); err != nil {
		return BoxView{}, err
	}
	if contactedID == who.ID {
		return BoxView{}, errs.Field(errs.Body, "contacted_identity_id", errs.Invalid_, "you cannot contact yourself")
	}
	contacted, err := s.Store.IdentityByID(ctx, contactedID)
	// Only a proven address is invited: the invitation holds the box key,
	// encrypted to keys its holder chose.
	if errs.CodeOf(err) == errs.NotFound || (err == nil && !contacted.Verified()) {
		return BoxView{}, &errs.Error{Code: errs.NotFound, Message: "no such identity", Where: errs.Body,
			Fields: map[string]string{"contacted_identity_id": "not_found"}}
	}
	if err != nil {
		return BoxView{}, err
	}
	in.Box.AccessMode, in.Box.KeyShare = boxrules.Limited, in.KeyShare
	if err := in.Box.validate("box."); err != nil {
		return BoxView{}, err
	}
	if in.KeyShare == nil {
		return BoxView{}, errs.Field(errs.Body, "key_share", errs.Required, "key_share is required")
	}
	if err := checkInvitationData(in.InvitationData, contacted); err != nil {
		return BoxView{}, err
	}
	var b boxrules.Box
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if b, err = s.insertBox(ctx, tx, who, in.Box); err != nil {
			return err
		}
		a := applier{tx: tx, who: who, boxID: b.ID, route: boxrules.Batch}
		if err := a.load(ctx); err != nil {
			return err
		}
		rule, _ := json.Marshal(boxrules.AccessContent{RestrictionType: boxrules.RestrictIdentifier, Value: contacted.IdentifierValue})
		if err := a.apply(ctx, boxrules.Input{Type: boxrules.TypeAccessAdd, Content: rule}); err != nil {
			return err
		}
		var invitation string // the action the notification points at
		for pub, encrypted := range in.InvitationData {
			act := &store.CryptoAction{ID: uuid.NewString(), Type: "invitation", BoxID: b.ID, SenderID: who.ID,
				EncryptionPublicKey: pub, Encrypted: encrypted}
			if err := tx.InsertCryptoAction(ctx, contacted.ID, act); err != nil {
				return err
			}
			// The reference invites through the non-identified key; with
			// several entries, that one is the notification's.
			if invitation == "" || pub == contacted.NonIdentifiedPubkey {
				invitation = act.ID
			}
		}
		b.LastPosition = a.state.LastPosition
		details := map[string]any{"box_id": b.ID, "box_title": b.Title, "owner_org_id": s.ownerOrg(b), "cryptoaction_id": nullable(invitation)}
		return notify(ctx, tx, contacted.ID, "box.auto_invite", details)
	})
	if err != nil {
		return BoxView{}, err
	}
	st, err := s.Store.BoxState(ctx, b.ID)
	if err != nil {
		return BoxView{}, err
	}
	return s.boxView(ctx, who.ID, st.Box, 0)
}

// checkInvitationData: each key is one of the contacted identity's public
// keys, each value an encrypted crypto action in standard base64.
func checkInvitationData(data map[string]string, contacted identity.Identity) error {
	for pub, encrypted := range data {
		if pub == "" || (pub != contacted.NonIdentifiedPubkey && pub != contacted.Pubkey) {
			return errs.Field(errs.Body, "invitation_data", errs.Invalid_, "invitation_data keys must be public keys of the contacted identity")
		}
		if _, err := base64.StdEncoding.DecodeString(encrypted); err != nil || encrypted == "" || len(encrypted) > boxrules.MaxEncrypted {
			return errs.Field(errs.Body, "invitation_data", errs.Malformed, "invitation_data values must be standard base64 ciphertext")
		}
	}
	return nil
}

func validUUID(field, v string) error {
	if v == "" {
		return errs.Field(errs.Body, field, errs.Required, "%s is required", field)
	}
	if uuid.Validate(v) != nil {
		return errs.Field(errs.Body, field, errs.Malformed, "%s must be a UUID", field)
	}
	return nil
}
