package msgrules_test

import (
	"strings"
	"testing"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
)

func TestMediaKind(t *testing.T) {
	for _, tc := range []struct {
		ct, kind string
		max      int64
		limit    int64
	}{
		{"image/jpeg", "image", 0, 5 << 20},
		{"image/png", "image", 1000, 1000},
		{"video/mp4", "video", 0, 16 << 20},
		{"audio/ogg; codecs=opus", "audio", 0, 16 << 20},
		{"application/pdf", "document", 0, 100 << 20},
		{"Application/PDF", "document", 0, 100 << 20},
		{"image/webp", "sticker", 0, 500 << 10},
		{"image/webp", "sticker", 1 << 30, 500 << 10},
	} {
		kind, _, limit, err := msgrules.MediaKind("file", tc.ct, tc.max)
		if err != nil || kind != tc.kind || limit != tc.limit {
			t.Errorf("MediaKind(%q, %d) = %s %d %v, want %s %d", tc.ct, tc.max, kind, limit, err, tc.kind, tc.limit)
		}
	}
	for _, ct := range []string{"", "application/zip", "text/html", "image/svg+xml", "application/octet-stream", "image/jpeg;;"} {
		_, _, _, err := msgrules.MediaKind("file", ct, 0)
		if e := errs.As(err); e == nil || e.Fields["file"] == "" {
			t.Errorf("MediaKind(%q) = %v, want an error naming file", ct, err)
		}
	}
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{
		"lease.pdf":              "lease.pdf",
		"../../etc/passwd":       "passwd",
		`C:\Users\ann\scan.jpg`:  "scan.jpg",
		"a\x00b\x1b[31m.png":     "ab[31m.png",
		"..":                     "",
		strings.Repeat("é", 200): strings.Repeat("é", 120),
	} {
		if got := msgrules.FileName(in); got != want {
			t.Errorf("FileName(%q) = %q, want %q", in, got, want)
		}
	}
}
