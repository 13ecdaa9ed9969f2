// Package boxes serves the Misakey-shaped boxes surface (seeds 000–002).
// Errors render as {"code", "origin", "desc", "details"}.
package boxes

import (
	"net/http"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/store"
)

// Handler holds what the boxes surface needs.
type Handler struct {
	Auth  *auth.Service
	Store *store.Store
}

// Register mounts the surface's routes on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	authn := httpx.Authenticator{Auth: h.Auth, Cookies: true}
	route := func(pattern string, fn http.HandlerFunc) {
		mux.Handle(pattern, httpx.Recover(httpx.Misakey, authn.Require(httpx.Misakey, fn)))
	}
	route("GET /csrf", h.csrf)
	route("GET /identities/{id}", h.getIdentity)
	route("PATCH /identities/{id}", h.patchIdentity)
}

// csrf hands a cookie-authenticated client the token for X-CSRF-Token.
func (h *Handler) csrf(w http.ResponseWriter, r *http.Request) {
	c, _ := auth.CallerFrom(r.Context())
	httpx.JSON(w, http.StatusOK, map[string]string{"csrf_token": h.Auth.CSRFToken(c)})
}
