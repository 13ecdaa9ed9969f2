package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/boxwire/boxwire/internal/netguard"
	"github.com/boxwire/boxwire/internal/webhook"
)

// counting is a local receiver that counts the requests it was sent.
func counting(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// resolving is a lookup that answers from a table, as DNS would.
func resolving(names map[string]string) func(context.Context, string) ([]netip.Addr, error) {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, a := range strings.Fields(names[host]) {
			out = append(out, netip.MustParseAddr(a))
		}
		if len(out) == 0 {
			return nil, errors.New("no such host")
		}
		return out, nil
	}
}

// TestGuardedClientConnectsToNoInsideAddress checks the dialer's check,
// the one that holds whatever a name resolved to before: the receiver on
// 127.0.0.1 is never connected to, by address, by localhost, or by a
// name that resolves there; with private targets allowed it is.
func TestGuardedClientConnectsToNoInsideAddress(t *testing.T) {
	srv, hits := counting(t, nil)
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	g := &webhook.Guard{Lookup: resolving(map[string]string{"rebound.example.com": "127.0.0.1"})}
	for _, target := range []string{srv.URL, "http://localhost" + port, "http://127.1" + port,
		"http://0x7f000001" + port, "http://rebound.example.com" + port} {
		resp, err := g.Client().Post(target, "application/json", strings.NewReader("{}"))
		var f *netguard.Forbidden
		if err == nil {
			resp.Body.Close()
		}
		if !errors.As(err, &f) || f.Class != netguard.Loopback {
			t.Errorf("POST %s: %v; want refused as a loopback address", target, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the inside receiver was sent %d requests", n)
	}

	allowed := &webhook.Guard{Policy: netguard.Policy{AllowPrivate: true}}
	resp, err := allowed.Client().Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("with private targets allowed: %v", err)
	}
	resp.Body.Close()
	if hits.Load() != 1 {
		t.Fatalf("with private targets allowed the receiver was sent %d requests, want 1", hits.Load())
	}
}

// TestGuardedClientFollowsNoRedirect: a target that redirects inside is
// not followed there; the 3xx is the answer, and counts as a failure.
func TestGuardedClientFollowsNoRedirect(t *testing.T) {
	inside, insideHits := counting(t, nil)
	redirecting, _ := counting(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inside.URL, http.StatusTemporaryRedirect)
	})
	g := &webhook.Guard{Policy: netguard.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}}
	resp, err := g.Client().Post(redirecting.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || insideHits.Load() != 0 {
		t.Fatalf("status %d, the redirect's target was sent %d requests; want 307 and none", resp.StatusCode, insideHits.Load())
	}
}

// TestCheckTargetRefusesNamesThatResolveInside: a name is refused if any
// of its addresses is forbidden (the dialer might pick that one); a name
// that does not resolve now is left to the dialer.
func TestCheckTargetRefusesNamesThatResolveInside(t *testing.T) {
	g := &webhook.Guard{Lookup: resolving(map[string]string{
		"mixed.example.com":  "203.0.113.7 10.0.0.5",
		"meta.example.com":   "::ffff:169.254.169.254",
		"public.example.com": "203.0.113.7 2001:db8::7",
	})}
	ctx := context.Background()
	for target, class := range map[string]string{
		"https://mixed.example.com/hook":      netguard.Private,
		"https://meta.example.com/hook":       netguard.Metadata,
		"http://[::ffff:7f00:1]:8080/hook":    netguard.Loopback,
		"http://localhost./hook":              netguard.Loopback,
		"https://2852039166/latest/meta-data": netguard.Metadata,
	} {
		var f *netguard.Forbidden
		if err := g.CheckTarget(ctx, target); !errors.As(err, &f) || f.Class != class {
			t.Errorf("%s: %v; want refused as %s", target, err, class)
		}
	}
	for _, target := range []string{"https://public.example.com/hook", "https://unknown.example.com/hook",
		"https://203.0.113.7/hook"} {
		if err := g.CheckTarget(ctx, target); err != nil {
			t.Errorf("%s: %v; want accepted", target, err)
		}
	}
}
