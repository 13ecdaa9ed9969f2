package msgrules

import "github.com/boxwire/boxwire/internal/errs"

// Channel delivery statuses, as the WhatsApp Cloud API names them.
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
)

// IsDeliveryStatus reports a status Delivery.Apply knows.
func IsDeliveryStatus(s string) bool {
	switch s {
	case StatusSent, StatusDelivered, StatusRead, StatusFailed:
		return true
	}
	return false
}

// Broadcast statuses, capitalised as in seed 004.
const (
	BroadcastQueued    = "Queued"
	BroadcastSent      = "Sent"
	BroadcastDelivered = "Delivered"
	BroadcastRead      = "Read"
	BroadcastFailed    = "Failed"
)

// UnknownFailure is the reason kept when a channel reports a failure
// without one, so a Failed broadcast always says something.
const UnknownFailure = "the channel reported the message as failed without a reason"

// Delivery is what the channel has reported about an outgoing message.
type Delivery struct {
	IsSent        bool
	IsDelivered   bool
	IsRead        bool
	IsFailed      bool
	FailureReason string
}

// Apply folds one channel status into d. Channels deliver statuses out
// of order and more than once, so the result depends only on the set of
// statuses seen, never on their order:
//   - read implies delivered, delivered implies sent, and a status never
//     takes a flag back, so a late "sent" after "read" changes nothing;
//   - "failed" counts only until the message is known delivered: a
//     delivery or read report is proof it arrived, so it clears an
//     earlier failure, and a failure reported after it is ignored
//     (WhatsApp can report a failure late, e.g. for a retried send);
//   - the first failure reason is kept; repeats do not overwrite it.
func (d Delivery) Apply(status, reason string) (Delivery, error) {
	switch status {
	case StatusRead:
		d.IsRead = true
		fallthrough
	case StatusDelivered:
		d.IsDelivered = true
		d.IsFailed, d.FailureReason = false, ""
		fallthrough
	case StatusSent:
		d.IsSent = true
	case StatusFailed:
		if !d.IsDelivered {
			d.IsFailed = true
			d.FailureReason = failureReason(d.FailureReason, reason)
		}
	default:
		return d, errs.Field(errs.Body, "status", errs.Invalid_,
			"status must be sent, delivered, read or failed")
	}
	return d, nil
}

func failureReason(kept, reported string) string {
	switch {
	case kept != "":
		return kept
	case reported != "":
		return reported
	}
	return UnknownFailure
}

// BroadcastStatus is the seed's status of a broadcast whose message has
// delivery d. Before the broadcast is queued for the channel the seed
// returns no status, hence "" when queued is false and nothing happened.
func BroadcastStatus(d Delivery, queued bool) string {
	switch {
	case d.IsFailed:
		return BroadcastFailed
	case d.IsRead:
		return BroadcastRead
	case d.IsDelivered:
		return BroadcastDelivered
	case d.IsSent:
		return BroadcastSent
	case queued:
		return BroadcastQueued
	}
	return ""
}
