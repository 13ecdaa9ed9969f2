package main

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// metric reads one series' value from /metrics (-1: absent).
func metric(t *testing.T, ts *testServer, series string) float64 {
	t.Helper()
	r := newClient(t, ts.URL()).do("GET", "/metrics", nil)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(r.body)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

func waitMetric(t *testing.T, ts *testServer, series string, ok func(float64) bool) {
	t.Helper()
	waitFor(t, 10*time.Second, series, func() bool { return ok(metric(t, ts, series)) })
}

// TestOperatorMetrics: what an operator alerts on moves with what happens:
// refused sign-ins, streams per transport, channel sends, webhook
// deliveries and failures, the journal head and its followers' lag, and
// the NATS connection.
func TestOperatorMetrics(t *testing.T) {
	ns := startNATS(t)
	ts := startServer(t, storeConfig(t), func(c *Config) {
		c.NATS, c.WebhookAllowPrivate, c.WebhookBackoff, c.RateLimit = ns.ClientURL(), true, 10*time.Millisecond, 0
	})
	waitMetric(t, ts, "boxwire_nats_connected", func(v float64) bool { return v == 1 })
	if v := metric(t, ts, `boxwire_login_failures_total{reason="wrong_credentials"}`); v != 0 {
		t.Fatalf("login failures before any: %v", v)
	}
	ts.mustCLI(t, "user", "add", "--email", "ada@acme.test", "--password", "correct horse", "--name", "Ada Admin", "--org", "Acme", "--role", "admin")
	for range 2 {
		ts.loginStatus(t, "ada@acme.test", "wrong horse")
	}
	waitMetric(t, ts, `boxwire_login_failures_total{reason="wrong_credentials"}`, func(v float64) bool { return v == 2 })

	ana := ts.user(t, "Ana")
	ws, _, err := websocket.Dial(context.Background(), "ws"+ts.URL()[4:]+"/box-users/"+ana.id+"/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + ana.token()}}})
	if err != nil {
		t.Fatal(err)
	}
	waitMetric(t, ts, `boxwire_realtime_streams_by_transport{transport="websocket"}`, func(v float64) bool { return v == 1 })
	ws.CloseNow()
	waitMetric(t, ts, `boxwire_realtime_streams_by_transport{transport="websocket"}`, func(v float64) bool { return v == 0 })

	admin := newAPI(t, ts.URL(), "ada@acme.test", "correct horse")
	account := admin.call("POST", "/apiaccount", map[string]any{"name": "Lettings", "phoneNumber": "+447902111100", "channel": "sandbox"}, 201)
	hooks := newHookReceiver(t, 2) // the first two attempts fail
	hook := admin.call("POST", "/webhook", map[string]any{"type": "message", "targetUrl": hooks.URL, "isEnabled": true}, 201)
	in := admin.call("POST", "/apiaccount/"+account["apiAccountId"].(string)+"/sandbox/inbound",
		map[string]any{"mobileNumber": "+447902111123", "message": "Hello", "name": "Jack"}, 201)
	contact := admin.items("/contact?mobileNumber=%2B447902111123")[0]["contactId"].(string)
	admin.call("POST", "/message", map[string]any{"apiAccountId": account["apiAccountId"], "contactId": contact, "message": "Hi Jack"}, 201)
	waitMetric(t, ts, `boxwire_channel_sends_total{channel="sandbox",outcome="sent"}`, func(v float64) bool { return v == 1 })
	hooks.waitEvent(t, hook["secret"].(string), "message.created", func(m map[string]any) bool { return m["messageId"] == in["messageId"] })
	waitMetric(t, ts, `boxwire_webhook_deliveries_total{outcome="failed"}`, func(v float64) bool { return v == 2 })
	waitMetric(t, ts, `boxwire_webhook_deliveries_total{outcome="delivered"}`, func(v float64) bool { return v >= 1 })

	head := metric(t, ts, "boxwire_journal_head_position")
	if head <= 0 {
		t.Fatalf("journal head %v after writes", head)
	}
	waitMetric(t, ts, `boxwire_follower_lag_entries{follower="realtime_hub"}`, func(v float64) bool { return v == 0 })
	lag := `boxwire_webhook_lag_seconds{webhook="` + hook["webhookId"].(string) + `"}`
	waitMetric(t, ts, lag, func(v float64) bool { return v == 0 })
	// A receiver that keeps failing leaves its hook behind: the lag grows.
	hooks.mu.Lock()
	hooks.failFirst = 1 << 30
	hooks.mu.Unlock()
	admin.call("POST", "/message", map[string]any{"apiAccountId": account["apiAccountId"], "contactId": contact, "message": "Still there?"}, 201)
	ts.clock.Advance(time.Minute)
	waitMetric(t, ts, lag, func(v float64) bool { return v >= 30 })

	ns.Shutdown()
	waitMetric(t, ts, "boxwire_nats_connected", func(v float64) bool { return v == 0 })
}
