package errs

import (
	"errors"
	"fmt"
	"testing"
)

func TestField(t *testing.T) {
	e := Field(Query, "limit", TooLong, "%s must be at most %d", "limit", 10)
	if e.Code != Invalid || e.Where != Query || e.Message != "limit must be at most 10" {
		t.Fatalf("Field = %+v", e)
	}
	if len(e.Fields) != 1 || e.Fields["limit"] != TooLong {
		t.Fatalf("Fields = %v, want only limit: %s", e.Fields, TooLong)
	}
}

func TestAsAndCodeOf(t *testing.T) {
	own := E(NotFound, "no such box %q", "b1")
	foreign := errors.New("disk on fire")
	tests := []struct {
		name string
		err  error
		code Code
		same bool // As returns the very *Error inside err
	}{
		{name: "own error", err: own, code: NotFound, same: true},
		{name: "wrapped own error", err: fmt.Errorf("loading: %w", own), code: NotFound, same: true},
		{name: "foreign error is internal", err: foreign, code: Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CodeOf(tt.err); got != tt.code {
				t.Errorf("CodeOf = %q, want %q", got, tt.code)
			}
			e := As(tt.err)
			if e.Code != tt.code {
				t.Errorf("As(...).Code = %q, want %q", e.Code, tt.code)
			}
			if tt.same && e != own {
				t.Errorf("As returned %p, want the original %p", e, own)
			}
			if !tt.same {
				if e.Message != "internal error" || !errors.Is(e, foreign) {
					t.Errorf("As(foreign) = %+v, want a generic message wrapping the cause", e)
				}
			}
		})
	}
	if got := CodeOf(nil); got != "" {
		t.Errorf("CodeOf(nil) = %q, want \"\"", got)
	}
}

func TestWrap(t *testing.T) {
	if Wrap(nil, "x") != nil {
		t.Fatal("Wrap(nil) != nil")
	}
	own := E(Conflict, "taken")
	if got := Wrap(own, "saving"); got != own {
		t.Fatalf("Wrap(own) = %v, want it unchanged", got)
	}
	cause := errors.New("connection reset")
	w := Wrap(cause, "saving %s", "box")
	if CodeOf(w) != Internal || !errors.Is(w, cause) {
		t.Fatalf("Wrap(foreign) = %v, want internal wrapping the cause", w)
	}
	if got, want := w.Error(), "internal: saving box: connection reset"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if got, want := own.Error(), "conflict: taken"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func TestFaultsNameEveryField(t *testing.T) {
	err := Faults(nil,
		Field(Body, "title", Required, "title is required"),
		nil,
		Field(Body, "public_key", Malformed, "public_key must be url64"))
	e := As(err)
	if e.Code != Invalid || e.Where != Body || len(e.Fields) != 2 ||
		e.Fields["title"] != Required || e.Fields["public_key"] != Malformed {
		t.Fatalf("Faults = %+v, want title and public_key together", e)
	}
	if e.Message != "title is required; public_key must be url64" {
		t.Fatalf("message = %q", e.Message)
	}
	if Faults(nil, nil) != nil {
		t.Fatal("no faults must be nil")
	}
	big := E(TooLarge, "content.encrypted is too large")
	if got := Faults(Field(Body, "title", Required, "x"), big); got != big {
		t.Fatalf("a non-field error must win alone, got %v", got)
	}
}
