package messaging

import (
	"net/http"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/business"
	"github.com/boxwire/boxwire/internal/errs"
)

// registerWebhooks mounts /webhook and its /webhooks alias: the seed
// shows both spellings for the same resource.
func (h *Handler) registerWebhooks(route func(string, http.HandlerFunc)) {
	for _, base := range []string{"/webhook", "/webhooks"} {
		route("GET "+base, h.listWebhooks)
		route("POST "+base, h.createWebhook)
		route("GET "+base+"/{id}", h.getWebhook)
		route("PUT "+base+"/{id}", h.updateWebhook)
		route("DELETE "+base+"/{id}", h.deleteWebhook)
	}
}

func (h *Handler) listWebhooks(w http.ResponseWriter, r *http.Request) {
	page, err := httpx.QueryInt(r, "page", 1)
	if err == nil && page < 1 {
		err = errs.Field(errs.Query, "page", errs.Invalid_, "page must be 1 or more")
	}
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	hooks, err := h.Business.Webhooks(r.Context(), page)
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, hooks)
}

func (h *Handler) getWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	hook, err := h.Business.Webhook(r.Context(), id)
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, hook)
}

// createWebhook answers 201 with the record and its secret, which no
// other response shows.
func (h *Handler) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in business.WebhookChange
	if err := decodeJSON(w, r, &in); err != nil {
		httpx.Problem(w, r, err)
		return
	}
	hook, err := h.Business.CreateWebhook(r.Context(), in)
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, hook)
}

func (h *Handler) updateWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	var in business.WebhookChange
	if err := decodeJSON(w, r, &in); err != nil {
		httpx.Problem(w, r, err)
		return
	}
	hook, err := h.Business.UpdateWebhook(r.Context(), id, in)
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, hook)
}

func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	if err := h.Business.DeleteWebhook(r.Context(), id); err != nil {
		httpx.Problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
