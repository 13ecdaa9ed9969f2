package whatsapp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/boxwire/boxwire/internal/channel"
)

// maxCallbackBody bounds a webhook POST; Meta batches at most a few
// hundred KiB.
const maxCallbackBody = 1 << 20

// Secrets are what authenticates Meta's callbacks for one API account.
type Secrets struct {
	AppSecret   string // keys X-Hub-Signature-256
	VerifyToken string // hub.verify_token of the subscription handshake
	// PhoneNumberID is the account's number: one Meta app posts every
	// number's notifications to each callback URL, so a change for
	// another number is not this account's.
	PhoneNumberID string
}

// ErrUnknownAccount is what Callbacks.Account returns for an id that is
// not a WhatsApp API account.
var ErrUnknownAccount = errors.New("whatsapp: no such API account")

// Callbacks serves the webhook Meta calls for an API account, at a path
// whose {id} is the account's id (the URL to give in Meta's dashboard).
// A is the account as the caller loads it: Account reads it once, with
// its secrets, and Apply is handed it back.
type Callbacks[A any] struct {
	Account func(ctx context.Context, accountID string) (Secrets, A, error)
	// Apply takes the events of a verified callback. An error makes Meta
	// retry the callback later, so Apply must tolerate redeliveries.
	Apply func(ctx context.Context, account A, ev channel.Events) error
	Log   *slog.Logger
}

// Verify answers the subscription handshake (GET with hub.challenge).
func (c Callbacks[A]) Verify(w http.ResponseWriter, r *http.Request) {
	sec, _, err := c.Account(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	challenge, ok := Verify(r.URL.Query(), sec.VerifyToken)
	if !ok {
		http.Error(w, "hub.verify_token does not match", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, challenge)
}

// Receive takes a signed webhook POST: messages, statuses and template
// reviews. The signature is checked on the raw bytes before parsing.
func (c Callbacks[A]) Receive(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	sec, account, err := c.Account(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBody))
	if err != nil {
		http.Error(w, "the body is too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	if err := VerifySignature(sec.AppSecret, r.Header.Get("X-Hub-Signature-256"), body); err != nil {
		http.Error(w, "X-Hub-Signature-256: "+err.Error(), http.StatusUnauthorized)
		return
	}
	changes, err := ParseChanges(body)
	if err != nil {
		// Signed by Meta but (partly) not understood: what was read is
		// applied; answering an error would only make Meta redeliver a
		// body that will never parse.
		c.log().Warn("whatsapp callback: items left out", "path", r.URL.Path, "error", err)
	}
	// One Apply for the whole callback, with the account read above.
	var ev channel.Events
	for _, ch := range changes {
		if ch.PhoneNumberID != "" && ch.PhoneNumberID != sec.PhoneNumberID {
			continue // another number of the same Meta app
		}
		ev.Add(ch.Events)
	}
	if !ev.Empty() {
		if err := c.Apply(r.Context(), account, ev); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

func (c Callbacks[A]) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.Default()
}

func (c Callbacks[A]) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrUnknownAccount) {
		http.Error(w, "no such WhatsApp API account", http.StatusNotFound)
		return
	}
	c.log().Error("whatsapp callback", "path", r.URL.Path, "error", err)
	http.Error(w, "internal error; Meta will retry", http.StatusInternalServerError)
}
