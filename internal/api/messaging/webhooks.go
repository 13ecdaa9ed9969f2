package messaging

import (
	"net/http"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/msgrules"
)

// registerWebhooks mounts /webhook and its /webhooks alias: the seed
// shows both spellings for the same resource. The create answer is the
// only one that shows the hook's secret.
func (h *Handler) registerWebhooks(route func(string, http.HandlerFunc)) {
	b := h.Business
	for _, base := range []string{"/webhook", "/webhooks"} {
		route("GET "+base, h.listWebhooks)
		route("POST "+base, createOf(b.CreateWebhook))
		route("GET "+base+"/{id}", getOf(b.Webhook))
		route("PUT "+base+"/{id}", updateOf(b.UpdateWebhook))
		route("DELETE "+base+"/{id}", deleteOf(b.DeleteWebhook))
	}
}

// listWebhooks takes only page: a webhook belongs to no API account.
func (h *Handler) listWebhooks(w http.ResponseWriter, r *http.Request) {
	page, err := pageParam(r)
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	respond[msgrules.Page[msgrules.Webhook]](w, r, http.StatusOK)(h.Business.Webhooks(r.Context(), page))
}
