package boxservice

import (
	"context"
	"encoding/json"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/boxrules"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/logctx"
	"github.com/boxwire/boxwire/internal/store"
)

// Service is the boxes service.
type Service struct {
	Store *store.Store
	Blobs Blobs
	// MaxFileSize bounds an encrypted file upload, in bytes.
	MaxFileSize int64
	// SelfOrgID is the server's own organisation (Misakey's "self org"):
	// the owner_org_id of every box created on this surface.
	SelfOrgID string

	frames frameCache // rendered realtime frames, shared by connections
	sights sightCache // who may see which box, shared by connections
}

// Blobs keeps the bytes of encrypted files. It is an interface so that
// the local directory (one node) and an object store shared by several
// nodes can both serve; the service only needs these operations.
type Blobs interface {
	// Receive streams r aside, refusing more than limit bytes (named by
	// field); nothing is visible under an id until Upload.Keep.
	Receive(r io.Reader, limit int64, field string) (Upload, error)
	// Open gives a stored blob, or a not_found error.
	Open(id string) (io.ReadSeekCloser, error)
	// Remove deletes a blob; a missing one is not an error.
	Remove(id string) error
}

// Upload is a received blob not yet kept.
type Upload interface {
	Keep(id string) error
	Discard()
	Len() int64
}

func caller(ctx context.Context) (identity.Identity, error) {
	c, ok := auth.CallerFrom(ctx)
	if !ok {
		return identity.Identity{}, errs.E(errs.Unauthorized, "authentication required")
	}
	return c.Identity, nil
}

// visible loads a box the caller has access to; an unknown box and a box
// the caller may not see give the same error.
func (s *Service) visible(ctx context.Context, boxID string) (boxrules.State, identity.Identity, error) {
	who, err := caller(ctx)
	if err != nil {
		return boxrules.State{}, who, err
	}
	st, err := s.Store.BoxState(ctx, boxID)
	if errs.CodeOf(err) == errs.NotFound {
		return st, who, boxrules.NoAccess()
	}
	if err != nil {
		return st, who, err
	}
	if !st.HasAccess(who) {
		return st, who, boxrules.NoAccess()
	}
	return st, who, nil
}

// readable is visible, plus membership: reading a box's content needs a join
// (the admin is always a member).
func (s *Service) readable(ctx context.Context, boxID string) (boxrules.State, identity.Identity, error) {
	st, who, err := s.visible(ctx, boxID)
	if err != nil {
		return st, who, err
	}
	actor := boxrules.Actor{Identity: who}
	if !st.IsAdmin(who.ID) { // the admin is a member without a join: no read
		if actor.JoinEventID, err = s.Store.JoinOf(ctx, boxID, who.ID); err != nil {
			return st, who, err
		}
	}
	if !actor.Member(st) {
		return st, who, boxrules.NotMember()
	}
	return st, who, nil
}

// NewBox is what creating a box takes.
type NewBox struct {
	Title      string             `json:"title"`
	PublicKey  string             `json:"public_key"`
	AccessMode string             `json:"access_mode"`
	KeyShare   *boxrules.KeyShare `json:"key_share"`
	// OwnerOrgID may name the server's own organisation, the default;
	// boxes of other organisations are not made on this surface.
	OwnerOrgID string `json:"owner_org_id"`
}

func (in *NewBox) validate(prefix string) error {
	title, titleErr := boxrules.Title(prefix+"title", in.Title)
	in.Title = title
	var modeErr error
	switch in.AccessMode {
	case "":
		in.AccessMode = boxrules.Limited
	case boxrules.Limited, boxrules.Public:
	default:
		modeErr = errs.Field(errs.Body, prefix+"access_mode", errs.Invalid_, "access_mode must be limited or public")
	}
	var shareErr error
	if in.KeyShare != nil {
		shareErr = in.KeyShare.Validate(prefix + "key_share.")
	}
	return errs.Faults(titleErr, boxrules.PublicKey(prefix+"public_key", in.PublicKey), modeErr, shareErr)
}

// CreateBox creates a box administered by the caller, with its create event.
func (s *Service) CreateBox(ctx context.Context, in NewBox) (BoxView, error) {
	who, err := caller(ctx)
	if err != nil {
		return BoxView{}, err
	}
	if err := in.validate(""); err != nil {
		return BoxView{}, err
	}
	if err := s.checkOwnerOrg(in.OwnerOrgID); err != nil {
		return BoxView{}, err
	}
	var b boxrules.Box
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		b, err = s.insertBox(ctx, tx, who, in)
		return err
	})
	if err != nil {
		return BoxView{}, err
	}
	return s.boxView(ctx, who.ID, b, 0)
}

// checkOwnerOrg accepts no owner_org_id or the server's own, as the
// reference does for a caller who administers no other organisation.
func (s *Service) checkOwnerOrg(id string) error {
	switch {
	case id == "" || strings.EqualFold(id, s.SelfOrgID):
		return nil
	case uuid.Validate(id) != nil:
		return errs.Field(errs.Body, "owner_org_id", errs.Malformed, "owner_org_id must be a UUID")
	}
	return errs.E(errs.Forbidden, "boxes of another organisation are not created here")
}

func (s *Service) insertBox(ctx context.Context, tx *store.Tx, who identity.Identity, in NewBox) (boxrules.Box, error) {
	b := boxrules.Box{ID: uuid.NewString(), Title: in.Title, PublicKey: in.PublicKey, AccessMode: in.AccessMode,
		Lifecycle: boxrules.Open, CreatorID: who.ID, OwnerOrgID: s.SelfOrgID}
	if err := tx.InsertBox(ctx, &b); err != nil {
		return b, err
	}
	content, _ := json.Marshal(map[string]string{"public_key": b.PublicKey, "title": b.Title})
	ev := &store.Event{BoxID: b.ID, Type: boxrules.TypeCreate, SenderID: who.ID, Content: content}
	if err := tx.AppendBoxEvent(ctx, ev); err != nil {
		return b, err
	}
	b.LastPosition = ev.Position
	if err := tx.AckBox(ctx, b.ID, who.ID, ev.Position); err != nil {
		return b, err
	}
	if in.KeyShare != nil {
		if err := tx.PutKeyShare(ctx, b.ID, *in.KeyShare); err != nil {
			return b, err
		}
	}
	return b, nil
}

// GetBox returns a box to its members. An identity that may join but has
// not gets boxrules.NotMember, as from Misakey's reference: the view carries
// the last event, which is the box's content. Only /boxes/{id}/public is
// open to those who have not joined.
func (s *Service) GetBox(ctx context.Context, id string) (BoxView, error) {
	st, who, err := s.readable(ctx, id)
	if err != nil {
		return BoxView{}, err
	}
	unread, err := s.Store.Unread(ctx, id, who.ID)
	if err != nil {
		return BoxView{}, err
	}
	return s.boxView(ctx, who.ID, st.Box, unread)
}

// Page is an offset and a limit, validated by the caller.
type Page struct{ Offset, Limit int }

// MaxLimit is the largest page of the lists that are read whole before
// they are answered (joined boxes, notifications): a larger limit is
// refused with a 400 naming limit, so no request holds more.
const MaxLimit = 100

// capped refuses a page larger than MaxLimit.
func (p Page) capped() error {
	if p.Limit > MaxLimit {
		return errs.Field(errs.Query, "limit", errs.Invalid_, "limit must be at most %d", MaxLimit)
	}
	return nil
}

// JoinedBoxes lists the caller's boxes, newest activity first.
func (s *Service) JoinedBoxes(ctx context.Context, p Page) ([]BoxView, error) {
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.capped(); err != nil {
		return nil, err
	}
	rows, err := s.Store.JoinedBoxes(ctx, who.ID, p.Offset, p.Limit)
	if err != nil {
		return nil, err
	}
	out := make([]BoxView, 0, len(rows))
	for _, r := range rows {
		v, err := s.boxView(ctx, who.ID, r.Box, r.Unread)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// CountJoinedBoxes counts the caller's boxes.
func (s *Service) CountJoinedBoxes(ctx context.Context) (int, error) {
	who, err := caller(ctx)
	if err != nil {
		return 0, err
	}
	return s.Store.CountJoinedBoxes(ctx, who.ID)
}

// DeleteBox deletes a box (admin only) and its files.
func (s *Service) DeleteBox(ctx context.Context, id string) error {
	st, who, err := s.visible(ctx, id)
	if err != nil {
		return err
	}
	if !st.IsAdmin(who.ID) {
		return errs.E(errs.Forbidden, "only the box's admin may delete it")
	}
	var gone []string // files no live event refers to any more
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		files, err := tx.BoxFiles(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteBox(ctx, id); err != nil {
			return err
		}
		gone = gone[:0]
		for _, f := range files {
			unreferenced, err := tx.FileUnreferenced(ctx, f)
			if err != nil {
				return err
			}
			if unreferenced {
				gone = append(gone, f)
			}
		}
		// The reference's box.delete object: its client removes the box
		// from that organisation's list.
		payload, _ := json.Marshal(map[string]string{"id": id, "owner_org_id": s.ownerOrg(st.Box),
			"sender_id": who.ID, "public_key": st.PublicKey})
		_, err = tx.Append(ctx, journal.Entry{Scope: id, Type: "box.delete", ActorID: who.ID, Payload: payload})
		return err
	})
	if err != nil {
		return err
	}
	s.removeBlobs(ctx, gone)
	return nil
}

// removeBlobs deletes files after the commit that made them unreachable.
// A failure leaves an orphan blob, never a reference to a missing one.
func (s *Service) removeBlobs(ctx context.Context, ids []string) {
	for _, id := range ids {
		if err := s.Blobs.Remove(id); err != nil {
			logctx.From(ctx).Warn("remove blob", "file", id, "error", err)
		}
	}
}

// EachMember calls fn for the box's admin and joined members, by display
// name, a chunk of rows at a time (no list is held whole).
func (s *Service) EachMember(ctx context.Context, id string, fn func(IdentityView) error) error {
	st, who, err := s.readable(ctx, id)
	if err != nil {
		return err
	}
	return s.Store.EachMemberIdentity(ctx, id, func(i identity.Identity) error {
		return fn(identityView(i, who.ID, st.CreatorID))
	})
}

// EachAccess calls fn for the active access.add events, newest first
// (admin only).
func (s *Service) EachAccess(ctx context.Context, id string, fn func(EventView) error) error {
	st, who, err := s.visible(ctx, id)
	if err != nil {
		return err
	}
	if !st.IsAdmin(who.ID) {
		return errs.E(errs.Forbidden, "only the box's admin may list its accesses")
	}
	return s.Store.EachAccessEvent(ctx, id, func(e store.Event) error {
		return fn(EventViewOf(e, who.ID, st.CreatorID))
	})
}

func views(events []store.Event, viewerID, creatorID string) []EventView {
	out := make([]EventView, 0, len(events))
	for _, e := range events {
		out = append(out, EventViewOf(e, viewerID, creatorID))
	}
	return out
}

// EachEvent calls fn for a box's events (or only its file events), oldest
// first, reading them a chunk at a time: a box of any size is listed in
// bounded memory, so the list needs no page limit (seed 000).
func (s *Service) EachEvent(ctx context.Context, id string, filesOnly bool, p Page, fn func(EventView) error) error {
	st, who, err := s.readable(ctx, id)
	if err != nil {
		return err
	}
	return s.Store.EachBoxEvent(ctx, id, store.EventFilter{FilesOnly: filesOnly, Offset: p.Offset, Limit: p.Limit},
		func(e store.Event) error { return fn(EventViewOf(e, who.ID, st.CreatorID)) })
}

// CountEvents counts what ListEvents lists.
func (s *Service) CountEvents(ctx context.Context, id string, filesOnly bool) (int, error) {
	if _, _, err := s.readable(ctx, id); err != nil {
		return 0, err
	}
	return s.Store.CountBoxEvents(ctx, id, store.EventFilter{FilesOnly: filesOnly})
}

// AckNewEvents resets the caller's unread count of a box.
//
// identityID is the body's identity_id of Misakey's reference: required, a
// UUID, and the caller's own (403 otherwise), checked in that order.
func (s *Service) AckNewEvents(ctx context.Context, identityID, id string) error {
	if err := validUUID("identity_id", identityID); err != nil {
		return err
	}
	if _, err := self(ctx, identityID); err != nil {
		return err
	}
	if _, _, err := s.readable(ctx, id); err != nil {
		return err
	}
	who, _ := caller(ctx)
	return s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		st, err := tx.BoxState(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.AckBox(ctx, id, who.ID, st.LastPosition); err != nil {
			return err
		}
		// The identity's other streams (another tab, the phone) learn it
		// too, as Misakey's reference echoes an ack to its other sockets.
		payload, _ := json.Marshal(map[string]string{"sender_id": who.ID, "box_id": id})
		_, err = tx.Append(ctx, journal.Entry{Scope: journal.IdentityScope(who.ID), Type: "ack", Payload: payload})
		return err
	})
}
