package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/journal"
)

// Frame is what a client receives: {"type", "object", "position"}.
type Frame struct {
	Type     string          `json:"type"`
	Object   json.RawMessage `json:"object"`
	Position int64           `json:"position"`
	// Entry is the journal entry shown, for surfaces that describe it
	// their own way (the Box-compatible stream).
	Entry journal.Entry `json:"-"`
	// Encoded, if set, is this frame's JSON, shared by every connection
	// that shows it the same way: write it as is.
	Encoded []byte `json:"-"`
}

// JSON is the frame's encoding, reusing Encoded when the viewer set it.
func (f Frame) JSON() ([]byte, error) {
	if f.Encoded != nil {
		return f.Encoded, nil
	}
	return json.Marshal(f)
}

// Viewer decides what one identity sees of an entry, and how.
type Viewer interface {
	Frame(ctx context.Context, e journal.Entry) (Frame, bool, error)
}

// A Skipper is a viewer that can tell, from memory and without blocking,
// that it would certainly not show an entry: the hub then does not wake
// the connection for it. With 10,000 connections and an entry for a few
// of them, that is the difference between 10,000 wake-ups and a few.
// Skips must never be true for an entry Frame would show.
type Skipper interface {
	Skips(e *journal.Entry) bool
}

// A Preparer is a viewer that reads what Skips needs before its stream
// subscribes.
type Preparer interface {
	Prepare(ctx context.Context) error
}

// Skips reports whether v is a Skipper that skips e.
func Skips(v Viewer, e *journal.Entry) bool {
	s, ok := v.(Skipper)
	return ok && s.Skips(e)
}

// Prepare prepares v if it is a Preparer.
func Prepare(ctx context.Context, v Viewer) error {
	if p, ok := v.(Preparer); ok {
		return p.Prepare(ctx)
	}
	return nil
}

// ErrTooSlow ends a stream whose client did not keep up.
var ErrTooSlow = errors.New("the client did not keep up; reconnect from the last position")

// DefaultQueueSize bounds the entries waiting for one connection.
const DefaultQueueSize = 256

// Stream is one client's view of the journal from a position.
type Stream struct {
	Hub    *Hub
	Viewer Viewer
	// QueueSize bounds the entries waiting for this connection; past it
	// the stream ends with ErrTooSlow. Default DefaultQueueSize. The
	// queue is allocated only while entries wait.
	QueueSize int
	// Idle is called every IdleEvery, frames or not: SSE heartbeats, the
	// end of a long-poll's hold.
	Idle      func() error
	IdleEvery time.Duration
	// Session, if set, is whose stream it is: the stream ends with an
	// *Ended error when the session is revoked, its identity's password
	// changes or access is taken away, or the access token expires.
	Session *Session
}

// Run sends, in position order and each once, every frame the viewer may
// see after position since (Hub.Now for "from now"): first
// what the database holds up to the hub's position, then live entries.
// It returns when ctx ends, send or Idle fails, the client is too slow,
// or the session ends (*Ended).
func (st *Stream) Run(ctx context.Context, since int64, send func(Frame) error) error {
	wake := make(chan struct{}, 1)
	f, err := st.Follow(ctx, since, func() {
		select {
		case wake <- struct{}{}:
		default: // already signalled
		}
	})
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Drain(ctx, send); err != nil {
		return err
	}
	var idle <-chan time.Time
	if st.Idle != nil && st.IdleEvery > 0 {
		t := time.NewTicker(st.IdleEvery)
		defer t.Stop()
		idle = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-idle:
			if err := st.Idle(); err != nil {
				return err
			}
		case <-wake:
			if err := f.Drain(ctx, send); err != nil {
				return err
			}
		}
	}
}

// Follower is a stream that owns no goroutine: the hub calls wake when
// entries wait, and whoever serves the connection calls Drain. It is what
// lets a node hold many idle WebSockets cheaply.
type Follower struct {
	st       *Stream
	sub      *Sub
	head     int64 // the hub's position at Follow: the replay ends there
	last     int64
	replayed bool
	expiry   *time.Timer // ends the stream when the access token expires
}

// Follow subscribes from position since. For "from now", since is Hub.Now
// read before the client was told it holds the stream (the handshake):
// what commits between then and this subscription is replayed, not lost.
// wake must not block; the first Drain replays what the database holds.
func (st *Stream) Follow(ctx context.Context, since int64, wake func()) (*Follower, error) {
	size := st.QueueSize
	if size <= 0 {
		size = DefaultQueueSize
	}
	if err := Prepare(ctx, st.Viewer); err != nil {
		return nil, err
	}
	var skip func(*journal.Entry) bool
	if sk, ok := st.Viewer.(Skipper); ok {
		skip = sk.Skips
	}
	sub, head, err := st.Hub.Subscribe(ctx, size, wake, skip, st.Session)
	if err != nil {
		return nil, err
	}
	f := &Follower{st: st, sub: sub, head: head, last: since}
	if err := f.watchSession(ctx); err != nil {
		sub.Close()
		return nil, err
	}
	return f, nil
}

// watchSession arms the expiry timer and checks, now that the hub
// delivers to the subscriber, that the session was not revoked before.
func (f *Follower) watchSession(ctx context.Context) error {
	s := f.st.Session
	if s == nil {
		return nil
	}
	if !s.Expires.IsZero() {
		f.expiry = time.AfterFunc(time.Until(s.Expires), func() {
			f.sub.end(&Ended{Reason: "the access token expired; refresh it and reconnect"})
		})
	}
	if s.Check == nil {
		return nil
	}
	err := s.Check(ctx)
	if errs.CodeOf(err) == errs.Unauthorized {
		f.sub.end(&Ended{Reason: "the session has ended; sign in again"})
		return nil
	}
	if err != nil && f.expiry != nil {
		f.expiry.Stop()
	}
	return err
}

// Drain sends what is due, in position order and each once: the replay
// on the first call, then the entries waiting. ErrTooSlow means the
// client fell too far behind; an *Ended, that its session ended.
func (f *Follower) Drain(ctx context.Context, send func(Frame) error) error {
	if err := f.sub.Ended(); err != nil {
		return err
	}
	if !f.replayed {
		last, err := f.st.replay(ctx, f.last, f.head, send)
		f.last = last
		if err != nil {
			return err
		}
		f.replayed = true
	}
	if err := f.sub.Ended(); err != nil {
		return err
	}
	entries, dropped := f.sub.Take()
	if dropped {
		return ErrTooSlow
	}
	for _, e := range entries {
		if e.Position <= f.last {
			continue
		}
		f.last = e.Position
		if err := f.st.show(ctx, *e, send); err != nil {
			return err
		}
	}
	return nil
}

// Close unsubscribes.
func (f *Follower) Close() {
	if f.expiry != nil {
		f.expiry.Stop()
	}
	f.sub.Close()
}

// replay sends what lies between since and head from the database.
func (st *Stream) replay(ctx context.Context, since, head int64, send func(Frame) error) (int64, error) {
	last := since
	for last < head {
		entries, err := st.Hub.reader.ReadJournal(ctx, journal.Query{After: last, Limit: 500})
		if err != nil {
			return last, err
		}
		if len(entries) == 0 {
			break
		}
		for _, e := range entries {
			if e.Position > head {
				return last, nil // the hub's queue has the rest
			}
			last = e.Position
			if err := st.show(ctx, e, send); err != nil {
				return last, err
			}
		}
	}
	return last, nil
}

func (st *Stream) show(ctx context.Context, e journal.Entry, send func(Frame) error) error {
	f, ok, err := st.Viewer.Frame(ctx, e)
	if err != nil || !ok {
		return err
	}
	f.Entry = e
	return send(f)
}

// Page returns up to limit frames the viewer may see after position
// after, reading at most scan journal entries, and the position reached:
// a client that continues from it skips what it may not see.
func Page(ctx context.Context, r journal.Reader, v Viewer, after int64, limit, scan int) ([]Frame, int64, error) {
	var out []Frame
	reached := after
	for scanned := 0; len(out) < limit && scanned < scan; {
		entries, err := r.ReadJournal(ctx, journal.Query{After: reached, Limit: min(500, scan-scanned)})
		if err != nil {
			return out, reached, err
		}
		if len(entries) == 0 {
			break
		}
		for _, e := range entries {
			scanned++
			f, ok, err := v.Frame(ctx, e)
			if err != nil {
				return out, reached, err
			}
			reached = e.Position
			if ok {
				f.Entry = e
				out = append(out, f)
				if len(out) == limit {
					break
				}
			}
		}
	}
	return out, reached, nil
}

// Either shows an entry as the first of viewers that shows it: each
// surface's viewer knows its own scopes (boxes, organisations) and
// passes over the others'.
func Either(viewers ...Viewer) Viewer { return either(viewers) }

type either []Viewer

// Skips is true when every viewer skips e.
func (vs either) Skips(e *journal.Entry) bool {
	for _, v := range vs {
		if !Skips(v, e) {
			return false
		}
	}
	return true
}

// Prepare prepares every viewer.
func (vs either) Prepare(ctx context.Context) error {
	for _, v := range vs {
		if err := Prepare(ctx, v); err != nil {
			return err
		}
	}
	return nil
}

func (vs either) Frame(ctx context.Context, e journal.Entry) (Frame, bool, error) {
	for _, v := range vs {
		if f, ok, err := v.Frame(ctx, e); ok || err != nil {
			return f, ok, err
		}
	}
	return Frame{}, false, nil
}
