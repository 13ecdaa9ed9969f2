//go:build !linux

package loadgen

import "net"

// benchDetach, outside Linux, leaves the connection as it is: the bench's
// poller reads it with a goroutine there.
func benchDetach(conn net.Conn) (net.Conn, error) { return conn, nil }
