//go:build !unix

package netpoll

import "syscall"

// TryWrite, outside Unix, writes nothing: the caller's waiting write does
// all of it.
func TryWrite(raw syscall.RawConn, b []byte) (n int, err error) { return 0, nil }
