package natsbroker

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/boxwire/boxwire/internal/broker"
	"github.com/boxwire/boxwire/internal/journal"
)

// deadline bounds every wait that should succeed at once; reconnectDeadline
// bounds waits that include a NATS reconnect round.
const (
	deadline          = 5 * time.Second
	reconnectDeadline = 15 * time.Second
)

// startServer runs an in-process NATS server on 127.0.0.1; port -1 picks a
// free one. It is shut down when the test ends (shutting down twice is fine).
func startServer(t *testing.T, port int) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	go ns.Start()
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	return ns
}

func serverPort(t *testing.T, ns *server.Server) int {
	t.Helper()
	addr, ok := ns.Addr().(*net.TCPAddr)
	if !ok {
		t.Fatalf("server address %v is not TCP", ns.Addr())
	}
	return addr.Port
}

// open opens a Broker ("a node") that is closed when the test ends.
func open(t *testing.T, url string, opts Options) *Broker {
	t.Helper()
	b, err := Open(url, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

func notices(scope string, from, to int64) []journal.Notice {
	var ns []journal.Notice
	for p := from; p <= to; p++ {
		ns = append(ns, journal.Notice{Position: p, Scope: fmt.Sprintf("%s-%d", scope, p%3)})
	}
	return ns
}

func concat(batches ...[]journal.Notice) []journal.Notice {
	var all []journal.Notice
	for _, b := range batches {
		all = append(all, b...)
	}
	return all
}

// publish calls Publish, failing the test if it errs or blocks.
func publish(t *testing.T, b broker.Broker, ns []journal.Notice) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- b.Publish(context.Background(), ns) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Publish: %v", err)
		}
	case <-time.After(deadline):
		t.Fatalf("Publish of %d notices blocked for %v", len(ns), deadline)
	}
}

// receive reads exactly len(want) notices from s and compares them in order.
func receive(t *testing.T, s *broker.Subscription, want []journal.Notice) {
	t.Helper()
	receiveSkipping(t, s, want, "", deadline)
}

// receiveSkipping is receive, ignoring notices whose scope starts with skip
// (when skip is not empty).
func receiveSkipping(t *testing.T, s *broker.Subscription, want []journal.Notice, skip string, within time.Duration) {
	t.Helper()
	timeout := time.After(within)
	for i := 0; i < len(want); {
		select {
		case got := <-s.C:
			if skip != "" && strings.HasPrefix(got.Scope, skip) {
				continue
			}
			if got != want[i] {
				t.Fatalf("notice %d = %+v, want %+v", i, got, want[i])
			}
			i++
		case <-timeout:
			t.Fatalf("timed out after %d of %d notices", i, len(want))
		}
	}
}

// empty asserts nothing is queued for s.
func empty(t *testing.T, s *broker.Subscription) {
	t.Helper()
	select {
	case n := <-s.C:
		t.Fatalf("unexpected notice %+v", n)
	default:
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(within)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rawSubscribe watches the wire: a plain NATS client on subject.
func rawSubscribe(t *testing.T, url, subject string) (*nats.Conn, *nats.Subscription) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("raw connect: %v", err)
	}
	t.Cleanup(nc.Close)
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		t.Fatalf("raw subscribe: %v", err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatalf("raw flush: %v", err)
	}
	return nc, sub
}

// syncBuffer is a log destination safe to read while NATS callbacks write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// 1. Notices published on one node reach the subscribers of every node,
// in order, one NATS message per non-empty batch.
func TestCrossNodeDeliveryInOrder(t *testing.T) {
	ns := startServer(t, -1)
	url := ns.ClientURL()
	_, wire := rawSubscribe(t, url, DefaultSubject)
	a := open(t, url, Options{})
	b := open(t, url, Options{})
	subA, subB := a.Subscribe(64), b.Subscribe(64)
	defer subA.Close()
	defer subB.Close()

	batches := [][]journal.Notice{
		notices("box", 1, 1),
		nil,
		notices("box", 2, 9),
		{},
		notices("box", 10, 10),
		notices("box", 11, 30),
	}
	for _, batch := range batches {
		publish(t, a, batch)
	}
	want := concat(batches...)
	receive(t, subB, want)
	receive(t, subA, want) // a node hears its own notices through NATS
	empty(t, subA)
	empty(t, subB)

	// On the wire: one compact JSON array per non-empty batch, nothing for
	// empty ones (an empty batch would show up before the next batch).
	for i, batch := range batches {
		if len(batch) == 0 {
			continue
		}
		m, err := wire.NextMsg(deadline)
		if err != nil {
			t.Fatalf("wire message for batch %d: %v", i, err)
		}
		if got := string(m.Data); got != string(encodeNotices(batch)) {
			t.Fatalf("wire message for batch %d = %s, want %s", i, got, encodeNotices(batch))
		}
	}
	if m, err := wire.NextMsg(0); err == nil {
		t.Fatalf("unexpected wire message %s", m.Data)
	}

	// And the other way round.
	back := notices("org", 31, 35)
	publish(t, b, back)
	receive(t, subA, back)
	receive(t, subB, back)
}

func TestWireFormatIsCompactJSON(t *testing.T) {
	got := string(encodeNotices([]journal.Notice{{Position: 7, Scope: "box-1"}, {Position: 8, Scope: "org:x"}}))
	if want := `[{"p":7,"s":"box-1"},{"p":8,"s":"org:x"}]`; got != want {
		t.Fatalf("encoded = %s, want %s", got, want)
	}
}

// 2. Every local subscriber gets every notice; a full one drops instead of
// blocking the publisher, the NATS callback or the other subscribers.
func TestFullSubscriberDoesNotBlockOthers(t *testing.T) {
	tests := []struct {
		buffer, published int
	}{
		{buffer: 1, published: 2},
		{buffer: 4, published: 500},
		{buffer: 64, published: 2000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("buffer %d published %d", tt.buffer, tt.published), func(t *testing.T) {
			ns := startServer(t, -1)
			b := open(t, ns.ClientURL(), Options{})
			// Never read, never closed.
			stalled := b.Subscribe(tt.buffer)
			readers := []*broker.Subscription{b.Subscribe(tt.published), b.Subscribe(tt.published), b.Subscribe(tt.published)}

			all := notices("box", 1, int64(tt.published))
			// One big batch, then one notice at a time.
			publish(t, b, all[:tt.published/2])
			for _, n := range all[tt.published/2:] {
				publish(t, b, []journal.Notice{n})
			}
			for i, r := range readers {
				t.Run(fmt.Sprintf("reader %d", i), func(t *testing.T) {
					receive(t, r, all)
					empty(t, r)
				})
			}
			eventually(t, deadline, "the stalled queue to fill", func() bool { return len(stalled.C) == tt.buffer })
			if got := len(stalled.C); got != tt.buffer {
				t.Fatalf("stalled subscriber queued %d, want exactly the buffer %d", got, tt.buffer)
			}
			// What it kept is the oldest notices, in order.
			receive(t, stalled, all[:tt.buffer])
			empty(t, stalled)

			// Once drained, it receives again.
			next := notices("box", int64(tt.published)+1, int64(tt.published)+1)
			publish(t, b, next)
			receive(t, stalled, next)
		})
	}
}

// 3. Subscription.Close stops delivery to that subscriber only.
func TestSubscriptionCloseStopsOnlyThatSubscriber(t *testing.T) {
	ns := startServer(t, -1)
	url := ns.ClientURL()
	a := open(t, url, Options{})
	b := open(t, url, Options{})
	closed, kept := b.Subscribe(16), b.Subscribe(16)
	defer kept.Close()

	first := notices("box", 1, 2)
	publish(t, a, first)
	receive(t, closed, first)
	receive(t, kept, first)

	closed.Close()
	second := notices("box", 3, 5)
	publish(t, a, second)
	// Once kept has the second batch, its delivery is done; closed was
	// already gone from the fan-out.
	receive(t, kept, second)
	empty(t, closed)

	closed.Close() // harmless
	third := notices("box", 6, 6)
	publish(t, a, third)
	receive(t, kept, third)
	empty(t, closed)
}

// 4. Open refuses what it cannot use, promptly and clearly: a malformed
// URL. An unreachable server is not refused (see TestOpenWhileNATSDown).
func TestOpenFails(t *testing.T) {
	tests := []struct {
		name, url, inErr string
	}{
		{name: "not a URL", url: "not a url", inErr: "not a URL"},
		{name: "garbage", url: "://", inErr: "natsbroker"},
		{name: "empty", url: "", inErr: "empty"},
		{name: "blank", url: "  ", inErr: "empty"},
		{name: "no host", url: "nats://", inErr: "no host"},
		{name: "wrong scheme", url: "http://127.0.0.1:1", inErr: "scheme"},
		{name: "empty list entry", url: "nats://127.0.0.1:1,,nats://127.0.0.1:2", inErr: "empty server"},
		{name: "bad port", url: "nats://127.0.0.1:99999", inErr: "port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			b, err := Open(tt.url, Options{})
			if err == nil {
				b.Close()
				t.Fatalf("Open(%q) succeeded", tt.url)
			}
			if took := time.Since(start); took > deadline {
				t.Errorf("Open(%q) took %v to fail", tt.url, took)
			}
			if !strings.Contains(err.Error(), tt.inErr) || !strings.HasPrefix(err.Error(), "natsbroker: ") {
				t.Errorf("Open(%q) = %v, want a natsbroker error mentioning %q", tt.url, err, tt.inErr)
			}
		})
	}
}

// Neither an error nor the log shows a URL's credentials.
func TestOpenHidesCredentials(t *testing.T) {
	for _, url := range []string{
		"nats://alice:s3cret@127.0.0.1:1",
		"alice:s3cret@127.0.0.1:1",
		"nats://s3cret@127.0.0.1:1",
		"nats://alice:s3cret@127.0.0.1:1,nats://127.0.0.1:2",
		"nats://alice:s3cret@bad host",
	} {
		var logs syncBuffer
		b, err := Open(url, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err == nil {
			b.Close()
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q) error shows the secret: %v", url, err)
		}
		if strings.Contains(logs.String(), "s3cret") {
			t.Errorf("Open(%q) logs the secret: %s", url, logs.String())
		}
	}
}

// A node starts while NATS is down: Open returns at once, publishes are
// delivered locally, and once a server comes up on that address the
// broker connects and its subscription carries other nodes' notices.
func TestOpenWhileNATSDown(t *testing.T) {
	port := freePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	var logs syncBuffer
	start := time.Now()
	a := open(t, url, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if took := time.Since(start); took > deadline {
		t.Fatalf("Open took %v with NATS down", took)
	}
	if !strings.Contains(logs.String(), "NATS not reachable") {
		t.Errorf("the unreachable server is not logged: %s", logs.String())
	}
	sub := a.Subscribe(4096)
	down := notices("box", 1, 2)
	publish(t, a, down)
	receive(t, sub, down)

	startServer(t, port)
	eventually(t, reconnectDeadline, "the broker to connect", a.nc.IsConnected)
	b := open(t, url, Options{})
	probe := int64(1000)
	end := time.Now().Add(reconnectDeadline)
	for heard := false; !heard; {
		if time.Now().After(end) {
			t.Fatal("the node that started while NATS was down never heard another node")
		}
		publish(t, b, []journal.Notice{{Position: probe, Scope: "probe"}})
		probe++
		select {
		case n := <-sub.C:
			heard = n.Scope == "probe"
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freePort returns a TCP port nothing listens on (now).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestOpenRejectsBadSubject(t *testing.T) {
	for _, subject := range []string{"boxwire.*", "boxwire.>", "box wire", "boxwire..notices", ".boxwire", "boxwire."} {
		// The subject is checked before connecting: no server needed.
		if b, err := Open("nats://127.0.0.1:1", Options{Subject: subject}); err == nil || !strings.Contains(err.Error(), "subject") {
			if b != nil {
				b.Close()
			}
			t.Errorf("Open with subject %q = %v, want a subject error", subject, err)
		}
	}
}

// Nodes on different subjects (different deployments on one NATS) do not
// hear each other.
func TestSubjectsIsolate(t *testing.T) {
	ns := startServer(t, -1)
	url := ns.ClientURL()
	_, wire := rawSubscribe(t, url, "other.notices")
	a := open(t, url, Options{Subject: "other.notices"})
	b := open(t, url, Options{})
	subA, subB := a.Subscribe(8), b.Subscribe(8)

	mine := notices("box", 1, 2)
	publish(t, a, mine)
	receive(t, subA, mine)
	if _, err := wire.NextMsg(deadline); err != nil {
		t.Fatalf("nothing on the custom subject: %v", err)
	}
	theirs := notices("box", 3, 3)
	publish(t, b, theirs)
	// b's own notice comes after anything a could have leaked to b.
	receive(t, subB, theirs)
	empty(t, subB)
	empty(t, subA)
}

// Malformed messages on the subject are logged and ignored; good ones
// after them still arrive.
func TestMalformedMessagesAreIgnored(t *testing.T) {
	ns := startServer(t, -1)
	url := ns.ClientURL()
	var logs syncBuffer
	b := open(t, url, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	sub := b.Subscribe(16)
	raw, _ := rawSubscribe(t, url, "unused")

	bad := []string{"", "null", "{}", `{"p":1,"s":"x"}`, "[", `[{"p":"1"}]`, `[1,2]`, "\xff\xfe", `[{"p":1,"s":"x"}] trailing`}
	for _, m := range bad {
		if err := raw.Publish(DefaultSubject, []byte(m)); err != nil {
			t.Fatalf("raw publish: %v", err)
		}
	}
	if err := raw.Flush(); err != nil {
		t.Fatalf("raw flush: %v", err)
	}
	good := notices("box", 1, 3)
	publish(t, b, good)
	receive(t, sub, good)
	empty(t, sub)
	if got := strings.Count(logs.String(), "ignoring malformed"); got != len(bad) {
		t.Fatalf("logged %d malformed messages, want %d; logs:\n%s", got, len(bad), logs.String())
	}
}

// 5. With NATS down, Publish still succeeds and wakes the node's own
// subscribers directly; once a server is back on the same port, the nodes
// reconnect and wake each other again.
func TestLocalFallbackWhileNATSDownThenReconnect(t *testing.T) {
	ns := startServer(t, -1)
	port := serverPort(t, ns)
	url := ns.ClientURL()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	a := open(t, url, Options{Logger: logger})
	b := open(t, url, Options{Logger: logger})
	// Big enough for every probe below.
	subA, subB := a.Subscribe(4096), b.Subscribe(4096)

	before := notices("box", 1, 3)
	publish(t, a, before)
	receive(t, subA, before)
	receive(t, subB, before)

	ns.Shutdown()
	ns.WaitForShutdown()
	eventually(t, deadline, "both nodes to notice the disconnect", func() bool {
		return !a.nc.IsConnected() && !b.nc.IsConnected()
	})

	// Delivered locally, synchronously, inside Publish.
	downA := notices("box", 4, 6)
	publish(t, a, downA)
	if got := len(subA.C); got != len(downA) {
		t.Fatalf("node A queued %d notices while NATS is down, want %d", got, len(downA))
	}
	receive(t, subA, downA)
	downB := notices("box", 7, 7)
	publish(t, b, downB)
	if got := len(subB.C); got != len(downB) {
		t.Fatalf("node B queued %d notices while NATS is down, want %d", got, len(downB))
	}
	receive(t, subB, downB)
	empty(t, subA) // nothing crosses while NATS is down
	if !strings.Contains(logs.String(), "disconnected from NATS") {
		t.Errorf("disconnect not logged; logs:\n%s", logs.String())
	}

	startServer(t, port)
	eventually(t, reconnectDeadline, "both nodes to reconnect", func() bool {
		return a.nc.IsConnected() && b.nc.IsConnected()
	})
	// A reconnected client re-sends its subscription; it may reach the
	// server just after the other node's first publish. Probe until B
	// hears A.
	probe := int64(1000)
	end := time.Now().Add(reconnectDeadline)
	for heard := false; !heard; {
		if time.Now().After(end) {
			t.Fatal("node B never heard node A after the reconnect")
		}
		publish(t, a, []journal.Notice{{Position: probe, Scope: "probe"}})
		probe++
		select {
		case n := <-subB.C:
			heard = n.Scope == "probe"
		case <-time.After(50 * time.Millisecond):
		}
	}

	after := notices("box", 8, 12)
	publish(t, a, after)
	receiveSkipping(t, subB, after, "probe", deadline)
	receiveSkipping(t, subA, after, "probe", deadline)
	back := notices("org", 13, 14)
	publish(t, b, back)
	receiveSkipping(t, subA, back, "probe", deadline)
	receiveSkipping(t, subB, back, "probe", deadline)
	if !strings.Contains(logs.String(), "reconnected to NATS") {
		t.Errorf("reconnect not logged; logs:\n%s", logs.String())
	}
}

func TestCloseIsIdempotentAndPublishAfterCloseIsLocal(t *testing.T) {
	ns := startServer(t, -1)
	b, err := Open(ns.ClientURL(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sub := b.Subscribe(8)
	first := notices("box", 1, 2)
	publish(t, b, first)
	receive(t, sub, first)

	for i := range 2 {
		if err := b.Close(); err != nil {
			t.Fatalf("Close #%d = %v", i+1, err)
		}
	}
	if !b.nc.IsClosed() {
		t.Fatal("connection not closed")
	}
	later := notices("box", 3, 3)
	publish(t, b, later)
	receive(t, sub, later)
	empty(t, sub)
}

// Many goroutines on two nodes: each publisher's notices arrive at a
// subscriber in that publisher's order, and nothing blocks.
func TestConcurrentPublishers(t *testing.T) {
	ns := startServer(t, -1)
	url := ns.ClientURL()
	nodes := []*Broker{open(t, url, Options{}), open(t, url, Options{})}
	const publishers, each = 4, 200
	sub := nodes[1].Subscribe(publishers * each)

	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			node := nodes[p%2]
			for i := range each {
				_ = node.Publish(context.Background(), []journal.Notice{{Position: int64(p*each + i + 1), Scope: "box"}})
			}
		})
	}
	for range 50 {
		nodes[1].Subscribe(1).Close()
	}
	wg.Wait()

	last := make([]int64, publishers)
	timeout := time.After(deadline)
	for range publishers * each {
		select {
		case n := <-sub.C:
			p := (n.Position - 1) / each
			if n.Position <= last[p] {
				t.Fatalf("publisher %d: %d after %d", p, n.Position, last[p])
			}
			last[p] = n.Position
		case <-timeout:
			t.Fatalf("timed out; last positions %v", last)
		}
	}
}

// A batch larger than the server's max_payload still arrives, in order.
func TestOversizedBatchIsSplit(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, MaxPayload: 1024})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	_, wire := rawSubscribe(t, ns.ClientURL(), DefaultSubject)
	a := open(t, ns.ClientURL(), Options{})
	b := open(t, ns.ClientURL(), Options{})
	sub := b.Subscribe(1000)
	big := notices("box", 1, 500) // ~10 KiB encoded
	publish(t, a, big)
	receive(t, sub, big)
	for range 2 {
		m, err := wire.NextMsg(deadline)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Data) > 1024 {
			t.Fatalf("message of %d bytes exceeds max_payload", len(m.Data))
		}
	}
}

// 6. The decoder never panics, rejects what is not an array of notices,
// and what it accepts survives a round trip; valid arrays round-trip.
func FuzzDecodeNotices(f *testing.F) {
	for _, seed := range []string{
		`[{"p":1,"s":"box-1"}]`,
		`[{"p":1,"s":"box-1"},{"p":2,"s":"org:x"}]`,
		`[]`, `null`, `{}`, `[`, `[1]`, `[{"p":"1"}]`, `[{"p":1e3}]`,
		`[{"p":9223372036854775808}]`, `[{"s":"\ud800"}]`, `[{"p":1,"x":true}]`,
		"\xff", "",
	} {
		f.Add([]byte(seed), int64(1), "box-1")
	}
	f.Add([]byte(nil), int64(-1), "\xff\x00\u2028<&>\"")
	f.Fuzz(func(t *testing.T, data []byte, p int64, s string) {
		got, err := decodeNotices(data)
		if err == nil {
			if got == nil {
				t.Fatalf("decode(%q) = nil, nil", data)
			}
			again, err := decodeNotices(encodeNotices(got))
			if err != nil {
				t.Fatalf("re-decoding %q: %v", encodeNotices(got), err)
			}
			if !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip of %q: %+v, then %+v", data, got, again)
			}
		} else if got != nil {
			t.Fatalf("decode(%q) = %+v with error %v", data, got, err)
		}

		// A valid batch built from the inputs round-trips exactly.
		// (JSON cannot carry invalid UTF-8; scopes never contain any.)
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
		want := []journal.Notice{{Position: p, Scope: s}, {Position: p ^ 1, Scope: ""}, {Position: 0, Scope: s + s}}
		back, err := decodeNotices(encodeNotices(want))
		if err != nil {
			t.Fatalf("decoding encoded %+v: %v", want, err)
		}
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("round trip: got %+v, want %+v", back, want)
		}
	})
}
