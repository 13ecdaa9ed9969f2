package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/boxwire/boxwire/internal/cmdline"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "boxwire test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServesTLSWithTheOperatorsCertificate: with --tls-cert/--tls-key the
// API, its cookies and the WebSocket are served over HTTPS only.
func TestServesTLSWithTheOperatorsCertificate(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	ts := startServer(t, storeConfig(t), func(c *Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	if !strings.HasPrefix(ts.URL(), "https://") || !strings.HasPrefix(ts.Config.PublicURL, "https://") {
		t.Fatalf("URL %s, public URL %s: want https", ts.URL(), ts.Config.PublicURL)
	}
	if _, err := http.Get("http://" + ts.Addr() + "/healthz"); err == nil {
		// A plain request to a TLS port gets Go's 400 answer at best.
		if r, _ := http.Get("http://" + ts.Addr() + "/healthz"); r != nil && r.StatusCode == 200 {
			t.Fatal("plain HTTP is served on the TLS port")
		}
	}
	ts.cli(t, "user", "add", "--email", "ana@example.com", "--password", "Ana-password", "--name", "Ana")
	ana := newClient(t, ts.URL())
	ana.http.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	r := ana.do("POST", "/oauth/token", map[string]string{"username": "ana@example.com", "password": "Ana-password"}, "X-Calling-Application", "tls-test")
	expect(t, "sign in over TLS", r, 200)
	for _, ck := range ana.http.Jar.Cookies(mustURL(t, ts.URL()+"/oauth/token")) {
		if ck.Name == "refreshToken" && !strings.Contains(r.header.Get("Set-Cookie"), "Secure") {
			t.Fatal("cookies over TLS are not Secure")
		}
	}
	token := r.json(t)["access_token"].(string)
	id := claimsOf(t, token).Subject
	ana.hdr.Set("Authorization", "Bearer "+token)
	box := ana.do("POST", "/boxes", map[string]any{"title": "over TLS", "public_key": randomKey()})
	expect(t, "create a box", box, 201)

	url := "wss://" + ts.Addr() + "/box-users/" + id + "/ws"
	c, _, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{HTTPClient: ana.http,
		HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		t.Fatalf("WebSocket over TLS: %v", err)
	}
	defer c.CloseNow()
	expect(t, "post", ana.do("POST", "/boxes/"+box.json(t)["id"].(string)+"/events", text("hello over TLS")), 201)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		var f frame
		if err := wsjson.Read(ctx, c, &f); err != nil {
			t.Fatalf("no event over the TLS WebSocket: %v", err)
		}
		if strings.Contains(string(f.Object), "msg.text") {
			break
		}
	}
}

// TestTLSFlagsAreChecked: TLS flags that do not go together, or files
// that do not load, stop the server with a sentence naming the flag.
func TestTLSFlagsAreChecked(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tls-cert", certFile}, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-cert", certFile, "--tls-key", keyFile, "--tls-domain", "boxwire.example"}, "not both"},
		{[]string{"--tls-cert", certFile, "--tls-key", certFile}, "--tls-cert/--tls-key"},
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"--cors-origins", "app.example.com"}, "--cors-origins"},
	} {
		out, code := runCLI(t, StoreConfig{Data: t.TempDir()}, append([]string{"serve", "--addr", "127.0.0.1:0"}, tc.args...)...)
		if code == 0 || !strings.Contains(out, tc.want) {
			t.Errorf("serve %v: exit %d %q, want a refusal saying %q", tc.args, code, out, tc.want)
		}
	}
}

// TestAutomaticCertificatesOnlyForTheGivenNames: with --tls-domain, a TLS
// handshake for any other name is refused (no certificate is asked for
// it), so the server cannot be made to request certificates at will.
func TestAutomaticCertificatesOnlyForTheGivenNames(t *testing.T) {
	sc := storeConfig(t)
	ts := startServer(t, sc, func(c *Config) { c.TLSDomains = []string{"boxwire.example"} })
	if ts.Config.PublicURL != "https://boxwire.example" {
		t.Fatalf("public URL %q, want the domain", ts.Config.PublicURL)
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ts.Addr(), &tls.Config{ServerName: "attacker.example", InsecureSkipVerify: true})
	if err == nil {
		conn.Close()
		t.Fatal("a handshake for a name outside --tls-domain succeeded")
	}
	if entries, _ := os.ReadDir(filepath.Join(sc.Data, "certs")); len(entries) != 0 {
		t.Fatalf("the refused name left %d files in the certificate cache", len(entries))
	}
}

// TestInvalidEnvironmentIsRefused: a BOXWIRE_* value its flag would refuse
// stops the server naming the variable, instead of being ignored; valid
// ones are taken, and a flag on the command line wins.
func TestInvalidEnvironmentIsRefused(t *testing.T) {
	for name, value := range map[string]string{"BOXWIRE_MAX_FILE_SIZE": "lots", "BOXWIRE_ACCESS_TTL": "forever",
		"BOXWIRE_TEST_CLOCK": "yes please", "BOXWIRE_RATE_LIMIT": "fast"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, value)
			out, code := runCLI(t, StoreConfig{Data: t.TempDir()}, "serve", "--addr", "127.0.0.1:0")
			if code == 0 || !strings.Contains(out, name) {
				t.Fatalf("%s=%s: exit %d %q, want a refusal naming the variable", name, value, code, out)
			}
		})
	}
	t.Setenv("BOXWIRE_LONGPOLL_HOLD", "7s")
	t.Setenv("BOXWIRE_ACCESS_TTL", "3m")
	var cfg Config
	fs := newServeFlags(&cfg)
	if err := cmdline.Parse(fs, []string{"--access-ttl", "2m"}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if cfg.LongPollHold != 7*time.Second || cfg.AccessTTL != 2*time.Minute {
		t.Fatalf("longpoll-hold %v (want 7s from the environment), access-ttl %v (want the flag's 2m)", cfg.LongPollHold, cfg.AccessTTL)
	}
}

// TestWildcardAddressWithoutPublicURLWarns: listening on every interface
// without --public-url makes links name an address clients cannot reach:
// the server says so at start-up.
func TestWildcardAddressWithoutPublicURLWarns(t *testing.T) {
	warned := func(ts *testServer) bool { return strings.Contains(ts.logs.String(), "--public-url is not set") }
	if ts := startServer(t, storeConfig(t), func(c *Config) { c.Addr = "0.0.0.0:0" }); !warned(ts) {
		t.Fatalf("no warning for 0.0.0.0 without --public-url:\n%s", ts.logs.String())
	}
	if ts := startServer(t, storeConfig(t), func(c *Config) { c.Addr = "0.0.0.0:0"; c.PublicURL = "https://chat.example.com" }); warned(ts) {
		t.Fatal("a warning although --public-url is set")
	}
	if ts := startServer(t, storeConfig(t)); warned(ts) {
		t.Fatal("a warning for a loopback address")
	}
}

// TestTakenAddressSaysWhatToDo: a second server on a port already held
// (the README's quickstart pasted twice) fails at once, naming the
// address and how to pick another, and writes nothing where it would
// have served.
func TestTakenAddressSaysWhatToDo(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	addr := held.Addr().String()
	out, code := runCLI(t, storeConfig(t), "serve", "--addr", addr)
	if code == 0 || !strings.Contains(out, addr+" is already in use") || !strings.Contains(out, "127.0.0.1:0 for any free port") {
		t.Fatalf("serve on a taken address: exit %d:\n%s", code, out)
	}
}

// TestRequestLogs: a request's log line gives its duration in
// milliseconds; health checks appear only at debug level.
func TestRequestLogs(t *testing.T) {
	lines := func(ts *testServer, path string) []map[string]any {
		var out []map[string]any
		for _, l := range strings.Split(ts.logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "request" && m["path"] == path {
				out = append(out, m)
			}
		}
		return out
	}
	info := startServer(t, storeConfig(t))
	c := newClient(t, info.URL())
	expect(t, "healthz", c.do("GET", "/healthz", nil), 200)
	expect(t, "unauthenticated", c.do("GET", "/boxes/joined", nil), 401)
	waitFor(t, 5*time.Second, "the request's log line", func() bool { return len(lines(info, "/boxes/joined")) == 1 })
	ms, ok := lines(info, "/boxes/joined")[0]["duration_ms"].(float64)
	if !ok || ms <= 0 || ms > 10_000 {
		t.Fatalf("duration_ms %v in %v", ms, lines(info, "/boxes/joined")[0])
	}
	if n := len(lines(info, "/healthz")); n != 0 {
		t.Fatalf("health checks logged at info level: %d lines", n)
	}
	debug := startServer(t, storeConfig(t), func(c *Config) { c.LogLevel = "debug" })
	expect(t, "healthz", newClient(t, debug.URL()).do("GET", "/healthz", nil), 200)
	waitFor(t, 5*time.Second, "the health check at debug level", func() bool { return len(lines(debug, "/healthz")) == 1 })
	warn := startServer(t, storeConfig(t), func(c *Config) { c.LogLevel = "warn" })
	expect(t, "unauthenticated", newClient(t, warn.URL()).do("GET", "/boxes/joined", nil), 401)
	if n := len(lines(warn, "/boxes/joined")); n != 0 {
		t.Fatalf("requests logged at --log-level warn: %d", n)
	}
}

// TestCORSForConfiguredOrigins: the configured origin's scripts may call
// the API with a bearer token; others get no CORS answer; credentials
// (cookies) are never allowed cross-origin; the Box-compatible OPTIONS
// still reaches its handler.
func TestCORSForConfiguredOrigins(t *testing.T) {
	ts := startServer(t, storeConfig(t), func(c *Config) { c.CORSOrigins = []string{"https://app.example.com"} })
	ana := ts.user(t, "Ana")
	preflight := func(origin string) response {
		return newClient(t, ts.URL()).do("OPTIONS", "/boxes/joined", nil, "Origin", origin,
			"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization")
	}
	ok := preflight("https://app.example.com")
	if ok.status/100 != 2 || ok.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(strings.ToLower(ok.header.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Fatalf("preflight from the configured origin: %d %v", ok.status, ok.header)
	}
	if ok.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatal("credentials are allowed cross-origin")
	}
	if other := preflight("https://evil.example"); other.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("another origin got %v", other.header)
	}
	r := ana.do("GET", "/boxes/joined", nil, "Origin", "https://app.example.com")
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("a call from the configured origin: %d %v", r.status, r.header)
	}
	if box := ana.do("OPTIONS", "/2.0/events", nil, "Origin", "https://app.example.com"); box.status != 200 || !strings.Contains(string(box.body), "realtime") {
		t.Fatalf("the Box-compatible OPTIONS: %d %s", box.status, box.body)
	}
	plain := startServer(t, storeConfig(t))
	if r := newClient(t, plain.URL()).do("OPTIONS", "/boxes/joined", nil, "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET"); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS answered without --cors-origins")
	}
}

// TestVersionNamesTheBuild: a binary built from a git checkout says
// which revision it was built from (the revision Go recorded in it).
func TestVersionNamesTheBuild(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "boxwire")
	// The machine's GOFLAGS may turn VCS stamping off; a release build
	// keeps it on.
	build := exec.Command("go", "build", "-buildvcs=auto", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	meta, _ := exec.Command("go", "version", "-m", bin).Output()
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	rev := regexp.MustCompile(`vcs\.revision=([0-9a-f]{12})`).FindSubmatch(meta)
	switch {
	case rev != nil && !regexp.MustCompile(`^boxwire dev \(`+string(rev[1])+`, 20\d\d-\d\d-\d\dT`).Match(out):
		t.Fatalf("built from revision %s, boxwire version says %q", rev[1], out)
	case rev == nil && string(out) != "boxwire dev\n":
		t.Fatalf("built without VCS information, boxwire version says %q", out)
	}
}

// TestDeploymentFilesNameRealSettings: every BOXWIRE_* variable the
// Dockerfile and compose.yaml set is one the server reads, so they cannot
// drift from the flags.
func TestDeploymentFilesNameRealSettings(t *testing.T) {
	var cfg Config
	fs := newServeFlags(&cfg)
	known := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		if name, ok := cmdline.EnvVar(f); ok {
			known[name] = true
		}
	})
	for _, file := range []string{"../../Dockerfile", "../../compose.yaml"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		names := regexp.MustCompile(`BOXWIRE_[A-Z0-9_]+`).FindAllString(string(b), -1)
		if len(names) == 0 {
			t.Fatalf("%s sets no BOXWIRE_* variable", file)
		}
		for _, n := range names {
			if !known[n] {
				t.Errorf("%s sets %s, which no flag reads", file, n)
			}
		}
	}
}
