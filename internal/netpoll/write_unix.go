//go:build unix

package netpoll

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// A Writer writes to one socket without waiting (TryWrite). It lets a few
// goroutines serve thousands of connections and hand off only those that
// would make them wait. Its callback for the socket is bound once, so a
// write allocates nothing: a fan-out makes one per subscriber and event.
type Writer struct {
	raw syscall.RawConn
	try func(fd uintptr) bool // w.write, bound once
	b   []byte                // what the current TryWrite writes
	n   int
	err error
}

// NewWriter returns a Writer for raw.
func NewWriter(raw syscall.RawConn) *Writer {
	w := &Writer{raw: raw}
	w.try = w.write
	return w
}

// TryWrite writes as much of b as the socket takes right now, without
// waiting: n < len(b) with a nil error means the socket is full (the peer
// does not read). One goroutine at a time may use a Writer.
func (w *Writer) TryWrite(b []byte) (n int, err error) {
	w.b, w.n, w.err = b, 0, nil
	err = w.raw.Write(w.try)
	n = w.n
	if err == nil {
		err = w.err
	}
	w.b, w.err = nil, nil
	return n, err
}

func (w *Writer) write(fd uintptr) bool {
	for w.n < len(w.b) {
		m, err := unix.Write(int(fd), w.b[w.n:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return true
		case err != nil:
			w.err = err
			return true
		}
		w.n += m
	}
	return true // never wait: the caller decides
}
