package msgrules_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
)

const reason = "131026: message undeliverable"

// TestDeliveryOrderIndependent applies every ordering of every set of
// statuses and checks that the result depends only on the set.
func TestDeliveryOrderIndependent(t *testing.T) {
	S, D, R, F := msgrules.StatusSent, msgrules.StatusDelivered, msgrules.StatusRead, msgrules.StatusFailed
	failed := msgrules.Delivery{IsFailed: true, FailureReason: reason}
	sentFailed := msgrules.Delivery{IsSent: true, IsFailed: true, FailureReason: reason}
	sent := msgrules.Delivery{IsSent: true}
	delivered := msgrules.Delivery{IsSent: true, IsDelivered: true}
	read := msgrules.Delivery{IsSent: true, IsDelivered: true, IsRead: true}
	tests := []struct {
		set       []string
		want      msgrules.Delivery
		broadcast string
	}{
		{nil, msgrules.Delivery{}, msgrules.BroadcastQueued},
		{[]string{S}, sent, msgrules.BroadcastSent},
		{[]string{D}, delivered, msgrules.BroadcastDelivered},
		{[]string{R}, read, msgrules.BroadcastRead},
		{[]string{S, D}, delivered, msgrules.BroadcastDelivered},
		{[]string{S, R}, read, msgrules.BroadcastRead},
		{[]string{D, R}, read, msgrules.BroadcastRead},
		{[]string{S, D, R}, read, msgrules.BroadcastRead},
		{[]string{F}, failed, msgrules.BroadcastFailed},
		{[]string{S, F}, sentFailed, msgrules.BroadcastFailed},
		{[]string{D, F}, delivered, msgrules.BroadcastDelivered}, // delivery proves arrival
		{[]string{R, F}, read, msgrules.BroadcastRead},
		{[]string{S, D, F}, delivered, msgrules.BroadcastDelivered},
		{[]string{S, R, F}, read, msgrules.BroadcastRead},
		{[]string{D, R, F}, read, msgrules.BroadcastRead},
		{[]string{S, D, R, F}, read, msgrules.BroadcastRead},
	}
	for _, tt := range tests {
		for _, order := range permutations(tt.set) {
			// Each status twice, as channels retry their callbacks.
			for _, statuses := range [][]string{order, append(slices.Clone(order), order...)} {
				var d msgrules.Delivery
				for _, s := range statuses {
					var err error
					if d, err = d.Apply(s, reason); err != nil {
						t.Fatalf("Apply(%q): %v", s, err)
					}
				}
				if d != tt.want {
					t.Errorf("%s: got %+v, want %+v", strings.Join(statuses, "→"), d, tt.want)
				}
				if got := msgrules.BroadcastStatus(d, true); got != tt.broadcast {
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
	read := msgrules.Delivery{IsSent: true, IsDelivered: true, IsRead: true}
	tests := []struct {
		name           string
		from           msgrules.Delivery
		status, reason string
		want           msgrules.Delivery
	}{
		{"late sent after read changes nothing", read, msgrules.StatusSent, "", read},
		{"failed after read is ignored", read, msgrules.StatusFailed, reason, read},
		{"failed after sent", msgrules.Delivery{IsSent: true}, msgrules.StatusFailed, reason,
			msgrules.Delivery{IsSent: true, IsFailed: true, FailureReason: reason}},
		{"failed without a reason still has one", msgrules.Delivery{}, msgrules.StatusFailed, "",
			msgrules.Delivery{IsFailed: true, FailureReason: msgrules.UnknownFailure}},
		{"a second failure keeps the first reason", msgrules.Delivery{IsFailed: true, FailureReason: "first"},
			msgrules.StatusFailed, "second", msgrules.Delivery{IsFailed: true, FailureReason: "first"}},
		{"delivered clears an earlier failure", msgrules.Delivery{IsSent: true, IsFailed: true, FailureReason: reason},
			msgrules.StatusDelivered, "", msgrules.Delivery{IsSent: true, IsDelivered: true}},
		{"reason ignored for other statuses", msgrules.Delivery{}, msgrules.StatusSent, "ignored",
			msgrules.Delivery{IsSent: true}},
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
		d      msgrules.Delivery
		queued bool
		want   string
	}{
		{msgrules.Delivery{}, false, ""}, // not queued yet: the seed returns no status
		{msgrules.Delivery{}, true, msgrules.BroadcastQueued},
		{msgrules.Delivery{IsSent: true}, true, msgrules.BroadcastSent},
		{msgrules.Delivery{IsSent: true, IsDelivered: true}, true, msgrules.BroadcastDelivered},
		{msgrules.Delivery{IsSent: true, IsDelivered: true, IsRead: true}, true, msgrules.BroadcastRead},
		{msgrules.Delivery{IsFailed: true, FailureReason: reason}, true, msgrules.BroadcastFailed},
		{msgrules.Delivery{IsFailed: true, FailureReason: reason}, false, msgrules.BroadcastFailed}, // failed to queue
		{msgrules.Delivery{IsSent: true, IsFailed: true, FailureReason: reason}, true, msgrules.BroadcastFailed},
	}
	for _, tt := range tests {
		if got := msgrules.BroadcastStatus(tt.d, tt.queued); got != tt.want {
			t.Errorf("BroadcastStatus(%+v, %v) = %q, want %q", tt.d, tt.queued, got, tt.want)
		}
	}
}
