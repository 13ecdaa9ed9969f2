package messaging_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/messaging"
)

const reason = "131026: message undeliverable"

// TestDeliveryOrderIndependent applies every ordering of every set of
// statuses and checks that the result depends only on the set.
func TestDeliveryOrderIndependent(t *testing.T) {
	S, D, R, F := messaging.StatusSent, messaging.StatusDelivered, messaging.StatusRead, messaging.StatusFailed
	failed := messaging.Delivery{IsFailed: true, FailureReason: reason}
	sentFailed := messaging.Delivery{IsSent: true, IsFailed: true, FailureReason: reason}
	sent := messaging.Delivery{IsSent: true}
	delivered := messaging.Delivery{IsSent: true, IsDelivered: true}
	read := messaging.Delivery{IsSent: true, IsDelivered: true, IsRead: true}
	tests := []struct {
		set       []string
		want      messaging.Delivery
		broadcast string
	}{
		{nil, messaging.Delivery{}, messaging.BroadcastQueued},
		{[]string{S}, sent, messaging.BroadcastSent},
		{[]string{D}, delivered, messaging.BroadcastDelivered},
		{[]string{R}, read, messaging.BroadcastRead},
		{[]string{S, D}, delivered, messaging.BroadcastDelivered},
		{[]string{S, R}, read, messaging.BroadcastRead},
		{[]string{D, R}, read, messaging.BroadcastRead},
		{[]string{S, D, R}, read, messaging.BroadcastRead},
		{[]string{F}, failed, messaging.BroadcastFailed},
		{[]string{S, F}, sentFailed, messaging.BroadcastFailed},
		{[]string{D, F}, delivered, messaging.BroadcastDelivered}, // delivery proves arrival
		{[]string{R, F}, read, messaging.BroadcastRead},
		{[]string{S, D, F}, delivered, messaging.BroadcastDelivered},
		{[]string{S, R, F}, read, messaging.BroadcastRead},
		{[]string{D, R, F}, read, messaging.BroadcastRead},
		{[]string{S, D, R, F}, read, messaging.BroadcastRead},
	}
	for _, tt := range tests {
		for _, order := range permutations(tt.set) {
			// Each status twice, as channels retry their callbacks.
			for _, statuses := range [][]string{order, append(slices.Clone(order), order...)} {
				var d messaging.Delivery
				for _, s := range statuses {
					var err error
					if d, err = d.Apply(s, reason); err != nil {
						t.Fatalf("Apply(%q): %v", s, err)
					}
				}
				if d != tt.want {
					t.Errorf("%s: got %+v, want %+v", strings.Join(statuses, "→"), d, tt.want)
				}
				if got := messaging.BroadcastStatus(d, true); got != tt.broadcast {
					t.Errorf("%s: broadcast status %q, want %q", strings.Join(statuses, "→"), got, tt.broadcast)
				}
			}
		}
	}
}

func permutations(s []string) [][]string {
	if len(s) <= 1 {
		return [][]string{slices.Clone(s)}
	}
	var out [][]string
	for i := range s {
		rest := slices.Concat(s[:i], s[i+1:])
		for _, p := range permutations(rest) {
			out = append(out, append([]string{s[i]}, p...))
		}
	}
	return out
}

func TestDeliveryApply(t *testing.T) {
	read := messaging.Delivery{IsSent: true, IsDelivered: true, IsRead: true}
	tests := []struct {
		name           string
		from           messaging.Delivery
		status, reason string
		want           messaging.Delivery
	}{
		{"late sent after read changes nothing", read, messaging.StatusSent, "", read},
		{"failed after read is ignored", read, messaging.StatusFailed, reason, read},
		{"failed after sent", messaging.Delivery{IsSent: true}, messaging.StatusFailed, reason,
			messaging.Delivery{IsSent: true, IsFailed: true, FailureReason: reason}},
		{"failed without a reason still has one", messaging.Delivery{}, messaging.StatusFailed, "",
			messaging.Delivery{IsFailed: true, FailureReason: messaging.UnknownFailure}},
		{"a second failure keeps the first reason", messaging.Delivery{IsFailed: true, FailureReason: "first"},
			messaging.StatusFailed, "second", messaging.Delivery{IsFailed: true, FailureReason: "first"}},
		{"delivered clears an earlier failure", messaging.Delivery{IsSent: true, IsFailed: true, FailureReason: reason},
			messaging.StatusDelivered, "", messaging.Delivery{IsSent: true, IsDelivered: true}},
		{"reason ignored for other statuses", messaging.Delivery{}, messaging.StatusSent, "ignored",
			messaging.Delivery{IsSent: true}},
	}
	for _, tt := range tests {
		got, err := tt.from.Apply(tt.status, tt.reason)
		wantErr(t, err, "", "", "", "")
		if got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
	for _, s := range []string{"", "Sent", "deleted", "warning", "queued"} {
		got, err := read.Apply(s, "")
		wantErr(t, err, errs.Invalid, errs.Body, "status", errs.Invalid_)
		if got != read {
			t.Errorf("Apply(%q) changed the delivery to %+v", s, got)
		}
	}
}

func TestBroadcastStatus(t *testing.T) {
	tests := []struct {
		d      messaging.Delivery
		queued bool
		want   string
	}{
		{messaging.Delivery{}, false, ""}, // not queued yet: the seed returns no status
		{messaging.Delivery{}, true, messaging.BroadcastQueued},
		{messaging.Delivery{IsSent: true}, true, messaging.BroadcastSent},
		{messaging.Delivery{IsSent: true, IsDelivered: true}, true, messaging.BroadcastDelivered},
		{messaging.Delivery{IsSent: true, IsDelivered: true, IsRead: true}, true, messaging.BroadcastRead},
		{messaging.Delivery{IsFailed: true, FailureReason: reason}, true, messaging.BroadcastFailed},
		{messaging.Delivery{IsFailed: true, FailureReason: reason}, false, messaging.BroadcastFailed}, // failed to queue
		{messaging.Delivery{IsSent: true, IsFailed: true, FailureReason: reason}, true, messaging.BroadcastFailed},
	}
	for _, tt := range tests {
		if got := messaging.BroadcastStatus(tt.d, tt.queued); got != tt.want {
			t.Errorf("BroadcastStatus(%+v, %v) = %q, want %q", tt.d, tt.queued, got, tt.want)
		}
	}
}
