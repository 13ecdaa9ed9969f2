package msgrules_test

import (
	"testing"

	"github.com/boxwire/boxwire/internal/errs"
)

// wantErr fails unless err is an *errs.Error with this code, place and
// single field reason. An empty code means err must be nil.
func wantErr(t *testing.T, err error, code errs.Code, where errs.Where, field, reason string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error %v (fields %v)", err, errs.As(err).Fields)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %s %s=%s", code, field, reason)
	}
	e := errs.As(err)
	if e.Code != code || e.Where != where {
		t.Errorf("code, where = %s, %s; want %s, %s (err: %v)", e.Code, e.Where, code, where, err)
	}
	if len(e.Fields) != 1 || e.Fields[field] != reason {
		t.Errorf("fields = %v, want {%s: %s} (err: %v)", e.Fields, field, reason, err)
	}
	if e.Message == "" {
		t.Error("error has no message")
	}
}
