// Package boxes serves the Misakey-shaped boxes surface (seeds 000–002,
// DESIGN §4). Handlers decode, call one service method and render; errors
// render as {"code", "origin", "desc", "details"}.
package boxes

import (
	"net/http"
	"strconv"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/boxservice"
	"github.com/boxwire/boxwire/internal/store"
)

// Handler holds what the boxes surface needs.
type Handler struct {
	Auth     *auth.Service
	Verifier *auth.Verifier
	Store    *store.Store
	Boxes    *boxservice.Service
	Live     Realtime
}

// Register mounts the surface's routes on mux.
func (h *Handler) Register(mux *httpx.Mux) {
	authn := httpx.Authenticator{Auth: h.Auth, Cookies: true}
	route := func(pattern string, fn http.HandlerFunc) {
		mux.Handle(pattern, httpx.Recover(httpx.Misakey, authn.Require(httpx.Misakey, fn)))
	}
	route("GET /csrf", h.csrf)

	route("POST /boxes", h.createBox)
	route("GET /boxes/joined", h.joinedBoxes)
	route("GET /boxes/{id}", h.getBox)
	route("DELETE /boxes/{id}", h.deleteBox)
	route("GET /boxes/{id}/members", h.members)
	route("GET /boxes/{id}/accesses", h.accesses)
	route("POST /boxes/{id}/events", h.postEvent)
	route("POST /boxes/{id}/batch-events", h.postBatch)
	route("GET /boxes/{id}/events", h.listEvents(false))
	route("GET /boxes/{id}/files", h.listEvents(true))
	route("POST /boxes/{id}/encrypted-files", h.uploadFile)
	route("GET /encrypted-files/{id}", h.downloadFile)
	route("GET /box-key-shares/{hash}", h.keyShare)
	route("POST /box-key-shares", h.addKeyShare)
	route("GET /box-key-shares/encrypted-invitation-key-share", h.invitationKeyShare)
	route("GET /boxes/{id}/public", h.publicBox)
	route("PUT /boxes/{id}/new-events-count/ack", h.ackBox)

	route("GET /box-users/{id}/boxes/{bid}/settings", h.getSettings)
	route("PUT /box-users/{id}/boxes/{bid}/settings", h.putSettings)
	route("POST /box-users/{id}/contact", h.contact)
	route("GET /box-users/{id}/ws", h.ws)
	route("GET /box-users/{id}/sse", h.sse)

	route("GET /identities/pubkey", h.pubkeys)
	route("GET /identities/{id}", h.getIdentity)
	route("PATCH /identities/{id}", h.patchIdentity)
	route("POST /identities/{id}/identifier/codes", h.sendIdentifierCode)
	route("POST /identities/{id}/identifier/verify", h.verifyIdentifier)
	route("GET /identities/{id}/profile", h.profile)
	route("GET /identities/{id}/profile/config", h.profileConfig)
	route("PATCH /identities/{id}/profile/config", h.patchProfileConfig)
	route("GET /identities/{id}/notifications", h.notifications)
	route("PUT /identities/{id}/notifications/acknowledgement", h.ackNotifications)
	route("GET /identities/{id}/crypto/actions", h.cryptoActions("id"))
	route("GET /identities/{id}/crypto/actions/{aid}", h.cryptoAction("id", "aid"))
	route("DELETE /identities/{id}/crypto/actions/{aid}", h.deleteCryptoAction("id", "aid"))
	// The reference's paths: an identity's account id is its own id.
	route("GET /accounts/{account_id}/crypto/actions", h.cryptoActions("account_id"))
	route("GET /accounts/{account_id}/crypto/actions/{action_id}", h.cryptoAction("account_id", "action_id"))
	route("DELETE /accounts/{account_id}/crypto/actions/{action_id}", h.deleteCryptoAction("account_id", "action_id"))
}

// csrf hands a cookie-authenticated client the token for X-CSRF-Token.
func (h *Handler) csrf(w http.ResponseWriter, r *http.Request) {
	c, _ := auth.CallerFrom(r.Context())
	httpx.JSON(w, http.StatusOK, map[string]string{"csrf_token": h.Auth.CSRFToken(c)})
}

// page reads offset and limit; limit 0 means the default.
func page(r *http.Request, defLimit int) (boxservice.Page, error) {
	off, err := httpx.QueryInt(r, "offset", 0)
	if err != nil {
		return boxservice.Page{}, err
	}
	lim, err := httpx.QueryInt(r, "limit", defLimit)
	if err != nil {
		return boxservice.Page{}, err
	}
	return boxservice.Page{Offset: off, Limit: lim}, nil
}

// count answers a HEAD request: 204 with X-Total-Count.
func count(w http.ResponseWriter, n int) {
	w.Header().Set("X-Total-Count", strconv.Itoa(n))
	w.WriteHeader(http.StatusNoContent)
}

func fail(w http.ResponseWriter, r *http.Request, err error) { httpx.Misakey(w, r, err) }
