package msgservice

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
	"github.com/boxwire/boxwire/internal/netguard"
	"github.com/boxwire/boxwire/internal/store"
)

// Webhooks are organisation settings: only admins read or change them,
// because a hook receives every record of its type in the organisation.
//
// Changes to webhooks are not journaled: the organisation's scope is what
// hooks and members' streams carry, and a hook's target is not for agents.

// WebhookChange is a webhook as an admin writes it, in the seed's JSON
// names. A nil field is absent: on create, type and targetUrl are
// required; on update, an absent field is left as it is. The read-only
// fields of the seed (webhookId, failureCount, isZapier) are ignored.
type WebhookChange struct {
	Type      *string `json:"type"`
	TargetURL *string `json:"targetUrl"`
	IsEnabled *bool   `json:"isEnabled"`
}

// maxTargetURL bounds a target URL like any URL a browser would accept.
const maxTargetURL = 2048

// Webhooks lists a page of the organisation's webhooks, without secrets.
func (s *Service) Webhooks(ctx context.Context, page int) (msgrules.Page[msgrules.Webhook], error) {
	m, err := s.admin(ctx)
	if err != nil {
		return msgrules.Page[msgrules.Webhook]{}, err
	}
	offset, err := pageOffset(page)
	if err != nil {
		return msgrules.Page[msgrules.Webhook]{}, err
	}
	hooks, count, err := s.Store.Webhooks(ctx, m.OrgID, offset)
	if err != nil {
		return msgrules.Page[msgrules.Webhook]{}, err
	}
	for i := range hooks {
		hooks[i] = withoutSecret(hooks[i])
	}
	return msgrules.NewPage(hooks, count), nil
}

// Webhook reads one of the organisation's webhooks, without its secret.
func (s *Service) Webhook(ctx context.Context, id string) (msgrules.Webhook, error) {
	m, err := s.admin(ctx)
	if err != nil {
		return msgrules.Webhook{}, err
	}
	w, err := s.Store.Webhook(ctx, m.OrgID, id)
	return withoutSecret(w), err
}

// CreateWebhook adds a webhook to the organisation and returns it with
// its signing secret, the only time the secret is shown. An absent
// isEnabled means enabled: an admin who creates a hook wants its events,
// and the seed's isEnabled: false stays possible for one set up ahead.
func (s *Service) CreateWebhook(ctx context.Context, in WebhookChange) (msgrules.Webhook, error) {
	m, err := s.admin(ctx)
	if err != nil {
		return msgrules.Webhook{}, err
	}
	if in.Type == nil {
		return msgrules.Webhook{}, errs.Field(errs.Body, "type", errs.Required, "type is required")
	}
	if in.TargetURL == nil {
		return msgrules.Webhook{}, errs.Field(errs.Body, "targetUrl", errs.Required, "targetUrl is required")
	}
	w, err := applyWebhookChange(msgrules.Webhook{OrgID: m.OrgID, IsEnabled: true}, in)
	if err != nil {
		return msgrules.Webhook{}, err
	}
	if err := s.checkTarget(ctx, w.TargetURL); err != nil {
		return msgrules.Webhook{}, err
	}
	if w.Secret, err = msgrules.NewWebhookSecret(); err != nil {
		return msgrules.Webhook{}, err
	}
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.CreateWebhook(ctx, &w)
	})
	return w, err
}

// UpdateWebhook changes a webhook's type, target URL or enabled flag.
// Re-enabling a hook clears its failure count, so it gets its full
// allowance of failures again, and keeps its position, so the events
// that committed while it was disabled are delivered, not dropped.
func (s *Service) UpdateWebhook(ctx context.Context, id string, in WebhookChange) (msgrules.Webhook, error) {
	m, err := s.admin(ctx)
	if err != nil {
		return msgrules.Webhook{}, err
	}
	// Validate before writing, so bad input changes nothing; the target
	// is resolved outside the transaction.
	valid, err := applyWebhookChange(msgrules.Webhook{}, in)
	if err != nil {
		return msgrules.Webhook{}, err
	}
	if in.TargetURL != nil {
		if err := s.checkTarget(ctx, valid.TargetURL); err != nil {
			return msgrules.Webhook{}, err
		}
	}
	var out msgrules.Webhook
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		// Read in the transaction: the dispatcher writes failure counts
		// and may disable the hook concurrently.
		w, err := tx.Webhook(ctx, m.OrgID, id)
		if err != nil {
			return err
		}
		if out, err = applyWebhookChange(w, in); err != nil {
			return err
		}
		if out.IsEnabled && !w.IsEnabled {
			out.FailureCount = 0
		}
		return tx.UpdateWebhook(ctx, out)
	})
	return withoutSecret(out), err
}

// DeleteWebhook removes one of the organisation's webhooks; deliveries to
// it stop before their next attempt.
func (s *Service) DeleteWebhook(ctx context.Context, id string) error {
	m, err := s.admin(ctx)
	if err != nil {
		return err
	}
	return s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.DeleteWebhook(ctx, m.OrgID, id)
	})
}

// applyWebhookChange validates the fields present in c and sets them on w.
func applyWebhookChange(w msgrules.Webhook, c WebhookChange) (msgrules.Webhook, error) {
	if c.Type != nil {
		t, err := msgrules.ParseWebhookType(*c.Type)
		if err != nil {
			return w, err
		}
		w.Type = t
	}
	if c.TargetURL != nil {
		u, err := targetURL(*c.TargetURL)
		if err != nil {
			return w, err
		}
		w.TargetURL = u
	}
	if c.IsEnabled != nil {
		w.IsEnabled = *c.IsEnabled
	}
	return w, nil
}

// targetURL accepts an absolute http or https URL: the dispatcher POSTs
// to it, so anything else could never be delivered to.
func targetURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if s == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(s) > maxTargetURL {
		return "", errs.Field(errs.Body, "targetUrl", errs.Invalid_,
			"targetUrl must be an absolute http or https URL of at most %d bytes", maxTargetURL)
	}
	return s, nil
}

// TargetChecker refuses a webhook target the server must not post to.
type TargetChecker interface {
	CheckTarget(ctx context.Context, target string) error
}

// checkTarget refuses a target that reaches inside the server's network:
// a webhook is a request the server makes for the admin, and must not
// let a tenant reach the loopback, the private network or the cloud's
// metadata endpoint (issue 13).
func (s *Service) checkTarget(ctx context.Context, target string) error {
	var err error
	if s.WebhookTargets != nil {
		err = s.WebhookTargets.CheckTarget(ctx, target)
	} else if u, perr := url.Parse(target); perr == nil {
		_, err = netguard.Policy{}.CheckHost(u.Hostname())
	}
	var f *netguard.Forbidden
	if errors.As(err, &f) {
		// The class only: the address a name resolves to inside is not
		// for a tenant to learn.
		return errs.Field(errs.Body, "targetUrl", errs.Invalid_,
			"targetUrl must not reach the server's own network (it leads to a %s address)", f.Class)
	}
	return errs.Wrap(err, "check webhook target")
}

// withoutSecret hides the signing secret, which only the create response
// shows.
func withoutSecret(w msgrules.Webhook) msgrules.Webhook {
	w.Secret = ""
	return w
}
