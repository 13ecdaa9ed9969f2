//go:build !linux

package netpoll

import "net"

// Poller, outside Linux, reads each watched connection on a goroutine.
type Poller struct{}

// New returns a poller.
func New() (*Poller, error) { return &Poller{}, nil }

// Watch calls onRead with what c receives until onRead returns false, the
// returned stop is called, or c is closed. Call stop before closing c.
func (p *Poller) Watch(c net.Conn, onRead OnRead) (stop func(), err error) {
	return readOnGoroutine(c, onRead), nil
}

// Close does nothing: the readers end with their connections.
func (p *Poller) Close() error { return nil }
