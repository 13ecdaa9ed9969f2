package main

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Issue 13, point 2: a webhook is a request the server makes for a
// tenant's admin, so its target must not reach inside the server's
// network unless the operator says so.

// allowPrivateHooks is --webhook-allow-private, for tests whose receiver
// listens on 127.0.0.1.
func allowPrivateHooks(c *Config) { c.WebhookAllowPrivate = true }

// lookupTable resolves names from a table, as DNS would, and nothing
// else. The answer for a name may change while the server runs.
type lookupTable struct {
	names atomic.Pointer[map[string]string]
}

func newLookup(names map[string]string) *lookupTable {
	l := &lookupTable{}
	l.set(names)
	return l
}

func (l *lookupTable) set(names map[string]string) { l.names.Store(&names) }

func (l *lookupTable) lookup(_ context.Context, host string) ([]netip.Addr, error) {
	a, ok := (*l.names.Load())[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	return []netip.Addr{netip.MustParseAddr(a)}, nil
}

// port is the ":port" of a receiver's URL.
func port(t *testing.T, raw string) string {
	return ":" + mustURL(t, raw).Port()
}

// TestWebhookTargetsInsideAreRefused sends every spelling of an inside
// address an attacker would try through the API, on create and on
// update: each is a 400 naming targetUrl, nothing is stored, and the
// answer does not tell what a name resolved to.
func TestWebhookTargetsInsideAreRefused(t *testing.T) {
	dns := newLookup(map[string]string{"hooks.example.com": "203.0.113.10", "intranet.example.com": "10.1.2.3",
		"metadata.example.com": "169.254.169.254"})
	a := setUpAcme(t, func(c *Config) { c.WebhookLookup = dns.lookup })
	const good = "https://hooks.example.com/boxwire"
	hook := a.admin.call("POST", "/webhook", map[string]any{"type": "contact", "targetUrl": good}, 201)
	path := "/webhook/" + hook["webhookId"].(string)

	for _, target := range []string{
		"http://127.0.0.1/hook", "http://127.1/hook", "http://0x7f000001/hook", "http://2130706433/hook",
		"http://0177.0.0.1/hook", "http://127.0.0.1.:8080/hook", "http://[::1]:8080/hook", "http://[::ffff:7f00:1]/hook",
		"http://localhost:9000/hook", "http://LOCALHOST./hook", "http://hooks.localhost/hook",
		"http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/latest/meta-data/",
		"http://2852039166/latest/meta-data/", "http://metadata.example.com/computeMetadata/v1/",
		"http://10.0.0.1/hook", "http://10.1/hook", "http://172.16.0.1/hook", "http://192.168.1.10/hook",
		"http://100.64.0.1/hook", "http://[fe80::1]/hook", "http://[fd00::1]/hook", "http://[fd00:ec2::254]/hook",
		"http://224.0.0.1/hook", "http://0.0.0.0:8080/hook", "http://0/hook", "http://[::]/hook",
		"https://intranet.example.com/hook",
	} {
		body := a.admin.refused("POST", "/webhook", map[string]any{"type": "contact", "targetUrl": target}, 400, "targetUrl")
		a.admin.refused("PUT", path, map[string]any{"targetUrl": target}, 400, "targetUrl")
		if strings.Contains(body["detail"].(string)+body["title"].(string), "10.1.2.3") {
			t.Errorf("the refusal of %s shows the inside address a name resolved to: %v", target, body)
		}
	}
	if got := a.admin.items("/webhook"); len(got) != 1 || got[0]["targetUrl"] != good {
		t.Fatalf("refused targets were stored: %v", got)
	}
}

// TestWebhookRebindingIsNotConnected is DNS rebinding: a name resolves to
// a public address when the admin sets it, and to 127.0.0.1 when the
// delivery connects. The delivery is attempted and fails; the receiver
// listening on 127.0.0.1 is never connected to.
func TestWebhookRebindingIsNotConnected(t *testing.T) {
	dns := newLookup(map[string]string{"rebind.example.com": "203.0.113.7"})
	a := setUpAcme(t, func(c *Config) { c.WebhookLookup, c.WebhookBackoff = dns.lookup, 10*time.Millisecond })
	receiver := newHookReceiver(t, 0)
	hook := a.admin.call("POST", "/webhook", map[string]any{"type": "contact",
		"targetUrl": "http://rebind.example.com" + port(t, receiver.URL) + "/hook"}, 201)
	dns.set(map[string]string{"rebind.example.com": "127.0.0.1"})

	newContact(a.admin, a.account, "+447902111300")
	waitFor(t, 15*time.Second, "deliveries to be attempted", func() bool {
		return hookAttempts(receiver) > 0 ||
			a.admin.call("GET", "/webhook/"+hook["webhookId"].(string), nil, 200)["failureCount"].(float64) >= 2
	})
	if n := hookAttempts(receiver); n != 0 {
		t.Fatalf("the receiver on 127.0.0.1 was connected to %d times through a rebound name", n)
	}
	if logs := a.ts.logs.String(); !strings.Contains(logs, "loopback address") {
		t.Fatalf("the failed delivery's log does not say why:\n%s", logs)
	}
}

// TestWebhookAllowancesDeliverInside: with --webhook-allow-private a hook
// to a receiver on 127.0.0.1 is created and delivered to, also through a
// name; the cloud metadata endpoint stays refused.
func TestWebhookAllowancesDeliverInside(t *testing.T) {
	dns := newLookup(map[string]string{"hooks.internal.example": "127.0.0.1"})
	a := setUpAcme(t, allowPrivateHooks, func(c *Config) { c.WebhookLookup = dns.lookup })
	byAddress, byName := newHookReceiver(t, 0), newHookReceiver(t, 0)
	s1 := a.admin.call("POST", "/webhook", map[string]any{"type": "contact", "targetUrl": byAddress.URL}, 201)["secret"].(string)
	s2 := a.admin.call("POST", "/webhook", map[string]any{"type": "contact",
		"targetUrl": "http://hooks.internal.example" + port(t, byName.URL) + "/hook"}, 201)["secret"].(string)
	for _, target := range []string{"http://169.254.169.254/latest/meta-data/", "http://[::ffff:a9fe:a9fe]/"} {
		a.admin.refused("POST", "/webhook", map[string]any{"type": "contact", "targetUrl": target}, 400, "targetUrl")
	}

	id := newContact(a.admin, a.account, "+447902111301")
	waitHookData(t, byAddress, s1, "contact.created", "contactId", []string{id})
	waitHookData(t, byName, s2, "contact.created", "contactId", []string{id})
}

// TestWebhookAllowCIDRsFlag runs the binary with --webhook-allow-cidrs:
// a receiver in a listed range is delivered to, an inside address outside
// the ranges is still refused, and a malformed range stops the server
// from starting. BOXWIRE_WEBHOOK_ALLOW_PRIVATE=1 is the other allowance.
func TestWebhookAllowCIDRsFlag(t *testing.T) {
	sc := storeConfig(t)
	if out, code := runCLI(t, sc, "serve", "--addr", "127.0.0.1:0", "--webhook-allow-cidrs", "10.0.0.0/33"); code == 0 ||
		!strings.Contains(out, "--webhook-allow-cidrs") {
		t.Fatalf("a malformed range: exit %d, %s; want a refusal naming the flag", code, out)
	}
	p := startProcess(t, sc, "--webhook-allow-cidrs", "192.0.2.0/24, 127.0.0.1", "--rate-limit", "0")
	if out, code := runCLI(t, sc, "user", "add", "--email", "ada@acme.test", "--password", "correct horse",
		"--name", "Ada Admin", "--org", "Acme", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %d %s", code, out)
	}
	admin := newAPI(t, p.url, "ada@acme.test", "correct horse")
	account := admin.call("POST", "/apiaccount", map[string]any{"name": "Lettings", "phoneNumber": "+447902111100",
		"channel": "sandbox"}, 201)["apiAccountId"].(string)
	receiver := newHookReceiver(t, 0)
	secret := admin.call("POST", "/webhook", map[string]any{"type": "contact", "targetUrl": receiver.URL}, 201)["secret"].(string)
	for _, target := range []string{"http://127.0.0.2/hook", "http://10.0.0.1/hook", "http://[::1]/hook"} {
		admin.refused("POST", "/webhook", map[string]any{"type": "contact", "targetUrl": target}, 400, "targetUrl")
	}
	id := newContact(admin, account, "+447902111302")
	waitHookData(t, receiver, secret, "contact.created", "contactId", []string{id})

	// The environment's allowance, on a second server.
	t.Setenv("BOXWIRE_WEBHOOK_ALLOW_PRIVATE", "1")
	sc2 := storeConfig(t)
	p2 := startProcess(t, sc2)
	if out, code := runCLI(t, sc2, "user", "add", "--email", "ada@acme.test", "--password", "correct horse",
		"--name", "Ada Admin", "--org", "Acme", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %d %s", code, out)
	}
	admin2 := newAPI(t, p2.url, "ada@acme.test", "correct horse")
	admin2.call("POST", "/webhook", map[string]any{"type": "contact", "targetUrl": "http://10.0.0.1/hook"}, 201)
	admin2.refused("POST", "/webhook", map[string]any{"type": "contact", "targetUrl": "http://169.254.169.254/"}, 400, "targetUrl")
}
