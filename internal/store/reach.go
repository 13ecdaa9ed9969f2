package store

import (
	"strconv"

	"github.com/boxwire/boxwire/internal/msgrules"
)

// Reach is what a member of an organisation may see of its messaging
// records: the API accounts of their teams, or all of them for an admin
// (DESIGN §6). Every messaging read takes one, so the rule is written once.
type Reach struct {
	OrgID  string
	UserID string
	All    bool // an org admin
}

// ReachOf is the reach of m.
func ReachOf(m msgrules.Member) Reach {
	return Reach{OrgID: m.OrgID, UserID: m.UserID, All: m.IsAdmin()}
}

// where returns " AND <alias.>org_id = $n [AND <accountCol> IN (…)]",
// appending its arguments to args.
func (r Reach) where(alias, accountCol string, args *[]any) string {
	*args = append(*args, r.OrgID)
	s := " AND " + alias + "org_id = $" + strconv.Itoa(len(*args))
	if r.All {
		return s
	}
	*args = append(*args, r.UserID)
	return s + " AND " + accountCol + " IN (" + teamAccountsOf("$"+strconv.Itoa(len(*args))) + ")"
}

// teamAccountsOf is the SQL subquery of the API accounts of the teams of
// the identity identityExpr names: what an agent reaches. Every query of
// reach uses it, so the rule is written once.
func teamAccountsOf(identityExpr string) string {
	return `SELECT ta.api_account_id FROM team_accounts ta JOIN team_users tu ON tu.team_id = ta.team_id
		WHERE tu.identity_id = ` + identityExpr
}

// arg appends v to args and returns its placeholder.
func arg(args *[]any, v any) string {
	*args = append(*args, v)
	return "$" + strconv.Itoa(len(*args))
}

func itoa(n int) string { return strconv.Itoa(n) }
