package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
)

// CreateTeam stores tm, assigning its id, and its users and accounts.
// A name already used in the organisation is a Conflict on name.
func (t *Tx) CreateTeam(ctx context.Context, tm *msgrules.Team, userIDs, accountIDs []string) error {
	tm.TeamID = uuid.NewString()
	_, err := t.q.ExecContext(ctx, `INSERT INTO teams (id, org_id, name, description, created_at) VALUES ($1, $2, $3, $4, $5)`,
		tm.TeamID, tm.OrgID, tm.Name, tm.Description, micros(t.now))
	if err = t.store.conflict(err, "name", "a team with this name already exists"); err != nil {
		return errs.Wrap(err, "create team")
	}
	return t.setTeamLinks(ctx, tm.TeamID, userIDs, accountIDs)
}

// UpdateTeam stores tm's name and description, and replaces its users
// or accounts when they are given (nil leaves them).
func (t *Tx) UpdateTeam(ctx context.Context, tm msgrules.Team, userIDs, accountIDs []string) error {
	_, err := t.q.ExecContext(ctx, `UPDATE teams SET name = $3, description = $4 WHERE id = $1 AND org_id = $2`,
		tm.TeamID, tm.OrgID, tm.Name, tm.Description)
	if err = t.store.conflict(err, "name", "a team with this name already exists"); err != nil {
		return errs.Wrap(err, "update team")
	}
	return t.setTeamLinks(ctx, tm.TeamID, userIDs, accountIDs)
}

// TeamLosers lists the team's users who lose access when its users
// become userIDs and its accounts accountIDs (nil leaves either as it
// is): the users taken out, and every remaining user if an account is.
func (t *Tx) TeamLosers(ctx context.Context, teamID string, userIDs, accountIDs []string) ([]string, error) {
	users, err := column(ctx, t.q, `SELECT identity_id FROM team_users WHERE team_id = $1 ORDER BY identity_id`, teamID)
	if err != nil {
		return nil, err
	}
	var accounts []string
	if accountIDs != nil {
		if accounts, err = column(ctx, t.q, `SELECT api_account_id FROM team_accounts WHERE team_id = $1`, teamID); err != nil {
			return nil, err
		}
	}
	accountLost := false
	for _, a := range accounts {
		accountLost = accountLost || !slices.Contains(accountIDs, a)
	}
	var out []string
	for _, u := range users {
		if accountLost || (userIDs != nil && !slices.Contains(userIDs, u)) {
			out = append(out, u)
		}
	}
	return out, nil
}

// RemoveMember takes a user out of an organisation: its membership, its
// teams there, and the organisation's conversations assigned to it.
func (t *Tx) RemoveMember(ctx context.Context, orgID, userID string) error {
	for _, q := range []string{
		`DELETE FROM team_users WHERE identity_id = $2 AND team_id IN (SELECT id FROM teams WHERE org_id = $1)`,
		`UPDATE conversations SET user_id = NULL WHERE org_id = $1 AND user_id = $2`,
		`DELETE FROM org_members WHERE org_id = $1 AND identity_id = $2`,
	} {
		if _, err := t.q.ExecContext(ctx, q, orgID, userID); err != nil {
			return errs.Wrap(err, "remove member")
		}
	}
	return nil
}

// TeamNames reads a team's name and description in the transaction.
func (t *Tx) TeamNames(ctx context.Context, orgID, id string) (name, description string, err error) {
	err = t.q.QueryRowContext(ctx, `SELECT name, description FROM teams WHERE org_id = $1 AND id = $2`, orgID, id).Scan(&name, &description)
	if err == sql.ErrNoRows {
		return "", "", errs.E(errs.NotFound, "no such team")
	}
	return name, description, errs.Wrap(err, "read team")
}

func (t *Tx) setTeamLinks(ctx context.Context, teamID string, userIDs, accountIDs []string) error {
	for _, link := range []struct {
		table, col string
		ids        []string
	}{{"team_users", "identity_id", userIDs}, {"team_accounts", "api_account_id", accountIDs}} {
		if link.ids == nil {
			continue
		}
		if _, err := t.q.ExecContext(ctx, `DELETE FROM `+link.table+` WHERE team_id = $1`, teamID); err != nil {
			return errs.Wrap(err, "set team %s", link.table)
		}
		for _, id := range link.ids {
			if _, err := t.q.ExecContext(ctx, `INSERT INTO `+link.table+` (team_id, `+link.col+`) VALUES ($1, $2)
				ON CONFLICT DO NOTHING`, teamID, id); err != nil {
				return errs.Wrap(err, "set team %s", link.table)
			}
		}
	}
	return nil
}

// TeamChunk is how many teams one read of GET /team's stream holds, each
// with its users and API accounts (at most MaxTeamRefs of each).
const TeamChunk = 32

// MaxTeamRefs bounds a team's users and its API accounts, so that a
// chunk of teams is a bounded amount of memory.
const MaxTeamRefs = 1000

// Teams reads one team of the organisation with its users and API
// accounts.
func (s *Store) Teams(ctx context.Context, orgID, teamID string) ([]msgrules.Team, error) {
	out, err := s.readTeams(ctx, ` WHERE t.org_id = $1 AND t.id = $2`, []any{orgID, teamID})
	if err == nil && len(out) == 0 {
		return nil, errs.E(errs.NotFound, "no such team")
	}
	return out, err
}

// EachTeam calls fn for the organisation's teams by name, with their
// users and API accounts, TeamChunk teams at a time.
func (s *Store) EachTeam(ctx context.Context, orgID string, fn func(msgrules.Team) error) error {
	return eachChunkOf(TeamChunk, nameKey{}, 0, func(after nameKey, n int) ([]msgrules.Team, nameKey, error) {
		list, err := s.readTeams(ctx, ` WHERE t.org_id = $1 AND (t.name > $2 OR (t.name = $2 AND t.id > $3))`,
			[]any{orgID, after.name, after.id}, n)
		if len(list) == 0 {
			return list, after, err
		}
		last := list[len(list)-1]
		return list, nameKey{last.Name, last.TeamID}, err
	}, fn)
}

// readTeams reads the teams that where picks, by name, at most limit[0]
// of them, then their API accounts and users.
func (s *Store) readTeams(ctx context.Context, where string, args []any, limit ...int) ([]msgrules.Team, error) {
	order := ` ORDER BY t.name, t.id`
	if len(limit) > 0 {
		order += ` LIMIT ` + itoa(limit[0])
	}
	var out []msgrules.Team
	index := map[string]int{}
	err := eachRow(ctx, s.rq, `SELECT t.id, t.org_id, t.name, t.description FROM teams t`+where+order, args, func(rows *sql.Rows) error {
		tm := msgrules.Team{APIAccounts: []msgrules.AccountRef{}, Users: []msgrules.UserRef{}}
		err := rows.Scan(&tm.TeamID, &tm.OrgID, &tm.Name, &tm.Description)
		index[tm.TeamID] = len(out)
		out = append(out, tm)
		return errs.Wrap(err, "scan team")
	})
	if err != nil || len(out) == 0 {
		return out, err
	}
	ids := make([]any, 0, len(out))
	in := make([]string, 0, len(out))
	for _, tm := range out {
		in = append(in, arg(&ids, tm.TeamID))
	}
	teams := ` WHERE t.id IN (` + strings.Join(in, ", ") + `)`
	err = eachRow(ctx, s.rq, `SELECT ta.team_id, a.name, a.id FROM team_accounts ta JOIN api_accounts a ON a.id = ta.api_account_id
		JOIN teams t ON t.id = ta.team_id`+teams+` ORDER BY a.name, a.id`, ids, func(rows *sql.Rows) error {
		var id string
		var ref msgrules.AccountRef
		err := rows.Scan(&id, &ref.Name, &ref.APIAccountid)
		ref.APIAccountID2 = ref.APIAccountid
		if i, ok := index[id]; ok {
			out[i].APIAccounts = append(out[i].APIAccounts, ref)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(ctx, s.rq, `SELECT tu.team_id, m.first_name, m.last_name, m.identity_id FROM team_users tu
		JOIN teams t ON t.id = tu.team_id JOIN org_members m ON m.identity_id = tu.identity_id AND m.org_id = t.org_id`+
		teams+` ORDER BY m.first_name, m.last_name, m.identity_id`, ids, func(rows *sql.Rows) error {
		var id string
		var ref msgrules.UserRef
		err := rows.Scan(&id, &ref.FirstName, &ref.LastName, &ref.UserID)
		if i, ok := index[id]; ok {
			out[i].Users = append(out[i].Users, ref)
		}
		return err
	})
	return out, err
}

// UserAccount is one row of GET /user: a user and an API account they
// can reach (no account: an empty ID).
type UserAccount struct {
	User    msgrules.Member
	Account msgrules.AccountRef
}

// userAccountKey is where GET /user's list resumes: its whole order.
type userAccountKey struct{ first, last, id, accountName, accountID string }

// EachUserAccount calls fn for every user of the organisation paired with
// each API account they reach (all of them for admins, their teams' for
// agents), by name, ChunkRows pairs at a time: an organisation of any
// size is listed in bounded memory.
func (s *Store) EachUserAccount(ctx context.Context, orgID string, fn func(UserAccount) error) error {
	return eachChunk(userAccountKey{}, 0, func(after userAccountKey, n int) ([]UserAccount, userAccountKey, error) {
		list, err := readChunk(ctx, s.rq, "users", `SELECT * FROM (SELECT `+memberColumns+`,
			COALESCE(a.name, '') AS account_name, COALESCE(a.id, '') AS account_id FROM org_members m
			JOIN identities i ON i.id = m.identity_id
			LEFT JOIN api_accounts a ON a.org_id = m.org_id AND (m.role = 'admin' OR a.id IN (`+teamAccountsOf("m.identity_id")+`))
			WHERE m.org_id = $1) x
			WHERE (x.first_name, x.last_name, x.identity_id, x.account_name, x.account_id) > ($2, $3, $4, $5, $6)
			ORDER BY x.first_name, x.last_name, x.identity_id, x.account_name, x.account_id LIMIT $7`,
			[]any{orgID, after.first, after.last, after.id, after.accountName, after.accountID, n},
			func(rows *sql.Rows) (UserAccount, error) {
				var ua UserAccount
				u := &ua.User
				err := rows.Scan(&u.UserID, &u.OrgID, &u.FirstName, &u.LastName, &u.Email, &u.Role, &ua.Account.Name, &ua.Account.APIAccountid)
				ua.Account.APIAccountID2 = ua.Account.APIAccountid
				return ua, errs.Wrap(err, "scan user")
			})
		if len(list) == 0 {
			return list, after, err
		}
		l := list[len(list)-1]
		return list, userAccountKey{l.User.FirstName, l.User.LastName, l.User.UserID, l.Account.Name, l.Account.APIAccountid}, err
	}, fn)
}

// OrgHas reports whether every id names a row of table in the organisation
// (table is api_accounts or teams), or a user of it (org_members).
func (t *Tx) OrgHas(ctx context.Context, table, orgID string, ids []string) (missing string, err error) {
	col := "id"
	if table == "org_members" {
		col = "identity_id"
	}
	for _, id := range ids {
		var one int
		err := t.q.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE org_id = $1 AND `+col+` = $2`, orgID, id).Scan(&one)
		if err == sql.ErrNoRows {
			return id, nil
		}
		if err != nil {
			return "", errs.Wrap(err, "check %s", table)
		}
	}
	return "", nil
}

// UserReaches reports whether a user of the organisation reaches an API
// account: an admin reaches all, an agent those of their teams.
func (t *Tx) UserReaches(ctx context.Context, orgID, userID, accountID string) (bool, error) {
	var n int
	err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM org_members m WHERE m.org_id = $1 AND m.identity_id = $2
		AND (m.role = 'admin' OR $3 IN (`+teamAccountsOf("m.identity_id")+`))`,
		orgID, userID, accountID).Scan(&n)
	return n > 0, errs.Wrap(err, "check reach")
}

// TeamHasAccount reports whether a team of the organisation has an API account.
func (t *Tx) TeamHasAccount(ctx context.Context, orgID, teamID, accountID string) (bool, error) {
	var n int
	err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM teams tm JOIN team_accounts ta ON ta.team_id = tm.id
		WHERE tm.org_id = $1 AND tm.id = $2 AND ta.api_account_id = $3`, orgID, teamID, accountID).Scan(&n)
	return n > 0, errs.Wrap(err, "check team")
}

// DeleteTeam removes a team of the organisation: its links to users and
// API accounts go with it, and its conversations are left unassigned.
func (t *Tx) DeleteTeam(ctx context.Context, orgID, id string) error {
	return deleted(t.q.ExecContext(ctx, deleteTeamSQL, orgID, id))("team")
}

const deleteTeamSQL = `DELETE FROM teams WHERE org_id = $1 AND id = $2`

// deleted turns a DELETE's result into NotFound when it removed nothing.
func deleted(res sql.Result, err error) func(what string) error {
	return func(what string) error {
		if err != nil {
			return errs.Wrap(err, "delete %s", what)
		}
		if n, err := res.RowsAffected(); err != nil {
			return errs.Wrap(err, "delete %s", what)
		} else if n == 0 {
			return errs.E(errs.NotFound, "no such %s", what)
		}
		return nil
	}
}
