package main

import (
	"runtime/debug"
	"strings"
)

// version is set at link time for releases (-ldflags "-X main.version=v1.2.3").
var version = "dev"

// versionString is the version with the source revision the binary was
// built from, which `go build` records from git (vcs.revision, vcs.time,
// vcs.modified): "dev (3f2a9c1d0b7e, 2026-12-06T02:11:13Z, modified)".
func versionString() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	var rev, at, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "modified"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	var parts []string
	for _, p := range []string{rev, at, modified} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return version
	}
	return version + " (" + strings.Join(parts, ", ") + ")"
}
