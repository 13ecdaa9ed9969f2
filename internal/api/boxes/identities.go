package boxes

import (
	"net/http"
	"strings"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/boxservice"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/store"
)

// identityView is Misakey's identity shape; identifier fields are filled
// because only the identity itself may read this endpoint.
type identityView struct {
	ID string `json:"id"`
	// AccountID is where the reference serves crypto actions
	// (/accounts/{account_id}/…); Boxwire's identity is its own account.
	AccountID           string  `json:"account_id"`
	DisplayName         string  `json:"display_name"`
	AvatarURL           *string `json:"avatar_url"`
	IdentifierValue     string  `json:"identifier_value"`
	IdentifierKind      string  `json:"identifier_kind"`
	Pubkey              *string `json:"pubkey"`
	NonIdentifiedPubkey *string `json:"non_identified_pubkey"`
	Notifications       string  `json:"notifications"`
	Color               *string `json:"color"`
	// MFAMethod is always "disabled": Boxwire has no second factors.
	MFAMethod     string `json:"mfa_method"`
	HasAccount    bool   `json:"has_account"`
	HasTOTPSecret bool   `json:"has_totp_secret"`
	// IdentifierVerified is Boxwire's: whether the address is proven.
	IdentifierVerified bool `json:"identifier_verified"`
}

func viewOf(i identity.Identity) identityView {
	return identityView{ID: i.ID, AccountID: i.ID, DisplayName: i.DisplayName, AvatarURL: nullable(i.AvatarURL),
		IdentifierValue: i.IdentifierValue, IdentifierKind: i.IdentifierKind,
		Pubkey: nullable(i.Pubkey), NonIdentifiedPubkey: nullable(i.NonIdentifiedPubkey),
		Notifications: i.Notifications, Color: nullable(i.Color), MFAMethod: "disabled", HasAccount: true,
		IdentifierVerified: i.Verified()}
}

// sendIdentifierCode e-mails the caller a code proving their address.
func (h *Handler) sendIdentifierCode(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		fail(w, r, err)
		return
	}
	if err := h.Verifier.SendCode(r.Context(), id); err != nil {
		fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// verifyIdentifier takes the code the caller received: {"code": "…"}.
func (h *Handler) verifyIdentifier(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		fail(w, r, err)
		return
	}
	var in struct {
		Code string `json:"code"`
	}
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		fail(w, r, err)
		return
	}
	if err := h.Verifier.Verify(r.Context(), id, in.Code); err != nil {
		fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
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
		fail(w, r, err)
		return
	}
	who, err := auth.Me(r.Context(), h.Store, id)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, viewOf(who))
}

func (h *Handler) patchIdentity(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		fail(w, r, err)
		return
	}
	var in struct {
		DisplayName         *string `json:"display_name"`
		AvatarURL           *string `json:"avatar_url"`
		Pubkey              *string `json:"pubkey"`
		NonIdentifiedPubkey *string `json:"non_identified_pubkey"`
		Notifications       *string `json:"notifications"`
		Color               *string `json:"color"`
		MFAMethod           *string `json:"mfa_method"`
	}
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		fail(w, r, err)
		return
	}
	if _, err := auth.UpdateIdentity(r.Context(), h.Store, id, auth.IdentityChange{DisplayName: in.DisplayName,
		AvatarURL: in.AvatarURL, Pubkey: in.Pubkey, NonIdentifiedPubkey: in.NonIdentifiedPubkey,
		Notifications: in.Notifications, Color: in.Color, MFAMethod: in.MFAMethod}); err != nil {
		fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// profileConfig is GET /identities/{id}/profile/config: {"email": bool}.
func (h *Handler) profileConfig(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		fail(w, r, err)
		return
	}
	who, err := auth.Me(r.Context(), h.Store, id)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]bool{"email": who.ShareEmail})
}

// patchProfileConfig is PATCH /identities/{id}/profile/config {"email"}.
func (h *Handler) patchProfileConfig(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		fail(w, r, err)
		return
	}
	var in auth.ProfileConfig
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		fail(w, r, err)
		return
	}
	if err := auth.SetProfileConfig(r.Context(), h.Store, id, in); err != nil {
		fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) profile(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		fail(w, r, err)
		return
	}
	v, err := h.Boxes.Profile(r.Context(), id)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, v)
}

func (h *Handler) pubkeys(w http.ResponseWriter, r *http.Request) {
	list, err := h.Boxes.Pubkeys(r.Context(), r.URL.Query().Get("identifier_value"))
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, list)
}

// notifications is GET (and HEAD) /identities/{id}/notifications; HEAD
// counts the unacknowledged ones.
func (h *Handler) notifications(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		fail(w, r, err)
		return
	}
	if r.Method == http.MethodHead {
		n, err := h.Boxes.CountNotifications(r.Context(), id)
		if err != nil {
			fail(w, r, err)
			return
		}
		count(w, n)
		return
	}
	p, err := page(r, 50)
	if err != nil {
		fail(w, r, err)
		return
	}
	list, err := h.Boxes.Notifications(r.Context(), id, p)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, list)
}

// ackNotifications acknowledges the notifications named by ?ids=a,b,…
// (as the reference), or all of them without ids.
func (h *Handler) ackNotifications(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err == nil {
		var ids []string
		if v := r.URL.Query().Get("ids"); v != "" {
			ids = strings.Split(v, ",")
		}
		err = h.Boxes.AckNotifications(r.Context(), id, ids)
	}
	if err != nil {
		fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// cryptoActions, cryptoAction and deleteCryptoAction serve both
// /identities/{id}/crypto/actions… and the reference's
// /accounts/{account_id}/crypto/actions/{action_id}: idName and aidName
// are the path's names, which errors name.
func (h *Handler) cryptoActions(idName string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := httpx.PathUUID(r, idName)
		if err != nil {
			fail(w, r, err)
			return
		}
		a := httpx.NewJSONArray(w)
		err = h.Boxes.EachCryptoAction(r.Context(), id, func(v store.CryptoAction) error { return a.Add(v) })
		a.Finish(r, err, fail)
	}
}

func (h *Handler) cryptoAction(idName, aidName string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := httpx.PathUUID(r, idName)
		if err != nil {
			fail(w, r, err)
			return
		}
		aid, err := httpx.PathUUID(r, aidName)
		if err != nil {
			fail(w, r, err)
			return
		}
		a, err := h.Boxes.CryptoAction(r.Context(), id, aid)
		if err != nil {
			fail(w, r, err)
			return
		}
		httpx.JSON(w, http.StatusOK, a)
	}
}

func (h *Handler) deleteCryptoAction(idName, aidName string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := httpx.PathUUID(r, idName)
		if err != nil {
			fail(w, r, err)
			return
		}
		aid, err := httpx.PathUUID(r, aidName)
		if err == nil {
			err = h.Boxes.DeleteCryptoAction(r.Context(), id, aid)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (h *Handler) getSettings(w http.ResponseWriter, r *http.Request) {
	id, bid, err := pathPair(r)
	if err != nil {
		fail(w, r, err)
		return
	}
	v, err := h.Boxes.GetSettings(r.Context(), id, bid)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, v)
}

func (h *Handler) putSettings(w http.ResponseWriter, r *http.Request) {
	id, bid, err := pathPair(r)
	if err != nil {
		fail(w, r, err)
		return
	}
	// As Misakey's reference: an absent muted means false.
	var in struct {
		Muted bool `json:"muted"`
	}
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		fail(w, r, err)
		return
	}
	if err := h.Boxes.PutSettings(r.Context(), id, bid, in.Muted); err != nil {
		fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func pathPair(r *http.Request) (string, string, error) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		return "", "", err
	}
	bid, err := httpx.PathUUID(r, "bid")
	return id, bid, err
}

func (h *Handler) contact(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		fail(w, r, err)
		return
	}
	var in boxservice.Contact
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		fail(w, r, err)
		return
	}
	v, err := h.Boxes.ContactIdentity(r.Context(), id, in)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, v)
}
