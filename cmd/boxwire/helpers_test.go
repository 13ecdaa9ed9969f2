package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/boxwire/boxwire/internal/store/storetest"
)

// runMainEnv makes the test binary act as the boxwire binary, so process
// tests (SIGKILL, SIGTERM) run the real Main without a separate build.
const runMainEnv = "BOXWIRE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// testClock is a settable clock for the server under test.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// syncBuffer collects log lines written from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testServer struct {
	*Server
	logs  *syncBuffer
	clock *testClock
	store StoreConfig
}

// storeConfig returns a fresh database on the engine under test.
func storeConfig(t *testing.T) StoreConfig {
	db := storetest.Database(t)
	if strings.HasPrefix(db, "postgres") {
		return StoreConfig{Data: t.TempDir(), Database: db}
	}
	return StoreConfig{Data: filepath.Dir(db)}
}

// startServer starts the real server in-process on a random port; opts
// adjust its configuration.
func startServer(t *testing.T, sc StoreConfig, opts ...func(*Config)) *testServer {
	t.Helper()
	ts := &testServer{logs: &syncBuffer{}, clock: &testClock{}, store: sc}
	cfg := Config{StoreConfig: sc, Addr: "127.0.0.1:0", Now: ts.clock.Now}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := Start(context.Background(), cfg, ts.logs)
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = s
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Close(ctx)
	})
	return ts
}

// cli runs a boxwire command against the server's data, as a user would.
func (ts *testServer) cli(t *testing.T, args ...string) (string, int) {
	t.Helper()
	return runCLI(t, ts.store, args...)
}

func runCLI(t *testing.T, sc StoreConfig, args ...string) (string, int) {
	t.Helper()
	args = append(args, "--data", sc.Data)
	if sc.Database != "" {
		args = append(args, "--database", sc.Database)
	}
	if sc.SecretKeyFile != "" {
		args = append(args, "--secret-key-file", sc.SecretKeyFile)
	}
	var out bytes.Buffer
	code := Main(context.Background(), args, &out, &out)
	return out.String(), code
}

// client is an HTTP client with its own cookie jar.
type client struct {
	t    *testing.T
	base string
	http *http.Client
	hdr  http.Header
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	// Every exchange is checked against the OpenAPI document (openapi_check_test.go).
	return &client{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: newDocCheck(t)}, hdr: http.Header{}}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// details returns the Misakey error details, or the problem+json field names.
func (r response) fields(t *testing.T) map[string]string {
	t.Helper()
	m := r.json(t)
	out := map[string]string{}
	if d, ok := m["details"].(map[string]any); ok {
		for k, v := range d {
			out[k], _ = v.(string)
		}
	}
	if list, ok := m["errors"].([]any); ok {
		for _, e := range list {
			f := e.(map[string]any)
			out[f["field"].(string)], _ = f["reason"].(string)
		}
	}
	return out
}

func (c *client) do(method, path string, body any, headers ...string) response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, _ := json.Marshal(b)
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range c.hdr {
		req.Header[k] = v
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// login signs in and returns the access token.
func (c *client) login(user, password string) string {
	c.t.Helper()
	r := c.do("POST", "/oauth/token", map[string]string{"username": user, "password": password}, "X-Calling-Application", "boxwire-tests")
	if r.status != 200 {
		c.t.Fatalf("login %s: %d %s", user, r.status, r.body)
	}
	return r.json(c.t)["access_token"].(string)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func newRequest(method, url string, body []byte) (*http.Request, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, err
}

// startNATS runs a NATS server in the test process on a free port; it
// stops after the test's servers, which are cleaned up before it.
func startNATS(t *testing.T) *natsserver.Server {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	return ns
}
