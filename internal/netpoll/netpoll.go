// Package netpoll hands over what connections receive without a goroutine
// parked on each of them: on Linux one epoll set for all of them, elsewhere
// a reading goroutine per connection. A node holding tens of thousands of
// WebSockets that rarely say anything spends its memory on them, not on
// their readers.
package netpoll

import (
	"net"
	"sync/atomic"
)

// OnRead receives what a connection sent, or the error that ended its
// reading (io.EOF when the peer closed). It must not block. It returns
// false to stop watching the connection.
type OnRead func(data []byte, err error) bool

// readOnGoroutine reads c on a goroutine of its own: the way outside
// Linux, and on Linux for a connection that is no socket of its own (a TLS
// connection, whose bytes must be decrypted before anyone reads them).
func readOnGoroutine(c net.Conn, onRead OnRead) (stop func()) {
	var stopped atomic.Bool
	go func() {
		buf := make([]byte, 512)
		for {
			n, err := c.Read(buf)
			if stopped.Load() {
				return
			}
			if n > 0 && !onRead(buf[:n], nil) {
				return
			}
			if err != nil {
				onRead(nil, err)
				return
			}
		}
	}()
	return func() { stopped.Store(true) }
}
