package boxes

import (
	"net/http"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
)

// identityView is Misakey's identity shape; identifier fields are filled
// because only the identity itself may read this endpoint.
type identityView struct {
	ID                  string  `json:"id"`
	DisplayName         string  `json:"display_name"`
	AvatarURL           *string `json:"avatar_url"`
	IdentifierValue     string  `json:"identifier_value"`
	IdentifierKind      string  `json:"identifier_kind"`
	Pubkey              *string `json:"pubkey"`
	NonIdentifiedPubkey *string `json:"non_identified_pubkey"`
}

func viewOf(i identity.Identity) identityView {
	return identityView{ID: i.ID, DisplayName: i.DisplayName, AvatarURL: nullable(i.AvatarURL),
		IdentifierValue: i.IdentifierValue, IdentifierKind: i.IdentifierKind,
		Pubkey: nullable(i.Pubkey), NonIdentifiedPubkey: nullable(i.NonIdentifiedPubkey)}
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (h *Handler) getIdentity(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		httpx.Misakey(w, r, err)
		return
	}
	c, _ := auth.CallerFrom(r.Context())
	if c.Identity.ID != id {
		httpx.Misakey(w, r, errs.E(errs.Forbidden, "an identity can only be read by itself"))
		return
	}
	httpx.JSON(w, http.StatusOK, viewOf(c.Identity))
}

func (h *Handler) patchIdentity(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		httpx.Misakey(w, r, err)
		return
	}
	var in struct {
		DisplayName *string `json:"display_name"`
		AvatarURL   *string `json:"avatar_url"`
	}
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		httpx.Misakey(w, r, err)
		return
	}
	if _, err := auth.UpdateProfile(r.Context(), h.Store, id, auth.ProfileChange{DisplayName: in.DisplayName, AvatarURL: in.AvatarURL}); err != nil {
		httpx.Misakey(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
