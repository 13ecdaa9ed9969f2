package loadgen

import (
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// benchDetach takes a subscriber's socket out of Go's own poller, leaving
// it to the bench's epoll set alone. Each frame that reaches a socket
// watched by both wakes two pollers, and the kernel does that waking in
// the server's write(2): the load generator would cost the server CPU it
// shares with it on the bench machine. conn is closed; use what returns.
func benchDetach(conn net.Conn) (net.Conn, error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return conn, nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var dupErr error
	if err = raw.Control(func(f uintptr) { fd, dupErr = unix.Dup(int(f)) }); err == nil {
		err = dupErr
	}
	if err != nil {
		return nil, err
	}
	c := &fdConn{fd: fd, local: conn.LocalAddr(), remote: conn.RemoteAddr()}
	conn.Close() // Go's poller forgets its descriptor; the dup keeps the socket
	return c, nil
}

// fdConn is a non-blocking socket outside Go's poller: reads come through
// the bench's epoll set, and its few writes (pongs, the close frame) are
// small enough to go out at once or not at all.
type fdConn struct {
	fd            int
	local, remote net.Addr
}

func (c *fdConn) Read(b []byte) (int, error)            { return unix.Read(c.fd, b) }
func (c *fdConn) Write(b []byte) (int, error)           { return unix.Write(c.fd, b) }
func (c *fdConn) Close() error                          { return unix.Close(c.fd) }
func (c *fdConn) LocalAddr() net.Addr                   { return c.local }
func (c *fdConn) RemoteAddr() net.Addr                  { return c.remote }
func (c *fdConn) SetDeadline(time.Time) error           { return nil }
func (c *fdConn) SetReadDeadline(time.Time) error       { return nil }
func (c *fdConn) SetWriteDeadline(time.Time) error      { return nil }
func (c *fdConn) SyscallConn() (syscall.RawConn, error) { return fdRaw(c.fd), nil }

// fdRaw is the syscall.RawConn of an fdConn: the callbacks run at once and
// are called again while they ask to wait.
type fdRaw int

func (r fdRaw) Control(f func(fd uintptr)) error { f(uintptr(r)); return nil }

func (r fdRaw) Read(f func(fd uintptr) bool) error {
	for !f(uintptr(r)) {
	}
	return nil
}

func (r fdRaw) Write(f func(fd uintptr) bool) error {
	for !f(uintptr(r)) {
	}
	return nil
}
