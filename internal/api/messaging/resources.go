package messaging

import "net/http"

// registerResources mounts seed 004's resources.
func (h *Handler) registerResources(route func(string, http.HandlerFunc)) {}
