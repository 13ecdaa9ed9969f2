// Package messaging serves the msgboxx-shaped messaging surface (seed 004).
// Errors render as RFC 9457 application/problem+json.
package messaging

import (
	"net/http"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/store"
)

// Handler holds what the messaging surface needs.
type Handler struct {
	Auth  *auth.Service
	Store *store.Store
	// SecureCookies marks cookies Secure (the public URL is https).
	SecureCookies bool
}

// Register mounts the surface's routes on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	public := func(pattern string, fn http.HandlerFunc) {
		mux.Handle(pattern, httpx.Recover(httpx.Problem, fn))
	}
	public("POST /oauth/token", h.token)
	public("POST /oauth/revoke", h.revoke)
}
