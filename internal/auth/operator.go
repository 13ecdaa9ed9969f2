package auth

import (
	"context"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/store"
)

// The operator's word on identities (boxwire user passwd|disable|enable|
// delete): run from a terminal on the server's data, so no caller is
// checked. Every change that takes access away ends the identity's
// sessions, and journals it so every node ends their live streams.

// operatorChange runs change on the identity with address email, in one
// write transaction.
func operatorChange(ctx context.Context, s *store.Store, email string, change func(context.Context, *store.Tx, *identity.Identity) error) (identity.Identity, error) {
	email, err := identity.Email("email", email)
	if err != nil {
		return identity.Identity{}, err
	}
	var who identity.Identity
	err = s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if who, err = tx.IdentityByIdentifier(ctx, email); err != nil {
			return err
		}
		return change(ctx, tx, &who)
	})
	return who, err
}

// SetPassword gives an identity a new password and ends all its sessions.
func SetPassword(ctx context.Context, s *store.Store, email, password string) (identity.Identity, error) {
	if err := identity.Password("password", password); err != nil {
		return identity.Identity{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return identity.Identity{}, err
	}
	return operatorChange(ctx, s, email, func(ctx context.Context, tx *store.Tx, who *identity.Identity) error {
		if err := tx.SetLogin(ctx, who.ID, "", hash); err != nil {
			return err
		}
		return RevokeSessions(ctx, tx, who.ID, "")
	})
}

// SetDisabled disables an identity (it cannot sign in; its sessions end)
// or enables it again.
func SetDisabled(ctx context.Context, s *store.Store, email string, disabled bool) (identity.Identity, error) {
	return operatorChange(ctx, s, email, func(ctx context.Context, tx *store.Tx, who *identity.Identity) error {
		if !disabled {
			who.DisabledAt = time.Time{}
			return tx.SetDisabled(ctx, who.ID, time.Time{})
		}
		if !who.Disabled() {
			who.DisabledAt = tx.Now()
		}
		if err := tx.SetDisabled(ctx, who.ID, who.DisabledAt); err != nil {
			return err
		}
		return RevokeSessions(ctx, tx, who.ID, "")
	})
}

// Erase deletes a person's account: what identifies them goes, they leave
// every organisation and team, their sessions end. What they wrote in
// boxes stays in the others' history, signed "Deleted user" (see
// docs/decisions.md, "Deleting a user").
func Erase(ctx context.Context, s *store.Store, email string) (identity.Identity, error) {
	return operatorChange(ctx, s, email, func(ctx context.Context, tx *store.Tx, who *identity.Identity) error {
		if err := tx.EraseIdentity(ctx, who.ID); err != nil {
			return err
		}
		if err := RevokeSessions(ctx, tx, who.ID, ""); err != nil {
			return err
		}
		return AccessChanged(ctx, tx, who.ID)
	})
}

// refuseDisabled is the sign-in answer of a disabled identity that gave
// its right password.
func refuseDisabled(who identity.Identity) error {
	if who.Disabled() {
		return errs.E(errs.Unauthorized, "this account is disabled: ask the server's operator")
	}
	return nil
}
