package msgrules

import (
	"strings"

	"github.com/boxwire/boxwire/internal/errs"
)

// Webhook types: the kinds of record whose creation a webhook reports.
const (
	WebhookMessage    = "message"
	WebhookContact    = "contact"
	WebhookInbox      = "inbox"
	WebhookAPIAccount = "apiaccount"
	WebhookBroadcast  = "broadcast"
	WebhookTemplate   = "template"
)

var webhookTypes = []string{WebhookMessage, WebhookContact, WebhookInbox, WebhookAPIAccount, WebhookBroadcast, WebhookTemplate}

// ParseWebhookType accepts the seed's lower-case webhook types.
func ParseWebhookType(s string) (string, error) {
	for _, t := range webhookTypes {
		if s == t {
			return s, nil
		}
	}
	return "", errs.Field(errs.Body, "type", errs.Invalid_, "type must be one of %s", strings.Join(webhookTypes, ", "))
}

// WebhookFailures is a webhook's failureCount after one delivery
// attempt, and whether the hook must now be disabled. The count is of
// consecutive failures, so a success resets it; a hook that keeps
// failing is disabled once the count reaches maxFailures, and
// maxFailures <= 0 means never.
func WebhookFailures(failureCount, maxFailures int, delivered bool) (newCount int, disable bool) {
	if delivered {
		return 0, false
	}
	// A stored count can only be wrong, never negative on purpose; and
	// a count at its limit stays there rather than wrapping around.
	newCount = max(failureCount, 0)
	if newCount < int(^uint(0)>>1) {
		newCount++
	}
	return newCount, maxFailures > 0 && newCount >= maxFailures
}
