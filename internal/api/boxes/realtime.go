package boxes

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/logctx"
	"github.com/boxwire/boxwire/internal/netpoll"
	"github.com/boxwire/boxwire/internal/realtime"
)

// Realtime holds what the live endpoints need.
type Realtime struct {
	Hub *realtime.Hub
	// Origins are the allowed browser origins of WebSockets (host patterns,
	// e.g. "app.example.com"); same-origin is always allowed.
	Origins []string
	// Shutdown ends when the server stops: streams then close with
	// "going away" (WebSocket) or end (SSE), and clients resume.
	Shutdown context.Context
	// WriteTimeout bounds one frame's write (default 10s) and QueueSize the
	// entries waiting for one connection (default 256): a client slower
	// than that is disconnected, so memory stays bounded.
	WriteTimeout time.Duration
	QueueSize    int
	// PingEvery is the WebSockets' ping interval (default 25s); a client
	// that has answered nothing for PingEvery + WriteTimeout is gone.
	PingEvery time.Duration
	// Viewer decides what an identity sees of the journal; required.
	Viewer func(identity.Identity) realtime.Viewer
	// Streams counts the open WebSockets, which outlive their requests:
	// the server waits for their close frames. Required.
	Streams *sync.WaitGroup
	// Poller hands over what WebSocket clients send (see wsConn); required.
	Poller *netpoll.Poller
	// Quota bounds one identity's live streams on this node, shared by
	// WebSockets, SSE and long-polls; required.
	Quota *realtime.Quota
}

func (l Realtime) pingEvery() time.Duration {
	if l.PingEvery <= 0 {
		return 25 * time.Second
	}
	return l.PingEvery
}

func (l Realtime) writeTimeout() time.Duration {
	if l.WriteTimeout <= 0 {
		return 10 * time.Second
	}
	return l.WriteTimeout
}

// Close codes of the WebSocket (RFC 6455 numbers).
const (
	wsTooSlow  ws.StatusCode = 1013               // try again later: reconnect with ?since=<last position>
	wsGoingOff               = ws.StatusGoingAway // 1001: the server is stopping
	// wsSessionEnded: the session was revoked, its password changed, its
	// access was taken away or its access token expired. The reason says
	// which; the client signs in (or refreshes its token) and reconnects.
	wsSessionEnded ws.StatusCode = 4401
)

// MaxInboundFrame bounds what a client may send on the WebSocket; the
// stream is server-to-client, so anything bigger is abuse.
const MaxInboundFrame = 8 << 10

// streamOf checks the path identity and the since position.
func (h *Handler) streamOf(r *http.Request, sinceParam string) (identity.Identity, int64, error) {
	id, err := httpx.PathUUID(r, "id")
	if err != nil {
		return identity.Identity{}, 0, err
	}
	c, _ := auth.CallerFrom(r.Context())
	if c.Identity.ID != id {
		return c.Identity, 0, errs.E(errs.Forbidden, "this is another identity's stream")
	}
	since, err := h.since(r.Context(), sinceParam)
	return c.Identity, since, err
}

// since parses a resume position; a position beyond the journal's head
// is refused rather than waited for. "" means from now: the hub's head,
// read before the handshake is answered, so that whatever the client
// writes once it holds the stream reaches it (subscribing comes later,
// and the replay covers the gap).
func (h *Handler) since(ctx context.Context, v string) (int64, error) {
	if v == "" {
		return h.Live.Hub.Now(ctx)
	}
	p, err := strconv.ParseInt(v, 10, 64)
	if err != nil || p < 0 {
		return 0, errs.Field(errs.Query, "since", errs.Invalid_, "since must be a journal position (a non-negative integer)")
	}
	head, err := h.Store.JournalHead(ctx)
	if err != nil {
		return 0, err
	}
	if p > head {
		return 0, errs.Field(errs.Query, "since", errs.Invalid_, "since is beyond the newest position %d", head)
	}
	return p, nil
}

// ws is GET /box-users/{id}/ws: frames {"type","object","position"}.
func (h *Handler) ws(w http.ResponseWriter, r *http.Request) {
	who, since, err := h.streamOf(r, r.URL.Query().Get("since"))
	if err != nil {
		fail(w, r, err)
		return
	}
	if !h.Live.allowOrigin(r) {
		fail(w, r, errs.E(errs.Forbidden, "this origin may not open WebSockets here (see --ws-origins)"))
		return
	}
	// Over the quota, a 429 before the upgrade: a client library reports
	// a refused handshake's status, not a close frame's reason.
	release, err := h.Live.Quota.Take(who.ID, realtime.WebSocket)
	if err != nil {
		fail(w, r, err)
		return
	}
	conn, rw, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		release()
		if conn != nil {
			conn.Close() // after the upgrader's answer
		}
		return
	}
	// The request's goroutine, its stack grown by the handler chain, ends
	// here: the connection goes on without one of its own (see wsConn).
	// Only the request's logger outlives the request.
	ctx := logctx.With(context.Background(), httpx.Log(r.Context()))
	st := &realtime.Stream{Hub: h.Live.Hub, Viewer: h.Live.Viewer(who), QueueSize: h.Live.QueueSize,
		Session: httpx.LiveSession(r.Context(), h.Auth)}
	caller, _ := auth.CallerFrom(r.Context())
	ackCtx := auth.WithCaller(ctx, caller)
	ack := func(boxID string) {
		if err := h.Boxes.AckNewEvents(ackCtx, caller.Identity.ID, boxID); err != nil {
			httpx.Log(ctx).Info("websocket ack refused", "box", boxID, "error", err)
		}
	}
	if err := h.Live.startWS(ctx, conn, rw.Reader, st, since, release, who.ID, ack); err != nil {
		release()
		conn.Close()
	}
}

// allowOrigin admits requests without an Origin (not a browser), from the
// server's own host, or from a host matching one of Origins (path.Match
// patterns; a pattern with "://" matches scheme and host).
func (l Realtime) allowOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, p := range l.Origins {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return true
		}
	}
	return false
}

// sse is GET /box-users/{id}/sse: the same frames as Server-Sent Events,
// id = position, resuming from Last-Event-ID.
func (h *Handler) sse(w http.ResponseWriter, r *http.Request) {
	sinceParam := r.Header.Get("Last-Event-ID")
	if sinceParam == "" {
		sinceParam = r.URL.Query().Get("since")
	}
	who, since, err := h.streamOf(r, sinceParam)
	if err != nil {
		fail(w, r, err)
		return
	}
	release, err := h.Live.Quota.Take(who.ID, realtime.SSE)
	if err != nil {
		fail(w, r, err)
		return
	}
	defer release()
	rc := http.NewResponseController(w)
	write := func(format string, args ...any) error {
		rc.SetWriteDeadline(time.Now().Add(h.Live.writeTimeout()))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return err
		}
		return rc.Flush()
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := write(": connected\n\n"); err != nil {
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(h.Live.Shutdown, cancel)()
	st := realtime.Stream{Hub: h.Live.Hub, Viewer: h.Live.Viewer(who), QueueSize: h.Live.QueueSize, IdleEvery: 15 * time.Second,
		Idle: func() error { return write(": heartbeat\n\n") }, Session: httpx.LiveSession(r.Context(), h.Auth)}
	err = st.Run(ctx, since, func(f realtime.Frame) error {
		b, err := f.JSON()
		if err != nil {
			return err
		}
		return write("id: %d\ndata: %s\n\n", f.Position, b)
	})
	var ended *realtime.Ended
	if errors.As(err, &ended) {
		// The session no longer allows the stream: an error event with
		// the surface's 401 body, and no retry (EventSource would
		// reconnect with the same token).
		write("event: error\ndata: %s\n\n", httpx.EndedBody(r.Context(), fail, err))
		return
	}
	if errors.Is(err, realtime.ErrTooSlow) || h.Live.Shutdown.Err() != nil {
		write("retry: 1000\n\n") // the client reconnects with Last-Event-ID
	}
}
