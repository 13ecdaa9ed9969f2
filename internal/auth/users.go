package auth

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/boxwire/boxwire/internal/box"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/messaging"
	"github.com/boxwire/boxwire/internal/store"
)

// NewUser is what `boxwire user add` (and later the admin API) supplies.
type NewUser struct {
	Email    string
	Password string
	Name     string
	Org      string        // optional organisation name, created if new
	OrgID    string        // or the id of an existing organisation
	Role     identity.Role // with Org; default agent
	// FirstName and LastName are the messaging profile in the
	// organisation; by default the display name split at its first space.
	FirstName, LastName string
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
	if u.Org == "" && u.OrgID == "" && u.Role != "" {
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
		return joinOrg(ctx, tx, u, who)
	})
	return who, err
}

// joinOrg makes the new user a member of u's organisation, if any.
func joinOrg(ctx context.Context, tx *store.Tx, u NewUser, who identity.Identity) error {
	org := u.OrgID
	if org == "" && u.Org == "" {
		return nil
	}
	if org == "" {
		var err error
		if org, err = tx.EnsureOrg(ctx, u.Org); err != nil {
			return err
		}
	}
	if err := tx.SetMember(ctx, org, who.ID, u.Role); err != nil {
		return err
	}
	if u.FirstName == "" && u.LastName == "" {
		u.FirstName, u.LastName, _ = strings.Cut(who.DisplayName, " ")
	}
	return tx.SetMemberProfile(ctx, messaging.Member{OrgID: org, UserID: who.ID, FirstName: u.FirstName,
		LastName: strings.TrimSpace(u.LastName), Role: string(u.Role)})
}

// IdentityChange is a partial update of the caller's identity: its
// public profile and its public keys. A nil field is left as it is.
type IdentityChange struct {
	DisplayName         *string
	AvatarURL           *string
	Pubkey              *string
	NonIdentifiedPubkey *string
}

// self allows only the identity itself.
func self(ctx context.Context, id string) error {
	caller, ok := CallerFrom(ctx)
	if !ok {
		return errs.E(errs.Unauthorized, "authentication required")
	}
	if caller.Identity.ID != id {
		return errs.E(errs.Forbidden, "an identity can only be read and changed by itself")
	}
	return nil
}

// Me reads the caller's own identity, as stored.
func Me(ctx context.Context, s *store.Store, id string) (identity.Identity, error) {
	if err := self(ctx, id); err != nil {
		return identity.Identity{}, err
	}
	return s.IdentityByID(ctx, id)
}

// UpdateIdentity changes the caller's own profile and keys. Every field
// is checked before anything is written, all of it in one transaction; a
// profile change is journaled (identity.updated).
func UpdateIdentity(ctx context.Context, s *store.Store, id string, ch IdentityChange) (identity.Identity, error) {
	if err := self(ctx, id); err != nil {
		return identity.Identity{}, err
	}
	// Start from the stored profile: the caller's copy may be a second old.
	who, err := s.IdentityByID(ctx, id)
	if err != nil {
		return who, err
	}
	var pubkey, nonIdentified string
	for _, k := range []struct {
		field string
		in    *string
		out   *string
	}{{"pubkey", ch.Pubkey, &pubkey}, {"non_identified_pubkey", ch.NonIdentifiedPubkey, &nonIdentified}} {
		if k.in == nil {
			continue
		}
		if err := box.PublicKey(k.field, *k.in); err != nil {
			return who, err
		}
		*k.out = *k.in
	}
	if ch.DisplayName != nil {
		if who.DisplayName, err = identity.DisplayName("display_name", *ch.DisplayName); err != nil {
			return who, err
		}
	}
	if ch.AvatarURL != nil {
		if who.AvatarURL, err = identity.AvatarURL("avatar_url", *ch.AvatarURL); err != nil {
			return who, err
		}
	}
	profile := ch.DisplayName != nil || ch.AvatarURL != nil
	if !profile && pubkey == "" && nonIdentified == "" {
		return who, nil
	}
	err = s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if pubkey != "" || nonIdentified != "" {
			if err := tx.SetPubkeys(ctx, who.ID, pubkey, nonIdentified); err != nil {
				return err
			}
		}
		if !profile {
			return nil
		}
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
