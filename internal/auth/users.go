package auth

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/boxwire/boxwire/internal/boxrules"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/msgrules"
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
	// Verified says the operator vouches for the address (boxwire user
	// add). Otherwise it is verified only if its domain is granted to the
	// organisation, or later by its owner with a code sent to it.
	Verified bool
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
		org, err := orgOf(ctx, tx, u)
		if err != nil {
			return err
		}
		if who.VerifiedAt, err = vouchedAt(ctx, tx, u.Verified, org, email); err != nil {
			return err
		}
		if err := tx.CreateIdentity(ctx, &who); err != nil {
			return err
		}
		if _, err := tx.Append(ctx, journal.Entry{Scope: journal.IdentityScope(who.ID), Type: "identity.created",
			ActorID: who.ID, Payload: profilePayload(who)}); err != nil {
			return err
		}
		return joinOrg(ctx, tx, u, org, who)
	})
	return who, err
}

// orgOf is the id of u's organisation, created if it is new; "" for none.
func orgOf(ctx context.Context, tx *store.Tx, u NewUser) (string, error) {
	if u.OrgID != "" || u.Org == "" {
		return u.OrgID, nil
	}
	return tx.EnsureOrg(ctx, u.Org)
}

// vouchedAt is when an address set for an identity of org counts as
// proven without a code: now if the operator vouches for it or granted its
// domain to org; otherwise never (the zero time).
func vouchedAt(ctx context.Context, tx *store.Tx, operator bool, org, email string) (time.Time, error) {
	granted := operator
	if !granted && org != "" {
		var err error
		if granted, err = tx.DomainGranted(ctx, org, identity.Domain(email)); err != nil {
			return time.Time{}, err
		}
	}
	if !granted {
		return time.Time{}, nil
	}
	return tx.Now(), nil
}

// Rename changes the e-mail of an identity of org, as its admin does. The
// new address is unproven unless org's granted domains vouch for it.
func Rename(ctx context.Context, tx *store.Tx, org, identityID, email string) (renamed bool, err error) {
	at, err := vouchedAt(ctx, tx, false, org, email)
	if err != nil {
		return false, err
	}
	return tx.Rename(ctx, identityID, email, at)
}

// ResetByAdmin is the rule for a password an admin of org sets for
// another identity: the admin now knows the credentials, so the owner's
// proof of the address is void unless org's granted domains vouch for it.
// It reports whether the address is now unproven.
func ResetByAdmin(ctx context.Context, tx *store.Tx, org, identityID string) (unproven bool, err error) {
	who, err := tx.IdentityByID(ctx, identityID)
	if err != nil || !who.Verified() {
		return false, err
	}
	at, err := vouchedAt(ctx, tx, false, org, who.IdentifierValue)
	if err != nil || !at.IsZero() {
		return false, err
	}
	return true, tx.SetVerified(ctx, identityID, time.Time{})
}

// joinOrg makes the new user a member of org, if any.
func joinOrg(ctx context.Context, tx *store.Tx, u NewUser, org string, who identity.Identity) error {
	if org == "" {
		return nil
	}
	if err := tx.SetMember(ctx, org, who.ID, u.Role); err != nil {
		return err
	}
	if u.FirstName == "" && u.LastName == "" {
		u.FirstName, u.LastName, _ = strings.Cut(who.DisplayName, " ")
	}
	return tx.SetMemberProfile(ctx, msgrules.Member{OrgID: org, UserID: who.ID, FirstName: u.FirstName,
		LastName: strings.TrimSpace(u.LastName), Role: string(u.Role)})
}

// IdentityChange is a partial update of the caller's identity: its
// public profile and its public keys. A nil field is left as it is.
type IdentityChange struct {
	DisplayName         *string
	AvatarURL           *string
	Pubkey              *string
	NonIdentifiedPubkey *string
	// Preferences of Misakey's clients, validated as its reference does.
	Notifications *string
	Color         *string
	MFAMethod     *string
}

// preferences applies a change's preferences to who; whether any changed.
func (ch IdentityChange) preferences(who *identity.Identity) (bool, error) {
	if ch.Notifications != nil {
		if err := identity.Notifications("notifications", *ch.Notifications); err != nil {
			return false, err
		}
		who.Notifications = *ch.Notifications
	}
	if ch.Color != nil {
		if err := identity.Color("color", *ch.Color); err != nil {
			return false, err
		}
		who.Color = *ch.Color
	}
	if ch.MFAMethod != nil {
		if err := identity.MFAMethod("mfa_method", *ch.MFAMethod); err != nil {
			return false, err
		}
	}
	return ch.Notifications != nil || ch.Color != nil, nil
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

// ProfileConfig is what an identity shows on its public profile besides
// its name, avatar and keys.
type ProfileConfig struct {
	Email *bool `json:"email"`
}

// SetProfileConfig changes the caller's own profile sharing.
func SetProfileConfig(ctx context.Context, s *store.Store, id string, c ProfileConfig) error {
	if err := self(ctx, id); err != nil {
		return err
	}
	if c.Email == nil {
		return errs.Field(errs.Body, "email", errs.Required, "email is required: true to show the address on the profile")
	}
	return s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.SetShareEmail(ctx, id, *c.Email)
	})
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
		if err := boxrules.IdentityKey(k.field, *k.in); err != nil {
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
	prefs, err := ch.preferences(&who)
	if err != nil {
		return who, err
	}
	profile := ch.DisplayName != nil || ch.AvatarURL != nil
	if !profile && !prefs && pubkey == "" && nonIdentified == "" {
		return who, nil
	}
	err = s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if pubkey != "" || nonIdentified != "" {
			if err := tx.SetPubkeys(ctx, who.ID, pubkey, nonIdentified); err != nil {
				return err
			}
		}
		if prefs {
			if err := tx.SetPreferences(ctx, who.ID, who.Notifications, who.Color); err != nil {
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
