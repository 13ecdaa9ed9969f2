package main

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/boxwire/boxwire/internal/broker/natsbroker"
)

// TestMetricsOnTheirOwnListener: with --metrics-addr, /metrics is served
// there and the public listener answers 404, so a public deployment does
// not expose its internals.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	ts := startServer(t, storeConfig(t), func(c *Config) { c.MetricsAddr = "127.0.0.1:0" })
	public := newClient(t, ts.URL())
	if r := public.do("GET", "/healthz", nil); r.status != 200 {
		t.Fatalf("healthz: %d %s", r.status, r.body)
	}
	if r := public.do("GET", "/metrics", nil); r.status != 404 {
		t.Fatalf("public /metrics: %d %s, want 404", r.status, r.body)
	}
	private := newClient(t, "http://"+ts.MetricsAddr())
	r := private.do("GET", "/metrics", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `boxwire_http_requests_total{code="200",route="GET /healthz"} 1`) {
		t.Fatalf("metrics listener: %d %s", r.status, r.body)
	}
	if r := private.do("GET", "/healthz", nil); r.status != 404 {
		t.Fatalf("the metrics listener serves the API: %d", r.status)
	}
}

// TestNodesStartWhileNATSIsDown: two nodes start while their NATS server
// is down (start-up must not fail), keep each other's clients current by
// polling the journal, and once NATS comes up on that address their
// notices cross through it and events still arrive live.
func TestNodesStartWhileNATSIsDown(t *testing.T) {
	port := freePort(t)
	sc := storeConfig(t)
	withNATS := func(c *Config) { c.NATS = fmt.Sprintf("nats://127.0.0.1:%d", port) }
	nodeA := startServer(t, sc, withNATS)
	nodeB := startServer(t, sc, withNATS)
	alice := nodeA.user(t, "Alice")
	aliceB := nodeB.signIn(t, alice.email, "Alice-password")
	id := aliceB.createBox(t, "Down", "public")["id"].(string)
	ws, _ := alice.dialWS(t, "")
	waitFor(t, 5*time.Second, "the stream on node A", func() bool { return nodeA.Hub.Connections() >= 1 })

	sent := aliceB.post(t, id, text("while NATS is down")).json(t)["id"].(string)
	ws.waitFor(t, "node B's event on node A, by polling", func(fs []frame) bool { return eventIDs(fs)[sent] == 1 })

	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	for _, n := range []*testServer{nodeA, nodeB} {
		waitFor(t, 15*time.Second, "the node to connect to NATS", n.Broker.(*natsbroker.Broker).Connected)
	}
	// Node B's notices now reach node A through NATS (nothing else
	// carries B's commits to A's broker); a notice may race the
	// re-sent subscription, so write until one arrives.
	heard := nodeA.Broker.Subscribe(256)
	defer heard.Close()
	var live []string
	waitFor(t, 15*time.Second, "a notice from node B through NATS", func() bool {
		live = append(live, aliceB.post(t, id, text("live")).json(t)["id"].(string))
		for {
			select {
			case n := <-heard.C:
				if n.Scope == id {
					return true
				}
			case <-time.After(100 * time.Millisecond):
				return false
			}
		}
	})
	ws.waitFor(t, "the live events on node A", func(fs []frame) bool {
		ids := eventIDs(fs)
		for _, e := range live {
			if ids[e] != 1 {
				return false
			}
		}
		return ids[sent] == 1
	})
}

// freePort returns a TCP port nothing listens on (now).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
