package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/boxwire/boxwire/internal/msgrules"
)

// hookReceiver is a local webhook target. It records every delivery and
// answers 500 to the first failFirst of them.
type hookReceiver struct {
	*httptest.Server
	mu         sync.Mutex
	deliveries []hookDelivery
	failFirst  int
	attempts   int
}

type hookDelivery struct {
	header http.Header
	body   []byte
}

// hookEvent is the body of a delivery.
type hookEvent struct {
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

func newHookReceiver(t *testing.T, failFirst int) *hookReceiver {
	h := &hookReceiver{failFirst: failFirst}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.attempts++
		if h.attempts <= h.failFirst {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		h.deliveries = append(h.deliveries, hookDelivery{header: r.Header.Clone(), body: body})
	}))
	t.Cleanup(h.Close)
	return h
}

// events returns the accepted deliveries, each signature checked with
// secret; an event delivered more than once (at least once) counts once.
func (h *hookReceiver) events(t *testing.T, secret string) []hookEvent {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	var out []hookEvent
	for _, d := range h.deliveries {
		if err := msgrules.VerifyWebhook(secret, d.header, d.body, time.Now(), 0); err != nil {
			t.Fatalf("delivery %s does not verify: %v", d.header.Get("webhook-id"), err)
		}
		id := d.header.Get("webhook-id")
		if seen[id] {
			continue
		}
		seen[id] = true
		var e hookEvent
		if err := json.Unmarshal(d.body, &e); err != nil {
			t.Fatalf("delivery body %s: %v", d.body, err)
		}
		out = append(out, e)
	}
	return out
}

// waitEvent waits until a delivered event of typ satisfies match.
func (h *hookReceiver) waitEvent(t *testing.T, secret, typ string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	var found map[string]any
	waitFor(t, 15*time.Second, "webhook "+typ, func() bool {
		for _, e := range h.events(t, secret) {
			var data map[string]any
			json.Unmarshal(e.Data, &data)
			if e.Type == typ && match(data) {
				found = data
				return true
			}
		}
		return false
	})
	return found
}

// msgClient is a messaging API client signed in as one user.
type msgClient struct {
	*client
	t *testing.T
}

func newAPI(t *testing.T, base, email, password string) *msgClient {
	c := newClient(t, base)
	token := c.login(email, password)
	c.hdr.Set("Authorization", "Bearer "+token)
	return &msgClient{client: c, t: t}
}

// call sends a request and checks its status; it returns the JSON body.
func (a *msgClient) call(method, path string, body any, want int) map[string]any {
	a.t.Helper()
	r := a.do(method, path, body)
	if r.status != want {
		a.t.Fatalf("%s %s: got %d, want %d: %s", method, path, r.status, want, r.body)
	}
	if len(r.body) == 0 || r.body[0] != '{' {
		return nil
	}
	return r.json(a.t)
}

// refused checks a problem+json refusal naming field.
func (a *msgClient) refused(method, path string, body any, status int, field string) map[string]any {
	a.t.Helper()
	r := a.do(method, path, body)
	if r.status != status {
		a.t.Fatalf("%s %s: got %d, want %d: %s", method, path, r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		a.t.Fatalf("%s %s: Content-Type %q, want application/problem+json", method, path, ct)
	}
	if field != "" {
		if _, ok := r.fields(a.t)[field]; !ok {
			a.t.Fatalf("%s %s: the error does not name %s: %s", method, path, field, r.body)
		}
	}
	return r.json(a.t)
}

// items returns a paged list's items, checking the paging block.
func (a *msgClient) items(path string) []map[string]any {
	a.t.Helper()
	page := a.call("GET", path, nil, 200)
	raw, ok := page["items"].([]any)
	paging, ok2 := page["paging"].(map[string]any)
	if !ok || !ok2 {
		a.t.Fatalf("GET %s: not {items, paging}: %v", path, page)
	}
	if int(paging["recordCount"].(float64)) < len(raw) {
		a.t.Fatalf("GET %s: recordCount %v below the %d items", path, paging["recordCount"], len(raw))
	}
	out := make([]map[string]any, len(raw))
	for i, it := range raw {
		out[i] = it.(map[string]any)
	}
	return out
}

// waitField polls GET path until field equals want.
func (a *msgClient) waitField(path, field string, want any) map[string]any {
	a.t.Helper()
	var last map[string]any
	waitFor(a.t, 15*time.Second, fmt.Sprintf("%s %s = %v", path, field, want), func() bool {
		last = a.call("GET", path, nil, 200)
		return last[field] == want
	})
	return last
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
