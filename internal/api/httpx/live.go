package httpx

import (
	"bytes"
	"context"
	"net/http"

	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/realtime"
)

// LiveSession is the session a live stream of the request's caller
// belongs to: the stream ends when it is revoked, when the caller's
// password changes or access is taken away, and when the access token
// expires (see realtime.Session).
func LiveSession(ctx context.Context, a *auth.Service) *realtime.Session {
	c, _ := auth.CallerFrom(ctx)
	return &realtime.Session{IdentityID: c.Identity.ID, SessionID: c.SessionID, Expires: c.ExpiresAt,
		Check: func(ctx context.Context) error { return a.Live(ctx, c) }}
}

// EndedBody is the body of the surface's 401 for a stream whose session
// ended, for SSE's error event: the same shape render answers with.
func EndedBody(ctx context.Context, render Renderer, err error) []byte {
	rec := &bodyRecorder{header: map[string][]string{}}
	r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	render(rec, r, errs.E(errs.Unauthorized, "%s", err.Error()))
	return bytes.TrimSpace(rec.body.Bytes())
}

// bodyRecorder keeps what a renderer writes.
type bodyRecorder struct {
	header http.Header
	body   bytes.Buffer
}

func (b *bodyRecorder) Header() http.Header         { return b.header }
func (b *bodyRecorder) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bodyRecorder) WriteHeader(int)             {}
