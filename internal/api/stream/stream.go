// Package stream serves the Box-compatible event stream (seed 003, DESIGN
// §5) at /2.0/events and /events, so that Box's official SDKs can follow
// Boxwire's journal. Errors render in Box's shape. testdata/PROTOCOL.md
// records what the official TypeScript SDK expects of every answer.
package stream

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/boxservice"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/realtime"
	"github.com/boxwire/boxwire/internal/store"
)

// Handler holds what the stream surface needs.
type Handler struct {
	Auth      *auth.Service
	Store     *store.Store
	Hub       *realtime.Hub
	PublicURL string
	// Hold is how long the realtime URL waits before answering reconnect.
	Hold time.Duration
	// Shutdown ends when the server stops: waiting long-polls answer reconnect.
	Shutdown context.Context
	// Viewer decides what an identity sees of the journal (required).
	Viewer func(identity.Identity) realtime.Viewer
	// Quota bounds one identity's live streams, waiting long-polls
	// included; shared with the WebSockets and SSE (required).
	Quota *realtime.Quota
}

// Register mounts the surface's routes on mux.
func (h *Handler) Register(mux *httpx.Mux) {
	authn := httpx.Authenticator{Auth: h.Auth}
	route := func(pattern string, fn http.HandlerFunc) {
		mux.Handle(pattern, httpx.Recover(httpx.Box, authn.Require(httpx.Box, fn)))
	}
	for _, base := range []string{"/2.0/events", "/events"} {
		route("GET "+base, h.events)
		route("OPTIONS "+base, h.realtimeServers)
	}
	route("GET /2.0/events/realtime", h.longPoll)
}

// realtimeServers is OPTIONS /2.0/events: where to long-poll. ttl and
// max_retries are strings: the official SDKs reject numbers.
func (h *Handler) realtimeServers(w http.ResponseWriter, r *http.Request) {
	q, err := query(r)
	if err != nil {
		httpx.Box(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"chunk_size": 1, "entries": []map[string]any{{
		"type": "realtime_server", "url": h.PublicURL + "/2.0/events/realtime?stream_type=" + q.streamType,
		"ttl": "10", "max_retries": "10", "retry_timeout": 610,
	}}})
}

// params are a stream request's validated query parameters.
type params struct {
	position   int64 // entries after it
	streamType string
	limit      int
}

// query reads stream_position (now, 0, a position), stream_type (all,
// changes) and limit (default 100, at most 500).
func query(r *http.Request) (params, error) {
	q := r.URL.Query()
	p := params{streamType: q.Get("stream_type"), limit: 100, position: -1}
	switch p.streamType {
	case "":
		p.streamType = "all"
	case "all", "changes":
	default:
		return p, errs.Field(errs.Query, "stream_type", errs.Invalid_, "stream_type must be all or changes")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, errs.Field(errs.Query, "limit", errs.Invalid_, "limit must be a positive integer")
		}
		p.limit = min(n, 500)
	}
	switch v := q.Get("stream_position"); v {
	case "now":
	case "":
		p.position = 0
	default:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return p, errs.Field(errs.Query, "stream_position", errs.Invalid_, "stream_position must be now, 0 or a position")
		}
		p.position = n
	}
	return p, nil
}

// resolve turns "now" into the head and refuses positions beyond it.
func (h *Handler) resolve(ctx context.Context, p *params) error {
	head, err := h.Store.JournalHead(ctx)
	if err != nil {
		return err
	}
	if p.position < 0 {
		p.position = head
	}
	if p.position > head {
		return errs.Field(errs.Query, "stream_position", errs.Invalid_, "stream_position is beyond the newest position %d", head)
	}
	return nil
}

// viewer filters what the caller may see, and for stream_type=changes only
// box events.
func (h *Handler) viewer(r *http.Request, p params) realtime.Viewer {
	c, _ := auth.CallerFrom(r.Context())
	v := h.Viewer(c.Identity)
	if p.streamType == "changes" {
		return changesOnly{v}
	}
	return v
}

type changesOnly struct{ realtime.Viewer }

func (c changesOnly) Skips(e *journal.Entry) bool { return realtime.Skips(c.Viewer, e) }

func (c changesOnly) Prepare(ctx context.Context) error { return realtime.Prepare(ctx, c.Viewer) }

func (c changesOnly) Frame(ctx context.Context, e journal.Entry) (realtime.Frame, bool, error) {
	f, ok, err := c.Viewer.Frame(ctx, e)
	return f, ok && f.Type == "event.new", err
}

// maxScan bounds the journal entries one page request reads.
const maxScan = 5000

// events is GET /2.0/events: a page of what the caller may see after
// stream_position, and the position to continue from.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	p, err := query(r)
	if err == nil {
		err = h.resolve(r.Context(), &p)
	}
	if err != nil {
		httpx.Box(w, r, err)
		return
	}
	frames, reached := []realtime.Frame(nil), p.position
	if r.URL.Query().Get("stream_position") != "now" {
		frames, reached, err = realtime.Page(r.Context(), h.Store, h.viewer(r, p), p.position, p.limit, maxScan)
		if err != nil {
			httpx.Box(w, r, err)
			return
		}
	}
	entries := make([]entry, 0, len(frames))
	for _, f := range frames {
		entries = append(entries, entryOf(f))
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"chunk_size": len(entries),
		"next_stream_position": strconv.FormatInt(reached, 10), "entries": entries})
}

// longPoll is the realtime URL: {"message":"new_change"} as soon as the
// caller has something to see after stream_position, {"message":
// "reconnect"} after the hold time or when the server stops. It never
// answers with an empty body.
func (h *Handler) longPoll(w http.ResponseWriter, r *http.Request) {
	p, err := query(r)
	if err == nil {
		err = h.resolve(r.Context(), &p)
	}
	var release func()
	if err == nil {
		// Past the quota, 429 with Retry-After (the official SDK retries
		// at once, so be sparing).
		c, _ := auth.CallerFrom(r.Context())
		release, err = h.Quota.Take(c.Identity.ID, realtime.LongPoll)
	}
	if err != nil {
		httpx.Box(w, r, err)
		return
	}
	defer release()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(h.Shutdown, cancel)()
	hold := h.Hold
	if hold <= 0 {
		hold = 50 * time.Second // never wait without end: the SDK has no timeout of its own
	}
	st := realtime.Stream{Hub: h.Hub, Viewer: h.viewer(r, p), IdleEvery: hold,
		Idle: func() error { return errReconnect }, Session: httpx.LiveSession(r.Context(), h.Auth)}
	err = st.Run(ctx, p.position, func(realtime.Frame) error { return errNewChange })
	var ended *realtime.Ended
	switch {
	case errors.As(err, &ended):
		// The session no longer allows the wait: the surface's 401.
		httpx.Box(w, r, errs.E(errs.Unauthorized, "%s", ended.Reason))
	case errors.Is(err, errNewChange):
		httpx.JSON(w, http.StatusOK, map[string]string{"message": "new_change"})
	case errors.Is(err, errReconnect), errors.Is(err, realtime.ErrTooSlow), h.Shutdown.Err() != nil:
		httpx.JSON(w, http.StatusOK, map[string]string{"message": "reconnect"})
	case r.Context().Err() != nil:
		// the client left
	default:
		httpx.Box(w, r, err)
	}
}

var (
	errNewChange = errors.New("new change")
	errReconnect = errors.New("reconnect")
)

// entry is one Box event. created_by.type must be "user" and ids strings,
// or the official SDK rejects the whole page; source carries Boxwire's own
// object (its type is never one of Box's item types).
type entry struct {
	Type       string          `json:"type"`
	EventID    string          `json:"event_id"`
	EventType  string          `json:"event_type"`
	CreatedBy  *user           `json:"created_by"`
	CreatedAt  string          `json:"created_at"`
	RecordedAt string          `json:"recorded_at"`
	Source     json.RawMessage `json:"source"`
}

type user struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Name  string `json:"name"`
	Login string `json:"login"`
}

func entryOf(f realtime.Frame) entry {
	e := entry{Type: "event", EventID: f.Entry.ID, EventType: f.Type,
		CreatedAt: f.Entry.At.Format(time.RFC3339Nano), RecordedAt: f.Entry.At.Format(time.RFC3339Nano), Source: f.Object}
	if f.Type == "event.new" {
		var ev struct {
			Type   string                  `json:"type"`
			Sender boxservice.IdentityView `json:"sender"`
		}
		json.Unmarshal(f.Object, &ev)
		e.EventType = ev.Type
		if ev.Sender.ID != "" {
			e.CreatedBy = &user{Type: "user", ID: ev.Sender.ID, Name: ev.Sender.DisplayName, Login: ev.Sender.IdentifierValue}
		}
	}
	if len(e.Source) == 0 || e.Source[0] != '{' {
		e.Source = json.RawMessage("{}")
	}
	return e
}
