// Package messaging serves the msgboxx-shaped messaging surface (seed 004).
// Errors render as RFC 9457 application/problem+json.
package messaging

import (
	"net/http"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/msgservice"
	"github.com/boxwire/boxwire/internal/store"
)

// Handler holds what the messaging surface needs.
type Handler struct {
	Auth     *auth.Service
	Store    *store.Store
	Business *msgservice.Service
	// SecureCookies marks cookies Secure (the public URL is https).
	SecureCookies bool
	// Limit is the per user and calling application rate limit; nil for none.
	Limit func(http.Handler) http.Handler
}

// Register mounts the surface's routes on mux.
func (h *Handler) Register(mux *httpx.Mux) {
	public := func(pattern string, fn http.HandlerFunc) {
		mux.Handle(pattern, httpx.Recover(httpx.Problem, fn))
	}
	public("POST /oauth/token", h.token)
	public("POST /oauth/revoke", h.revoke)

	// Browsers (the web app) authenticate with the HttpOnly cookie pair
	// that /oauth/token sets, so that no script holds the token; unsafe
	// methods then need X-CSRF-Token, exactly as on the boxes surface.
	authn := httpx.Authenticator{Auth: h.Auth, Cookies: true}
	limit := h.Limit
	if limit == nil {
		limit = func(next http.Handler) http.Handler { return next }
	}
	route := func(pattern string, fn http.HandlerFunc) {
		mux.Handle(pattern, httpx.Recover(httpx.Problem, authn.Require(httpx.Problem, limit(fn))))
	}
	h.registerResources(route)
	h.registerWebhooks(route)
	h.registerAPITokens(route)
	h.registerMedia(route)
}
