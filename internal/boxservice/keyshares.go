package boxservice

import (
	"context"

	"github.com/boxwire/boxwire/internal/boxrules"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/store"
)

// NewKeyShare is POST /box-key-shares's body, in the reference's words:
// share is the server's half of an invitation link (misakey_share
// elsewhere).
type NewKeyShare struct {
	BoxID                       string `json:"box_id"`
	OtherShareHash              string `json:"other_share_hash"`
	Share                       string `json:"share"`
	EncryptedInvitationKeyShare string `json:"encrypted_invitation_key_share,omitempty"`
}

func (in NewKeyShare) validate() error {
	var invitation error
	if in.EncryptedInvitationKeyShare != "" {
		invitation = boxrules.StdBase64("encrypted_invitation_key_share", in.EncryptedInvitationKeyShare, 4096)
	}
	return errs.Faults(
		validUUID("box_id", in.BoxID),
		boxrules.URLSafe("other_share_hash", in.OtherShareHash),
		boxrules.StdBase64("share", in.Share, 1024),
		invitation)
}

// AddKeyShare records one more invitation link of a box, as a member may
// in Misakey's reference. It stands beside the box's other links; the
// admin's state.key_share replaces them all.
func (s *Service) AddKeyShare(ctx context.Context, in NewKeyShare) (NewKeyShare, error) {
	if err := in.validate(); err != nil {
		return in, err
	}
	st, _, err := s.readable(ctx, in.BoxID)
	if err != nil {
		return in, err
	}
	if err := st.Writable(); err != nil {
		return in, err
	}
	k := boxrules.KeyShare{MisakeyShare: in.Share, OtherShareHash: in.OtherShareHash, EncryptedInvitationKeyShare: in.EncryptedInvitationKeyShare}
	return in, s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.AddKeyShare(ctx, in.BoxID, k)
	})
}

// InvitationKeyShare returns the encrypted invitation share of a box's
// newest link (nil when it has none) to its members. The reference hands
// it to anyone signed in; it is the box's, so here only members get it.
func (s *Service) InvitationKeyShare(ctx context.Context, boxID string) (*string, error) {
	if err := validUUID("box_id", boxID); err != nil {
		e := *errs.As(err)
		e.Where = errs.Query
		return nil, &e
	}
	if _, _, err := s.readable(ctx, boxID); err != nil {
		return nil, err
	}
	k, err := s.Store.NewestKeyShare(ctx, boxID)
	if err != nil {
		return nil, err
	}
	return nullable(k.EncryptedInvitationKeyShare), nil
}
