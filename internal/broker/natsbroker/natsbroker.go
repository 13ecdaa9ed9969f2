// Package natsbroker carries journal notices between Boxwire nodes over
// NATS, so several nodes on one PostgreSQL database wake each other's
// readers after a commit.
//
// Notices only wake readers (see package broker and journal.Follow): a
// reader that misses one catches up by position at its next notice or at
// its 1-second safety poll. So this broker is deliberately lossy and never
// blocks: NATS core (no JetStream), no reconnect buffer, bounded queues.
//
// Every node publishes each batch of notices as ONE message on one subject
// and holds ONE NATS subscription on that subject, whose callback hands the
// decoded batch to a broker.Fanout of local subscribers. A node receives
// its own messages back from the server (NATS echo), so its own readers
// are woken by the same path as everybody else's; Publish does not also
// deliver locally, which would only wake them twice.
//
// The one exception is a node that cannot reach NATS: when a publish
// fails (the connection is down or reconnecting, or the broker is
// closed), Publish delivers the batch to the local subscribers itself and
// still returns nil. A single node thus keeps its readers realtime while
// NATS is down; other nodes see those entries at their next poll. A lost
// notice is never an error worth failing a committed write for.
package natsbroker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/boxwire/boxwire/internal/broker"
	"github.com/boxwire/boxwire/internal/journal"
)

// DefaultSubject is the subject notices travel on when Options.Subject is
// empty. Nodes sharing one database must use the same subject; nodes of
// different deployments sharing one NATS server must not.
const DefaultSubject = "boxwire.notices"

const (
	// connectTimeout bounds the dial (and TLS handshake) of each attempt,
	// so Open fails promptly on an unreachable server.
	connectTimeout = 3 * time.Second
	// reconnectWait is the pause between rounds of reconnect attempts
	// (nats.go adds jitter). Reconnecting sooner buys little: readers poll
	// every second anyway.
	reconnectWait = 2 * time.Second
	// drainTimeout bounds Close.
	drainTimeout = 5 * time.Second

	// pendingMsgs and pendingBytes bound what the NATS client queues for
	// our subscription before the callback runs. The callback only decodes
	// and hands off without blocking, so the queue stays near empty; if it
	// ever fills, the notices in it are long stale (readers have polled in
	// the meantime) and NATS dropping newer ones is the right outcome.
	pendingMsgs  = 65536
	pendingBytes = 16 << 20
)

// Options configure Open. The zero value is usable.
type Options struct {
	// Subject notices are published and received on; DefaultSubject if
	// empty. It must be a literal subject (no wildcards).
	Subject string
	// Logger receives connection events and malformed messages; nil
	// discards them.
	Logger *slog.Logger
}

// Broker is a broker.Broker whose notices travel through NATS.
type Broker struct {
	nc      *nats.Conn
	sub     *nats.Subscription
	subject string
	log     *slog.Logger
	fanout  *broker.Fanout

	closing   atomic.Bool
	closed    chan struct{} // closed once the NATS connection is closed
	closeOnce sync.Once
}

var _ broker.Broker = (*Broker)(nil)

// Open connects to the NATS server(s) at url (a nats:// URL, or several
// separated by commas) and subscribes to the notice subject. It does not
// fail when no server can be reached now: a node must start while NATS is
// down (its readers follow the journal by polling meanwhile), so the
// broker keeps trying in the background, forever, and subscribes once it
// gets through. Only a malformed URL or subject is an error.
func Open(rawURL string, opts Options) (*Broker, error) {
	shown := redact(rawURL)
	if err := checkURLs(rawURL); err != nil {
		return nil, fmt.Errorf("natsbroker: NATS URL %q: %w", shown, err)
	}
	subject := opts.Subject
	if subject == "" {
		subject = DefaultSubject
	}
	if err := checkSubject(subject); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "natsbroker")

	b := &Broker{
		subject: subject,
		log:     log,
		fanout:  broker.NewFanout(),
		closed:  make(chan struct{}),
	}
	nc, err := nats.Connect(rawURL,
		nats.Name("boxwire"),
		nats.Timeout(connectTimeout),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(reconnectWait),
		// No outbound buffer while reconnecting: notices queued there
		// would arrive stale, after every reader has polled. Publishing
		// while reconnecting fails at once instead, and Publish falls back
		// to local delivery.
		nats.ReconnectBufSize(-1),
		nats.DrainTimeout(drainTimeout),
		nats.DisconnectErrHandler(b.onDisconnect),
		nats.ReconnectHandler(b.onReconnect),
		nats.ClosedHandler(b.onClosed),
		nats.ErrorHandler(b.onError),
	)
	if err != nil {
		return nil, fmt.Errorf("natsbroker: connect to %s: %w", shown, err)
	}
	b.nc = nc

	sub, err := nc.Subscribe(subject, b.receive)
	if err == nil {
		err = sub.SetPendingLimits(pendingMsgs, pendingBytes)
	}
	if err == nil && nc.IsConnected() {
		// A round trip: once it returns, the server has registered the
		// subscription, so nothing published after Open returns is missed.
		// Not yet connected, the subscription is sent on connecting.
		err = nc.FlushTimeout(connectTimeout)
	}
	if err != nil {
		b.closing.Store(true)
		nc.Close()
		return nil, fmt.Errorf("natsbroker: subscribe to %q on %s: %w", subject, shown, err)
	}
	b.sub = sub
	if nc.IsConnected() {
		log.Info("connected to NATS", "url", redact(nc.ConnectedUrl()), "subject", subject)
	} else {
		log.Warn("NATS not reachable; retrying in the background, the journal is polled meanwhile", "url", shown, "subject", subject)
	}
	return b, nil
}

// Publish sends the batch as one NATS message. It never blocks on
// subscribers and never fails: if NATS cannot take the message, the batch
// is delivered to this node's subscribers directly (see the package doc).
// The context is unused: a notice is sent after its commit, whatever the
// writer's context has become since.
func (b *Broker) Publish(_ context.Context, notices []journal.Notice) error {
	if len(notices) == 0 {
		return nil
	}
	if err := b.publish(notices); err != nil {
		b.log.Debug("NATS publish failed; delivering locally", "notices", len(notices), "err", err)
		b.fanout.Deliver(notices)
	}
	return nil
}

// publish sends notices as one message, or, should the batch exceed the
// server's max_payload (1 MiB by default, some 15,000 notices), halves it
// until the parts fit and sends them in order. If a later part fails, the
// caller delivers the whole batch locally: some local readers are then
// woken twice, which is harmless.
func (b *Broker) publish(notices []journal.Notice) error {
	data := encodeNotices(notices)
	if limit := b.nc.MaxPayload(); limit > 0 && int64(len(data)) > limit && len(notices) > 1 {
		half := len(notices) / 2
		if err := b.publish(notices[:half]); err != nil {
			return err
		}
		return b.publish(notices[half:])
	}
	return b.nc.Publish(b.subject, data)
}

// Connected says whether the broker is connected to a NATS server now.
func (b *Broker) Connected() bool { return b.nc.IsConnected() }

// Subscribe returns a local subscription fed from the broker's one NATS
// subscription. Its queue holds buffer notices and drops when full, like
// broker.Local's.
func (b *Broker) Subscribe(buffer int) *broker.Subscription {
	return b.fanout.Subscribe(buffer)
}

// Close drains the NATS connection (notices already received are handed
// to subscribers, those already published are flushed) and closes it. It
// waits at most a few seconds and is safe to call more than once.
// Local subscriptions stay valid but receive nothing more from NATS.
func (b *Broker) Close() error {
	b.closing.Store(true)
	if err := b.nc.Drain(); err != nil {
		// Closed already, or reconnecting (then Drain has closed it).
		b.nc.Close()
	}
	select {
	case <-b.closed:
	case <-time.After(drainTimeout + time.Second):
		b.nc.Close()
	}
	return nil
}

// receive is the NATS callback. It must not block: Fanout.Deliver drops
// rather than waits.
func (b *Broker) receive(m *nats.Msg) {
	notices, err := decodeNotices(m.Data)
	if err != nil {
		b.log.Warn("ignoring malformed NATS notice message", "subject", m.Subject, "bytes", len(m.Data), "err", err)
		return
	}
	b.fanout.Deliver(notices)
}

func (b *Broker) onDisconnect(_ *nats.Conn, err error) {
	if b.closing.Load() {
		return
	}
	b.log.Warn("disconnected from NATS; reconnecting, notices stay local meanwhile", "err", err)
}

func (b *Broker) onReconnect(nc *nats.Conn) {
	b.log.Info("reconnected to NATS", "url", redact(nc.ConnectedUrl()))
}

func (b *Broker) onClosed(_ *nats.Conn) {
	b.closeOnce.Do(func() { close(b.closed) })
}

func (b *Broker) onError(_ *nats.Conn, sub *nats.Subscription, err error) {
	if errors.Is(err, nats.ErrSlowConsumer) && sub != nil {
		n, _ := sub.Dropped()
		b.log.Warn("NATS notice subscription fell behind; notices dropped (readers catch up by polling)", "dropped_total", n)
		return
	}
	b.log.Warn("NATS error", "err", err)
}

// encodeNotices is the wire format: a compact JSON array of notices,
// [{"p":12,"s":"box-id"},...].
func encodeNotices(notices []journal.Notice) []byte {
	data, err := json.Marshal(notices)
	if err != nil {
		// An int64 and a string always marshal.
		panic("natsbroker: encoding notices: " + err.Error())
	}
	return data
}

// decodeNotices parses a message body. It accepts only a JSON array of
// objects (unknown fields are ignored, so a newer node may add some) and
// returns an error for anything else, never panicking.
func decodeNotices(data []byte) ([]journal.Notice, error) {
	var notices []journal.Notice
	if err := json.Unmarshal(data, &notices); err != nil {
		return nil, err
	}
	if notices == nil {
		// json.Unmarshal accepts null for a slice.
		return nil, errors.New("not a JSON array")
	}
	return notices, nil
}

// checkURLs refuses what nats.go would quietly turn into a connection to
// localhost: an empty string, or a URL without a host ("nats://"). Each
// comma-separated server must be scheme://host[:port] with a NATS scheme,
// or host[:port].
func checkURLs(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return errors.New("empty")
	}
	for part := range strings.SplitSeq(raw, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return errors.New("empty server in list")
		}
		if !strings.Contains(part, "://") {
			part = "nats://" + part
		}
		u, err := url.Parse(part)
		if err != nil {
			return errors.New("not a URL")
		}
		switch strings.ToLower(u.Scheme) {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("scheme %q: want nats://, tls://, ws:// or wss://", u.Scheme)
		}
		if u.Hostname() == "" {
			return errors.New("no host")
		}
		if p := u.Port(); p != "" {
			// Checked here: with retries on a failed connect, nats.go
			// would try a port that cannot exist forever.
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				return fmt.Errorf("port %q out of range", p)
			}
		}
	}
	return nil
}

// checkSubject refuses subjects NATS would reject on publish or treat as
// a wildcard on subscribe.
func checkSubject(s string) error {
	if strings.ContainsAny(s, " \t\r\n*>") {
		return fmt.Errorf("natsbroker: subject %q: must be literal, without spaces or wildcards", s)
	}
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" {
			return fmt.Errorf("natsbroker: subject %q: empty token", s)
		}
	}
	return nil
}

// redact hides credentials in server URLs for logs and errors.
func redact(raw string) string {
	parts := strings.Split(raw, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if !strings.Contains(p, "@") {
			parts[i] = p
			continue
		}
		if !strings.Contains(p, "://") {
			p = "nats://" + p
		}
		u, err := url.Parse(p)
		if err != nil {
			// Unparsable: keep only what follows the last '@'.
			parts[i] = "xxxxx@" + p[strings.LastIndex(p, "@")+1:]
			continue
		}
		if u.User != nil {
			// user:password, or a bare user that is a token or an nkey.
			u.User = url.User("xxxxx")
		}
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}
