package auth

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/store"
)

// Mailer sends one plain-text e-mail (internal/smtpmail).
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Verifier proves identifiers: it e-mails a code to an identity's address
// and checks the code its owner enters (DESIGN §3). Proving the mailbox is
// what lets an identity match box access rules and receive invitations.
type Verifier struct {
	Store *store.Store
	// Mail sends the codes; nil when the operator configured no SMTP
	// server, and then only the operator verifies (boxwire user verify).
	Mail Mailer
	Log  *slog.Logger
}

// SendCode e-mails a new code to the caller's own, unproven address.
func (v *Verifier) SendCode(ctx context.Context, identityID string) error {
	if err := self(ctx, identityID); err != nil {
		return err
	}
	if v.Mail == nil {
		return &errs.Error{Code: errs.Conflict, Message: "this server sends no e-mail: ask its operator to verify the address",
			Fields: map[string]string{"identifier_value": "unverifiable"}}
	}
	return v.send(ctx, identityID)
}

// Offer sends a code to an identity whose address a service has just set
// and left unproven. It is a courtesy: a failure is logged, and the owner
// can ask again with SendCode.
func (v *Verifier) Offer(ctx context.Context, identityID string) {
	if v == nil || v.Mail == nil {
		return
	}
	// Conflict: a granted domain or the operator proved it already.
	if err := v.send(ctx, identityID); err != nil && errs.CodeOf(err) != errs.Conflict && v.Log != nil {
		v.Log.Warn("sending a verification code failed", "identity", identityID, "error", err)
	}
}

// send stores a fresh code for the identity's current address, then,
// after the commit, e-mails it.
func (v *Verifier) send(ctx context.Context, identityID string) error {
	var (
		to   string
		code = identity.NewCode()
	)
	err := v.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		who, err := tx.IdentityByID(ctx, identityID)
		if err != nil {
			return err
		}
		if who.Verified() {
			return &errs.Error{Code: errs.Conflict, Message: "the address is already verified",
				Fields: map[string]string{"identifier_value": errs.Conflicts}}
		}
		now := tx.Now()
		p, err := tx.PendingCode(ctx, identityID)
		if err != nil {
			return err
		}
		if p != nil && p.IdentifierValue == who.IdentifierValue && now.Sub(p.SentAt) < identity.CodeResendAfter {
			return &errs.Error{Code: errs.RateLimited, Message: "a code was sent less than a minute ago",
				RetryAfter: identity.CodeResendAfter - now.Sub(p.SentAt)}
		}
		to = who.IdentifierValue
		return tx.PutCode(ctx, identityID, identity.PendingCode{IdentifierValue: to, Hash: identity.HashCode(code),
			SentAt: now, ExpiresAt: now.Add(identity.CodeTTL)})
	})
	if err != nil {
		return err
	}
	body := fmt.Sprintf("Your Boxwire verification code is %s\n\n"+
		"Sign in to Boxwire and enter it to prove that this address is yours. It expires in %d minutes.\n\n"+
		"Enter it yourself and give it to nobody: no one from Boxwire or your organisation will ask for it.\n"+
		"If you did not expect this e-mail, ignore it: until the address is verified, nobody can use it\n"+
		"to read boxes shared with it.\n", code, int(identity.CodeTTL.Minutes()))
	return errs.Wrap(v.Mail.Send(ctx, to, "Your Boxwire verification code", body), "send verification code")
}

// Verify checks a code the identity itself entered. A wrong code counts
// against the pending one, which is void after identity.MaxCodeAttempts.
func (v *Verifier) Verify(ctx context.Context, identityID, code string) error {
	if err := self(ctx, identityID); err != nil {
		return err
	}
	var refused error
	err := v.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		who, err := tx.IdentityByID(ctx, identityID)
		if err != nil || who.Verified() {
			return err
		}
		p, err := tx.PendingCode(ctx, identityID)
		if err != nil {
			return err
		}
		if refused = identity.CheckCode(p, who.IdentifierValue, code, tx.Now()); refused != nil {
			if p == nil || errs.As(refused).Fields["code"] == errs.Required {
				return nil
			}
			return tx.CountCodeAttempt(ctx, identityID) // committed: the attempt counts
		}
		if err := tx.SetVerified(ctx, identityID, tx.Now()); err != nil {
			return err
		}
		return tx.DeleteCode(ctx, identityID)
	})
	if err != nil {
		return err
	}
	return refused
}

// SetVerified is the operator's word on an identity's address (boxwire
// user verify / unverify): proven now, or not proven.
func SetVerified(ctx context.Context, s *store.Store, email string, verified bool) (identity.Identity, error) {
	email, err := identity.Email("email", email)
	if err != nil {
		return identity.Identity{}, err
	}
	who, err := s.IdentityByIdentifier(ctx, email)
	if err != nil {
		return who, err
	}
	err = s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if !verified {
			return tx.SetVerified(ctx, who.ID, time.Time{})
		}
		who.VerifiedAt = tx.Now()
		if err := tx.SetVerified(ctx, who.ID, who.VerifiedAt); err != nil {
			return err
		}
		return tx.DeleteCode(ctx, who.ID)
	})
	return who, err
}

// GrantDomain grants an organisation the addresses of domain, or takes
// them back (the operator: boxwire org domain add|remove). It returns the
// domain in canonical form.
func GrantDomain(ctx context.Context, s *store.Store, orgID, domain string, grant bool) (string, error) {
	email, err := identity.Email("domain", "x@"+domain)
	if err != nil {
		return "", errs.Field(errs.Body, "domain", errs.Malformed, "the domain must look like example.com")
	}
	domain = identity.Domain(email)
	return domain, s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if grant {
			return tx.GrantDomain(ctx, orgID, domain)
		}
		return tx.RevokeDomain(ctx, orgID, domain)
	})
}
