package msgservice

import (
	"context"

	"github.com/boxwire/boxwire/internal/channel"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
)

// ChannelAccount reads the API account a channel callback is for, with
// its secrets: the callback authenticates itself with them, not as a user.
// It must be an account of the channel.
func (s *Service) ChannelAccount(ctx context.Context, accountID, ch string) (msgrules.APIAccount, error) {
	a, err := s.Store.APIAccountByID(ctx, accountID)
	if err == nil && a.Channel != ch {
		return a, errs.E(errs.NotFound, "no such %s API account", ch)
	}
	return a, err
}

// ChannelEvents applies what a channel reported for an API account:
// incoming messages (deduplicated by the channel's id), delivery statuses
// (in any order) and template reviews. Each applies in its own
// transaction, so a redelivered callback converges to the same state.
func (s *Service) ChannelEvents(ctx context.Context, a msgrules.APIAccount, ev channel.Events) error {
	for _, in := range ev.Messages {
		mobile, err := msgrules.ChannelNumber("from", in.From)
		if err != nil {
			// Refusing the callback would only make the channel send this
			// message, and the rest of the batch, again and again.
			s.log().Warn("channel message from an impossible number: dropped", "account", a.APIAccountID,
				"from", in.From, "id", in.ChannelMessageID)
			continue
		}
		in.From = mobile
		if in.Text == "" && in.Media == nil {
			in.Text = "[empty message]"
		}
		if _, _, err := s.receive(ctx, a, in); err != nil {
			return err
		}
	}
	for _, st := range ev.Statuses {
		if err := s.applyStatus(ctx, a.APIAccountID, st); err != nil {
			return err
		}
	}
	for _, r := range ev.Templates {
		if err := s.reviewTemplate(ctx, a, r); err != nil {
			return err
		}
	}
	return nil
}
