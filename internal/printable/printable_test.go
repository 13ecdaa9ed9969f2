package printable_test

import (
	"testing"

	"github.com/boxwire/boxwire/internal/printable"
)

func TestName(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"Ada Lovelace", true}, {"Zoë 🙂", true}, {"two\nlines\tand tab", true}, {"مرحبا", true},
		{"a\x00b", false}, {"bad\xff", false}, {"\x1b[31mred", false}, {"car\rriage", false},
		{"back\bspace", false}, {"del\x7f", false}, {"csi\u009b2J", false},
	} {
		if got := printable.Name(tt.in) == ""; got != tt.ok {
			t.Errorf("Name(%q) ok = %v, want %v", tt.in, got, tt.ok)
		}
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain":              "plain",
		"two\nlines\ttab":    "two\nlines\ttab",
		"\x1b[2J\x1b[31mred": `\u001b[2J\u001b[31mred`,
		"over\rwrite":        `over\u000dwrite`,
		"del\x7f":            `del\u007f`,
		"csi\u009b2J":        `csi\u009b2J`,
		"bad\xffbyte":        `bad\xffbyte`,
		"Zoë":                "Zoë",
	} {
		if got := printable.Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
	if got := printable.Clean("Ann\x1b[31m\x00e\u009b"); got != "Ann[31me" {
		t.Errorf("Clean = %q", got)
	}
}
