//go:build unix

package netpoll

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// TryWrite writes as much of b as the socket takes right now, without
// waiting: n < len(b) with a nil error means the socket is full (the peer
// does not read). It lets a few goroutines serve thousands of connections
// and hand off only those that would make them wait.
func TryWrite(raw syscall.RawConn, b []byte) (n int, err error) {
	var werr error
	err = raw.Write(func(fd uintptr) bool {
		for n < len(b) {
			m, err := unix.Write(int(fd), b[n:])
			switch {
			case err == unix.EINTR:
				continue
			case err == unix.EAGAIN:
				return true
			case err != nil:
				werr = err
				return true
			}
			n += m
		}
		return true // never wait: the caller decides
	})
	if err == nil {
		err = werr
	}
	return n, err
}
