package msgrules_test

import (
	"testing"

	"github.com/boxwire/boxwire/internal/msgrules"
)

// Webhooks and organisation viewers follow only organisations' scopes; a
// box's or an identity's entries must never pass as one.
func TestIsOrgScope(t *testing.T) {
	for scope, want := range map[string]bool{
		msgrules.OrgScope("0193"):              true,
		"org:":                                 true,
		"org":                                  false,
		"identity:0193":                        false,
		"0193a5c2-0000-7000-8000-000000000000": false,
		"organisation:0193":                    false,
	} {
		if got := msgrules.IsOrgScope(scope); got != want {
			t.Errorf("IsOrgScope(%q) = %v, want %v", scope, got, want)
		}
	}
}
