package boxservice

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/boxrules"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/store"
)

// MaxBatch bounds the events of one batch.
const MaxBatch = 100

// PostEvent creates one event in a box.
func (s *Service) PostEvent(ctx context.Context, boxID string, in boxrules.Input) (EventView, error) {
	out, err := s.post(ctx, boxID, []boxrules.Input{in}, boxrules.Single)
	if err != nil {
		return EventView{}, err
	}
	return out[0], nil
}

// PostBatch creates an accesses batch: all its events or none. Members who
// lose access are kicked, and the kicks are part of the answer.
func (s *Service) PostBatch(ctx context.Context, boxID, batchType string, events []boxrules.Input) ([]EventView, error) {
	if err := batchShape(batchType, len(events)); err != nil {
		return nil, err
	}
	return s.post(ctx, boxID, slices.Clone(events), boxrules.Batch) // Validate's results are ours, not the caller's
}

// batchShape checks a batch's top-level fields and names every faulty one
// in one error, as Misakey's reference does.
func batchShape(batchType string, n int) error {
	fields := map[string]string{}
	switch {
	case batchType == "":
		fields["batch_type"] = errs.Required
	case batchType != "accesses":
		fields["batch_type"] = errs.Malformed
	}
	switch {
	case n == 0:
		fields["events"] = errs.Required
	case n > MaxBatch:
		fields["events"] = errs.Invalid_
	}
	if len(fields) == 0 {
		return nil
	}
	return &errs.Error{Code: errs.Invalid, Where: errs.Body, Fields: fields,
		Message: fmt.Sprintf("batch_type must be accesses and events must hold 1 to %d events", MaxBatch)}
}

func (s *Service) post(ctx context.Context, boxID string, inputs []boxrules.Input, route boxrules.Route) ([]EventView, error) {
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := validateAll(inputs, route); err != nil {
		return nil, err
	}
	var (
		created []store.Event
		creator string
		files   []string
	)
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		a := applier{tx: tx, who: who, boxID: boxID, route: route, selfOrg: s.SelfOrgID}
		if err := a.load(ctx); err != nil {
			return err
		}
		for i, in := range inputs {
			if err := a.apply(ctx, in); err != nil {
				return batchField(err, route, i)
			}
		}
		if a.accessChanged {
			if err := a.kickLostAccess(ctx); err != nil {
				return err
			}
		}
		created, creator, files = a.created, a.state.CreatorID, a.unreferenced
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.removeBlobs(ctx, files)
	return views(created, who.ID, creator), nil
}

// validateAll checks each input's shape (boxrules.Validate), replacing the
// items of its slice with the results. In a batch, the shape faults of
// every event are named together, as the reference does, each under its
// own events[i] key; a fault that is not a plain invalid field (a body
// too large) is answered alone.
func validateAll(inputs []boxrules.Input, route boxrules.Route) error {
	var all *errs.Error
	for i := range inputs {
		in, err := boxrules.Validate(inputs[i], route)
		if err == nil {
			inputs[i] = in
			continue
		}
		e := errs.As(batchField(err, route, i))
		if route != boxrules.Batch || e.Code != errs.Invalid || e.Where != errs.Body || len(e.Fields) == 0 {
			return e
		}
		if all == nil {
			all = &errs.Error{Code: errs.Invalid, Where: errs.Body, Message: e.Message, Fields: map[string]string{}}
		}
		for k, v := range e.Fields {
			all.Fields[k] = v
		}
	}
	if all != nil {
		return all
	}
	return nil
}

// batchField prefixes a refused event's fields with its index in a batch.
func batchField(err error, route boxrules.Route, i int) error {
	e := errs.As(err)
	if route != boxrules.Batch || len(e.Fields) == 0 || e.Where != errs.Body {
		return err
	}
	fields := map[string]string{}
	for k, v := range e.Fields {
		fields[fmt.Sprintf("events[%d].%s", i, k)] = v
	}
	c := *e
	c.Fields = fields
	return &c
}

// applier applies inputs to one box inside one transaction, keeping the
// state it checks rules against up to date as events take effect.
type applier struct {
	tx            *store.Tx
	who           identity.Identity
	boxID         string
	route         boxrules.Route
	state         boxrules.State
	actor         boxrules.Actor
	created       []store.Event
	unreferenced  []string
	accessChanged bool
	selfOrg       string // the server's organisation, for boxes stored without one
}

func (a *applier) load(ctx context.Context) error {
	st, err := a.tx.BoxState(ctx, a.boxID)
	if errs.CodeOf(err) == errs.NotFound {
		return boxrules.NoAccess()
	}
	if err != nil {
		return err
	}
	join, err := a.tx.JoinOf(ctx, a.boxID, a.who.ID)
	if err != nil {
		return err
	}
	a.state, a.actor = st, boxrules.Actor{Identity: a.who, JoinEventID: join}
	return nil
}

func (a *applier) target(ctx context.Context, in boxrules.Input) (*boxrules.Target, *store.Event, error) {
	if in.ReferrerID == nil || uuid.Validate(*in.ReferrerID) != nil {
		return nil, nil, nil
	}
	ev, err := a.tx.BoxEvent(ctx, a.boxID, *in.ReferrerID)
	if errs.CodeOf(err) == errs.NotFound {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	deleted := !ev.DeletedAt.IsZero()
	return &boxrules.Target{ID: ev.ID, Type: ev.Type, SenderID: ev.SenderID, Deleted: deleted}, &ev, nil
}

func (a *applier) apply(ctx context.Context, in boxrules.Input) error {
	target, targetEvent, err := a.target(ctx, in)
	if err != nil {
		return err
	}
	d, err := boxrules.Check(a.state, a.actor, in, target, a.route)
	if err != nil {
		return err
	}
	ev, err := a.append(ctx, a.who, d.Type, d.ReferrerID, d.Content)
	if err != nil {
		return err
	}
	return a.effect(ctx, d, ev, targetEvent)
}

// append records one event in a.created, built in place rather than copied
// there (the struct is large and this runs once per posted event). The
// event it returns is a.created's element: a later append may move the
// list, so callers only read it, before they append again.
func (a *applier) append(ctx context.Context, sender identity.Identity, typ, ref string, content json.RawMessage) (*store.Event, error) {
	a.created = append(a.created, store.Event{BoxID: a.boxID, Type: typ, SenderID: sender.ID, ReferrerID: ref, Content: content, Sender: sender})
	ev := &a.created[len(a.created)-1]
	if err := a.tx.AppendBoxEvent(ctx, ev); err != nil {
		a.created = a.created[:len(a.created)-1]
		return nil, err
	}
	return ev, nil
}

// effect applies what an accepted event changes besides itself.
func (a *applier) effect(ctx context.Context, d boxrules.Decision, ev *store.Event, target *store.Event) error {
	tx := a.tx
	switch d.Type {
	case boxrules.TypeMsgEdit:
		var c boxrules.EditContent
		json.Unmarshal(d.Content, &c)
		folded, _ := json.Marshal(map[string]any{"encrypted": c.NewEncrypted, "public_key": c.NewPublicKey, "last_edited_at": tx.Now()})
		return tx.FoldEdit(ctx, target.ID, folded)
	case boxrules.TypeMsgDelete:
		if err := tx.FoldDelete(ctx, target.ID, a.who.ID); err != nil {
			return err
		}
		if target.FileID != "" {
			gone, err := tx.FileUnreferenced(ctx, target.FileID)
			if gone {
				a.unreferenced = append(a.unreferenced, target.FileID)
			}
			return err
		}
	case boxrules.TypeJoin:
		a.actor.JoinEventID = ev.ID
		if err := tx.Join(ctx, a.boxID, a.who.ID, ev.ID); err != nil {
			return err
		}
		if err := a.recordJoinRule(ctx); err != nil {
			return err
		}
		// What came before joining is history, not unread news.
		return tx.AckBox(ctx, a.boxID, a.who.ID, ev.Position)
	case boxrules.TypeLeave:
		a.actor.JoinEventID = ""
		return tx.EndJoin(ctx, a.boxID, a.who.ID)
	case boxrules.TypeLifecycle:
		a.state.Lifecycle = boxrules.Closed
		return tx.SetBoxLifecycle(ctx, a.boxID, boxrules.Closed)
	case boxrules.TypeAccessMode:
		var c struct{ Value string }
		json.Unmarshal(d.Content, &c)
		a.state.AccessMode, a.accessChanged = c.Value, true
		return tx.SetBoxAccessMode(ctx, a.boxID, c.Value)
	case boxrules.TypeKeyShare:
		return tx.PutKeyShare(ctx, a.boxID, *d.KeyShare)
	case boxrules.TypeAccessAdd:
		var c boxrules.AccessContent
		json.Unmarshal(d.Content, &c)
		rule := boxrules.Access{EventID: ev.ID, RestrictionType: c.RestrictionType, Value: c.Value}
		a.state.Accesses, a.accessChanged = append(a.state.Accesses, rule), true
		if err := tx.AddAccess(ctx, a.boxID, rule); err != nil {
			return err
		}
		if d.Invitation != nil {
			return a.invite(ctx, *d.Invitation)
		}
		return nil
	case boxrules.TypeAccessRm:
		kept := a.state.Accesses[:0]
		for _, r := range a.state.Accesses {
			if r.EventID != target.ID {
				kept = append(kept, r)
			}
		}
		a.state.Accesses, a.accessChanged = kept, true
		return tx.RemoveAccess(ctx, target.ID)
	}
	return nil
}

// recordJoinRule adds the identifier rule a join records (boxrules.JoinRule),
// sent by the member who joined.
func (a *applier) recordJoinRule(ctx context.Context) error {
	c := a.state.JoinRule(a.who)
	if c == nil {
		return nil
	}
	content, _ := json.Marshal(c)
	ev, err := a.append(ctx, a.who, boxrules.TypeAccessAdd, "", content)
	if err != nil {
		return err
	}
	rule := boxrules.Access{EventID: ev.ID, RestrictionType: c.RestrictionType, Value: c.Value}
	a.state.Accesses = append(a.state.Accesses, rule)
	return a.tx.AddAccess(ctx, a.boxID, rule)
}

// invite leaves an access.add's auto-invitation for the identity its rule
// names: a crypto action holding the encrypted box key, and a
// box.auto_invite notification. Only a proven owner of the address is
// invited (DESIGN §3), and only to a public key of theirs.
func (a *applier) invite(ctx context.Context, inv boxrules.Invitation) error {
	guest, err := a.tx.IdentityByIdentifier(ctx, inv.Identifier)
	if errs.CodeOf(err) == errs.NotFound || (err == nil && !guest.Verified()) {
		return &errs.Error{Code: errs.NotFound, Message: "no identity to invite has this identifier", Where: errs.Body,
			Fields: map[string]string{"content.value": "not_found"}}
	}
	if err != nil {
		return err
	}
	if inv.PublicKey == "" || (inv.PublicKey != guest.Pubkey && inv.PublicKey != guest.NonIdentifiedPubkey) {
		return errs.Field(errs.Body, "extra", errs.Invalid_, "extra's key must be a public key of the invited identity")
	}
	act := &store.CryptoAction{ID: uuid.NewString(), Type: "invitation", BoxID: a.boxID, SenderID: a.who.ID,
		EncryptionPublicKey: inv.PublicKey, Encrypted: inv.Encrypted}
	if err := a.tx.InsertCryptoAction(ctx, guest.ID, act); err != nil {
		return err
	}
	return notify(ctx, a.tx, guest.ID, "box.auto_invite", map[string]any{"box_id": a.boxID, "box_title": a.state.Title,
		"owner_org_id": a.ownerOrg(), "cryptoaction_id": act.ID})
}

// ownerOrg is the box's organisation, the server's own for boxes stored
// without one.
func (a *applier) ownerOrg() string {
	if a.state.OwnerOrgID != "" {
		return a.state.OwnerOrgID
	}
	return a.selfOrg
}

// kickLostAccess ends the join of every member who no longer has access,
// with a member.kick event (sender: the kicked member, referrer: their
// join, content: the kicker) and a notification to them.
func (a *applier) kickLostAccess(ctx context.Context) error {
	members, err := a.tx.Members(ctx, a.boxID)
	if err != nil {
		return err
	}
	org := a.ownerOrg()
	for _, m := range boxrules.LostAccess(a.state, members) {
		content, _ := json.Marshal(map[string]string{"kicker_id": a.who.ID})
		if _, err := a.append(ctx, m.Identity, boxrules.TypeKick, m.JoinEventID, content); err != nil {
			return err
		}
		if err := a.tx.EndJoin(ctx, a.boxID, m.Identity.ID); err != nil {
			return err
		}
		// The reference's details, which its client's message reads.
		details := map[string]any{"id": a.boxID, "title": a.state.Title, "owner_org_id": org}
		if err := notify(ctx, a.tx, m.Identity.ID, "member.kick", details); err != nil {
			return err
		}
	}
	return nil
}

// notify stores a notification and journals it in the identity's scope,
// where realtime readers pick it up.
func notify(ctx context.Context, tx *store.Tx, identityID, typ string, details any) error {
	d, _ := json.Marshal(details)
	n := &store.Notification{ID: uuid.NewString(), Type: typ, Details: d}
	if err := tx.InsertNotification(ctx, identityID, n); err != nil {
		return err
	}
	payload, _ := json.Marshal(n)
	_, err := tx.Append(ctx, journal.Entry{Scope: journal.IdentityScope(identityID), Type: "notification", Payload: payload})
	return err
}
