//go:build linux

package netpoll

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Poller watches connections through one epoll set.
type Poller struct {
	epfd   int
	closed atomic.Bool

	mu      sync.Mutex
	watches map[int32]*watch // by file descriptor
}

type watch struct {
	raw    syscall.RawConn
	onRead OnRead
}

// New starts a poller; Close stops it.
func New() (*Poller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	p := &Poller{epfd: fd, watches: map[int32]*watch{}}
	go p.loop()
	return p, nil
}

// Watch calls onRead with what c receives until onRead returns false, the
// returned stop is called, or c is closed. Call stop before closing c.
func (p *Poller) Watch(c net.Conn, onRead OnRead) (stop func(), err error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return readOnGoroutine(c, onRead), nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	w := &watch{raw: raw, onRead: onRead}
	var fd int32
	var ctlErr error
	err = raw.Control(func(f uintptr) {
		fd = int32(f)
		p.mu.Lock()
		p.watches[fd] = w
		p.mu.Unlock()
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: fd}
		ctlErr = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, int(f), &ev)
	})
	if err = errors.Join(err, ctlErr); err != nil {
		p.forget(fd, w)
		return nil, err
	}
	return func() { p.unwatch(fd, w) }, nil
}

func (p *Poller) unwatch(fd int32, w *watch) {
	if !p.forget(fd, w) {
		return
	}
	// The descriptor is still w's while Control runs; once c is closed the
	// kernel has removed it from the set anyway.
	w.raw.Control(func(f uintptr) { unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, int(f), nil) })
}

// forget drops w if it still holds fd; it reports whether it did.
func (p *Poller) forget(fd int32, w *watch) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.watches[fd] != w {
		return false
	}
	delete(p.watches, fd)
	return true
}

// Close stops the poller within its wait timeout; watched connections
// are left as they are.
func (p *Poller) Close() error {
	p.closed.Store(true)
	return nil
}

// waitMillis bounds one epoll_wait, so that Close is noticed.
const waitMillis = 500

func (p *Poller) loop() {
	defer unix.Close(p.epfd)
	events := make([]unix.EpollEvent, 256)
	buf := make([]byte, 4096)
	for !p.closed.Load() {
		n, err := unix.EpollWait(p.epfd, events, waitMillis)
		if err != nil && err != unix.EINTR {
			return
		}
		for _, ev := range events[:max(n, 0)] {
			p.mu.Lock()
			w := p.watches[ev.Fd]
			p.mu.Unlock()
			if w != nil && !p.drain(w, buf) {
				p.unwatch(ev.Fd, w)
			}
		}
	}
}

// drain reads what w's socket holds, without blocking; it reports whether
// to go on watching.
func (p *Poller) drain(w *watch, buf []byte) bool {
	for {
		var n int
		var rerr error
		err := w.raw.Read(func(f uintptr) bool {
			n, rerr = unix.Read(int(f), buf)
			return true // never wait: epoll says when there is more
		})
		switch {
		case err == nil && (rerr == unix.EAGAIN || rerr == unix.EINTR):
			return true
		case err == nil && rerr == nil && n == 0:
			err = io.EOF
		case err == nil:
			err = rerr
		}
		if err != nil {
			w.onRead(nil, err)
			return false
		}
		if !w.onRead(buf[:n], nil) {
			return false
		}
		if n < len(buf) {
			return true
		}
	}
}
