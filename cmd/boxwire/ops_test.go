package main

import (
	"strings"
	"testing"
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
