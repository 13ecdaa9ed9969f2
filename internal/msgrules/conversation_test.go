package msgrules_test

import (
	"testing"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
)

func TestAssignmentValidate(t *testing.T) {
	for _, a := range []msgrules.Assignment{{}, {UserID: "user-1"}, {TeamID: "team-1"}} {
		if err := a.Validate(); err != nil {
			t.Errorf("%+v: %v", a, err)
		}
	}
	err := msgrules.Assignment{UserID: "user-1", TeamID: "team-1"}.Validate()
	e := errs.As(err)
	if err == nil || e.Code != errs.Invalid || e.Where != errs.Body || len(e.Fields) != 2 ||
		e.Fields["userId"] != errs.Conflicts || e.Fields["teamId"] != errs.Conflicts {
		t.Errorf("both: %v, fields %v; want invalid naming userId and teamId as conflict", err, e.Fields)
	}
}

func TestParseFolder(t *testing.T) {
	for _, f := range []string{msgrules.FolderInbox, msgrules.FolderArchive, msgrules.FolderSpam} {
		got, err := msgrules.ParseFolder(f)
		wantErr(t, err, "", "", "", "")
		if got != f {
			t.Errorf("ParseFolder(%q) = %q", f, got)
		}
	}
	for _, f := range []string{"", "Inbox", "trash", "inbox "} {
		_, err := msgrules.ParseFolder(f)
		wantErr(t, err, errs.Invalid, errs.Body, "folder", errs.Invalid_)
	}
}
