package auth

import (
	"context"
	"encoding/json"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/store"
)

// NewUser is what `boxwire user add` (and later the admin API) supplies.
type NewUser struct {
	Email    string
	Password string
	Name     string
	Org      string        // optional organisation name, created if new
	Role     identity.Role // with Org; default agent
}

// CreateUser validates and stores a new identity, and its membership.
func CreateUser(ctx context.Context, s *store.Store, u NewUser) (identity.Identity, error) {
	email, err := identity.Email("email", u.Email)
	if err != nil {
		return identity.Identity{}, err
	}
	name, err := identity.DisplayName("name", u.Name)
	if err != nil {
		return identity.Identity{}, err
	}
	if err := identity.Password("password", u.Password); err != nil {
		return identity.Identity{}, err
	}
	if u.Org == "" && u.Role != "" {
		return identity.Identity{}, errs.Field(errs.Body, "org", errs.Required, "a role needs an organisation")
	}
	if u.Role == "" {
		u.Role = identity.Agent
	}
	if _, err := identity.ParseRole(string(u.Role)); err != nil {
		return identity.Identity{}, err
	}
	hash, err := HashPassword(u.Password)
	if err != nil {
		return identity.Identity{}, err
	}
	who := identity.Identity{IdentifierValue: email, IdentifierKind: "email", DisplayName: name, PasswordHash: hash}
	err = s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.CreateIdentity(ctx, &who); err != nil {
			return err
		}
		if _, err := tx.Append(ctx, journal.Entry{Scope: journal.IdentityScope(who.ID), Type: "identity.created",
			ActorID: who.ID, Payload: profilePayload(who)}); err != nil {
			return err
		}
		if u.Org == "" {
			return nil
		}
		org, err := tx.EnsureOrg(ctx, u.Org)
		if err != nil {
			return err
		}
		return tx.SetMember(ctx, org, who.ID, u.Role)
	})
	return who, err
}

// ProfileChange is a partial update of an identity's public profile.
type ProfileChange struct {
	DisplayName *string
	AvatarURL   *string
}

// UpdateProfile changes the caller's own profile and journals the change.
// Only the identity itself may change it.
func UpdateProfile(ctx context.Context, s *store.Store, id string, ch ProfileChange) (identity.Identity, error) {
	caller, ok := CallerFrom(ctx)
	if !ok {
		return identity.Identity{}, errs.E(errs.Unauthorized, "authentication required")
	}
	if caller.Identity.ID != id {
		return identity.Identity{}, errs.E(errs.Forbidden, "an identity can only change its own profile")
	}
	// Start from the stored profile: the caller's copy may be a second old.
	who, err := s.IdentityByID(ctx, id)
	if err != nil {
		return who, err
	}
	if ch.DisplayName != nil {
		name, err := identity.DisplayName("display_name", *ch.DisplayName)
		if err != nil {
			return who, err
		}
		who.DisplayName = name
	}
	if ch.AvatarURL != nil {
		url, err := identity.AvatarURL("avatar_url", *ch.AvatarURL)
		if err != nil {
			return who, err
		}
		who.AvatarURL = url
	}
	err = s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.UpdateProfile(ctx, who.ID, who.DisplayName, who.AvatarURL); err != nil {
			return err
		}
		_, err := tx.Append(ctx, journal.Entry{Scope: journal.IdentityScope(who.ID), Type: "identity.updated",
			ActorID: who.ID, Payload: profilePayload(who)})
		return err
	})
	return who, err
}

func profilePayload(i identity.Identity) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"display_name": i.DisplayName, "avatar_url": i.AvatarURL})
	return b
}
