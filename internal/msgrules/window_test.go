package msgrules_test

import (
	"strings"
	"testing"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
)

func TestCheckSessionWindow(t *testing.T) {
	now := time.Date(2024, 4, 30, 14, 3, 25, 0, time.UTC)
	tests := []struct {
		name         string
		lastIncoming time.Time
		open         bool
	}{
		{"just now", now, true},
		{"an hour ago", now.Add(-time.Hour), true},
		{"a nanosecond short of 24h", now.Add(-msgrules.SessionWindow + time.Nanosecond), true},
		{"slightly in the future (clock skew)", now.Add(time.Second), true},
		{"exactly 24h", now.Add(-msgrules.SessionWindow), false},
		{"25h ago", now.Add(-25 * time.Hour), false},
		{"never wrote", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := msgrules.CheckSessionWindow(tt.lastIncoming, now)
			if tt.open {
				wantErr(t, err, "", "", "", "")
				return
			}
			wantErr(t, err, errs.Conflict, errs.NotDefined, "contactId", msgrules.ReasonSessionWindowClosed)
			if msg := errs.As(err).Message; !strings.Contains(msg, "template broadcast") || !strings.Contains(msg, "24-hour") {
				t.Errorf("message %q does not say to send a template broadcast", msg)
			}
		})
	}
	err := msgrules.CheckSessionWindow(now.Add(-25*time.Hour), now)
	if msg := errs.As(err).Message; !strings.Contains(msg, "2024-04-29T13:03:25Z") {
		t.Errorf("message %q does not say when the contact last wrote", msg)
	}
}
