package messaging

import (
	"net/http"
	"time"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/auth"
)

// API tokens for integrations: any signed-in identity (box user or org
// user) makes, lists and revokes its own. The secret is in the answer
// that creates the token and never again.
func (h *Handler) registerAPITokens(route func(string, http.HandlerFunc)) {
	route("POST /oauth/tokens", h.createAPIToken)
	route("GET /oauth/tokens", h.listAPITokens)
	route("DELETE /oauth/tokens/{id}", h.revokeAPIToken)
}

func apiTokenJSON(t auth.APIToken) map[string]any {
	out := map[string]any{"id": t.ID, "name": t.Name, "createdAt": t.CreatedAt.UTC().Format(time.RFC3339), "lastUsedAt": nil}
	if !t.LastUsedAt.IsZero() {
		out["lastUsedAt"] = t.LastUsedAt.UTC().Format(time.RFC3339)
	}
	if t.Token != "" {
		out["token"] = t.Token
	}
	return out
}

func (h *Handler) createAPIToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if err := readBody(w, r, &in, func(get func(string) string) { in.Name = get("name") }); err != nil {
		httpx.Problem(w, r, err)
		return
	}
	t, err := h.Auth.CreateAPIToken(r.Context(), in.Name)
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.JSON(w, http.StatusCreated, apiTokenJSON(t))
}

func (h *Handler) listAPITokens(w http.ResponseWriter, r *http.Request) {
	list, err := h.Auth.APITokens(r.Context())
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	items := make([]map[string]any, len(list))
	for i, t := range list {
		items[i] = apiTokenJSON(t)
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"items": items})
}

func (h *Handler) revokeAPIToken(w http.ResponseWriter, r *http.Request) {
	if err := h.Auth.RevokeAPIToken(r.Context(), r.PathValue("id")); err != nil {
		httpx.Problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
