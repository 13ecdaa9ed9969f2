// Package wsframe cuts WebSocket frames (RFC 6455, through gobwas/ws) out
// of bytes as they arrive, for connections read without a goroutine of
// their own (see internal/netpoll), and heads the frames a server sends.
package wsframe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"

	"github.com/gobwas/ws"
)

// ErrTooBig is a frame whose payload exceeds the limit.
var ErrTooBig = errors.New("wsframe: frame too big")

// Next returns the first whole frame of buf, its payload unmasked in
// place, and the bytes it took; n is 0 while the frame is incomplete.
// side is ws.StateServerSide to check a client's frames (which must be
// masked), ws.StateClientSide for a server's. A payload over limit is
// ErrTooBig as soon as its header is in.
func Next(buf []byte, side ws.State, limit int64) (h ws.Header, payload []byte, n int, err error) {
	r := bytes.NewReader(buf)
	h, err = ws.ReadHeader(r)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return h, nil, 0, nil
	}
	if err == nil {
		err = ws.CheckHeader(h, side)
	}
	if err != nil {
		return h, nil, 0, err
	}
	if h.Length > limit {
		return h, nil, 0, ErrTooBig
	}
	start := len(buf) - r.Len()
	if int64(r.Len()) < h.Length {
		return h, nil, 0, nil
	}
	n = start + int(h.Length)
	payload = buf[start:n]
	if h.Masked {
		ws.Cipher(payload, h.Mask, 0)
	}
	return h, payload, n, nil
}

// AppendHeader appends the header of a final, unmasked frame (a server's)
// of op carrying n bytes: what ws.WriteHeader writes for it, without the
// buffer that call allocates each time (a fan-out heads one frame per
// subscriber and event).
func AppendHeader(dst []byte, op ws.OpCode, n int) []byte {
	dst = append(dst, 0x80|byte(op))
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(dst, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, 127), uint64(n))
	}
}
