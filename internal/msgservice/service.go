// Package business is the messaging service of seed 004 (DESIGN §6):
// organisations' users and teams, API accounts, inboxes, contacts,
// conversations, messages, templates, broadcasts and webhooks. It checks
// who may do what (below HTTP), asks internal/msgrules for the rules,
// writes through the store in one transaction per call and journals
// every change in the organisation's scope, from where webhooks and
// realtime readers take it.
package msgservice

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/boxservice"
	"github.com/boxwire/boxwire/internal/channel"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/msgrules"
	"github.com/boxwire/boxwire/internal/store"
)

// Service is the messaging service.
type Service struct {
	Store *store.Store
	// Now is the messaging clock: message times and the 24-hour session
	// window. Default time.Now; tests and --test-clock move it.
	Now func() time.Time
	// Channels are the transports by channel name (sandbox, whatsapp).
	Channels map[string]channel.Sender
	// Log receives what the service drops or retries on its own.
	Log *slog.Logger
	// MaxSendAttempts bounds the tries of a send the channel keeps
	// refusing for a passing reason; then the message fails. Default 10.
	MaxSendAttempts int
	// Verifier e-mails a code to the new address of a user an admin
	// creates or renames, unless a granted domain vouches for it.
	Verifier *auth.Verifier
	// WebhookTargets refuses webhook targets inside the server's network
	// when an admin sets them (webhook.Guard, which also checks every
	// delivery's connection). Nil checks IP literals and localhost only,
	// resolving nothing.
	WebhookTargets TargetChecker
	// Media keeps messages' files (a blob store apart from the boxes'
	// files); nil keeps none: files are refused and incoming ones fail.
	Media boxservice.Blobs
	// PublicURL is the server's URL, the base of files' fileLocation.
	PublicURL string
	// MaxMediaSize caps every file below WhatsApp's limit for its kind; 0
	// leaves those limits.
	MaxMediaSize int64
	// OnSend, if set, hears each send's outcome on a channel: "sent",
	// "failed" (for good) or "retried" (metrics).
	OnSend func(channel, outcome string)
	// MaxFetchAttempts bounds the tries to fetch an incoming file; then
	// the message keeps an empty fileLocation and says why. Default 8.
	MaxFetchAttempts int

	kickOnce sync.Once
	kick     chan struct{} // a send was queued

	fetchOnce sync.Once
	fetchKick chan struct{} // an incoming file is to fetch
}

// now is the messaging clock's time, to the microsecond the store keeps.
func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC().Truncate(time.Microsecond)
	}
	return s.Now().UTC().Truncate(time.Microsecond)
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// wake tells the sender that a send is queued.
func (s *Service) wake() {
	select {
	case s.kicks() <- struct{}{}:
	default:
	}
}

func (s *Service) kicks() chan struct{} {
	s.kickOnce.Do(func() { s.kick = make(chan struct{}, 1) })
	return s.kick
}

// member is the caller as a member of their organisation. A signed-in
// identity that belongs to no organisation may not use the messaging API.
func (s *Service) member(ctx context.Context) (msgrules.Member, error) {
	c, ok := auth.CallerFrom(ctx)
	if !ok {
		return msgrules.Member{}, errs.E(errs.Unauthorized, "authentication required")
	}
	m, err := s.Store.MemberOf(ctx, c.Identity.ID)
	if errs.CodeOf(err) == errs.NotFound {
		return m, errs.E(errs.Forbidden, "this user belongs to no organisation: add them with `boxwire user add --org`")
	}
	return m, err
}

// admin is member, for the writes only organisation admins make.
func (s *Service) admin(ctx context.Context) (msgrules.Member, error) {
	m, err := s.member(ctx)
	if err != nil {
		return m, err
	}
	if !m.IsAdmin() {
		return m, errs.E(errs.Forbidden, "only organisation admins may do this")
	}
	return m, nil
}

// record journals a change of a messaging record in the organisation's
// scope; refID is the record's id.
func record(ctx context.Context, tx *store.Tx, orgID, actorID, typ, refID string, v any) error {
	_, err := tx.Append(ctx, journal.Entry{Scope: msgrules.OrgScope(orgID), Type: typ, ActorID: actorID,
		RefID: refID, Payload: msgrules.EntryPayload(v)})
	return err
}

// pageOffset turns the seed's 1-based page into an offset.
func pageOffset(page int) (int, error) {
	if page == 0 {
		page = 1
	}
	if page < 1 {
		return 0, errs.Field(errs.Query, "page", errs.Invalid_, "page must be 1 or more")
	}
	return (page - 1) * msgrules.PageSize, nil
}
