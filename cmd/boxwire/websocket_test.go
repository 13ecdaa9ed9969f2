package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// rawWS opens the user's WebSocket with a client that answers nothing by
// itself: the test decides what it sends and reads every frame.
func (u *user) rawWS(t *testing.T) net.Conn {
	t.Helper()
	url := "ws" + strings.TrimPrefix(u.base, "http") + "/box-users/" + u.id + "/ws"
	d := ws.Dialer{Header: ws.HandshakeHeaderHTTP(http.Header{"Authorization": {"Bearer " + u.token()}})}
	conn, br, _, err := d.Dial(context.Background(), url)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	if br != nil {
		t.Fatalf("the server sent frames right after the handshake")
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// nextFrame reads the next frame the server sends, within d.
func nextFrame(t *testing.T, conn net.Conn, d time.Duration) (ws.Frame, error) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(d))
	return ws.ReadFrame(conn)
}

// expectClose reads until the server's close frame and checks its code;
// the server then closes the connection.
func expectClose(t *testing.T, what string, conn net.Conn, want ws.StatusCode) {
	t.Helper()
	for {
		f, err := nextFrame(t, conn, 5*time.Second)
		if err != nil {
			t.Fatalf("%s: no close frame: %v", what, err)
		}
		if f.Header.OpCode != ws.OpClose {
			continue // pings, frames
		}
		if code, reason := ws.ParseCloseFrameData(f.Payload); code != want {
			t.Fatalf("%s: closed with %d %q, want %d", what, code, reason, want)
		}
		break
	}
	if _, err := nextFrame(t, conn, 5*time.Second); !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) &&
		!strings.Contains(fmtErr(err), "reset") {
		t.Fatalf("%s: the connection stayed open after the close frame: %v", what, err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestWebSocketControlFrames: the server pings and keeps a client that
// answers, drops one that does not (1013), answers the client's pings,
// echoes its close, and ends a client that sends messages on the one-way
// stream (1008) or frames that are not masked (1002).
func TestWebSocketControlFrames(t *testing.T) {
	ts := startServer(t, storeConfig(t), func(c *Config) {
		c.StreamPingEvery, c.StreamWriteTimeout = 150*time.Millisecond, 300*time.Millisecond
	})
	alice := ts.user(t, "Alice")
	box := alice.createBox(t, "Pings", "limited")["id"].(string)

	t.Run("an answering client stays", func(t *testing.T) {
		conn := alice.rawWS(t)
		for pings := 0; pings < 4; {
			f, err := nextFrame(t, conn, 5*time.Second)
			if err != nil {
				t.Fatalf("after %d pings: %v", pings, err)
			}
			if f.Header.OpCode == ws.OpText {
				continue // the box's creation, if the hub had not passed it when we subscribed
			}
			if f.Header.OpCode != ws.OpPing {
				t.Fatalf("an idle stream sent %v, want pings", f.Header.OpCode)
			}
			pings++
			if err := wsutil.WriteClientMessage(conn, ws.OpPong, f.Payload); err != nil {
				t.Fatal(err)
			}
		}
		id := alice.post(t, box, text("still here")).json(t)["id"].(string)
		for {
			f, err := nextFrame(t, conn, 5*time.Second)
			if err != nil {
				t.Fatalf("the event after the pings: %v", err)
			}
			if f.Header.OpCode == ws.OpPing {
				wsutil.WriteClientMessage(conn, ws.OpPong, f.Payload)
				continue
			}
			if f.Header.OpCode != ws.OpText || !strings.Contains(string(f.Payload), id) {
				t.Fatalf("got %v %s, want the event %s", f.Header.OpCode, f.Payload, id)
			}
			break
		}
	})
	t.Run("a silent client is dropped", func(t *testing.T) {
		expectClose(t, "no pongs", alice.rawWS(t), 1013)
	})
	t.Run("the client's ping is answered", func(t *testing.T) {
		conn := alice.rawWS(t)
		if err := wsutil.WriteClientMessage(conn, ws.OpPing, []byte("are you there")); err != nil {
			t.Fatal(err)
		}
		for {
			f, err := nextFrame(t, conn, 5*time.Second)
			if err != nil {
				t.Fatalf("no pong: %v", err)
			}
			if f.Header.OpCode == ws.OpPong {
				if string(f.Payload) != "are you there" {
					t.Fatalf("pong %q, want the ping's payload", f.Payload)
				}
				break
			}
		}
	})
	t.Run("the client's close is echoed", func(t *testing.T) {
		conn := alice.rawWS(t)
		wsutil.WriteClientMessage(conn, ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye"))
		expectClose(t, "client close", conn, ws.StatusNormalClosure)
	})
	t.Run("a binary message is refused", func(t *testing.T) {
		conn := alice.rawWS(t)
		wsutil.WriteClientMessage(conn, ws.OpBinary, []byte(`{"type":"subscribe"}`))
		expectClose(t, "a binary message", conn, ws.StatusPolicyViolation)
	})
	t.Run("an unmasked frame is refused", func(t *testing.T) {
		conn := alice.rawWS(t)
		ws.WriteFrame(conn, ws.NewPingFrame([]byte("unmasked")))
		expectClose(t, "an unmasked frame", conn, ws.StatusProtocolError)
	})
	t.Run("a frame split across writes arrives whole", func(t *testing.T) {
		conn := alice.rawWS(t)
		f := ws.MaskFrame(ws.NewPingFrame([]byte("in pieces")))
		b, _ := ws.CompileFrame(f)
		for _, part := range [][]byte{b[:1], b[1:4], b[4:]} {
			conn.Write(part)
			time.Sleep(20 * time.Millisecond) // separate segments, not a timing assertion
		}
		for {
			f, err := nextFrame(t, conn, 5*time.Second)
			if err != nil {
				t.Fatalf("no pong: %v", err)
			}
			if f.Header.OpCode == ws.OpPong && string(f.Payload) == "in pieces" {
				break
			}
		}
	})
}
