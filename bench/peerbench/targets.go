package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// A target is one server and transport: it is set up once, then opens
// subscribers and publishes one message at a time.
type target interface {
	setup(ctx context.Context) error
	// subscribe opens one subscriber and returns once the server has
	// confirmed the subscription; every frame it receives afterwards is
	// handed to onFrame with the time it was read.
	subscribe(ctx context.Context, onFrame func(at time.Time, data []byte)) (io.Closer, error)
	// isPub says cheaply, while the run is measured, whether a frame is a
	// delivery of a published message.
	isPub(frame []byte) bool
	// publish publishes one message and returns once the server has
	// acknowledged it, with the key its deliveries carry.
	publish(ctx context.Context, seq int) (string, error)
	// keyOf decodes a delivery's key, after the run.
	keyOf(frame []byte) (string, bool)
}

// Options common to every target.
type targetFlags struct {
	Kind, URL, Email, Password, APIKey string
}

func newTarget(f targetFlags) (target, error) {
	base := strings.TrimRight(f.URL, "/")
	if _, err := url.Parse(base); err != nil || base == "" {
		return nil, fmt.Errorf("-url %q must be the server's base URL", f.URL)
	}
	switch f.Kind {
	case "boxwire-ws", "boxwire-sse":
		if f.Email == "" || f.Password == "" {
			return nil, errors.New("-email and -password are required for " + f.Kind)
		}
		return &boxwire{base: base, email: f.Email, password: f.Password, sse: f.Kind == "boxwire-sse"}, nil
	case "centrifugo-ws":
		if f.APIKey == "" {
			return nil, errors.New("-api-key is required for centrifugo-ws")
		}
		return &centrifugo{base: base, key: f.APIKey, channel: "bench"}, nil
	case "pocketbase-sse":
		if f.Email == "" || f.Password == "" {
			return nil, errors.New("-email and -password (a superuser's) are required for pocketbase-sse")
		}
		return &pocketbase{base: base, email: f.Email, password: f.Password, collection: "events"}, nil
	}
	return nil, fmt.Errorf("-target %q: want boxwire-ws, boxwire-sse, centrifugo-ws or pocketbase-sse", f.Kind)
}

// client is every request's HTTP client: no proxy, no pooling limit (each
// SSE subscriber holds a connection of its own).
var client = &http.Client{Transport: &http.Transport{
	Proxy:               nil,
	DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
	MaxIdleConnsPerHost: 64,
	DisableCompression:  true,
}}

// call sends a JSON request and decodes a 2xx JSON answer into out.
func call(ctx context.Context, method, u string, header http.Header, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %.300s", method, u, res.StatusCode, b)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, u, err)
		}
	}
	return nil
}

// randomStd is n random bytes in standard base64, as ciphertext is sent.
func randomStd(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// wsDial opens a WebSocket whose frames are read by one goroutine until
// it closes; onText gets each text or binary message, in a buffer the
// next message reuses (it reads without allocating, see subscriber.keep).
func wsDial(ctx context.Context, u string, header http.Header, onText func(at time.Time, data []byte)) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPClient: client, HTTPHeader: header,
		CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", u, err)
	}
	c.SetReadLimit(1 << 20)
	go func() {
		// Reused: ReadFrom grows it only for a message larger than any before.
		var buf bytes.Buffer
		buf.Grow(4096)
		for {
			_, r, err := c.Reader(context.Background())
			if err != nil {
				return
			}
			buf.Reset()
			if _, err := buf.ReadFrom(r); err != nil {
				return
			}
			onText(time.Now(), buf.Bytes())
		}
	}()
	return c, nil
}

type wsCloser struct{ c *websocket.Conn }

func (w wsCloser) Close() error { return w.c.CloseNow() }

// sseOpen opens a Server-Sent Events stream and reads it on one
// goroutine; onEvent gets each event's name and data, stamped when its
// blank line arrived, data in a buffer the next event reuses.
func sseOpen(ctx context.Context, u string, header http.Header, onEvent func(at time.Time, event string, data []byte)) (io.Closer, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "text/event-stream")
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		res.Body.Close()
		return nil, fmt.Errorf("GET %s: HTTP %d: %.300s", u, res.StatusCode, b)
	}
	go func() {
		defer res.Body.Close()
		r := bufio.NewReaderSize(res.Body, 16<<10)
		var event string
		var data []byte
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return
			}
			line = bytes.TrimRight(line, "\r\n")
			switch {
			case len(line) == 0:
				if len(data) > 0 {
					onEvent(time.Now(), event, data)
				}
				event, data = "", data[:0]
			case bytes.HasPrefix(line, []byte("data:")):
				data = append(data, bytes.TrimPrefix(bytes.TrimPrefix(line, []byte("data:")), []byte(" "))...)
			case bytes.HasPrefix(line, []byte("event:")):
				event = string(bytes.TrimSpace(bytes.TrimPrefix(line, []byte("event:"))))
			}
		}
	}()
	return res.Body, nil
}

// ---------------------------------------------------------------------------
// Boxwire: a public box; subscribers are WebSockets or SSE streams of the
// signed-in identity from the position after the box's creation; a
// publish is a durable POST /boxes/{id}/events (201 once fsynced).

type boxwire struct {
	base, email, password string
	sse                   bool
	token, me, box, since string
	body                  map[string]any
}

// auth is the header of every request: Boxwire's sign-in asks clients
// to name themselves.
func (b *boxwire) auth() http.Header {
	h := http.Header{"X-Calling-Application": {"peerbench"}}
	if b.token != "" {
		h.Set("Authorization", "Bearer "+b.token)
	}
	return h
}

func (b *boxwire) setup(ctx context.Context) error {
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := call(ctx, http.MethodPost, b.base+"/oauth/token", b.auth(), map[string]string{"username": b.email, "password": b.password}, &tok); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	b.token = tok.AccessToken
	parts := strings.Split(b.token, ".")
	if len(parts) != 3 {
		return errors.New("sign in: the access token is not a JWT")
	}
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	var c struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(claims, &c); err != nil || c.Sub == "" {
		return errors.New("sign in: no subject in the access token")
	}
	b.me = c.Sub
	var box struct {
		ID string `json:"id"`
	}
	if err := call(ctx, http.MethodPost, b.base+"/boxes", b.auth(), map[string]string{"title": "bench", "public_key": random(32), "access_mode": "public"}, &box); err != nil {
		return fmt.Errorf("create a box: %w", err)
	}
	b.box = box.ID
	var page struct {
		Next string `json:"next_stream_position"`
	}
	if err := call(ctx, http.MethodGet, b.base+"/2.0/events?stream_position=now", b.auth(), nil, &page); err != nil {
		return fmt.Errorf("read the stream position: %w", err)
	}
	b.since = page.Next
	b.body = map[string]any{"type": "msg.text", "content": map[string]string{"encrypted": randomStd(150), "public_key": random(32)}}
	return nil
}

func (b *boxwire) subscribe(ctx context.Context, onFrame func(time.Time, []byte)) (io.Closer, error) {
	q := "?since=" + url.QueryEscape(b.since)
	if b.sse {
		return sseOpen(ctx, b.base+"/box-users/"+b.me+"/sse"+q, b.auth(), func(at time.Time, _ string, data []byte) { onFrame(at, data) })
	}
	c, err := wsDial(ctx, "ws"+strings.TrimPrefix(b.base, "http")+"/box-users/"+b.me+"/ws"+q, b.auth(), onFrame)
	if err != nil {
		return nil, err
	}
	return wsCloser{c}, nil
}

func (b *boxwire) isPub(f []byte) bool { return bytes.Contains(f, []byte(`"event.new"`)) }

func (b *boxwire) publish(ctx context.Context, _ int) (string, error) {
	var ev struct {
		ID string `json:"id"`
	}
	if err := call(ctx, http.MethodPost, b.base+"/boxes/"+b.box+"/events", b.auth(), b.body, &ev); err != nil {
		return "", err
	}
	return ev.ID, nil
}

func (b *boxwire) keyOf(f []byte) (string, bool) {
	var fr struct {
		Type   string `json:"type"`
		Object struct {
			ID    string `json:"id"`
			BoxID string `json:"box_id"`
		} `json:"object"`
	}
	if json.Unmarshal(f, &fr) != nil || fr.Type != "event.new" || fr.Object.BoxID != b.box {
		return "", false
	}
	return fr.Object.ID, true
}

// ---------------------------------------------------------------------------
// Centrifugo v6, JSON protocol over WebSocket: connect, subscribe to one
// channel; a publish is POST /api/publish with the API key, answered once
// the broker (the memory engine) has taken it.

type centrifugo struct {
	base, key, channel string
	pad                string
}

func (c *centrifugo) setup(ctx context.Context) error {
	c.pad = random(220) // about the size of Boxwire's msg.text body
	return call(ctx, http.MethodPost, c.base+"/api/info", http.Header{"X-API-Key": {c.key}}, map[string]any{}, nil)
}

func (c *centrifugo) subscribe(ctx context.Context, onFrame func(time.Time, []byte)) (io.Closer, error) {
	replies := make(chan []byte, 4)
	var conn *websocket.Conn
	conn, err := wsDial(ctx, "ws"+strings.TrimPrefix(c.base, "http")+"/connection/websocket", nil, func(at time.Time, data []byte) {
		// One frame may hold several newline-separated messages.
		for msg := range bytes.SplitSeq(data, []byte("\n")) {
			switch {
			case len(msg) == 0:
			case bytes.Equal(msg, []byte("{}")): // a ping: answer with a pong
				conn.Write(context.Background(), websocket.MessageText, []byte("{}"))
			case bytes.HasPrefix(msg, []byte(`{"id":`)):
				select {
				case replies <- bytes.Clone(msg):
				default:
				}
			default:
				onFrame(at, msg)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	await := func(what string) error {
		select {
		case r := <-replies:
			if bytes.Contains(r, []byte(`"error"`)) {
				return fmt.Errorf("centrifugo %s: %s", what, r)
			}
			return nil
		case <-time.After(10 * time.Second):
			return fmt.Errorf("centrifugo %s: no reply", what)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"id":1,"connect":{}}`)); err != nil {
		conn.CloseNow()
		return nil, err
	}
	if err := await("connect"); err != nil {
		conn.CloseNow()
		return nil, err
	}
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"id":2,"subscribe":{"channel":"`+c.channel+`"}}`)); err != nil {
		conn.CloseNow()
		return nil, err
	}
	if err := await("subscribe"); err != nil {
		conn.CloseNow()
		return nil, err
	}
	return wsCloser{conn}, nil
}

func (c *centrifugo) isPub(f []byte) bool { return bytes.Contains(f, []byte(`"pub"`)) }

func (c *centrifugo) publish(ctx context.Context, seq int) (string, error) {
	key := strconv.Itoa(seq)
	var res struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	in := map[string]any{"channel": c.channel, "data": map[string]string{"seq": key, "pad": c.pad}}
	if err := call(ctx, http.MethodPost, c.base+"/api/publish", http.Header{"X-API-Key": {c.key}}, in, &res); err != nil {
		return "", err
	}
	if res.Error != nil {
		return "", fmt.Errorf("publish: %d %s", res.Error.Code, res.Error.Message)
	}
	return key, nil
}

func (c *centrifugo) keyOf(f []byte) (string, bool) {
	var m struct {
		Push struct {
			Channel string `json:"channel"`
			Pub     struct {
				Data struct {
					Seq string `json:"seq"`
				} `json:"data"`
			} `json:"pub"`
		} `json:"push"`
	}
	if json.Unmarshal(f, &m) != nil || m.Push.Channel != c.channel || m.Push.Pub.Data.Seq == "" {
		return "", false
	}
	return m.Push.Pub.Data.Seq, true
}

// ---------------------------------------------------------------------------
// PocketBase: a collection "events" (fields type and content, as Boxwire's
// msg.text body); subscribers are its realtime SSE stream subscribed to
// the collection; a publish is a record create (SQLite), answered after
// its transaction committed.

type pocketbase struct {
	base, email, password, collection string
	token                             string
	body                              map[string]any
}

func (p *pocketbase) auth() http.Header { return http.Header{"Authorization": {p.token}} }

func (p *pocketbase) signIn(ctx context.Context) error {
	var tok struct {
		Token string `json:"token"`
	}
	if err := call(ctx, http.MethodPost, p.base+"/api/collections/_superusers/auth-with-password", nil,
		map[string]string{"identity": p.email, "password": p.password}, &tok); err != nil {
		return fmt.Errorf("sign in as the superuser: %w", err)
	}
	p.token = tok.Token
	return nil
}

// createCollection makes the public collection records are posted to.
func (p *pocketbase) createCollection(ctx context.Context) error {
	in := map[string]any{"name": p.collection, "type": "base", "listRule": "", "viewRule": "", "createRule": "",
		"fields": []map[string]any{{"name": "type", "type": "text"}, {"name": "content", "type": "json"}}}
	if err := call(ctx, http.MethodPost, p.base+"/api/collections", p.auth(), in, nil); err != nil && !strings.Contains(err.Error(), "HTTP 400") {
		return fmt.Errorf("create the collection: %w", err)
	}
	return nil
}

func (p *pocketbase) setup(ctx context.Context) error {
	if err := p.signIn(ctx); err != nil {
		return err
	}
	if err := p.createCollection(ctx); err != nil {
		return err
	}
	p.body = map[string]any{"type": "msg.text", "content": map[string]string{"encrypted": randomStd(150), "public_key": random(32)}}
	return nil
}

func (p *pocketbase) subscribe(ctx context.Context, onFrame func(time.Time, []byte)) (io.Closer, error) {
	ids := make(chan string, 1)
	body, err := sseOpen(ctx, p.base+"/api/realtime", nil, func(at time.Time, event string, data []byte) {
		if event == "PB_CONNECT" {
			var c struct {
				ClientID string `json:"clientId"`
			}
			json.Unmarshal(data, &c)
			select {
			case ids <- c.ClientID:
			default:
			}
			return
		}
		if event == p.collection {
			onFrame(at, data)
		}
	})
	if err != nil {
		return nil, err
	}
	var id string
	select {
	case id = <-ids:
	case <-time.After(10 * time.Second):
		body.Close()
		return nil, errors.New("pocketbase realtime: no PB_CONNECT")
	case <-ctx.Done():
		body.Close()
		return nil, ctx.Err()
	}
	if err := call(ctx, http.MethodPost, p.base+"/api/realtime", nil, map[string]any{"clientId": id, "subscriptions": []string{p.collection}}, nil); err != nil {
		body.Close()
		return nil, fmt.Errorf("pocketbase realtime subscribe: %w", err)
	}
	return body, nil
}

func (p *pocketbase) isPub(f []byte) bool { return bytes.Contains(f, []byte(`"create"`)) }

func (p *pocketbase) publish(ctx context.Context, _ int) (string, error) {
	var rec struct {
		ID string `json:"id"`
	}
	if err := call(ctx, http.MethodPost, p.base+"/api/collections/"+p.collection+"/records", p.auth(), p.body, &rec); err != nil {
		return "", err
	}
	return rec.ID, nil
}

func (p *pocketbase) keyOf(f []byte) (string, bool) {
	var m struct {
		Action string `json:"action"`
		Record struct {
			ID string `json:"id"`
		} `json:"record"`
	}
	if json.Unmarshal(f, &m) != nil || m.Action != "create" || m.Record.ID == "" {
		return "", false
	}
	return m.Record.ID, true
}
