//go:build !unix

package netpoll

import "syscall"

// A Writer, outside Unix, writes nothing: the caller's waiting write does
// all of it.
type Writer struct{}

// NewWriter returns a Writer that writes nothing.
func NewWriter(raw syscall.RawConn) *Writer { return &Writer{} }

// TryWrite writes nothing.
func (w *Writer) TryWrite(b []byte) (n int, err error) { return 0, nil }
