package netpoll_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/boxwire/boxwire/internal/netpoll"
)

// pair returns both ends of a loopback TCP connection.
func pair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// recorder keeps what OnRead hands over.
type recorder struct {
	mu   sync.Mutex
	data bytes.Buffer
	err  error
	more bool // what OnRead answers
}

func (r *recorder) onRead(data []byte, err error) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.data.Write(data)
	if err != nil {
		r.err = err
	}
	return r.more
}

func (r *recorder) wait(t *testing.T, what string, ok func(data string, err error) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		data, err := r.data.String(), r.err
		r.mu.Unlock()
		if ok(data, err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: have %q, %v", what, data, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// What a peer sends arrives whole and in order, however large, and the
// peer's close arrives as io.EOF.
func TestWatchDeliversBytesThenEOF(t *testing.T) {
	p, err := netpoll.New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	server, client := pair(t)
	rec := &recorder{more: true}
	if _, err := p.Watch(server, rec.onRead); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789"), 10_000) // several reads' worth
	client.Write([]byte("hello "))
	client.Write(big)
	rec.wait(t, "the bytes", func(d string, _ error) bool { return d == "hello "+string(big) })
	client.Close()
	rec.wait(t, "the close", func(_ string, err error) bool { return errors.Is(err, io.EOF) })
}

// After stop, or once OnRead answers false, nothing more is handed over.
func TestWatchStops(t *testing.T) {
	p, err := netpoll.New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, how := range []string{"stop", "false"} {
		server, client := pair(t)
		rec := &recorder{more: how != "false"}
		stop, err := p.Watch(server, rec.onRead)
		if err != nil {
			t.Fatal(err)
		}
		client.Write([]byte("first"))
		rec.wait(t, how+": the first bytes", func(d string, _ error) bool { return d == "first" })
		if how == "stop" {
			stop()
		}
		client.Write([]byte("second"))
		// The bytes are still in the socket, for whoever reads it next.
		server.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 16)
		n, err := server.Read(buf)
		if err != nil || string(buf[:n]) != "second" {
			t.Fatalf("%s: the socket holds %q, %v; want the unwatched bytes", how, buf[:n], err)
		}
		rec.mu.Lock()
		if got := rec.data.String(); got != "first" {
			t.Fatalf("%s: OnRead got %q after it stopped", how, got)
		}
		rec.mu.Unlock()
	}
}

// TestTryWriteNeverWaits: a socket with room takes everything at once; a
// full one (the peer does not read) takes what fits and TryWrite returns
// instead of waiting; once the peer reads, the rest goes.
func TestTryWriteNeverWaits(t *testing.T) {
	server, client := pair(t)
	raw, err := server.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	w := netpoll.NewWriter(raw)
	if n, err := w.TryWrite([]byte("hello")); n != 5 || err != nil {
		t.Fatalf("TryWrite on an empty socket = %d, %v; want 5, nil", n, err)
	}
	big := bytes.Repeat([]byte("x"), 64<<20) // more than any socket buffers
	done := make(chan struct{})
	var n int
	go func() {
		defer close(done)
		n, err = w.TryWrite(big)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("TryWrite waited on a full socket")
	}
	if err != nil || n == 0 || n >= len(big) {
		t.Fatalf("TryWrite on a filling socket = %d, %v; want part of %d, nil", n, err, len(big))
	}
	// The peer reads what was taken; the rest can then go.
	go io.Copy(io.Discard, client)
	rest := big[n:]
	deadline := time.Now().Add(10 * time.Second)
	for len(rest) > 0 {
		m, err := w.TryWrite(rest)
		if err != nil {
			t.Fatalf("TryWrite after the peer read: %v", err)
		}
		rest = rest[m:]
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes still unwritten after the peer started reading", len(rest))
		}
	}
}

// TestTryWriteReportsAClosedPeer: writing to a connection the peer reset
// fails rather than pretending to have written.
func TestTryWriteReportsAClosedPeer(t *testing.T) {
	server, client := pair(t)
	client.(*net.TCPConn).SetLinger(0) // close with a reset
	client.Close()
	raw, err := server.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	w := netpoll.NewWriter(raw)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := w.TryWrite([]byte("anyone there?")); err != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("TryWrite to a reset connection never failed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTryWriteAllocatesNothing: a fan-out writes once per subscriber and
// event; the writes must not feed the garbage collector.
func TestTryWriteAllocatesNothing(t *testing.T) {
	server, client := pair(t)
	go io.Copy(io.Discard, client)
	raw, err := server.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	w := netpoll.NewWriter(raw)
	frame := []byte("a frame of the stream")
	if allocs := testing.AllocsPerRun(200, func() {
		if n, err := w.TryWrite(frame); err != nil || n != len(frame) {
			t.Fatalf("TryWrite = %d, %v", n, err)
		}
	}); allocs != 0 {
		t.Fatalf("TryWrite allocates %v times a write, want 0", allocs)
	}
}
