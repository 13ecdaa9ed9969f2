package msgservice

import (
	"context"
	"unicode/utf8"

	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/msgrules"
	"github.com/boxwire/boxwire/internal/store"
)

// UserInput is the body of POST and PUT /user.
type UserInput struct {
	FirstName *string `json:"firstName"`
	LastName  *string `json:"lastName"`
	Email     *string `json:"email"`
	Password  *string `json:"password"`
	Role      *string `json:"role"`
}

// UserRow is one item of GET /user: a user and an API account they reach.
type UserRow struct {
	User       msgrules.UserRef     `json:"user"`
	APIAccount *msgrules.AccountRef `json:"apiAccount"`
}

// EachUser calls fn for every user of the organisation with each API
// account they reach (a user reaching none appears once, with apiAccount
// null), read a chunk at a time.
func (s *Service) EachUser(ctx context.Context, fn func(UserRow) error) error {
	m, err := s.member(ctx)
	if err != nil {
		return err
	}
	return s.Store.EachUserAccount(ctx, m.OrgID, func(r store.UserAccount) error {
		row := UserRow{User: msgrules.UserRef{FirstName: r.User.FirstName, LastName: r.User.LastName, UserID: r.User.UserID}}
		if r.Account.APIAccountid != "" {
			acc := r.Account
			row.APIAccount = &acc
		}
		return fn(row)
	})
}

// User reads one user of the caller's organisation. Agents see another
// user as GET /user shows them (names and id); e-mail and role are for
// admins and the user themself.
func (s *Service) User(ctx context.Context, id string) (msgrules.Member, error) {
	m, err := s.member(ctx)
	if err != nil {
		return m, err
	}
	u, err := s.Store.Member(ctx, m.OrgID, id)
	if err == nil && !m.IsAdmin() && u.UserID != m.UserID {
		u.Email, u.Role = "", ""
	}
	return u, err
}

// CreateUser adds a user to the organisation (admins).
func (s *Service) CreateUser(ctx context.Context, in UserInput) (msgrules.Member, error) {
	m, err := s.admin(ctx)
	if err != nil {
		return m, err
	}
	first, err := name("firstName", in.FirstName)
	if err != nil {
		return m, err
	}
	last, err := name("lastName", in.LastName)
	if err != nil {
		return m, err
	}
	role, err := parseRole(in.Role, identity.Agent)
	if err != nil {
		return m, err
	}
	for _, f := range []struct {
		field string
		v     *string
	}{{"email", in.Email}, {"password", in.Password}} {
		if f.v == nil {
			return m, errs.Field(errs.Body, f.field, errs.Required, "%s is required", f.field)
		}
	}
	who, err := auth.CreateUser(ctx, s.Store, auth.NewUser{Email: *in.Email, Password: *in.Password,
		Name: first + " " + last, OrgID: m.OrgID, Role: role, FirstName: first, LastName: last})
	if err != nil {
		if e := errs.As(err); e != nil && e.Fields["identifier_value"] != "" {
			return m, &errs.Error{Code: errs.Conflict, Where: errs.Body, Message: "a user with this e-mail already exists",
				Fields: map[string]string{"email": errs.Conflicts}}
		}
		return m, err
	}
	if !who.Verified() {
		s.Verifier.Offer(ctx, who.ID)
	}
	return s.Store.Member(ctx, m.OrgID, who.ID)
}

// UpdateUser changes a user's names, role, e-mail or password (admins),
// in one transaction.
func (s *Service) UpdateUser(ctx context.Context, id string, in UserInput) (msgrules.Member, error) {
	m, err := s.admin(ctx)
	if err != nil {
		return m, err
	}
	email, hash, err := login(in)
	if err != nil {
		return m, err
	}
	var (
		u        msgrules.Member
		unproven bool // the address needs its owner's proof again
	)
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		cur, err := tx.Member(ctx, m.OrgID, id)
		if err != nil {
			return err
		}
		if u, err = in.apply(cur, m); err != nil {
			return err
		}
		if err := tx.SetMemberProfile(ctx, u); err != nil {
			return err
		}
		if unproven, err = s.changeLogin(ctx, tx, m, u.UserID, email, hash); err != nil {
			return err
		}
		u, err = tx.Member(ctx, m.OrgID, id)
		return err
	})
	if err == nil && unproven {
		s.Verifier.Offer(ctx, u.UserID)
	}
	return u, err
}

// changeLogin sets a user's new e-mail and/or password hash (either may be
// empty) for the admin by. A new address, or a password another person
// set, leaves the address unproven unless a granted domain vouches for it.
func (s *Service) changeLogin(ctx context.Context, tx *store.Tx, by msgrules.Member, userID, email, hash string) (unproven bool, err error) {
	if email != "" {
		renamed, err := auth.Rename(ctx, tx, by.OrgID, userID, email)
		if err != nil {
			return false, err
		}
		if renamed {
			who, err := tx.IdentityByID(ctx, userID)
			unproven = err == nil && !who.Verified()
			if err != nil {
				return false, err
			}
		}
	}
	if hash == "" {
		return unproven, nil
	}
	if err := tx.SetLogin(ctx, userID, "", hash); err != nil {
		return false, err
	}
	if userID == by.UserID {
		// One's own password: the proof stands, and the session that
		// changed it goes on; every other session ends.
		c, _ := auth.CallerFrom(ctx)
		return unproven, auth.RevokeSessions(ctx, tx, userID, c.SessionID)
	}
	// Whoever knew the old password is signed out everywhere.
	if err := auth.RevokeSessions(ctx, tx, userID, ""); err != nil {
		return false, err
	}
	reset, err := auth.ResetByAdmin(ctx, tx, by.OrgID, userID)
	return unproven || reset, err
}

// RemoveUser takes a user out of the admin's organisation (DELETE
// /user/{id}): their teams there, their conversations' assignment, and
// their live streams (identity.access_changed ends them on every node).
// The identity itself stays: it may belong to boxes or another
// organisation. A user of another organisation is not found; an admin
// cannot remove themselves.
func (s *Service) RemoveUser(ctx context.Context, id string) error {
	m, err := s.admin(ctx)
	if err != nil {
		return err
	}
	if id == m.UserID {
		return errs.Field(errs.Path, "id", errs.Invalid_, "an admin cannot remove themselves from the organisation")
	}
	return s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.Member(ctx, m.OrgID, id); err != nil {
			return err
		}
		if err := tx.RemoveMember(ctx, m.OrgID, id); err != nil {
			return err
		}
		return auth.AccessChanged(ctx, tx, id)
	})
}

// apply validates a change of u's profile made by the admin by.
func (in UserInput) apply(u, by msgrules.Member) (msgrules.Member, error) {
	var err error
	if u.FirstName, err = name("firstName", orKeep(in.FirstName, u.FirstName)); err != nil {
		return u, err
	}
	if u.LastName, err = name("lastName", orKeep(in.LastName, u.LastName)); err != nil {
		return u, err
	}
	role, err := parseRole(in.Role, identity.Role(u.Role))
	if err != nil {
		return u, err
	}
	if u.UserID == by.UserID && role != identity.Admin {
		return u, errs.Field(errs.Body, "role", errs.Invalid_, "an admin cannot take their own admin role away")
	}
	u.Role = string(role)
	return u, nil
}

// login validates a new e-mail and password, either of which may be absent.
func login(in UserInput) (email, hash string, err error) {
	if in.Email != nil {
		if email, err = identity.Email("email", *in.Email); err != nil {
			return "", "", err
		}
	}
	if in.Password != nil {
		if err = identity.Password("password", *in.Password); err != nil {
			return "", "", err
		}
		if hash, err = auth.HashPassword(*in.Password); err != nil {
			return "", "", err
		}
	}
	return email, hash, nil
}

func parseRole(v *string, def identity.Role) (identity.Role, error) {
	if v == nil {
		return def, nil
	}
	return identity.ParseRole(*v)
}

// TeamInput is the body of POST and PUT /team.
type TeamInput struct {
	Name          *string  `json:"name"`
	Description   *string  `json:"description"`
	APIAccountIDs []string `json:"apiAccountIds"`
	UserIDs       []string `json:"userIds"`
}

// EachTeam calls fn for the organisation's teams, read a few at a time.
func (s *Service) EachTeam(ctx context.Context, fn func(msgrules.Team) error) error {
	m, err := s.member(ctx)
	if err != nil {
		return err
	}
	return s.Store.EachTeam(ctx, m.OrgID, fn)
}

// Team reads one team.
func (s *Service) Team(ctx context.Context, id string) (msgrules.Team, error) {
	m, err := s.member(ctx)
	if err != nil {
		return msgrules.Team{}, err
	}
	return s.team(ctx, m.OrgID, id)
}

func (s *Service) team(ctx context.Context, orgID, id string) (msgrules.Team, error) {
	teams, err := s.Store.Teams(ctx, orgID, id)
	if err != nil {
		return msgrules.Team{}, err
	}
	return teams[0], nil
}

// SaveTeam creates (id "") or changes a team (admins), in one
// transaction. On change, nil apiAccountIds or userIds leave the team's
// accounts or users as they are.
func (s *Service) SaveTeam(ctx context.Context, id string, in TeamInput) (msgrules.Team, error) {
	m, err := s.admin(ctx)
	if err != nil {
		return msgrules.Team{}, err
	}
	if id == "" {
		in.APIAccountIDs, in.UserIDs = nonNil(in.APIAccountIDs), nonNil(in.UserIDs)
	}
	t := msgrules.Team{OrgID: m.OrgID, TeamID: id}
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if id != "" {
			if t.Name, t.Description, err = tx.TeamNames(ctx, m.OrgID, id); err != nil {
				return err
			}
		}
		if t.Name, err = name("name", orKeep(in.Name, t.Name)); err != nil {
			return err
		}
		if t.Description, err = description(*orKeep(in.Description, t.Description)); err != nil {
			return err
		}
		if err := checkIDs(ctx, tx, m.OrgID, in); err != nil {
			return err
		}
		if id == "" {
			return tx.CreateTeam(ctx, &t, in.UserIDs, in.APIAccountIDs)
		}
		losing, err := tx.TeamLosers(ctx, id, in.UserIDs, in.APIAccountIDs)
		if err != nil {
			return err
		}
		if err := tx.UpdateTeam(ctx, t, in.UserIDs, in.APIAccountIDs); err != nil {
			return err
		}
		for _, u := range losing {
			if err := auth.AccessChanged(ctx, tx, u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return t, err
	}
	return s.team(ctx, m.OrgID, t.TeamID) // the caller was checked above
}

// DeleteTeam removes a team (admins). Its conversations are left
// unassigned, and its members lose the API accounts it gave them at once:
// their live streams end and reconnect with what they may see now.
func (s *Service) DeleteTeam(ctx context.Context, id string) error {
	m, err := s.admin(ctx)
	if err != nil {
		return err
	}
	return s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, _, err := tx.TeamNames(ctx, m.OrgID, id); err != nil {
			return err
		}
		losing, err := tx.TeamLosers(ctx, id, []string{}, []string{})
		if err != nil {
			return err
		}
		if err := tx.DeleteTeam(ctx, m.OrgID, id); err != nil {
			return err
		}
		for _, u := range losing {
			if err := auth.AccessChanged(ctx, tx, u); err != nil {
				return err
			}
		}
		return nil
	})
}

func description(v string) (string, error) {
	if utf8.RuneCountInString(v) > 1000 || !validText(v) {
		return "", errs.Field(errs.Body, "description", errs.Invalid_, "description must be text of at most 1000 characters")
	}
	return v, nil
}

// checkIDs refuses a team's account or user that is not the organisation's.
func checkIDs(ctx context.Context, tx *store.Tx, orgID string, in TeamInput) error {
	for _, c := range []struct {
		table, field string
		ids          []string
	}{{"api_accounts", "apiAccountIds", in.APIAccountIDs}, {"org_members", "userIds", in.UserIDs}} {
		if len(c.ids) > store.MaxTeamRefs {
			return errs.Field(errs.Body, c.field, errs.TooLong, "a team holds at most %d %s", store.MaxTeamRefs, c.field)
		}
		missing, err := tx.OrgHas(ctx, c.table, orgID, c.ids)
		if err != nil {
			return err
		}
		if missing != "" {
			return errs.Field(errs.Body, c.field, errs.Invalid_, "%q is not one of the organisation's", missing)
		}
	}
	return nil
}

func nonNil(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}
