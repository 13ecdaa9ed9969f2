package boxes

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/netpoll"
	"github.com/boxwire/boxwire/internal/realtime"
	"github.com/boxwire/boxwire/internal/wsframe"
)

// wsConn is one WebSocket of the live stream. It owns no goroutine while
// idle, so that a node holds tens of thousands cheaply: the hub (entries
// waiting), the poller (bytes from the client), a timer (the next ping)
// and the server's shutdown each mark their work and queue it for the
// writers' pool (below), unless it is already queued or being worked on.
// Only the goroutine working on it writes.
type wsConn struct {
	conn      net.Conn
	follower  *realtime.Follower
	ctx       context.Context // carries the request's logger
	timeout   time.Duration   // one write's
	pingEvery time.Duration
	done      func() // once, when the connection ends
	who       string // the identity whose stream this is
	acks      *acker
	stopRead  func()
	noShut    func() bool
	ping      *time.Timer
	heard     time.Time       // the client's last frame; the goroutine's alone
	tryWrite  *netpoll.Writer // for writes that must not wait; nil: none
	out       *bytes.Buffer   // frames send queued for flush; nil: none
	worker    *wsWorker       // the pool's goroutine running c, if one is

	mu      sync.Mutex
	work    wsWork
	running bool // a goroutine does the work; stays true once ended
	inbound []byte
	readErr error // why reading ended (io.EOF: the client closed)
}

type wsWork uint8

const (
	wsEntries wsWork = 1 << iota
	wsInbound
	wsPing
	wsShutdown
)

// startWS follows the journal from since on an upgraded connection,
// pending holding what the client sent right behind its handshake.
// release is called when the connection ends (not if startWS fails).
func (l Realtime) startWS(ctx context.Context, conn net.Conn, pending *bufio.Reader, st *realtime.Stream, since int64, release func(), who string, ack func(boxID string)) error {
	// running stays set until the connection is whole: wake-ups before
	// then only mark work.
	c := &wsConn{conn: conn, ctx: ctx, timeout: l.writeTimeout(), pingEvery: l.pingEvery(),
		heard: time.Now(), running: true, who: who, acks: &acker{fn: ack}}
	if sc, ok := conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			c.tryWrite = netpoll.NewWriter(raw)
		}
	}
	if n := pending.Buffered(); n > 0 {
		b, _ := pending.Peek(n)
		c.inbound = bytes.Clone(b)
	}
	var err error
	if c.follower, err = st.Follow(ctx, since, func() { c.kick(wsEntries) }); err != nil {
		return err
	}
	l.Streams.Add(1)
	c.done = func() {
		release()
		l.Streams.Done()
	}
	c.ping = time.AfterFunc(c.pingEvery, func() { c.kick(wsPing) })
	c.noShut = context.AfterFunc(l.Shutdown, func() { c.kick(wsShutdown) })
	stop, err := l.Poller.Watch(conn, c.onRead)
	c.mu.Lock()
	c.stopRead = stop
	if err != nil {
		c.stopRead, c.readErr = func() {}, err
	}
	c.work |= wsEntries | wsInbound // the replay, and what came with the handshake
	c.mu.Unlock()
	startRun(c)
	return nil
}

// tooBigReason is the close reason of a frame over MaxInboundFrame.
var tooBigReason = fmt.Sprintf("inbound frames are limited to %d KiB", MaxInboundFrame>>10)

// errInboundFlood ends a client that sends faster than frames are read.
var errInboundFlood = errors.New("the client sends more than its frames allow")

// kick marks work and makes sure a goroutine will do it.
func (c *wsConn) kick(w wsWork) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.markLocked(w)
}

// markLocked is kick with c.mu held.
func (c *wsConn) markLocked(w wsWork) {
	c.work |= w
	if !c.running {
		c.running = true
		startRun(c)
	}
}

// The writers: a pool of goroutines, one per core, does the connections'
// work in turn, as one event reaches thousands of them at once. Their
// writes never wait (netpoll.Writer). A worker that meets a full socket
// (a client that does not read) hands its place in the pool to a new
// goroutine and stays with that connection until its write is done or
// times out. So a burst costs no goroutine per connection, an idle node
// keeps only the pool, and no work ever queues behind a slow write.
type wsPool struct {
	queue chan *wsConn
	start sync.Once
}

// wsWorker is one goroutine of the pool; left says it gave its place up.
type wsWorker struct{ left bool }

// wsQueued bounds the connections waiting for a worker; beyond it, a
// connection's work gets a goroutine of its own.
const wsQueued = 16384

var wsWriters = wsPool{queue: make(chan *wsConn, wsQueued)}

// startRun hands c's work to the pool.
func startRun(c *wsConn) {
	wsWriters.start.Do(func() {
		for range runtime.GOMAXPROCS(0) {
			go wsWriters.work()
		}
	})
	select {
	case wsWriters.queue <- c:
	default:
		go c.run(nil)
	}
}

func (p *wsPool) work() {
	w := &wsWorker{}
	for c := range p.queue {
		c.run(w)
		if w.left {
			return
		}
	}
}

// leave is called before a write waits: a worker gives its place to a new
// one (w is nil on a goroutine outside the pool).
func (p *wsPool) leave(w *wsWorker) {
	if w != nil && !w.left {
		w.left = true
		go p.work()
	}
}

// onRead is the poller's: it keeps the client's bytes for the goroutine.
func (c *wsConn) onRead(data []byte, err error) bool {
	c.mu.Lock()
	switch {
	case err != nil:
		c.readErr = err
	case len(c.inbound)+len(data) > 8*MaxInboundFrame:
		c.readErr = errInboundFlood
	default:
		c.inbound = append(c.inbound, data...)
	}
	more := c.readErr == nil
	c.markLocked(wsInbound)
	c.mu.Unlock()
	return more
}

// run does c's work until there is none, on worker w (nil: a goroutine
// of its own).
func (c *wsConn) run(w *wsWorker) {
	c.worker = w
	for {
		c.mu.Lock()
		todo := c.work
		c.work = 0
		if todo == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		if code, reason, end := c.do(todo); end {
			c.end(code, reason)
			return // running stays true: nothing starts again
		}
	}
}

// do does marked work; end says the connection is over, with the close
// code to send (0: none, the client is gone).
func (c *wsConn) do(w wsWork) (code ws.StatusCode, reason string, end bool) {
	if w&wsShutdown != 0 {
		return wsGoingOff, "server shutting down; reconnect with ?since=<last position>", true
	}
	if w&wsInbound != 0 {
		if code, reason, end = c.read(); end {
			return code, reason, end
		}
	}
	if w&wsPing != 0 {
		if time.Since(c.heard) > c.pingEvery+c.timeout {
			return wsTooSlow, "no answer to pings; reconnect with ?since=<last position>", true
		}
		if err := c.write(ws.OpPing, nil); err != nil {
			return 0, "", true
		}
		c.ping.Reset(c.pingEvery)
	}
	if w&wsEntries != 0 {
		err := c.follower.Drain(c.ctx, c.send)
		if ferr := c.flush(); err == nil {
			err = ferr
		}
		if err != nil {
			return c.ended(err)
		}
	}
	return 0, "", false
}

// ended is how a stream that failed ends. (Apart from do: the variable
// errors.As fills lives on the heap, and do runs once per event and
// connection.)
func (c *wsConn) ended(err error) (ws.StatusCode, string, bool) {
	var ended *realtime.Ended
	switch {
	case errors.As(err, &ended):
		return wsSessionEnded, ended.Reason, true
	case errors.Is(err, realtime.ErrTooSlow), errors.Is(err, os.ErrDeadlineExceeded):
		// Its queue overflowed or a write stalled: the client does not
		// keep up. The close frame reaches it if its socket has room.
		return wsTooSlow, "too slow; reconnect with ?since=<last position>", true
	default:
		httpx.Log(c.ctx).Warn("websocket stream ended", "error", err)
		return ws.StatusInternalServerError, "stream error; reconnect with ?since=<last position>", true
	}
}

// read handles the complete frames the client sent: pings are answered,
// pongs noted, a close echoed, acks queued (see message); anything else
// ends the connection with 1008 and a frame over MaxInboundFrame with
// 1009.
func (c *wsConn) read() (ws.StatusCode, string, bool) {
	c.mu.Lock()
	buf, readErr := c.inbound, c.readErr
	c.inbound = nil
	c.mu.Unlock()
	for {
		h, payload, n, err := wsframe.Next(buf, ws.StateServerSide, MaxInboundFrame)
		switch {
		case errors.Is(err, wsframe.ErrTooBig):
			return ws.StatusMessageTooBig, tooBigReason, true
		case err != nil:
			return ws.StatusProtocolError, err.Error(), true
		}
		if n == 0 {
			break // the rest of the frame is on its way
		}
		buf = buf[n:]
		c.heard = time.Now()
		switch h.OpCode {
		case ws.OpPing:
			if err := c.write(ws.OpPong, payload); err != nil {
				return 0, "", true
			}
		case ws.OpPong:
		case ws.OpClose:
			code, _ := ws.ParseCloseFrameData(payload)
			if code.Empty() {
				code = ws.StatusNormalClosure
			}
			return code, "", true // echoed, as RFC 6455 asks
		case ws.OpText:
			if reason := c.message(payload); reason != "" {
				return ws.StatusPolicyViolation, reason, true
			}
		default:
			return ws.StatusPolicyViolation, "the client may send only ack frames", true
		}
	}
	switch {
	case errors.Is(readErr, errInboundFlood):
		return ws.StatusMessageTooBig, tooBigReason, true
	case readErr != nil:
		return 0, "", true // the client is gone
	}
	if len(buf) > 0 {
		c.mu.Lock()
		c.inbound = append(buf, c.inbound...)
		c.mu.Unlock()
	}
	return 0, "", false
}

// inboundFrame is the one message a client sends, as Misakey's client
// does whenever it reads a box: {"type":"ack","object":{"sender_id",
// "box_id"}}. It acknowledges the box's new events, as PUT
// /boxes/{id}/new-events-count/ack does.
type inboundFrame struct {
	Type   string `json:"type"`
	Object struct {
		SenderID string `json:"sender_id"`
		BoxID    string `json:"box_id"`
	} `json:"object"`
}

// message takes a text frame; a reason to close the connection if it is
// not an ack of the stream's own identity. Misakey's reference acks for
// whatever sender_id the frame names; here one can only ack for oneself.
func (c *wsConn) message(payload []byte) string {
	var f inboundFrame
	if err := json.Unmarshal(payload, &f); err != nil || f.Type != "ack" {
		return "the client may send only ack frames"
	}
	if f.Object.SenderID != c.who {
		return "an ack names the stream's own identity as sender_id"
	}
	if uuid.Validate(f.Object.BoxID) != nil {
		return "an ack's box_id must be a box id"
	}
	c.acks.add(f.Object.BoxID)
	return ""
}

// acker runs a connection's acks off the writers' pool, one at a time: an
// ack is a durable write, which must not hold up the pool. At most
// maxAcksQueued wait; an ack past them is dropped (the client acks a box
// again when it reads it again, and an ack is idempotent).
type acker struct {
	fn      func(boxID string)
	mu      sync.Mutex
	pending []string
	running bool
}

const maxAcksQueued = 16

func (a *acker) add(boxID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if slices.Contains(a.pending, boxID) || len(a.pending) >= maxAcksQueued {
		return
	}
	a.pending = append(a.pending, boxID)
	if !a.running {
		a.running = true
		go a.run()
	}
}

func (a *acker) run() {
	for {
		a.mu.Lock()
		if len(a.pending) == 0 {
			a.running = false
			a.mu.Unlock()
			return
		}
		boxID := a.pending[0]
		a.pending = a.pending[1:]
		a.mu.Unlock()
		a.fn(boxID)
	}
}

// send queues a frame of the stream; flush writes what send queued.
// Entries that wait together (a commit of several, a client that fell a
// little behind) leave in one write(2) instead of one each: at high rates
// the syscall per frame is most of what delivery costs.
func (c *wsConn) send(f realtime.Frame) error {
	b, err := f.JSON()
	if err != nil {
		return err
	}
	c.queue(ws.OpText, b)
	if c.out.Len() >= maxCoalesced {
		return c.flush()
	}
	return nil
}

// queue appends one whole frame to what flush writes next.
func (c *wsConn) queue(op ws.OpCode, payload []byte) {
	if c.out == nil {
		c.out = wsFrames.Get().(*bytes.Buffer)
		c.out.Reset()
	}
	var hdr [ws.MaxHeaderSize]byte
	c.out.Write(wsframe.AppendHeader(hdr[:0], op, len(payload)))
	c.out.Write(payload)
}

// maxCoalesced bounds what send gathers before it writes.
const maxCoalesced = 64 << 10

// flush writes the frames send queued, if any.
func (c *wsConn) flush() error {
	if c.out == nil {
		return nil
	}
	b := c.out
	c.out = nil
	defer wsFrames.Put(b)
	return c.writeAll(b.Bytes())
}

// write sends one whole frame now (a ping, a pong, a close), after what
// send queued if any.
func (c *wsConn) write(op ws.OpCode, payload []byte) error {
	c.queue(op, payload)
	return c.flush()
}

// writeAll writes whole frames. It tries without waiting first; only a
// full socket makes it wait, up to the write timeout, and then off the
// pool.
func (c *wsConn) writeAll(frame []byte) error {
	if c.tryWrite != nil {
		n, err := c.tryWrite.TryWrite(frame)
		if err != nil || n == len(frame) {
			return err
		}
		frame = frame[n:]
	}
	wsWriters.leave(c.worker)
	c.worker = nil
	c.conn.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := c.conn.Write(frame)
	c.conn.SetWriteDeadline(time.Time{}) // a passed deadline would fail TryWrite
	return err
}

// wsFrames holds the buffers frames are assembled in, only while written.
var wsFrames = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// end closes the connection, with a close frame unless code is 0.
func (c *wsConn) end(code ws.StatusCode, reason string) {
	c.stopRead()
	c.ping.Stop()
	c.noShut()
	c.follower.Close()
	if code != 0 {
		c.timeout = time.Second
		c.write(ws.OpClose, ws.NewCloseFrameBody(code, reason))
	}
	c.conn.Close()
	c.done()
}
