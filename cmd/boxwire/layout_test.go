package main

import (
	"go/build"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/boxwire/boxwire/"

// ownImports lists the packages of this module that the package in dir
// (relative to the repository) imports, outside its tests, without the
// module prefix.
func ownImports(t *testing.T, dir string) []string {
	t.Helper()
	p, err := build.ImportDir(filepath.Join("..", "..", dir), 0)
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	var own []string
	for _, imp := range p.Imports {
		if rest, ok := strings.CutPrefix(imp, module); ok {
			own = append(own, rest)
		}
	}
	return own
}

// TestLayout holds the directions docs/architecture.md describes: rules
// import only rules, the store knows neither engine, and the commands
// beside the server are leaves that import neither one another nor the
// HTTP surfaces (package main, the server's wiring, cannot be imported).
func TestLayout(t *testing.T) {
	rules := []string{"internal/errs", "internal/identity", "internal/printable", "internal/journal",
		"internal/boxrules", "internal/msgrules", "internal/atrest"}
	for _, dir := range rules {
		for _, imp := range ownImports(t, dir) {
			if !slices.Contains(rules, imp) {
				t.Errorf("%s holds rules with no I/O, yet imports %s", dir, imp)
			}
		}
	}

	only := map[string][]string{
		// The people's CLI is a client like any other.
		"internal/cli": {"client", "internal/cmdline", "internal/printable"},
	}
	never := map[string][]string{
		"internal/cmdline":        {"internal/cli", "internal/operator", "internal/loadgen"},
		"internal/operator":       {"internal/cli", "internal/loadgen", "internal/api"},
		"internal/loadgen":        {"internal/cli", "internal/operator", "internal/api"},
		"internal/store":          {"internal/store/sqlite", "internal/store/postgres"},
		"internal/store/sqlite":   {"internal/store/postgres"},
		"internal/store/postgres": {"internal/store/sqlite"},
		"internal/boxservice":     {"internal/api"},
		"internal/msgservice":     {"internal/api"},
	}
	for dir, allowed := range only {
		for _, imp := range ownImports(t, dir) {
			if !slices.Contains(allowed, imp) {
				t.Errorf("%s imports %s; it may import only %v", dir, imp, allowed)
			}
		}
	}
	for dir, banned := range never {
		for _, imp := range ownImports(t, dir) {
			for _, b := range banned {
				if imp == b || strings.HasPrefix(imp, b+"/") {
					t.Errorf("%s must not import %s", dir, imp)
				}
			}
		}
	}
}
