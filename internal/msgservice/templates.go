package msgservice

import (
	"context"
	"fmt"

	"github.com/boxwire/boxwire/internal/channel"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
	"github.com/boxwire/boxwire/internal/store"
)

// TemplateInput is the body of POST and PUT /template.
type TemplateInput struct {
	APIAccountID    *string `json:"apiAccountId"`
	Name            *string `json:"name"`
	TemplateText    *string `json:"templateText"`
	TemplateExample *string `json:"templateExample"`
	Status          *string `json:"status"`
}

// Templates lists the templates the caller reaches.
func (s *Service) Templates(ctx context.Context, f store.Filter, page int) (msgrules.Page[msgrules.TemplateView], error) {
	return list(ctx, s, f, page, s.Store.Templates)
}

// Template reads one template the caller reaches.
func (s *Service) Template(ctx context.Context, id string) (msgrules.TemplateView, error) {
	return one(ctx, s, id, s.Store.Template)
}

// SaveTemplate creates (id "") or changes a template (admins), in one
// transaction. A new, renamed or re-worded template goes back to Pending
// review. Only a sandbox account's template takes its status from an
// admin; a WhatsApp account's follows Meta's review, reported by its
// template status webhook.
func (s *Service) SaveTemplate(ctx context.Context, id string, in TemplateInput) (msgrules.TemplateView, error) {
	m, err := s.admin(ctx)
	if err != nil {
		return msgrules.TemplateView{}, err
	}
	t := msgrules.TemplateView{Status: msgrules.Pending}
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		typ := msgrules.EntryTemplateCreated
		if id != "" {
			typ = msgrules.EntryTemplateUpdated
			if t, err = tx.TemplateIn(ctx, store.ReachOf(m), id); err != nil {
				return err
			}
			if in.APIAccountID != nil && *in.APIAccountID != t.APIAccountID {
				return errs.Field(errs.Body, "apiAccountId", errs.Invalid_, "a template cannot move to another API account")
			}
		}
		a, err := account(ctx, tx.APIAccount, m, "apiAccountId", *orKeep(in.APIAccountID, t.APIAccountID))
		if err != nil {
			return err
		}
		t.APIAccountID = a.APIAccountID
		if t, err = in.apply(t, a.Channel); err != nil {
			return err
		}
		if id == "" {
			err = tx.CreateTemplate(ctx, m.OrgID, &t)
		} else {
			err = tx.UpdateTemplate(ctx, t)
		}
		if err != nil {
			return err
		}
		return record(ctx, tx, m.OrgID, m.UserID, typ, t.TemplateID, t)
	})
	return t, err
}

// DeleteTemplate removes a template (admins). One that broadcasts were
// sent with is kept, as they name it: deleting it would take them, and
// their history, with it. The deletion is journaled with the template as
// it was.
func (s *Service) DeleteTemplate(ctx context.Context, id string) error {
	m, err := s.admin(ctx)
	if err != nil {
		return err
	}
	return s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		t, err := tx.TemplateIn(ctx, store.ReachOf(m), id)
		if err != nil {
			return err
		}
		n, err := tx.TemplateBroadcasts(ctx, id)
		if err != nil {
			return err
		}
		if n > 0 {
			return &errs.Error{Code: errs.Conflict, Where: errs.Path, Fields: map[string]string{"id": errs.Conflicts},
				Message: fmt.Sprintf("template %s was sent in %d broadcasts, which keep it: it cannot be deleted", t.Name, n)}
		}
		if err := tx.DeleteTemplate(ctx, m.OrgID, id); err != nil {
			return err
		}
		return record(ctx, tx, m.OrgID, m.UserID, msgrules.EntryTemplateDeleted, t.TemplateID, t)
	})
}

// apply validates the input over t, a template of a channel's account.
func (in TemplateInput) apply(t msgrules.TemplateView, channel string) (msgrules.TemplateView, error) {
	edited := in.TemplateText != nil && *in.TemplateText != t.TemplateText || in.Name != nil && *in.Name != t.Name
	t.Name, t.TemplateText = *orKeep(in.Name, t.Name), *orKeep(in.TemplateText, t.TemplateText)
	t.TemplateExample = *orKeep(in.TemplateExample, t.TemplateExample)
	if err := msgrules.ValidateTemplate(t.Name, t.TemplateText, t.TemplateExample); err != nil {
		return t, err
	}
	if edited {
		t.Status = msgrules.Pending
	}
	if in.Status == nil {
		return t, nil
	}
	if channel != msgrules.ChannelSandbox {
		return t, errs.Field(errs.Body, "status", errs.Invalid_,
			"the status of a %s template follows Meta's review; only sandbox templates take it from an admin", channel)
	}
	var err error
	t.Status, err = msgrules.ParseTemplateStatus(*in.Status)
	return t, err
}

// reviewTemplate applies a channel's review of a template.
func (s *Service) reviewTemplate(ctx context.Context, a msgrules.APIAccount, r channel.TemplateReview) error {
	status, err := msgrules.ParseTemplateStatus(r.Status)
	if err != nil {
		return nil // a review state Boxwire does not model (e.g. PENDING_DELETION): nothing to change
	}
	t, err := s.Store.TemplateByName(ctx, a.APIAccountID, r.Name)
	if errs.CodeOf(err) == errs.NotFound {
		return nil // a template created outside Boxwire
	}
	if err != nil || t.Status == status {
		return err
	}
	return s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		// Read again in the transaction: an admin's edit may have landed
		// since, and only the status is the review's to change.
		t, err := tx.Template(ctx, t.TemplateID)
		if err != nil {
			return err
		}
		t.Status = status
		if err := tx.UpdateTemplate(ctx, t); err != nil {
			return err
		}
		return record(ctx, tx, a.OrgID, "", msgrules.EntryTemplateUpdated, t.TemplateID, t)
	})
}

// BroadcastInput is the body of POST /broadcast.
type BroadcastInput struct {
	APIAccountID string `json:"apiAccountId"`
	ContactID    string `json:"contactId"`
	TemplateID   string `json:"templateId"`
	Message      string `json:"message"`
}

// Broadcasts lists the broadcasts the caller reaches.
func (s *Service) Broadcasts(ctx context.Context, f store.Filter, page int) (msgrules.Page[msgrules.Broadcast], error) {
	return list(ctx, s, f, page, s.Store.Broadcasts)
}

// Broadcast reads one broadcast the caller reaches.
func (s *Service) Broadcast(ctx context.Context, id string) (msgrules.Broadcast, error) {
	return one(ctx, s, id, s.Store.Broadcast)
}

// CreateBroadcast queues an approved template message to a contact; it is
// sent asynchronously (Queued → Sent → Delivered/Read, or Failed).
func (s *Service) CreateBroadcast(ctx context.Context, in BroadcastInput) (msgrules.Broadcast, error) {
	m, err := s.member(ctx)
	if err != nil {
		return msgrules.Broadcast{}, err
	}
	c, err := s.addressee(ctx, m, in.APIAccountID, in.ContactID)
	if err != nil {
		return msgrules.Broadcast{}, err
	}
	if in.TemplateID == "" {
		return msgrules.Broadcast{}, errs.Field(errs.Body, "templateId", errs.Required, "templateId is required")
	}
	t, err := s.Store.Template(ctx, store.ReachOf(m), in.TemplateID)
	if errs.CodeOf(err) == errs.NotFound {
		return msgrules.Broadcast{}, errs.Field(errs.Body, "templateId", errs.Invalid_, "no template %q that you can use", in.TemplateID)
	}
	if err != nil {
		return msgrules.Broadcast{}, err
	}
	params, err := msgrules.CheckBroadcast(msgrules.Template{ID: t.TemplateID, APIAccountID: t.APIAccountID, Name: t.Name,
		Text: t.TemplateText, Status: t.Status}, c.APIAccountID, in.Message)
	if err != nil {
		return msgrules.Broadcast{}, err
	}
	b := msgrules.Broadcast{OrgID: m.OrgID, APIAccountID: c.APIAccountID, ContactID: c.ContactID, TemplateID: t.TemplateID,
		Message: in.Message, Status: msgrules.BroadcastQueued, Params: params, DateTime: s.now()}
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.CreateBroadcast(ctx, &b); err != nil {
			return err
		}
		if err := record(ctx, tx, m.OrgID, m.UserID, msgrules.EntryBroadcastCreated, b.BroadcastID, b); err != nil {
			return err
		}
		_, err := s.addMessage(ctx, tx, c, m.UserID, store.NewMessage{Queued: true, SenderID: m.UserID,
			Message: msgrules.Message{BodyText: in.Message, MessageDirection: msgrules.Outgoing, IsTemplateMessage: true,
				BroadcastID: b.BroadcastID, DateTime: s.now()}})
		return err
	})
	if err == nil {
		s.wake()
	}
	return b, err
}
