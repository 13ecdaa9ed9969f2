package httpx

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
)

// BodyLimits bound how long a request body may take to arrive, so a client
// that trickles a body in (one byte a second) cannot hold a connection and
// its handler forever. The deadline is on the connection's reads
// (http.ResponseController), so a stalled client is cut off even while
// the handler waits in Read.
type BodyLimits struct {
	// Timeout is how long an ordinary body may take, from the moment its
	// headers are read. It is also an upload's grace before MinRate counts.
	Timeout time.Duration
	// MinRate is the average an upload (see Upload) must keep, in bytes a
	// second: every byte received buys 1/MinRate seconds more, as Apache's
	// mod_reqtimeout does, so a large upload on a good link takes as long
	// as it needs and a trickle is cut off. 0: uploads get Timeout only.
	MinRate int64
}

// Wrap arms the deadline on every request that has a body. Requests
// without one (WebSockets, SSE, long-polls) are left alone: their
// connection must stay readable for as long as they live.
func (l BodyLimits) Wrap(next http.Handler) http.Handler {
	if l.Timeout <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		b := &timedBody{ReadCloser: r.Body, rc: http.NewResponseController(w), limits: l, start: time.Now()}
		if b.rc.SetReadDeadline(b.deadline()) != nil {
			next.ServeHTTP(w, r) // a writer without deadlines (not a real connection)
			return
		}
		r.Body = b
		next.ServeHTTP(w, r)
		// The deadline stays armed after the handler: it bounds the server
		// discarding what the handler left unread. The next request on the
		// connection sets its own.
	})
}

// Upload tells the body deadline that r carries an upload: its body may
// take longer than Timeout as long as it keeps MinRate. Call it before the
// body is wrapped or read.
func Upload(r *http.Request) {
	if b, ok := r.Body.(*timedBody); ok {
		b.upload = true
	}
}

// timedBody moves the connection's read deadline as bytes arrive and turns
// a deadline that passed into a Timeout error. Only the handler's
// goroutine reads it.
type timedBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	limits   BodyLimits
	start    time.Time
	received int64
	upload   bool
	done     bool // EOF: the deadline is off
}

func (b *timedBody) deadline() time.Time {
	d := b.start.Add(b.limits.Timeout)
	if b.upload && b.limits.MinRate > 0 {
		d = d.Add(time.Duration(float64(b.received) / float64(b.limits.MinRate) * float64(time.Second)))
	}
	return d
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.received += int64(n)
	switch {
	case b.done:
	case err == io.EOF:
		// Once the body is whole the server watches the connection for the
		// client going away; a deadline passing then would cancel the
		// request's context.
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	case n > 0 && b.upload && b.limits.MinRate > 0:
		b.rc.SetReadDeadline(b.deadline())
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		err = b.timeout(err)
	}
	return n, err
}

func (b *timedBody) timeout(cause error) error {
	msg := fmt.Sprintf("the request body did not arrive within %s", b.limits.Timeout)
	if b.upload && b.limits.MinRate > 0 {
		msg = fmt.Sprintf("the upload arrived slower than %d bytes a second", b.limits.MinRate)
	}
	return &errs.Error{Code: errs.Timeout, Message: msg, Where: errs.Body, Err: cause}
}
