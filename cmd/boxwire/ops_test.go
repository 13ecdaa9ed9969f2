package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/boxwire/boxwire/internal/atrest"
	"github.com/boxwire/boxwire/internal/broker/natsbroker"
	"github.com/boxwire/boxwire/internal/channel/whatsapp/whatsapptest"
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
	sc := clusterStore(t)
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

// TestSecretsAreSealedAtRest: the secrets Boxwire keeps (WhatsApp token,
// app secret and verify token, webhook secrets, the token signing key)
// are not in the database in plaintext; rows written in plaintext by an
// earlier version are sealed at the next start and go on working: hooks
// verify with the same secret, sends carry the same token, Meta's
// signatures still check out and issued tokens stay valid.
func TestSecretsAreSealedAtRest(t *testing.T) {
	fake := whatsapptest.New()
	t.Cleanup(fake.Close)
	fake.AddNumber(waPhoneNumberID, waAccessToken)
	// The hook's receiver listens on 127.0.0.1: allowed explicitly.
	onPremises := func(c *Config) { c.WhatsAppGraphURL = fake.URL; c.WebhookAllowPrivate = true }
	a := setUpAcme(t, onPremises)
	w := &waAcme{acme: a, fake: fake, meta: newClient(t, a.ts.URL())}
	w.account = createWhatsAppAccount(a.admin)
	a.admin.call("POST", "/team", map[string]any{"name": "WhatsApp team", "apiAccountIds": []string{w.account},
		"userIds": []string{a.agentID}}, 201)
	sc := w.ts.store
	receiver := newHookReceiver(t, 0)
	hook := w.admin.call("POST", "/webhook", map[string]any{"type": "contact", "targetUrl": receiver.URL}, 201)
	hookSecret := hook["secret"].(string)
	hookID := hook["webhookId"].(string)
	stop(t, w.ts)

	key := readKeyFile(t, filepath.Join(sc.Data, "secret.key"))
	db := rawDB(t, sc)
	var sealedJWT string
	if err := db.QueryRow(`SELECT value FROM settings WHERE name = 'jwt_signing_key'`).Scan(&sealedJWT); err != nil {
		t.Fatal(err)
	}
	jwtKey, err := key.Open(sealedJWT, "settings/jwt_signing_key")
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{waAccessToken, waAppSecret, waVerifyToken, hookSecret, jwtKey}
	notStored := func(when string) {
		t.Helper()
		stored := storedBytes(t, sc)
		for _, s := range secrets {
			if bytes.Contains(stored, []byte(s)) {
				t.Fatalf("%s: the secret %q is stored in plaintext", when, s)
			}
		}
		if !bytes.Contains(stored, []byte(atrest.Prefix)) {
			t.Fatalf("%s: no sealed value stored", when)
		}
	}
	notStored("written by this version")

	// The rows as an earlier version left them.
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE webhooks SET secret = $1 WHERE id = $2`, []any{hookSecret, hookID}},
		{`UPDATE api_accounts SET settings = $1 WHERE id = $2`, []any{fmt.Sprintf(`{"phoneNumberId":%q,"accessToken":%q,"appSecret":%q,"verifyToken":%q}`,
			waPhoneNumberID, waAccessToken, waAppSecret, waVerifyToken), w.account}},
		{`UPDATE settings SET value = $1 WHERE name = 'jwt_signing_key'`, []any{jwtKey}},
	} {
		if _, err := db.Exec(q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}

	ts := startServer(t, sc, onPremises)
	for _, q := range []string{`SELECT secret FROM webhooks`, `SELECT settings FROM api_accounts WHERE channel = 'whatsapp'`, `SELECT value FROM settings`} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v string
			rows.Scan(&v)
			for _, s := range secrets {
				if strings.Contains(v, s) {
					t.Fatalf("after the start, %s still holds a plaintext secret: %s", q, v)
				}
			}
		}
		rows.Close()
	}

	// Issued tokens outlive the restart: the signing key is unchanged.
	w.admin.base, w.agent.base, w.meta.base = ts.URL(), ts.URL(), ts.URL()
	w.writeIn("+447902111150", "Jack", "Hello?") // Meta's signature checks out with the app secret
	jack := w.contactOn("+447902111150")
	receiver.waitEvent(t, hookSecret, "contact.created", func(d map[string]any) bool { return d["contactId"] == jack["contactId"] })
	w.agent.call("POST", "/message", map[string]any{"apiAccountId": w.account, "contactId": jack["contactId"], "message": "Hi"}, 201)
	waitFor(t, 10*time.Second, "the WhatsApp send", func() bool { return len(sendsTo(w.fake, "447902111150")) == 1 })
	if s := sendsTo(w.fake, "447902111150")[0]; s.Token != waAccessToken || s.Status != 200 {
		t.Fatalf("the send after sealing: token %q, status %d", s.Token, s.Status)
	}
	if r := w.meta.do("GET", w.callbackPath()+"?hub.mode=subscribe&hub.verify_token="+waVerifyToken+"&hub.challenge=42", nil); r.status != 200 || string(r.body) != "42" {
		t.Fatalf("Meta's handshake with the verify token: %d %s", r.status, r.body)
	}
	stop(t, ts)
	notStored("sealed at start")
}

// TestWrongSecretKeyFailsStart: a node given another key, or none where
// the database's secrets are sealed, refuses to start and says why,
// instead of reading garbage or failing later.
func TestWrongSecretKeyFailsStart(t *testing.T) {
	sc := storeConfig(t)
	ts := startServer(t, sc)
	stop(t, ts)

	other := filepath.Join(t.TempDir(), "other.key")
	if code := Main(context.Background(), []string{"secret-key", "--out", other}, io.Discard, io.Discard); code != 0 {
		t.Fatalf("secret-key --out: exit %d", code)
	}
	if info, err := os.Stat(other); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the key file: %v, %v", info, err)
	}
	var out bytes.Buffer
	if code := Main(context.Background(), []string{"secret-key", "--out", other}, &out, &out); code == 0 || !strings.Contains(out.String(), "never overwritten") {
		t.Fatalf("secret-key over an existing key: exit %d, %s", code, out.String())
	}

	start := func(sc StoreConfig) error {
		s, err := Start(context.Background(), Config{StoreConfig: sc, Addr: "127.0.0.1:0"}, io.Discard)
		if err == nil {
			s.Close(context.Background())
		}
		return err
	}
	wrong := sc
	wrong.SecretKeyFile = other
	if err := start(wrong); err == nil || !strings.Contains(err.Error(), "is not the one this database's secrets are sealed with") {
		t.Fatalf("start with another key: %v", err)
	}
	missing := sc
	missing.SecretKeyFile = filepath.Join(t.TempDir(), "nothing-here.key")
	if err := start(missing); err == nil || !strings.Contains(err.Error(), "--secret-key-file") {
		t.Fatalf("start with a key file that does not exist: %v", err)
	}
	if err := os.Rename(filepath.Join(sc.Data, "secret.key"), filepath.Join(sc.Data, "moved.key")); err != nil {
		t.Fatal(err)
	}
	if err := start(sc); err == nil || !strings.Contains(err.Error(), "there was none at") {
		t.Fatalf("start without the default key file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(sc.Data, "secret.key")); !os.IsNotExist(err) {
		t.Fatalf("a failed start left a new key behind: %v", err)
	}
	moved := sc
	moved.SecretKeyFile = filepath.Join(sc.Data, "moved.key")
	if err := start(moved); err != nil {
		t.Fatalf("start with the right key: %v", err)
	}
}

func stop(t *testing.T, ts *testServer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func readKeyFile(t *testing.T, path string) *atrest.Key {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := atrest.ParseKey(text)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rawDB opens the database under the server, with no Boxwire code between.
func rawDB(t *testing.T, sc StoreConfig) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", sc.Database
	if dsn == "" {
		driver, dsn = "sqlite", "file:"+filepath.Join(sc.Data, "boxwire.db")
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// clusterStore is a fresh database for several nodes, which share one
// secret key file made with `boxwire secret-key`, as the README says.
func clusterStore(t *testing.T) StoreConfig {
	t.Helper()
	sc := storeConfig(t)
	sc.SecretKeyFile = filepath.Join(t.TempDir(), "cluster.key")
	var out bytes.Buffer
	if code := Main(context.Background(), []string{"secret-key", "--out", sc.SecretKeyFile}, &out, &out); code != 0 {
		t.Fatalf("secret-key: %s", out.String())
	}
	return sc
}
