package cmdline

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func flags() (*flag.FlagSet, *time.Duration, *string) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	d := fs.Duration("hold", time.Second, "how long (env BOXWIRE_HOLD)")
	s := fs.String("name", "", "a name, from no variable")
	return fs, d, s
}

// The environment sets what the command line does not; the command line
// wins; a bad value names its variable; extra arguments are a usage
// error; -h is not an error.
func TestParse(t *testing.T) {
	t.Setenv("BOXWIRE_HOLD", "7s")
	fs, hold, _ := flags()
	if err := Parse(fs, nil, &bytes.Buffer{}); err != nil || *hold != 7*time.Second {
		t.Fatalf("from the environment: %v, %v; want 7s", *hold, err)
	}
	fs, hold, _ = flags()
	if err := Parse(fs, []string{"--hold", "2s"}, &bytes.Buffer{}); err != nil || *hold != 2*time.Second {
		t.Fatalf("flag over environment: %v, %v; want 2s", *hold, err)
	}
	t.Setenv("BOXWIRE_HOLD", "soon")
	fs, _, _ = flags()
	if err := Parse(fs, nil, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "BOXWIRE_HOLD") {
		t.Fatalf("a bad variable gave %v; want an error naming BOXWIRE_HOLD", err)
	}
	os.Unsetenv("BOXWIRE_HOLD")
	var out bytes.Buffer
	fs, _, _ = flags()
	if err := Parse(fs, []string{"--name", "a", "extra"}, &out); !errors.Is(err, ErrUsage) || !strings.Contains(out.String(), "extra") {
		t.Fatalf("an extra argument gave %v, %q; want ErrUsage naming it", err, &out)
	}
	fs, _, _ = flags()
	if err := Parse(fs, []string{"-h"}, &out); err != nil || !HelpAsked([]string{"-h"}) {
		t.Fatalf("-h gave %v; want no error", err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "session.json")
	for _, text := range []string{"first", "second"} {
		if err := WriteFileAtomic(path, []byte(text)); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		info, _ := os.Stat(path)
		if err != nil || string(b) != text || info.Mode().Perm() != 0o600 {
			t.Fatalf("wrote %q: read %q (%v), mode %v; want it whole and 0600", text, b, err, info.Mode())
		}
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".tmp-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestSubjectOf(t *testing.T) {
	for token, want := range map[string]string{
		"h.eyJzdWIiOiJpZC0xIn0.s": "id-1", // {"sub":"id-1"}
		"h.e30.s":                 "",     // {}
		"not-a-token":             "",
		"h.!!!.s":                 "",
	} {
		got, err := SubjectOf(token)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("SubjectOf(%q) = %q, %v; want %q", token, got, err, want)
		}
	}
}
