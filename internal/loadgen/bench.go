// Package loadgen is boxwire bench: load generators that drive a running
// server through its public API as clients would (durable appends,
// WebSocket fan-out, idle WebSockets, long-polls) and report throughput,
// latency and memory, failing when a run falls short of its bound.
package loadgen

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/boxwire/boxwire/internal/cmdline"
)

const benchUsage = `usage: boxwire bench append --server URL --email E --password P
         [--conns 64] [--duration 10s] [--warmup 2s] [--boxes 1] [--json]

Signs in, creates --boxes box(es) and appends msg.text events to them from
--conns connections for --warmup (not measured) then --duration (measured).
Every response must be 201 Created: a 201 means the event is durable.`

// benchConfig is the flags of `boxwire bench append`.
type benchConfig struct {
	Server, Email, Password string
	Conns, Boxes            int
	Duration, Warmup        time.Duration
	JSON                    bool
}

// Only the sign-in flags have BOXWIRE_* equivalents: they are shared with
// the other client commands, while load shape belongs on the command line.
func (c *benchConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Server, "server", cmdline.Env("SERVER", ""), "server base URL, http:// or https:// (env BOXWIRE_SERVER)")
	fs.StringVar(&c.Email, "email", cmdline.Env("EMAIL", ""), "e-mail address to sign in with (env BOXWIRE_EMAIL)")
	fs.StringVar(&c.Password, "password", cmdline.Env("PASSWORD", ""), "password (env BOXWIRE_PASSWORD)")
	fs.IntVar(&c.Conns, "conns", 64, "concurrent connections, one request in flight on each")
	fs.IntVar(&c.Boxes, "boxes", 1, "boxes to spread the appends over")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "measured time")
	fs.DurationVar(&c.Warmup, "warmup", 2*time.Second, "time to run before measuring")
	fs.BoolVar(&c.JSON, "json", false, "print the result as one JSON object")
}

func (c *benchConfig) validate() error {
	u, err := url.Parse(c.Server)
	switch {
	case c.Server == "":
		return errors.New("--server is required (or BOXWIRE_SERVER)")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("--server %q must be an http:// or https:// URL", c.Server)
	case c.Email == "" || c.Password == "":
		return errors.New("--email and --password are required")
	case c.Conns < 1:
		return errors.New("--conns must be at least 1")
	case c.Boxes < 1 || c.Boxes > c.Conns:
		return errors.New("--boxes must be between 1 and --conns")
	case c.Duration <= 0:
		return errors.New("--duration must be positive")
	case c.Warmup < 0:
		return errors.New("--warmup must not be negative")
	}
	c.Server = strings.TrimRight(c.Server, "/")
	return nil
}

// Run is `boxwire bench append|fanout|idle-ws|longpoll`.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if cmdline.GroupHelp(args, benchUsage+"\n\n"+benchRealtimeUsage, stdout) {
		return nil
	}
	if len(args) > 0 {
		switch args[0] {
		case "fanout":
			return runBenchFanout(ctx, args[1:], stdout, stderr)
		case "idle-ws":
			return runBenchIdleWS(ctx, args[1:], stdout, stderr)
		case "longpoll":
			return runBenchLongpoll(ctx, args[1:], stdout, stderr)
		}
	}
	if len(args) == 0 || args[0] != "append" {
		fmt.Fprintln(stderr, benchUsage)
		fmt.Fprintf(stderr, "\n%s\n", benchRealtimeUsage)
		return cmdline.ErrUsage
	}
	var cfg benchConfig
	fs := flag.NewFlagSet("bench append", flag.ContinueOnError)
	cfg.flags(fs)
	fs.Usage = func() { fmt.Fprintf(fs.Output(), "%s\n\nFlags:\n", benchUsage); fs.PrintDefaults() }
	if err := cmdline.Parse(fs, args[1:], stderr); err != nil || cmdline.HelpAsked(args) {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	res, err := benchAppend(ctx, cfg)
	if ctx.Err() != nil {
		return fmt.Errorf("bench interrupted: %w", context.Cause(ctx))
	}
	if err != nil {
		return err
	}
	res.print(stdout, stderr, cfg.JSON)
	return res.verdict()
}

// benchAppend signs in, creates the boxes and drives the appends.
func benchAppend(ctx context.Context, cfg benchConfig) (*benchResult, error) {
	hc := benchClient(4) // sign-in and set-up only
	defer hc.CloseIdleConnections()
	token, err := benchSignIn(ctx, hc, cfg.Server, cfg.Email, cfg.Password, cfg.Warmup+cfg.Duration+30*time.Second, "--warmup or --duration")
	if err != nil {
		return nil, err
	}
	boxes, err := benchCreateBoxes(ctx, hc, cfg, token)
	if err != nil {
		return nil, err
	}
	var dials atomic.Int64
	dial := benchDialer(cfg.Server, &dials)
	workers := make([]*benchWorker, cfg.Conns)
	for i := range workers {
		if workers[i], err = newBenchWorker(dial, cfg.Server+"/boxes/"+boxes[i%len(boxes)]+"/events", token); err != nil {
			return nil, err
		}
	}
	benchDrive(ctx, workers, cfg.Warmup, cfg.Duration)
	res := mergeBench(cfg, workers)
	res.ConnsOpened = int(dials.Load())
	return res, nil
}

// benchDialer opens the workers' connections to server (TLS for https,
// speaking HTTP/1.1), counting them.
func benchDialer(server string, dials *atomic.Int64) func(context.Context) (net.Conn, error) {
	u, _ := url.Parse(server) // validated with the flags
	addr, d := u.Host, &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	var tlsDial *tls.Dialer
	if u.Scheme == "https" {
		tlsDial = &tls.Dialer{NetDialer: d, Config: &tls.Config{ServerName: u.Hostname(), NextProtos: []string{"http/1.1"}}}
	}
	return func(ctx context.Context) (net.Conn, error) {
		dials.Add(1)
		if tlsDial != nil {
			return tlsDial.DialContext(ctx, "tcp", addr)
		}
		return d.DialContext(ctx, "tcp", addr)
	}
}

// benchClient is the HTTP client of the benches' set-up requests and of
// their keep-alive workers: the pool holds conns connections, so that many
// workers neither wait nor redial.
func benchClient(conns int) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:               nil, // only ever talk to --server itself
		DialContext:         d.DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		DisableCompression:  true,
		Protocols:           new(http.Protocols),
	}
	// HTTP/2 would multiplex every worker onto one connection over https.
	t.Protocols.SetHTTP1(true)
	return &http.Client{
		Transport: t,
		// A redirect is an answer to report, not a place to send load to.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// benchCall POSTs one set-up request and decodes its JSON answer.
func benchCall(ctx context.Context, hc *http.Client, url, token string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return benchRequest(ctx, hc, http.MethodPost, url, token, body, out)
}

// benchRequest sends one set-up request (a JSON body unless nil) and
// decodes its JSON answer; anything but a 2xx is an error quoting it.
func benchRequest(ctx context.Context, hc *http.Client, method, url, token string, body []byte, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Calling-Application", "boxwire-bench")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		return benchStatusError(res)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// benchSignIn signs in and refuses a token that would lapse within run
// (the whole run, estimated): the benches do not refresh their token, and
// one that lapsed mid-run would turn the rest of it into 401s. shorten
// names what the user can shorten.
func benchSignIn(ctx context.Context, hc *http.Client, server, email, password string, run time.Duration, shorten string) (string, error) {
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresAt   string `json:"expires_at"`
	}
	in := map[string]string{"username": email, "password": password}
	if err := benchCall(ctx, hc, server+"/oauth/token", "", in, &tok); err != nil {
		return "", fmt.Errorf("sign in as %s: %w", email, err)
	}
	if tok.AccessToken == "" {
		return "", fmt.Errorf("sign in as %s: no access_token in the answer", email)
	}
	if exp, err := time.Parse(time.RFC3339, tok.ExpiresAt); err == nil && exp.Before(time.Now().Add(run)) {
		return "", fmt.Errorf("the access token of %s expires at %s, before this run would end (in about %s): shorten %s",
			email, tok.ExpiresAt, run.Round(time.Second), shorten)
	}
	return tok.AccessToken, nil
}

func benchCreateBoxes(ctx context.Context, hc *http.Client, cfg benchConfig, token string) ([]string, error) {
	ids := make([]string, cfg.Boxes)
	for i := range ids {
		var box struct {
			ID string `json:"id"`
		}
		in := map[string]string{"title": "bench", "public_key": benchRandom(base64.RawURLEncoding, 32)}
		if err := benchCall(ctx, hc, cfg.Server+"/boxes", token, in, &box); err != nil {
			return nil, fmt.Errorf("create a box: %w", err)
		}
		if box.ID == "" {
			return nil, errors.New("create a box: no id in the answer")
		}
		ids[i] = box.ID
	}
	return ids, nil
}

func benchRandom(enc *base64.Encoding, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return enc.EncodeToString(b)
}

// benchGrace is how long requests in flight at the end of the window may
// take to finish (uncounted) before they are cut off: an append aborted
// mid-write only adds noise to the server's log.
const benchGrace = 2 * time.Second

// benchDrive runs every worker from now until the end of the measured
// window; Ctrl-C stops them at once.
func benchDrive(ctx context.Context, workers []*benchWorker, warmup, duration time.Duration) {
	start := time.Now().Add(warmup)
	end := start.Add(duration)
	ctx, cancel := context.WithDeadline(ctx, end.Add(benchGrace))
	defer cancel()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.run(ctx, start, end) })
	}
	wg.Wait()
}

// benchMaxSamples bounds the distinct failures kept for the report.
const benchMaxSamples = 5

// benchWorker owns everything its goroutine touches, so the hot loop
// takes no lock; the results are merged once every worker is done.
//
// It drives its own keep-alive connection the way wrk does: the request
// is serialised once and written as is, and net/http's ReadResponse
// parses each answer. Going through http.Client instead cost the
// generator about 38 µs of CPU per request (a read and a write goroutine
// per connection, handing each response over by channel), CPU the server
// beside it then lacks.
type benchWorker struct {
	dial    func(ctx context.Context) (net.Conn, error)
	request []byte
	conn    net.Conn
	in      *bufio.Reader
	unwatch func() bool // stops conn's watch on the run's context

	latencies    []time.Duration // of the 201s completed in the window
	errors       int             // failures completed in the window
	warmupErrors int
	samples      map[string]int // the first few distinct failures, counted
}

func newBenchWorker(dial func(context.Context) (net.Conn, error), url, token string) (*benchWorker, error) {
	body, _ := json.Marshal(map[string]any{"type": "msg.text", "content": map[string]string{
		"encrypted":  benchRandom(base64.StdEncoding, 200),
		"public_key": benchRandom(base64.RawURLEncoding, 32),
	}})
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		return nil, err
	}
	return &benchWorker{dial: dial, request: wire.Bytes(),
		latencies: make([]time.Duration, 0, 4096), samples: map[string]int{}}, nil
}

// run counts each request by when it completed: throughput is then the
// completions inside the window, whatever was in flight when it opened.
func (w *benchWorker) run(ctx context.Context, start, end time.Time) {
	defer w.hangUp()
	for {
		sent := time.Now()
		if !sent.Before(end) || ctx.Err() != nil {
			return
		}
		err := w.post(ctx)
		done := time.Now()
		switch {
		case !done.Before(end), err != nil && ctx.Err() != nil:
			return // finished after the window, or cut off by Ctrl-C
		case err != nil:
			w.fail(err, done.Before(start))
			benchPause(ctx) // a failing server answers at once: don't spin on it
		case !done.Before(start):
			w.latencies = append(w.latencies, done.Sub(sent))
		}
	}
}

// post sends one append and reads its answer to the end, so the
// connection is ready for the next; a broken or closing one is redialled.
func (w *benchWorker) post(ctx context.Context) error {
	if w.conn == nil {
		conn, err := w.dial(ctx)
		if err != nil {
			return err
		}
		w.conn, w.in = conn, bufio.NewReader(conn)
		// The connection stops waiting when the run's context ends, so
		// Ctrl-C is not held up by a silent server.
		w.unwatch = context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	}
	if _, err := w.conn.Write(w.request); err != nil {
		w.hangUp()
		return err
	}
	res, err := http.ReadResponse(w.in, nil)
	if err != nil {
		w.hangUp()
		return err
	}
	if res.StatusCode != http.StatusCreated {
		err = benchStatusError(res)
	} else if _, err = io.Copy(io.Discard, res.Body); err != nil {
		w.hangUp()
		return err
	}
	res.Body.Close()
	if res.Close {
		w.hangUp()
	}
	return err
}

func (w *benchWorker) hangUp() {
	if w.conn != nil {
		w.unwatch()
		w.conn.Close()
		w.conn, w.in, w.unwatch = nil, nil, nil
	}
}

func benchStatusError(res *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(res.Body, 200))
	io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20)) // keep the connection if cheap
	return fmt.Errorf("HTTP %d: %s", res.StatusCode, bytes.TrimSpace(b))
}

func (w *benchWorker) fail(err error, warm bool) {
	if warm {
		w.warmupErrors++
	} else {
		w.errors++
	}
	msg := err.Error()
	if _, seen := w.samples[msg]; seen || len(w.samples) < benchMaxSamples {
		w.samples[msg]++
	}
}

func benchPause(ctx context.Context) {
	t := time.NewTimer(10 * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// benchResult is the report; its JSON is what BENCHMARKS.md is built from.
type benchResult struct {
	Server          string  `json:"server"`
	Connections     int     `json:"connections"`
	Boxes           int     `json:"boxes"`
	WarmupSeconds   float64 `json:"warmup_seconds"`
	DurationSeconds float64 `json:"duration_seconds"`
	Events          int     `json:"events"`
	Errors          int     `json:"errors"`
	WarmupErrors    int     `json:"warmup_errors"`
	EventsPerSecond float64 `json:"events_per_second"`
	P50             float64 `json:"p50_ms"`
	P90             float64 `json:"p90_ms"`
	P99             float64 `json:"p99_ms"`
	Max             float64 `json:"max_ms"`
	// ConnsOpened above Connections means the server closed keep-alive
	// connections and some latencies include a new TCP handshake.
	ConnsOpened int `json:"connections_opened"`

	warmup, duration time.Duration // as given: float seconds print badly
	samples          map[string]int
}

func mergeBench(cfg benchConfig, workers []*benchWorker) *benchResult {
	r := &benchResult{Server: cfg.Server, Connections: cfg.Conns, Boxes: cfg.Boxes,
		WarmupSeconds: cfg.Warmup.Seconds(), DurationSeconds: cfg.Duration.Seconds(),
		warmup: cfg.Warmup, duration: cfg.Duration, samples: map[string]int{}}
	var all []time.Duration
	for _, w := range workers {
		all = append(all, w.latencies...)
		r.Errors += w.errors
		r.WarmupErrors += w.warmupErrors
		for msg, n := range w.samples {
			r.samples[msg] += n
		}
	}
	slices.Sort(all)
	r.Events = len(all)
	r.EventsPerSecond = math.Round(float64(r.Events)/cfg.Duration.Seconds()*10) / 10
	r.P50, r.P90, r.P99 = benchPercentile(all, 0.50), benchPercentile(all, 0.90), benchPercentile(all, 0.99)
	r.Max = benchPercentile(all, 1)
	return r
}

// benchPercentile is the nearest-rank percentile of sorted, in milliseconds.
func benchPercentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := max(int(math.Ceil(p*float64(len(sorted))))-1, 0)
	ms := float64(sorted[i]) / float64(time.Millisecond)
	return math.Round(ms*1000) / 1000
}

func (r *benchResult) print(stdout, stderr io.Writer, asJSON bool) {
	r.printSamples(stderr)
	if asJSON {
		b, _ := json.Marshal(r)
		fmt.Fprintf(stdout, "%s\n", b)
		return
	}
	fmt.Fprintf(stdout, "boxwire bench append: server %s, %d connections, %s (after %s warm-up), %d box(es)\n",
		r.Server, r.Connections, r.duration, r.warmup, r.Boxes)
	fmt.Fprintf(stdout, "events:     %d acknowledged (201), %d errors\n", r.Events, r.Errors)
	fmt.Fprintf(stdout, "throughput: %.0f events/s\n", r.EventsPerSecond)
	fmt.Fprintf(stdout, "latency:    p50 %s  p90 %s  p99 %s  max %s\n", benchMs(r.P50), benchMs(r.P90), benchMs(r.P99), benchMs(r.Max))
}

func (r *benchResult) printSamples(stderr io.Writer) {
	if r.WarmupErrors > 0 {
		fmt.Fprintf(stderr, "warm-up: %d errors\n", r.WarmupErrors)
	}
	if r.ConnsOpened > r.Connections {
		fmt.Fprintf(stderr, "note: %d connections opened for %d workers: the server closed some\n", r.ConnsOpened, r.Connections)
	}
	type sample struct {
		msg string
		n   int
	}
	var list []sample
	for msg, n := range r.samples {
		list = append(list, sample{msg, n})
	}
	slices.SortFunc(list, func(a, b sample) int { return cmp.Or(b.n-a.n, strings.Compare(a.msg, b.msg)) })
	for _, s := range list[:min(len(list), benchMaxSamples)] {
		fmt.Fprintf(stderr, "error ×%d: %s\n", s.n, s.msg)
	}
}

func benchMs(v float64) string {
	if v < 1 {
		return fmt.Sprintf("%.2fms", v)
	}
	return fmt.Sprintf("%.1fms", v)
}

// verdict fails the command unless every request was acknowledged.
func (r *benchResult) verdict() error {
	if n := r.Errors + r.WarmupErrors; n > 0 {
		return fmt.Errorf("bench: %d request(s) were not acknowledged with 201", n)
	}
	if r.Events == 0 {
		return errors.New("bench: no event was acknowledged in the measured window")
	}
	return nil
}
