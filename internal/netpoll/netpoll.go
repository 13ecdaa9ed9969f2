// Package netpoll hands over what connections receive without a goroutine
// parked on each of them: on Linux one epoll set for all of them, elsewhere
// a reading goroutine per connection. A node holding tens of thousands of
// WebSockets that rarely say anything spends its memory on them, not on
// their readers.
package netpoll

// OnRead receives what a connection sent, or the error that ended its
// reading (io.EOF when the peer closed). It must not block. It returns
// false to stop watching the connection.
type OnRead func(data []byte, err error) bool
