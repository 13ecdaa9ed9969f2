package msgservice

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/boxwire/boxwire/internal/channel"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
	"github.com/boxwire/boxwire/internal/store"
)

// sendLease is how long a claimed send is left to its sender before
// another may take it: a node that dies mid-send has its sends retried.
const sendLease = time.Minute

// Progressor is a channel that reports statuses of its own after a send
// (the sandbox: delivered, then read).
type Progressor interface {
	Progress(channelMessageID string, at time.Time) []channel.Status
}

// RunSender sends queued outgoing messages until ctx ends: woken when a
// send is queued, and at least every second for retries and for sends
// queued on other nodes.
func (s *Service) RunSender(ctx context.Context, log *slog.Logger) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		for s.sendDue(ctx, log) {
		}
		select {
		case <-ctx.Done():
			return
		case <-s.kicks():
		case <-tick.C:
		}
	}
}

// sendDue claims a batch of due sends and sends them; it reports whether
// there may be more.
func (s *Service) sendDue(ctx context.Context, log *slog.Logger) bool {
	const batch = 16
	var ids []string
	now := time.Now()
	due, err := s.Store.SendsDue(ctx, now)
	if err == nil && due {
		err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			var err error
			ids, err = tx.ClaimSends(ctx, now, now.Add(sendLease), batch)
			return err
		})
	}
	if err != nil {
		if ctx.Err() == nil {
			log.Error("claim sends", "error", err)
		}
		return false
	}
	for _, id := range ids {
		if err := s.send(ctx, id); err != nil && ctx.Err() == nil {
			log.Error("send message", "message", id, "error", err)
		}
	}
	return len(ids) == batch
}

// send hands one message to its channel and records the outcome.
func (s *Service) send(ctx context.Context, id string) error {
	msg, a, out, err := s.outgoing(ctx, id)
	if err != nil {
		return err
	}
	tr, ok := s.Channels[a.Channel]
	if !ok {
		s.observeSend(a.Channel, "failed")
		return s.sendFailed(ctx, msg, "no transport for channel "+a.Channel)
	}
	acct := channel.Account{ID: a.APIAccountID, PhoneNumber: a.PhoneNumber,
		PhoneNumberID: a.Settings.PhoneNumberID, AccessToken: a.Settings.AccessToken}
	cmid, err := tr.Send(ctx, acct, out)
	// What the channel answered is recorded even when the server is
	// stopping: a send left unrecorded would be sent again.
	ctx = context.WithoutCancel(ctx)
	var cerr *channel.Error
	switch {
	case err == nil:
		s.observeSend(a.Channel, "sent")
		return s.sent(ctx, msg, a, cmid, tr)
	case errors.As(err, &cerr) && cerr.Permanent:
		s.observeSend(a.Channel, "failed")
		return s.sendFailed(ctx, msg, cerr.Error())
	}
	s.observeSend(a.Channel, "retried")
	return s.retry(ctx, msg, err)
}

func (s *Service) observeSend(channel, outcome string) {
	if s.OnSend != nil {
		s.OnSend(channel, outcome)
	}
}

// outgoing loads what sending a message takes.
func (s *Service) outgoing(ctx context.Context, id string) (msgrules.Message, msgrules.APIAccount, channel.Outgoing, error) {
	msg, err := s.Store.MessageByID(ctx, id)
	if err != nil {
		return msg, msgrules.APIAccount{}, channel.Outgoing{}, err
	}
	a, err := s.Store.APIAccountByID(ctx, msg.APIAccountID)
	if err != nil {
		return msg, a, channel.Outgoing{}, err
	}
	out := channel.Outgoing{To: msg.Contact.MobileNumber, Text: msg.BodyText}
	if msg.MediaID != "" {
		out.Media, err = s.mediaSend(ctx, msg)
		return msg, a, out, err
	}
	if msg.BroadcastID == "" {
		return msg, a, out, nil
	}
	b, err := s.Store.BroadcastByID(ctx, msg.BroadcastID)
	if err != nil {
		return msg, a, out, err
	}
	t, err := s.Store.Template(ctx, store.Reach{OrgID: a.OrgID, All: true}, b.TemplateID)
	if err != nil {
		return msg, a, out, err
	}
	out.Text, out.Template = "", &channel.TemplateSend{Name: t.Name, Language: "en", Params: b.Params}
	return msg, a, out, nil
}

func (s *Service) sent(ctx context.Context, msg msgrules.Message, a msgrules.APIAccount, cmid string, tr channel.Sender) error {
	err := s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.SendDone(ctx, msg.MessageID, cmid); err != nil {
			return err
		}
		d, _ := msg.Delivery().Apply(msgrules.StatusSent, "")
		d, err := withEarlyStatuses(ctx, tx, a.APIAccountID, cmid, d)
		if err != nil {
			return err
		}
		return s.setDelivery(ctx, tx, msg, d)
	})
	if err != nil {
		return err
	}
	if p, ok := tr.(Progressor); ok {
		for _, st := range p.Progress(cmid, time.Now()) {
			if err := s.applyStatus(ctx, a.APIAccountID, st); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Service) sendFailed(ctx context.Context, msg msgrules.Message, reason string) error {
	return s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.SendDone(ctx, msg.MessageID, ""); err != nil {
			return err
		}
		d, _ := msg.Delivery().Apply(msgrules.StatusFailed, reason)
		return s.setDelivery(ctx, tx, msg, d)
	})
}

// retry queues the send again with exponential backoff, or fails it once
// it has been tried MaxSendAttempts times.
func (s *Service) retry(ctx context.Context, msg msgrules.Message, cause error) error {
	limit := s.MaxSendAttempts
	if limit <= 0 {
		limit = 10
	}
	var attempts int
	err := s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		attempts, err = tx.SendRetry(ctx, msg.MessageID, func(n int) time.Time { return time.Now().Add(sendBackoff(n)) })
		return err
	})
	if err != nil || attempts < limit {
		return errors.Join(err, errs.Wrap(cause, "send attempt %d", attempts))
	}
	return s.sendFailed(ctx, msg, cause.Error())
}

// sendBackoff is the wait after n failed attempts: 1s doubling, at most 5 min.
func sendBackoff(n int) time.Duration {
	d := time.Second << min(max(n-1, 0), 9)
	return min(d, 5*time.Minute)
}
