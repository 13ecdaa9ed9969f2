package wsframe_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gobwas/ws"

	"github.com/boxwire/boxwire/internal/wsframe"
)

func compile(t *testing.T, f ws.Frame) []byte {
	t.Helper()
	b, err := ws.CompileFrame(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A client's masked frame is cut out whole, unmasked, only once all of it
// is in; what follows it is left.
func TestNextCutsWholeFrames(t *testing.T) {
	one := compile(t, ws.MaskFrame(ws.NewTextFrame([]byte("hello"))))
	two := compile(t, ws.MaskFrame(ws.NewPingFrame([]byte("ping"))))
	buf := append(append([]byte(nil), one...), two...)
	for cut := range len(one) {
		if _, _, n, err := wsframe.Next(append([]byte(nil), buf[:cut]...), ws.StateServerSide, 1024); n != 0 || err != nil {
			t.Fatalf("%d of %d bytes: n %d, %v; want to wait for the rest", cut, len(one), n, err)
		}
	}
	h, payload, n, err := wsframe.Next(buf, ws.StateServerSide, 1024)
	if err != nil || n != len(one) || h.OpCode != ws.OpText || string(payload) != "hello" {
		t.Fatalf("first frame: %v %q n %d, %v", h.OpCode, payload, n, err)
	}
	h, payload, n, err = wsframe.Next(buf[n:], ws.StateServerSide, 1024)
	if err != nil || n != len(two) || h.OpCode != ws.OpPing || string(payload) != "ping" {
		t.Fatalf("second frame: %v %q n %d, %v", h.OpCode, payload, n, err)
	}
}

// Refused: a payload over the limit (as soon as the header says so), an
// unmasked frame from a client, a masked one from a server.
func TestNextRefuses(t *testing.T) {
	big := compile(t, ws.MaskFrame(ws.NewTextFrame(make([]byte, 2000))))
	if _, _, _, err := wsframe.Next(big[:8], ws.StateServerSide, 1024); !errors.Is(err, wsframe.ErrTooBig) {
		t.Errorf("over the limit: %v, want ErrTooBig from the header alone", err)
	}
	if _, _, _, err := wsframe.Next(compile(t, ws.NewTextFrame([]byte("x"))), ws.StateServerSide, 1024); !errors.Is(err, ws.ErrProtocolMaskRequired) {
		t.Errorf("unmasked from a client: %v", err)
	}
	if _, _, _, err := wsframe.Next(compile(t, ws.MaskFrame(ws.NewTextFrame([]byte("x")))), ws.StateClientSide, 1024); !errors.Is(err, ws.ErrProtocolMaskUnexpected) {
		t.Errorf("masked from a server: %v", err)
	}
}

// TestAppendHeaderWritesWhatGobwasWrites: the header of every length class
// (7-bit, 16-bit, 64-bit) and opcode, byte for byte as the library writes
// it, and allocation-free into a buffer with room.
func TestAppendHeaderWritesWhatGobwasWrites(t *testing.T) {
	for _, op := range []ws.OpCode{ws.OpText, ws.OpBinary, ws.OpPing, ws.OpPong, ws.OpClose} {
		for _, n := range []int{0, 1, 125, 126, 127, 0xFFFF, 0x10000, 5 << 20} {
			var want bytes.Buffer
			if err := ws.WriteHeader(&want, ws.Header{Fin: true, OpCode: op, Length: int64(n)}); err != nil {
				t.Fatal(err)
			}
			if got := wsframe.AppendHeader(nil, op, n); !bytes.Equal(got, want.Bytes()) {
				t.Errorf("op %v, %d bytes: header % x, want % x", op, n, got, want.Bytes())
			}
		}
	}
	buf := make([]byte, 0, ws.MaxHeaderSize)
	if allocs := testing.AllocsPerRun(100, func() { buf = wsframe.AppendHeader(buf[:0], ws.OpText, 700) }); allocs != 0 {
		t.Fatalf("AppendHeader allocates %v times, want 0", allocs)
	}
}
