package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// trustLocalProxy makes the test clients, which all connect from
// 127.0.0.1, a trusted proxy: X-Forwarded-For then says who they are.
func trustLocalProxy(c *Config) { c.trustedProxies = "127.0.0.1, ::1" }

func loginFrom(c *client, addr, user, password string) response {
	c.t.Helper()
	return c.do("POST", "/oauth/token", map[string]string{"username": user, "password": password},
		"X-Calling-Application", "t", "X-Forwarded-For", addr)
}

func TestLoginThrottleSlowsAttackerNotOwner(t *testing.T) {
	ts := startServer(t, storeConfig(t), trustLocalProxy)
	ts.cli(t, "user", "add", "--email", "owner@example.com", "--password", "owner-password", "--name", "Owner")
	c := newClient(t, ts.URL())

	// The attacker hammers the owner's username from one address.
	const attacker = "203.0.113.9"
	var r response
	for range 7 {
		r = loginFrom(c, attacker, "owner@example.com", "guess")
	}
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("attacker's 7th guess: %d %s", r.status, r.body)
	}
	// Even the right password waits there: the attacker gains nothing.
	if r := loginFrom(c, attacker, "owner@example.com", "owner-password"); r.status != 429 {
		t.Fatalf("right password from the attacker's address: %d", r.status)
	}
	// The owner, from an address that has not been failing, gets in at
	// once, while the attacker is still throttled.
	if r := loginFrom(c, "198.51.100.7", "owner@example.com", "owner-password"); r.status != 200 {
		t.Fatalf("owner from another address: %d %s", r.status, r.body)
	}
	if r := loginFrom(c, attacker, "owner@example.com", "guess"); r.status != 429 {
		t.Fatalf("attacker after the owner's login: %d", r.status)
	}
	// One IPv6 subscriber's /64 is one address: a new address per guess
	// does not escape.
	for i := range 7 {
		r = loginFrom(c, fmt.Sprintf("2001:db8:1:2::%x", i+1), "owner@example.com", "guess")
	}
	if r.status != 429 {
		t.Fatalf("7th guess from one /64: %d", r.status)
	}

	// An address trying username after username is slowed down too.
	const sprayer = "203.0.113.77"
	for i := range 51 {
		if r := loginFrom(c, sprayer, fmt.Sprintf("user%d@example.com", i), "guess"); r.status != 401 {
			t.Fatalf("spray %d: %d %s", i, r.status, r.body)
		}
	}
	if r := loginFrom(c, sprayer, "owner@example.com", "guess"); r.status != 429 {
		t.Fatalf("52nd try from one address after 51 failures: %d %s", r.status, r.body)
	}
}

func TestForwardedForCountsOnlyFromTrustedProxies(t *testing.T) {
	t.Run("untrusted peer", func(t *testing.T) {
		ts := startServer(t, storeConfig(t))
		ts.cli(t, "user", "add", "--email", "ivy@example.com", "--password", "ivy-password", "--name", "Ivy")
		c := newClient(t, ts.URL())
		// A new X-Forwarded-For per guess does not make a new client.
		var r response
		for i := range 7 {
			r = loginFrom(c, fmt.Sprintf("198.51.100.%d", i+1), "ivy@example.com", "guess")
		}
		if r.status != 429 {
			t.Fatalf("7th guess with a rotating X-Forwarded-For: %d %s", r.status, r.body)
		}
		if got := logClient(t, ts, r.header.Get("X-Request-Id")); got != "127.0.0.1" {
			t.Fatalf("logged client %q, want the peer 127.0.0.1", got)
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		ts := startServer(t, storeConfig(t), trustLocalProxy)
		ts.cli(t, "user", "add", "--email", "ivy@example.com", "--password", "ivy-password", "--name", "Ivy")
		c := newClient(t, ts.URL())
		for hdr, want := range map[string][2]string{
			"xff":           {"X-Forwarded-For", "203.0.113.5"},
			"xff chain":     {"X-Forwarded-For", "198.51.100.1, 203.0.113.6, 127.0.0.1"},
			"forwarded":     {"Forwarded", `for="[2001:db8::1]:4711";proto=https`},
			"forwarded ip4": {"Forwarded", "for=192.0.2.60, for=127.0.0.1"},
		} {
			r := c.do("GET", "/csrf", nil, want[0], want[1])
			wantAddr := map[string]string{"xff": "203.0.113.5", "xff chain": "203.0.113.6",
				"forwarded": "2001:db8::1", "forwarded ip4": "192.0.2.60"}[hdr]
			if got := logClient(t, ts, r.header.Get("X-Request-Id")); got != wantAddr {
				t.Errorf("%s %q: logged client %q, want %q", want[0], want[1], got, wantAddr)
			}
		}
		// What the client itself puts at the left of the chain is not
		// believed: the proxy's rightmost entry is the client.
		var r response
		for i := range 7 {
			r = loginFrom(c, fmt.Sprintf("10.9.9.%d, 203.0.113.50", i+1), "ivy@example.com", "guess")
		}
		if r.status != 429 {
			t.Fatalf("7th guess with a spoofed left entry: %d %s", r.status, r.body)
		}
		if r := loginFrom(c, "203.0.113.51", "ivy@example.com", "ivy-password"); r.status != 200 {
			t.Fatalf("the owner behind the same proxy, another address: %d %s", r.status, r.body)
		}
	})
}

// logClient is the client address the request log line with id shows.
func logClient(t *testing.T, ts *testServer, id string) string {
	t.Helper()
	var client string
	waitFor(t, 5e9, "the log line of request "+id, func() bool {
		for _, line := range strings.Split(ts.logs.String(), "\n") {
			var l struct {
				RequestID string `json:"request_id"`
				Msg       string `json:"msg"`
				Client    string `json:"client"`
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.RequestID == id && l.Msg == "request" {
				client = l.Client
				return true
			}
		}
		return false
	})
	return client
}
