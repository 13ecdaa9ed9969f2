// Package boxes is the boxes service: it loads a box's state from the
// store, asks package boxrules whether the caller may act, and applies the
// result in one transaction. Every method reads the caller from the
// context, so authorization cannot be skipped by a handler.
package boxservice

import (
	"context"
	"encoding/json"
	"time"

	"github.com/boxwire/boxwire/internal/boxrules"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/store"
)

// IdentityView is how an identity appears in a sender or creator field.
type IdentityView struct {
	ID              string  `json:"id"`
	DisplayName     string  `json:"display_name"`
	AvatarURL       *string `json:"avatar_url"`
	IdentifierValue string  `json:"identifier_value"`
	IdentifierKind  string  `json:"identifier_kind"`
}

// identityView shows the identifier only to the identity itself and to the
// box's creator; everyone else gets empty identifier fields.
func identityView(i identity.Identity, viewerID, creatorID string) IdentityView {
	v := IdentityView{ID: i.ID, DisplayName: i.DisplayName, AvatarURL: nullable(i.AvatarURL)}
	if viewerID == i.ID || viewerID == creatorID {
		v.IdentifierValue, v.IdentifierKind = i.IdentifierValue, i.IdentifierKind
	}
	return v
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// EventView is an event as the boxes API shows it.
type EventView struct {
	ID                   string          `json:"id"`
	Type                 string          `json:"type"`
	BoxID                string          `json:"box_id"`
	ServerEventCreatedAt time.Time       `json:"server_event_created_at"`
	Sender               IdentityView    `json:"sender"`
	Content              json.RawMessage `json:"content"`
	ReferrerID           *string         `json:"referrer_id"`
	// Position is the event's journal position: realtime frames carry it
	// beside the view; it is not part of the JSON.
	Position int64 `json:"-"`
}

// EventViewOf renders a stored event for a viewer of a box.
func EventViewOf(e store.Event, viewerID, creatorID string) EventView {
	content := e.Content
	if len(content) == 0 {
		content = json.RawMessage("null")
	}
	return EventView{ID: e.ID, Type: e.Type, BoxID: e.BoxID, ServerEventCreatedAt: e.CreatedAt,
		Sender: identityView(e.Sender, viewerID, creatorID), Content: content, ReferrerID: nullable(e.ReferrerID),
		Position: e.Position}
}

// BoxView is a box as the boxes API shows it.
type BoxView struct {
	ID              string       `json:"id"`
	ServerCreatedAt time.Time    `json:"server_created_at"`
	PublicKey       string       `json:"public_key"`
	Title           string       `json:"title"`
	AccessMode      string       `json:"access_mode"`
	OwnerOrgID      string       `json:"owner_org_id"`
	Lifecycle       string       `json:"lifecycle"`
	Creator         IdentityView `json:"creator"`
	LastEvent       *EventView   `json:"last_event"`
	EventsCount     int          `json:"events_count"`
	// Settings are the caller's own settings for the box, as Misakey's
	// reference puts them in every box view (its client reads the mute
	// state there).
	Settings Settings `json:"settings"`
}

// ownerOrg is a box's organisation: the one stored at its creation, or
// the server's own for boxes created before it was stored.
func (s *Service) ownerOrg(b boxrules.Box) string {
	if b.OwnerOrgID != "" {
		return b.OwnerOrgID
	}
	return s.SelfOrgID
}

func (s *Service) boxView(ctx context.Context, viewerID string, b boxrules.Box, unread int) (BoxView, error) {
	creator, err := s.Store.IdentityByID(ctx, b.CreatorID)
	if err != nil {
		return BoxView{}, err
	}
	muted, err := s.Store.Muted(ctx, viewerID, b.ID)
	if err != nil {
		return BoxView{}, err
	}
	v := BoxView{ID: b.ID, ServerCreatedAt: b.CreatedAt, PublicKey: b.PublicKey, Title: b.Title,
		AccessMode: b.AccessMode, OwnerOrgID: s.ownerOrg(b), Lifecycle: b.Lifecycle,
		Creator: identityView(creator, viewerID, b.CreatorID), EventsCount: unread,
		Settings: Settings{IdentityID: viewerID, BoxID: b.ID, Muted: muted}}
	if b.LastPosition > 0 {
		last, err := s.Store.BoxEventAt(ctx, b.LastPosition)
		if err != nil {
			return v, err
		}
		ev := EventViewOf(last, viewerID, b.CreatorID)
		v.LastEvent = &ev
	}
	return v, nil
}
