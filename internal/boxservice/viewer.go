package boxservice

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

	"github.com/boxwire/boxwire/internal/boxrules"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/realtime"
)

// Viewer renders journal entries as realtime frames for one identity,
// showing only what it may read at that moment. It caches, per box,
// whether the identity may read it, and forgets that on every entry that
// can change it (joins, kicks, access, lifecycle, deletion).
type Viewer struct {
	s          *Service
	who        identity.Identity
	boxes      map[string]boxSight
	identities map[string]identity.Identity

	// What the hub may skip without waking the connection (Skips); the hub
	// reads it while the connection's goroutine writes it.
	own     string // the identity's own scope
	mu      sync.Mutex
	asOf    int64           // members was read as of this hub position
	members map[string]bool // boxes created or joined, as of asOf; nil until Prepare
	known   map[string]knownSight
}

// knownSight is a box's readability as Frame last read it, as of a hub
// position.
type knownSight struct {
	readable bool
	asOf     int64
}

type boxSight struct {
	readable   bool
	creatorID  string
	ownerOrgID string
}

// maxCached bounds a viewer's caches; past it they are emptied.
const maxCached = 10_000

// NewViewer returns a viewer for who.
func (s *Service) NewViewer(who identity.Identity) *Viewer {
	return &Viewer{s: s, who: who, own: journal.IdentityScope(who.ID), boxes: map[string]boxSight{}, identities: map[string]identity.Identity{}}
}

// Prepare reads the boxes the viewer's identity created or joined, so
// that the hub can pass over the entries of every other box (Skips).
func (v *Viewer) Prepare(ctx context.Context) error {
	asOf := v.s.hubHead()
	if asOf < 0 {
		return nil // no shared cache, no record of changes: skip nothing
	}
	ids, err := v.s.Store.MemberBoxes(ctx, v.who.ID)
	if err != nil {
		return err
	}
	members := make(map[string]bool, len(ids))
	for _, id := range ids {
		members[id] = true
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.asOf, v.members = asOf, members
	return nil
}

// Skips implements realtime.Skipper: it is true only for an entry Frame
// would certainly not show, from what is known in memory. An entry that
// can change who sees its box always goes through (Frame reads again),
// and what was known counts only while no such entry came after it.
func (v *Viewer) Skips(e *journal.Entry) bool {
	switch {
	case strings.Contains(e.Scope, ":"):
		return e.Scope != v.own // another identity's or an organisation's entry
	case e.Type == boxrules.TypeCreate || changesSight(e.Type):
		return false
	}
	v.mu.Lock()
	k, ok := v.known[e.Scope]
	member, prepared, asOf := v.members[e.Scope], v.members != nil, v.asOf
	v.mu.Unlock()
	switch {
	case ok:
		return !k.readable && v.s.stillTrue(e.Scope, k.asOf)
	case !prepared || member:
		return false
	}
	return v.s.stillTrue(e.Scope, asOf)
}

// know records what Frame read of a box, for Skips.
func (v *Viewer) know(boxID string, k knownSight) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.known == nil || len(v.known) >= maxCached {
		v.known = map[string]knownSight{}
	}
	v.known[boxID] = k
}

// changesSight lists the entry types after which a box's readability
// must be checked again.
func changesSight(t string) bool {
	switch t {
	case boxrules.TypeJoin, boxrules.TypeLeave, boxrules.TypeKick, boxrules.TypeLifecycle, boxrules.TypeAccessMode,
		boxrules.TypeAccessAdd, boxrules.TypeAccessRm, "box.delete":
		return true
	}
	return false
}

// Frame implements realtime.Viewer.
func (v *Viewer) Frame(ctx context.Context, e journal.Entry) (realtime.Frame, bool, error) {
	switch {
	case e.Scope == v.own:
		return v.identityFrame(e)
	case strings.Contains(e.Scope, ":"):
		return realtime.Frame{}, false, nil // another identity's or an organisation's entry
	case e.Type == "box.delete":
		return v.deleteFrame(ctx, e)
	}
	boxID := e.Scope
	// A kicked member sees its own kick, then nothing more of the box.
	if e.Type == boxrules.TypeKick && e.ActorID == v.who.ID {
		sight, err := v.sight(ctx, boxID)
		delete(v.boxes, boxID)
		if err != nil {
			return realtime.Frame{}, false, err
		}
		return v.eventFrame(ctx, e, sight)
	}
	if changesSight(e.Type) {
		delete(v.boxes, boxID)
	}
	sight, err := v.sight(ctx, boxID)
	if err != nil || !sight.readable {
		return realtime.Frame{}, false, err
	}
	if (e.Type == boxrules.TypeAccessAdd || e.Type == boxrules.TypeAccessRm) && sight.creatorID != v.who.ID {
		return realtime.Frame{}, false, nil // access rules are the admin's business
	}
	return v.eventFrame(ctx, e, sight)
}

func (v *Viewer) identityFrame(e journal.Entry) (realtime.Frame, bool, error) {
	switch e.Type {
	case "notification", "box.settings", "ack":
		return realtime.Frame{Type: e.Type, Object: e.Payload, Position: e.Position}, true, nil
	}
	return realtime.Frame{}, false, nil
}

// deleteFrame tells a box's admin and members that it was deleted.
func (v *Viewer) deleteFrame(ctx context.Context, e journal.Entry) (realtime.Frame, bool, error) {
	delete(v.boxes, e.Scope)
	was, err := v.s.Store.WasMember(ctx, e.Scope, v.who.ID)
	if err != nil || !was {
		return realtime.Frame{}, false, err
	}
	return realtime.Frame{Type: "box.delete", Object: e.Payload, Position: e.Position}, true, nil
}

// sight says whether the viewer may read a box now: access and membership.
func (v *Viewer) sight(ctx context.Context, boxID string) (boxSight, error) {
	if s, ok := v.boxes[boxID]; ok {
		return s, nil
	}
	asOf := v.s.hubHead() // before the reads: they saw everything up to it
	st, found, err := v.s.sharedState(ctx, boxID)
	if err != nil || !found {
		return boxSight{}, err
	}
	sight := boxSight{creatorID: st.CreatorID, ownerOrgID: v.s.ownerOrg(st.Box)}
	if st.HasAccess(v.who) {
		join, err := v.s.sharedJoin(ctx, boxID, v.who.ID)
		if err != nil {
			return sight, err
		}
		sight.readable = boxrules.Actor{Identity: v.who, JoinEventID: join}.Member(st)
	}
	if len(v.boxes) >= maxCached {
		clear(v.boxes)
	}
	v.boxes[boxID] = sight
	if asOf >= 0 {
		v.know(boxID, knownSight{readable: sight.readable, asOf: asOf})
	}
	return sight, nil
}

// eventObject is an event.new frame's object: the event view plus its
// box's owner_org_id, as Misakey's reference sends it (its client files
// the event under that organisation's boxes).
type eventObject struct {
	EventView
	OwnerOrgID string `json:"owner_org_id"`
}

// eventFrame renders a box event as event.new with the viewer's view of
// its sender. The rendering depends only on whether the viewer is the
// box's creator, the sender, or anyone else, so it is shared through the
// service's frame cache: a thousand subscribers cost one rendering.
func (v *Viewer) eventFrame(ctx context.Context, e journal.Entry, sight boxSight) (realtime.Frame, bool, error) {
	creatorID := sight.creatorID
	class := viewOther
	switch v.who.ID {
	case creatorID:
		class = viewCreator
	case e.ActorID:
		class = viewSender
	}
	if f, ok := v.s.frames.get(e.Position, class); ok {
		return f, true, nil
	}
	sender, err := v.identity(ctx, e.ActorID)
	if err != nil {
		return realtime.Frame{}, false, err
	}
	content := e.Payload
	if len(content) == 0 || string(content) == "{}" && e.Type != boxrules.TypeCreate {
		content = json.RawMessage("null")
	}
	view := EventView{ID: e.ID, Type: e.Type, BoxID: e.Scope, ServerEventCreatedAt: e.At,
		Sender: identityView(sender, v.who.ID, creatorID), Content: content, ReferrerID: nullable(e.RefID)}
	obj, err := json.Marshal(eventObject{EventView: view, OwnerOrgID: sight.ownerOrgID})
	if err != nil {
		return realtime.Frame{}, false, errs.Wrap(err, "render event")
	}
	f := realtime.Frame{Type: "event.new", Object: obj, Position: e.Position}
	if f.Encoded, err = json.Marshal(f); err != nil {
		return f, false, errs.Wrap(err, "render frame")
	}
	v.s.frames.put(e.Position, class, f)
	return f, true, nil
}

// The three ways an event looks to a viewer (identifiers shown or not).
const (
	viewOther = iota
	viewCreator
	viewSender
)

// frameCache shares rendered event frames between the connections of a
// node, by journal position and view. Entries never change once written
// (edits are new entries), so there is nothing to invalidate; it is
// emptied when it grows past maxFrames.
type frameCache struct {
	mu sync.Mutex
	m  map[[2]int64]realtime.Frame
}

const maxFrames = 4096

func (c *frameCache) get(position int64, class int) (realtime.Frame, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.m[[2]int64{position, int64(class)}]
	return f, ok
}

func (c *frameCache) put(position int64, class int, f realtime.Frame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxFrames {
		c.m = map[[2]int64]realtime.Frame{}
	}
	c.m[[2]int64{position, int64(class)}] = f
}

func (v *Viewer) identity(ctx context.Context, id string) (identity.Identity, error) {
	if id == "" {
		return identity.Identity{}, nil
	}
	if i, ok := v.identities[id]; ok {
		return i, nil
	}
	i, err := v.s.Store.IdentityByID(ctx, id)
	if errs.CodeOf(err) == errs.NotFound {
		return identity.Identity{ID: id}, nil
	}
	if err != nil {
		return i, err
	}
	if len(v.identities) >= maxCached {
		clear(v.identities)
	}
	v.identities[id] = i
	return i, nil
}
