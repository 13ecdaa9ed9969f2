// Package cmdline is what boxwire's commands share: flags that the
// BOXWIRE_* environment may set, -h, the usage error, where the data
// lives (StoreConfig), and a few chores of a command run by a person
// (a password prompt, a private file written whole).
package cmdline

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
)

// ErrUsage is returned after a command printed its usage: the caller
// exits non-zero and prints nothing more.
var ErrUsage = errors.New("usage")

// Env is the BOXWIRE_name variable, or def when it is not set.
func Env(name, def string) string {
	if v, ok := os.LookupEnv("BOXWIRE_" + name); ok {
		return v
	}
	return def
}

// envNamed finds the environment variable a flag's help names, as in
// "(env BOXWIRE_ADDR)" or "(env BOXWIRE_TEST_CLOCK=1)".
var envNamed = regexp.MustCompile(`\(env (BOXWIRE_[A-Z0-9_]+)`)

// EnvVar is the BOXWIRE_* variable a flag's help names, if any.
func EnvVar(f *flag.Flag) (string, bool) {
	m := envNamed.FindStringSubmatch(f.Usage)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// fromEnv sets each flag whose help names a BOXWIRE_* variable that is
// set, through the flag's own parser: a value it refuses stops the
// command with the variable's name, as a bad flag would, instead of
// falling back to the default unnoticed. Flags on the command line are
// parsed after, and win.
func fromEnv(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name, ok := EnvVar(f)
		if !ok || err != nil {
			return
		}
		if v, ok := os.LookupEnv(name); ok {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s=%q: %v (it sets --%s)", name, v, serr, f.Name)
			}
		}
	})
	return err
}

// Parse parses a command's flags; -h prints them and is not an error.
func Parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fromEnv(fs); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return ErrUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %v\n", fs.Args())
		return ErrUsage
	}
	return nil
}

// HelpAsked reports whether args ask for help (-h, -help, --help).
func HelpAsked(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			return true
		}
	}
	return false
}

// GroupHelp prints a command group's usage when its first argument asks
// for help ("boxwire user -h"), and reports that it did.
func GroupHelp(args []string, usage string, stdout io.Writer) bool {
	if len(args) == 0 || !HelpAsked(args[:1]) {
		return false
	}
	fmt.Fprintln(stdout, usage)
	return true
}
