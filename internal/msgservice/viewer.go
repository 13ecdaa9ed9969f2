package msgservice

import (
	"context"
	"encoding/json"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/msgrules"
	"github.com/boxwire/boxwire/internal/realtime"
	"github.com/boxwire/boxwire/internal/store"
)

// reachTTL is how long a viewer trusts its list of reachable API
// accounts: team changes are not journaled, so it looks again this often.
const reachTTL = 5 * time.Second

// Viewer shows an organisation's users its messaging entries live
// (messages, conversations, broadcasts, contacts, templates…) as frames
// {"type": "message.created", "object": <record>, "position"}, only for
// the API accounts the user reaches at that moment.
type Viewer struct {
	s        *Service
	who      identity.Identity
	member   msgrules.Member
	inOrg    bool
	accounts map[string]bool
	loaded   time.Time
}

// NewViewer returns who's view of the organisation's entries.
func (s *Service) NewViewer(who identity.Identity) *Viewer { return &Viewer{s: s, who: who} }

// Skips implements realtime.Skipper: an organisation user sees nothing
// but organisations' entries.
func (v *Viewer) Skips(e *journal.Entry) bool { return !msgrules.IsOrgScope(e.Scope) }

// Frame implements realtime.Viewer.
func (v *Viewer) Frame(ctx context.Context, e journal.Entry) (realtime.Frame, bool, error) {
	if !msgrules.IsOrgScope(e.Scope) {
		return realtime.Frame{}, false, nil
	}
	if err := v.refresh(ctx); err != nil || !v.inOrg || e.Scope != msgrules.OrgScope(v.member.OrgID) {
		return realtime.Frame{}, false, err
	}
	frame := realtime.Frame{Type: e.Type, Object: e.Payload, Position: e.Position}
	if v.member.IsAdmin() {
		return frame, true, nil // an admin reaches every account: no need to read which
	}
	var rec struct {
		APIAccountID string `json:"apiAccountId"`
	}
	if err := json.Unmarshal(e.Payload, &rec); err != nil || !v.accounts[rec.APIAccountID] {
		return realtime.Frame{}, false, nil
	}
	return frame, true, nil
}

// refresh loads the viewer's membership and reach when they are stale.
func (v *Viewer) refresh(ctx context.Context) error {
	if time.Since(v.loaded) < reachTTL {
		return nil
	}
	m, err := v.s.Store.MemberOf(ctx, v.who.ID)
	if errs.CodeOf(err) == errs.NotFound {
		v.inOrg, v.loaded = false, time.Now()
		return nil
	}
	if err != nil {
		return err
	}
	ids, err := v.s.Store.AccountIDs(ctx, store.ReachOf(m))
	if err != nil {
		return err
	}
	v.member, v.inOrg, v.accounts, v.loaded = m, true, map[string]bool{}, time.Now()
	for _, id := range ids {
		v.accounts[id] = true
	}
	return nil
}
