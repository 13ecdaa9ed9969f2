package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	gws "github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/cmdline"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/netpoll"
	"github.com/boxwire/boxwire/internal/realtime"
	"github.com/boxwire/boxwire/internal/store"
	"github.com/boxwire/boxwire/internal/wsframe"
)

// The realtime benchmarks of DESIGN §9: fan-out to WebSockets, idle
// WebSockets' memory, and Box-compatible long-polls waking up. Like
// `bench append` they talk to --server only, stop by themselves, and
// print one JSON object with --json.

const benchRealtimeUsage = `       boxwire bench fanout   --server URL --email E --password P
         [--subscribers 1000] [--events 200] [--interval 20ms] [--json]
       boxwire bench idle-ws  --server URL --email E --password P
         [--connections 10000] [--settle 5s] [--json]
       boxwire bench longpoll --server URL --email E --password P --data DIR [--database URL]
         [--waiters 10000] [--rounds 3] [--settle 3s] [--per-user 32] [--boxes 1] [--repoll after-round] [--json]`

const benchFanoutUsage = `usage: boxwire bench fanout --server URL --email E --password P
         [--subscribers 1000] [--events 200] [--interval 20ms] [--json]

Signs in, creates a public box, opens --subscribers WebSockets (all as the
signed-in user), waits until every one receives a warm-up event, then posts
--events msg.text events one at a time every --interval. Each POST waits
for its 201; the next starts on the first tick after it, and ticks missed
meanwhile are skipped (and counted), never made up for in a burst. Latency
is from just before each POST to each subscriber's receipt of its
event.new frame: publish→receive, the durable write included. Every
subscriber must receive every event.`

const benchIdleUsage = `usage: boxwire bench idle-ws --server URL --email E --password P
         [--connections 10000] [--settle 5s] [--json]

Reads the server's memory from GET /metrics, opens --connections idle
WebSockets, waits --settle, reads it again (twice, 1 s apart, keeping the
lower), and reports the server's memory and goroutines per connection;
it fails unless the server counted every connection as a live stream.`

const benchLongpollUsage = `usage: boxwire bench longpoll --server URL --email E --password P --data DIR [--database URL]
         [--waiters 10000] [--rounds 3] [--settle 3s] [--per-user 32] [--repoll after-round] [--json]

The server lets one user wait on at most 32 long-polls, so this creates
bench users (bench-<i>@bench.example, password "bench-password") directly
in the server's store: --data and --database must be the server's. The
--email user creates a public box the bench users join. Each waiter takes
GET /2.0/events?stream_position=now, then waits on the realtime URL. Each
round: once every waiter's request is sent, wait --settle, post one event
in the box, and time each waiter from just before that POST to its
{"message":"new_change"}; then each waiter polls again from its new
position: once the round is over (--repoll after-round: the wake-up alone
is measured), or at once, as Box's SDKs do (--repoll immediate: the
re-polls of the first woken compete with the wake-ups still due).`

const (
	// benchDialConcurrency bounds the connections being opened at once.
	benchDialConcurrency = 64
	// benchDialTimeout bounds one TCP connect plus WebSocket handshake.
	benchDialTimeout = 10 * time.Second
	// benchFilesSpare is the file descriptors kept beyond the connections.
	benchFilesSpare = 100
	// benchBenchPassword is the password of the users longpoll creates.
	benchUsersPassword = "bench-password"
)

// benchTarget is the server and account every realtime bench signs in
// with; the flags mean what they mean for `bench append`.
type benchTarget struct {
	Server, Email, Password string
	JSON                    bool
}

func (c *benchTarget) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Server, "server", cmdline.Env("SERVER", ""), "server base URL, http:// or https:// (env BOXWIRE_SERVER)")
	fs.StringVar(&c.Email, "email", cmdline.Env("EMAIL", ""), "e-mail address to sign in with (env BOXWIRE_EMAIL)")
	fs.StringVar(&c.Password, "password", cmdline.Env("PASSWORD", ""), "password (env BOXWIRE_PASSWORD)")
	fs.BoolVar(&c.JSON, "json", false, "print the result as one JSON object")
}

// validate checks the URL and the credentials exactly as `bench append` does.
func (c *benchTarget) validate() error {
	b := benchConfig{Server: c.Server, Email: c.Email, Password: c.Password, Conns: 1, Boxes: 1, Duration: time.Second}
	if err := b.validate(); err != nil {
		return err
	}
	c.Server = b.Server
	return nil
}

// signIn signs in for a run of about run.
func (c *benchTarget) signIn(ctx context.Context, hc *http.Client, email, password string, run time.Duration) (string, error) {
	return benchSignIn(ctx, hc, c.Server, email, password, run, "the run")
}

// benchReport is a finished run: printed, then judged.
type benchReport interface {
	print(stdout, stderr io.Writer, asJSON bool)
	verdict() error
}

// benchCommand is one realtime bench's configuration.
type benchCommand interface {
	flags(fs *flag.FlagSet)
	check() error
	run(ctx context.Context) (benchReport, error)
	asJSON() bool
}

// runBenchCommand parses, validates, runs and reports, as runBench does
// for `bench append`.
func runBenchCommand(ctx context.Context, name, usage string, cmd benchCommand, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench "+name, flag.ContinueOnError)
	cmd.flags(fs)
	fs.Usage = func() { fmt.Fprintf(fs.Output(), "%s\n\nFlags:\n", usage); fs.PrintDefaults() }
	if err := cmdline.Parse(fs, args, stderr); err != nil || cmdline.HelpAsked(args) {
		return err
	}
	if err := cmd.check(); err != nil {
		return err
	}
	res, err := cmd.run(ctx)
	if ctx.Err() != nil {
		return fmt.Errorf("bench interrupted: %w", context.Cause(ctx))
	}
	if err != nil {
		return err
	}
	res.print(stdout, stderr, cmd.asJSON())
	return res.verdict()
}

func runBenchFanout(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runBenchCommand(ctx, "fanout", benchFanoutUsage, &fanoutConfig{}, args, stdout, stderr)
}

func runBenchIdleWS(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runBenchCommand(ctx, "idle-ws", benchIdleUsage, &idleConfig{}, args, stdout, stderr)
}

func runBenchLongpoll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runBenchCommand(ctx, "longpoll", benchLongpollUsage, &longpollConfig{}, args, stdout, stderr)
}

// ---------------------------------------------------------------------------
// Shared pieces.

// benchFiles raises the open-file limit as far as allowed and checks that
// it leaves room for need connections.
func benchFiles(need int) (uint64, error) {
	limit, err := benchRaiseNoFile()
	if err != nil {
		return 0, fmt.Errorf("read the open-file limit: %w", err)
	}
	if limit != 0 && limit < uint64(need+benchFilesSpare) {
		return limit, fmt.Errorf("the open-file limit (RLIMIT_NOFILE) is %d, below the %d this run needs (%d connections + %d): raise it (ulimit -n) or ask for fewer",
			limit, need+benchFilesSpare, need, benchFilesSpare)
	}
	return limit, nil
}

// benchEach runs fn(0…n-1) on at most limit goroutines; it stops handing
// out work once ctx ends.
func benchEach(ctx context.Context, n, limit int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, limit) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// benchErrors counts failures by message, keeping the first few distinct.
type benchErrors struct {
	mu sync.Mutex
	n  int
	by map[string]int
}

func (e *benchErrors) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	if e.by == nil {
		e.by = map[string]int{}
	}
	if msg := err.Error(); e.by[msg] > 0 || len(e.by) < benchMaxSamples {
		e.by[msg]++
	}
}

func (e *benchErrors) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

// most is the most frequent failure, to quote in an error.
func (e *benchErrors) most() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	best, n := "", 0
	for msg, c := range e.by {
		if c > n || c == n && msg < best {
			best, n = msg, c
		}
	}
	return best
}

// print lists the most frequent failures.
func (e *benchErrors) print(stderr io.Writer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := benchResult{samples: e.by}
	r.printSamples(stderr)
}

// benchStreamHead is the caller's stream position now (GET
// /2.0/events?stream_position=now), or, given a position, the one after
// what the caller may see past it.
func benchStreamHead(ctx context.Context, hc *http.Client, server, token, from string) (string, error) {
	var page struct {
		Next string `json:"next_stream_position"`
	}
	if err := benchRequest(ctx, hc, http.MethodGet, server+"/2.0/events?limit=500&stream_position="+url.QueryEscape(from), token, nil, &page); err != nil {
		return "", fmt.Errorf("GET /2.0/events?stream_position=%s: %w", from, err)
	}
	if _, err := strconv.ParseInt(page.Next, 10, 64); err != nil {
		return "", fmt.Errorf("GET /2.0/events: next_stream_position %q is not a position", page.Next)
	}
	return page.Next, nil
}

func benchCreatePublicBox(ctx context.Context, hc *http.Client, server, token string) (string, error) {
	var box struct {
		ID string `json:"id"`
	}
	in := map[string]string{"title": "bench", "public_key": benchRandom(base64.RawURLEncoding, 32), "access_mode": "public"}
	if err := benchCall(ctx, hc, server+"/boxes", token, in, &box); err != nil {
		return "", fmt.Errorf("create a box: %w", err)
	}
	if box.ID == "" {
		return "", errors.New("create a box: no id in the answer")
	}
	return box.ID, nil
}

// benchTextEvent is a msg.text body; the server stores it as ciphertext.
func benchTextEvent() json.RawMessage {
	b, _ := json.Marshal(map[string]any{"type": "msg.text", "content": map[string]string{
		"encrypted":  benchRandom(base64.StdEncoding, 200),
		"public_key": benchRandom(base64.RawURLEncoding, 32),
	}})
	return b
}

// benchPostEvent posts one event and returns its id.
func benchPostEvent(ctx context.Context, hc *http.Client, server, box, token string, body json.RawMessage) (string, error) {
	var ev struct {
		ID string `json:"id"`
	}
	if err := benchCall(ctx, hc, server+"/boxes/"+box+"/events", token, body, &ev); err != nil {
		return "", err
	}
	if ev.ID == "" {
		return "", errors.New("no id in the answer")
	}
	return ev.ID, nil
}

// benchWSClient opens WebSockets: every dial is a new connection, to
// --server only (no proxy from the environment).
func benchWSClient() *http.Client {
	d := &net.Dialer{Timeout: benchDialTimeout, KeepAlive: 30 * time.Second}
	return &http.Client{
		Transport: &http.Transport{Proxy: nil, DialContext: d.DialContext, TLSHandshakeTimeout: benchDialTimeout,
			DisableCompression: true, MaxIdleConnsPerHost: -1},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// benchDialWS opens the identity's WebSocket, from position since if set.
func benchDialWS(ctx context.Context, hc *http.Client, server, identityID, token, since string) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, benchDialTimeout)
	defer cancel()
	u := "ws" + strings.TrimPrefix(server, "http") + "/box-users/" + identityID + "/ws"
	if since != "" {
		u += "?since=" + url.QueryEscape(since)
	}
	c, res, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: hc,
		HTTPHeader:      http.Header{"Authorization": {"Bearer " + token}},
		CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		if res != nil && res.StatusCode != http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("open a WebSocket: HTTP %d", res.StatusCode)
		}
		return nil, fmt.Errorf("open a WebSocket: %w", err)
	}
	c.SetReadLimit(1 << 20)
	return c, nil
}

// benchCloseWS closes connections with a close handshake, several at a
// time, then drops whatever did not answer in time.
func benchCloseWS(conns []*websocket.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	benchEach(ctx, len(conns), 256, func(i int) {
		if conns[i] != nil {
			conns[i].Close(websocket.StatusNormalClosure, "bench done")
		}
	})
	for _, c := range conns {
		if c != nil {
			c.CloseNow()
		}
	}
}

func benchSince(origin time.Time) int64 { return int64(time.Since(origin)) }

func benchSeconds(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

func benchLatencies(all []time.Duration) (p50, p90, p99, maxMs float64) {
	slices.Sort(all)
	return benchPercentile(all, 0.50), benchPercentile(all, 0.90), benchPercentile(all, 0.99), benchPercentile(all, 1)
}

// ---------------------------------------------------------------------------
// bench fanout

type fanoutConfig struct {
	benchTarget
	Subscribers, Events int
	Interval            time.Duration
}

func (c *fanoutConfig) flags(fs *flag.FlagSet) {
	c.benchTarget.flags(fs)
	fs.IntVar(&c.Subscribers, "subscribers", 1000, "WebSocket connections listening, all as the signed-in user")
	fs.IntVar(&c.Events, "events", 200, "msg.text events to post, one at a time")
	fs.DurationVar(&c.Interval, "interval", 20*time.Millisecond, "time from one post's start to the next (0: back to back)")
}

func (c *fanoutConfig) check() error {
	if err := c.benchTarget.validate(); err != nil {
		return err
	}
	switch {
	case c.Subscribers < 1:
		return errors.New("--subscribers must be at least 1")
	case c.Events < 1:
		return errors.New("--events must be at least 1")
	case c.Interval < 0:
		return errors.New("--interval must not be negative")
	}
	return nil
}

func (c *fanoutConfig) asJSON() bool { return c.JSON }

// fanoutWarmupTimeout bounds the wait for every subscriber to receive the
// warm-up event; fanoutDrain bounds the wait for the last events.
const (
	fanoutWarmupTimeout = 30 * time.Second
	fanoutDrain         = 10 * time.Second
)

// fanoutSub is one subscriber: it notes when each event.new of the box
// reaches it. A frame is stamped as it arrives and decoded after the run,
// so that the load generator spends as little as it can of the CPU it
// shares with the server while the run is measured.
type fanoutSub struct {
	conn    net.Conn
	box     string
	n       atomic.Int64 // event.new frames of the box received
	closing atomic.Bool  // the bench is closing it: errors are expected
	stop    func()       // stops the poller's watch
	inbound []byte       // a frame's beginning; the poller's alone

	mu     sync.Mutex
	frames []fanoutFrame
	err    error // why the connection ended before the bench closed it
}

type fanoutFrame struct {
	at   time.Time
	data []byte
}

// fanoutDial opens a subscriber's WebSocket. Its frames are read by one
// epoll loop for all subscribers (internal/netpoll), as wrk reads HTTP:
// the load generator must not outweigh the server it measures.
func fanoutDial(ctx context.Context, p *netpoll.Poller, server, identityID, token, since, box string) (*fanoutSub, error) {
	ctx, cancel := context.WithTimeout(ctx, benchDialTimeout)
	defer cancel()
	u := "ws" + strings.TrimPrefix(server, "http") + "/box-users/" + identityID + "/ws?since=" + url.QueryEscape(since)
	d := gws.Dialer{Header: gws.HandshakeHeaderHTTP(http.Header{"Authorization": {"Bearer " + token}})}
	conn, br, _, err := d.Dial(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("open a WebSocket: %w", err)
	}
	var inbound []byte
	if br != nil { // frames that came with the handshake
		inbound, _ = br.Peek(br.Buffered())
		inbound = bytes.Clone(inbound)
	}
	detached, err := benchDetach(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn = detached
	s := &fanoutSub{conn: conn, box: box, inbound: inbound}
	if s.stop, err = p.Watch(conn, s.onRead); err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

// onRead stamps what arrives, answers pings, and keeps the box's
// event.new frames for decoding after the run.
func (s *fanoutSub) onRead(data []byte, err error) bool {
	at := time.Now()
	if err != nil {
		s.fail(err)
		return false
	}
	s.inbound = append(s.inbound, data...)
	for {
		h, payload, n, err := wsframe.Next(s.inbound, gws.StateClientSide, 1<<20)
		if err != nil {
			s.fail(err)
			return false
		}
		if n == 0 {
			break
		}
		switch h.OpCode {
		case gws.OpPing:
			wsutil.WriteClientMessage(s.conn, gws.OpPong, payload)
		case gws.OpClose:
			code, reason := gws.ParseCloseFrameData(payload)
			s.fail(fmt.Errorf("closed by the server: %d %s", code, reason))
			return false
		case gws.OpText:
			if bytes.Contains(payload, []byte(`"type":"event.new"`)) && bytes.Contains(payload, []byte(s.box)) {
				s.mu.Lock()
				s.frames = append(s.frames, fanoutFrame{at, bytes.Clone(payload)})
				s.mu.Unlock()
				s.n.Add(1)
			}
		}
		s.inbound = s.inbound[n:]
	}
	s.inbound = append(s.inbound[:0:0], s.inbound...)
	return true
}

func (s *fanoutSub) fail(err error) {
	if s.closing.Load() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// close says goodbye and closes.
func (s *fanoutSub) close() {
	s.closing.Store(true)
	s.stop()
	s.conn.SetWriteDeadline(time.Now().Add(time.Second))
	wsutil.WriteClientMessage(s.conn, gws.OpClose, gws.NewCloseFrameBody(gws.StatusNormalClosure, "bench done"))
	s.conn.Close()
}

// received decodes the frames: when each event of the box arrived, and
// how many arrived more than once.
func (s *fanoutSub) received() (got map[string]time.Time, dups int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	got = make(map[string]time.Time, len(s.frames))
	for _, fr := range s.frames {
		var f struct {
			Type   string `json:"type"`
			Object struct {
				ID    string `json:"id"`
				BoxID string `json:"box_id"`
			} `json:"object"`
		}
		if json.Unmarshal(fr.data, &f) != nil || f.Type != "event.new" || f.Object.BoxID != s.box {
			continue
		}
		if _, seen := got[f.Object.ID]; seen {
			dups++
		} else {
			got[f.Object.ID] = fr.at
		}
	}
	return got, dups
}

type fanoutResult struct {
	Server          string  `json:"server"`
	Subscribers     int     `json:"subscribers"`
	Events          int     `json:"events"`
	IntervalMs      float64 `json:"interval_ms"`
	Posted          int     `json:"events_posted"`
	PostErrors      int     `json:"post_errors"`
	Expected        int     `json:"expected_samples"`
	Samples         int     `json:"samples"`
	Missing         int     `json:"missing"`
	Duplicates      int     `json:"duplicates"`
	Dropped         int     `json:"dropped_connections"`
	DurationSeconds float64 `json:"duration_seconds"`
	FramesPerSecond float64 `json:"frames_per_second"`
	P50             float64 `json:"p50_ms"`
	P90             float64 `json:"p90_ms"`
	P99             float64 `json:"p99_ms"`
	Max             float64 `json:"max_ms"`
	PostP50         float64 `json:"post_p50_ms"`
	PostP99         float64 `json:"post_p99_ms"`
	PostsPerSecond  float64 `json:"posts_per_second"`
	SkippedTicks    int     `json:"skipped_ticks"`
	OpenSeconds     float64 `json:"open_seconds"`
	RLimitNoFile    uint64  `json:"rlimit_nofile"`

	interval time.Duration
	errors   benchErrors
}

func (c *fanoutConfig) run(ctx context.Context) (benchReport, error) {
	res, err := benchFanout(ctx, *c)
	if err != nil {
		return nil, err
	}
	return res, nil
}

func benchFanout(ctx context.Context, cfg fanoutConfig) (*fanoutResult, error) {
	r := &fanoutResult{Server: cfg.Server, Subscribers: cfg.Subscribers, Events: cfg.Events,
		IntervalMs: float64(cfg.Interval) / float64(time.Millisecond), interval: cfg.Interval}
	var err error
	if r.RLimitNoFile, err = benchFiles(cfg.Subscribers); err != nil {
		return nil, err
	}
	hc := benchClient(4)
	defer hc.CloseIdleConnections()
	token, err := cfg.signIn(ctx, hc, cfg.Email, cfg.Password, time.Duration(cfg.Events)*cfg.Interval+2*time.Minute)
	if err != nil {
		return nil, err
	}
	me, err := cmdline.SubjectOf(token)
	if err != nil {
		return nil, err
	}
	box, err := benchCreatePublicBox(ctx, hc, cfg.Server, token)
	if err != nil {
		return nil, err
	}
	// Subscribing from the position after the box's creation replays
	// anything a connection would otherwise miss while it registers.
	head, err := benchStreamHead(ctx, hc, cfg.Server, token, "now")
	if err != nil {
		return nil, err
	}

	poller, err := netpoll.New()
	if err != nil {
		return nil, err
	}
	defer poller.Close()
	subs := make([]*fanoutSub, cfg.Subscribers)
	defer func() {
		benchEach(context.Background(), len(subs), 256, func(i int) {
			if subs[i] != nil {
				subs[i].close()
			}
		})
	}()
	var dialErrs benchErrors
	opening := time.Now()
	benchEach(ctx, cfg.Subscribers, benchDialConcurrency, func(i int) {
		s, err := fanoutDial(ctx, poller, cfg.Server, me, token, head, box)
		if err != nil {
			dialErrs.add(err)
			return
		}
		s.mu.Lock()
		s.frames = slices.Grow(s.frames, cfg.Events+1)
		s.mu.Unlock()
		subs[i] = s
	})
	r.OpenSeconds = benchSeconds(time.Since(opening))
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if n := dialErrs.count(); n > 0 {
		return nil, fmt.Errorf("%d of %d WebSockets failed to open; most often: %s", n, cfg.Subscribers, dialErrs.most())
	}

	// Warm-up: one event every subscriber must receive before measuring.
	body := benchTextEvent()
	if _, err := benchPostEvent(ctx, hc, cfg.Server, box, token, body); err != nil {
		return nil, fmt.Errorf("post the warm-up event: %w", err)
	}
	if got := fanoutWait(ctx, subs, 1, fanoutWarmupTimeout); got < len(subs) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("only %d of %d subscribers received the warm-up event within %s", got, len(subs), fanoutWarmupTimeout)
	}

	// The run: one event at a time, its send time noted just before the
	// POST. Each POST waits for its 201, and the next starts on the first
	// tick after it (fanoutPacer): ticks missed meanwhile are dropped and
	// counted, never caught up in a burst, so the latency is the server's
	// delivery, not a queue in the publisher.
	sent := make(map[string]time.Time, cfg.Events)
	acks := make([]time.Duration, 0, cfg.Events)
	start := time.Now()
	pace := fanoutPacer{start: start, interval: cfg.Interval}
	lastAck := start
	for i := range cfg.Events {
		if i > 0 && !benchSleep(ctx, time.Until(pace.next(time.Now()))) {
			return nil, ctx.Err()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		at := time.Now()
		id, err := benchPostEvent(ctx, hc, cfg.Server, box, token, body)
		lastAck = time.Now()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			r.errors.add(err)
			continue
		}
		acks = append(acks, lastAck.Sub(at))
		sent[id] = at
	}
	r.Posted, r.PostErrors, r.SkippedTicks = len(sent), r.errors.count(), pace.missed
	if d := lastAck.Sub(start).Seconds(); d > 0 {
		r.PostsPerSecond = math.Round(float64(cfg.Events)/d*10) / 10
	}
	fanoutWait(ctx, subs, int64(1+r.Posted), fanoutDrain)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	// Latency of every (subscriber × event) pair.
	r.Expected = cfg.Subscribers * r.Posted
	all := make([]time.Duration, 0, r.Expected)
	last := start
	for _, s := range subs {
		got, dups := s.received()
		for id, at0 := range sent {
			if at, ok := got[id]; ok {
				all = append(all, at.Sub(at0))
				if at.After(last) {
					last = at
				}
			}
		}
		r.Duplicates += dups
		s.mu.Lock()
		if s.err != nil {
			r.Dropped++
			r.errors.add(fmt.Errorf("connection ended: %w", s.err))
		}
		s.mu.Unlock()
	}
	r.Samples, r.Missing = len(all), r.Expected-len(all)
	r.DurationSeconds = benchSeconds(last.Sub(start))
	if d := last.Sub(start).Seconds(); d > 0 {
		r.FramesPerSecond = math.Round(float64(r.Samples)/d*10) / 10
	}
	r.P50, r.P90, r.P99, r.Max = benchLatencies(all)
	slices.Sort(acks)
	r.PostP50, r.PostP99 = benchPercentile(acks, 0.5), benchPercentile(acks, 0.99)
	return r, nil
}

// fanoutPacer schedules a serial publisher on ticks start + k·interval.
// The next publish starts on the first tick after the previous one's
// acknowledgement; the ticks that passed while it was in flight are
// missed, not made up for. (A time.Ticker keeps one missed tick, so after
// a slow POST the next went out at once, back to back.)
type fanoutPacer struct {
	start    time.Time
	interval time.Duration
	tick     int64 // the tick the last publish started on
	missed   int   // ticks that passed while a publish was in flight
}

// next is when the next publish starts, given that the previous one was
// acknowledged at now; with no interval, at once.
func (p *fanoutPacer) next(now time.Time) time.Time {
	if p.interval <= 0 {
		return now
	}
	want := p.tick + 1
	if late := now.Sub(p.start); late >= time.Duration(want)*p.interval {
		// The first tick strictly after now.
		first := int64(late/p.interval) + 1
		p.missed += int(first - want)
		want = first
	}
	p.tick = want
	return p.start.Add(time.Duration(want) * p.interval)
}

// fanoutWait waits until every subscriber has n frames of the box, or
// timeout; it returns how many have.
func fanoutWait(ctx context.Context, subs []*fanoutSub, n int64, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		ready := 0
		for _, s := range subs {
			if s.n.Load() >= n {
				ready++
			}
		}
		if ready == len(subs) || time.Now().After(deadline) || ctx.Err() != nil {
			return ready
		}
		benchPause(ctx)
	}
}

func (r *fanoutResult) print(stdout, stderr io.Writer, asJSON bool) {
	r.errors.print(stderr)
	if asJSON {
		b, _ := json.Marshal(r)
		fmt.Fprintf(stdout, "%s\n", b)
		return
	}
	fmt.Fprintf(stdout, "boxwire bench fanout: server %s, %d subscribers, %d events every %s\n",
		r.Server, r.Subscribers, r.Events, r.interval)
	fmt.Fprintf(stdout, "opened:     %d WebSockets in %.1fs (open-file limit %d)\n", r.Subscribers, r.OpenSeconds, r.RLimitNoFile)
	fmt.Fprintf(stdout, "delivered:  %d of %d (subscriber × event) samples, %d missing, %d duplicates, %d dropped connections\n",
		r.Samples, r.Expected, r.Missing, r.Duplicates, r.Dropped)
	fmt.Fprintf(stdout, "posted:     %d events, %d errors; POST p50 %s  p99 %s; %.1f posts/s, %d ticks skipped (a POST outlasted --interval)\n",
		r.Posted, r.PostErrors, benchMs(r.PostP50), benchMs(r.PostP99), r.PostsPerSecond, r.SkippedTicks)
	fmt.Fprintf(stdout, "rate:       %.0f frames/s over %.1fs\n", r.FramesPerSecond, r.DurationSeconds)
	fmt.Fprintf(stdout, "latency:    p50 %s  p90 %s  p99 %s  max %s (publish→receive)\n", benchMs(r.P50), benchMs(r.P90), benchMs(r.P99), benchMs(r.Max))
}

func (r *fanoutResult) verdict() error {
	switch {
	case r.PostErrors > 0:
		return fmt.Errorf("bench: %d of %d posts failed", r.PostErrors, r.Events)
	case r.Missing > 0 || r.Dropped > 0:
		return fmt.Errorf("bench: %d of %d (subscriber × event) samples missing, %d connections dropped", r.Missing, r.Expected, r.Dropped)
	case r.Duplicates > 0:
		return fmt.Errorf("bench: %d events delivered twice to a subscriber", r.Duplicates)
	}
	return nil
}

// ---------------------------------------------------------------------------
// bench idle-ws

type idleConfig struct {
	benchTarget
	Connections int
	Settle      time.Duration
}

func (c *idleConfig) flags(fs *flag.FlagSet) {
	c.benchTarget.flags(fs)
	fs.IntVar(&c.Connections, "connections", 10000, "idle WebSockets to open, all as the signed-in user")
	fs.DurationVar(&c.Settle, "settle", 5*time.Second, "time to wait with every connection open before reading the server's memory")
}

func (c *idleConfig) check() error {
	if err := c.benchTarget.validate(); err != nil {
		return err
	}
	switch {
	case c.Connections < 1:
		return errors.New("--connections must be at least 1")
	case c.Settle < 0:
		return errors.New("--settle must not be negative")
	}
	return nil
}

func (c *idleConfig) asJSON() bool { return c.JSON }

// benchMemory is what the server's /metrics says of its memory.
type benchMemory struct {
	RSS        int64 `json:"rss_bytes"`
	HeapInuse  int64 `json:"heap_inuse_bytes"`
	Goroutines int64 `json:"goroutines"`
	Streams    int64 `json:"streams"` // live streams the server holds
}

func (m benchMemory) lower(o benchMemory) benchMemory {
	return benchMemory{RSS: min(m.RSS, o.RSS), HeapInuse: min(m.HeapInuse, o.HeapInuse), Goroutines: min(m.Goroutines, o.Goroutines),
		Streams: min(m.Streams, o.Streams)}
}

// benchMetrics reads GET /metrics (Prometheus text format).
func benchMetrics(ctx context.Context, hc *http.Client, server string) (benchMemory, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+"/metrics", nil)
	if err != nil {
		return benchMemory{}, err
	}
	res, err := hc.Do(req)
	if err != nil {
		return benchMemory{}, fmt.Errorf("GET /metrics: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return benchMemory{}, fmt.Errorf("GET /metrics: %w", benchStatusError(res))
	}
	want := map[string]*int64{}
	var m benchMemory
	want["process_resident_memory_bytes"] = &m.RSS
	want["go_memstats_heap_inuse_bytes"] = &m.HeapInuse
	want["go_goroutines"] = &m.Goroutines
	want["boxwire_realtime_streams"] = &m.Streams
	found := map[string]bool{}
	sc := bufio.NewScanner(io.LimitReader(res.Body, 16<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		dst := want[name]
		if !ok || dst == nil {
			continue // a comment, a labelled series, or another metric
		}
		v, err := strconv.ParseFloat(strings.Fields(value)[0], 64)
		if err != nil {
			return m, fmt.Errorf("GET /metrics: %s: %w", name, err)
		}
		*dst, found[name] = int64(v), true
	}
	if err := sc.Err(); err != nil {
		return m, fmt.Errorf("GET /metrics: %w", err)
	}
	for name := range want {
		if !found[name] {
			return m, fmt.Errorf("GET /metrics: the server reports no %s", name)
		}
	}
	return m, nil
}

type idleResult struct {
	Server            string      `json:"server"`
	Connections       int         `json:"connections"`
	Opened            int         `json:"opened"`
	Failed            int         `json:"failed"`
	Dropped           int         `json:"dropped"`
	OpenSeconds       float64     `json:"open_seconds"`
	SettleSeconds     float64     `json:"settle_seconds"`
	RLimitNoFile      uint64      `json:"rlimit_nofile"`
	Before            benchMemory `json:"before"`
	After             benchMemory `json:"after"`
	RSSPerConn        float64     `json:"rss_per_conn_bytes"`
	HeapPerConn       float64     `json:"heap_inuse_per_conn_bytes"`
	GoroutinesPerConn float64     `json:"goroutines_per_conn"`

	settle time.Duration
	errors benchErrors
}

func (c *idleConfig) run(ctx context.Context) (benchReport, error) {
	res, err := benchIdleWS(ctx, *c)
	if err != nil {
		return nil, err
	}
	return res, nil
}

func benchIdleWS(ctx context.Context, cfg idleConfig) (*idleResult, error) {
	r := &idleResult{Server: cfg.Server, Connections: cfg.Connections, SettleSeconds: cfg.Settle.Seconds(), settle: cfg.Settle}
	var err error
	if r.RLimitNoFile, err = benchFiles(cfg.Connections); err != nil {
		return nil, err
	}
	hc := benchClient(2)
	defer hc.CloseIdleConnections()
	// The token is needed only to open the connections.
	token, err := cfg.signIn(ctx, hc, cfg.Email, cfg.Password, cfg.Settle+2*time.Minute)
	if err != nil {
		return nil, err
	}
	me, err := cmdline.SubjectOf(token)
	if err != nil {
		return nil, err
	}
	if r.Before, err = benchMetrics(ctx, hc, cfg.Server); err != nil {
		return nil, err
	}

	conns := make([]*websocket.Conn, cfg.Connections)
	var closing atomic.Bool
	var failed, dropped atomic.Int64
	var readers sync.WaitGroup
	defer func() {
		closing.Store(true)
		benchCloseWS(conns)
		readers.Wait()
	}()
	ws := benchWSClient()
	opening := time.Now()
	benchEach(ctx, cfg.Connections, benchDialConcurrency, func(i int) {
		c, err := benchDialWS(ctx, ws, cfg.Server, me, token, "")
		if err != nil {
			if ctx.Err() == nil {
				failed.Add(1)
				r.errors.add(err)
			}
			return
		}
		conns[i] = c
		// Reading answers the server's pings; an idle stream sends nothing else.
		readers.Go(func() {
			for {
				if _, _, err := c.Read(context.Background()); err != nil {
					if !closing.Load() {
						dropped.Add(1)
						r.errors.add(fmt.Errorf("connection ended: %w", err))
					}
					return
				}
			}
		})
	})
	r.OpenSeconds = benchSeconds(time.Since(opening))
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	r.Failed = int(failed.Load())
	r.Opened = cfg.Connections - r.Failed
	if r.Opened == 0 {
		return nil, fmt.Errorf("none of %d WebSockets opened: %s", cfg.Connections, r.errors.most())
	}

	// A stream is registered just after its handshake, once its session
	// is checked: wait until the server holds them all (on a loaded
	// machine that takes a moment), then settle.
	if err := benchAwaitStreams(ctx, hc, cfg.Server, r.Before.Streams+int64(r.Opened)); err != nil {
		return nil, err
	}
	if !benchSleep(ctx, cfg.Settle) {
		return nil, ctx.Err()
	}
	// The server's GC cannot be forced from here: of two readings a second
	// apart, the lower is the closer to live memory.
	first, err := benchMetrics(ctx, hc, cfg.Server)
	if err != nil {
		return nil, err
	}
	if !benchSleep(ctx, time.Second) {
		return nil, ctx.Err()
	}
	second, err := benchMetrics(ctx, hc, cfg.Server)
	if err != nil {
		return nil, err
	}
	r.After = first.lower(second)
	r.Dropped = int(dropped.Load())
	per := func(after, before int64) float64 {
		return math.Round(float64(after-before)/float64(r.Opened)*10) / 10
	}
	r.RSSPerConn = per(r.After.RSS, r.Before.RSS)
	r.HeapPerConn = per(r.After.HeapInuse, r.Before.HeapInuse)
	r.GoroutinesPerConn = math.Round(float64(r.After.Goroutines-r.Before.Goroutines)/float64(r.Opened)*100) / 100
	return r, nil
}

// benchAwaitStreams polls the server's metrics until it holds want live
// streams, for at most 30 s; if it never does, the run's own check of the
// streams held reports it.
func benchAwaitStreams(ctx context.Context, hc *http.Client, server string, want int64) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		m, err := benchMetrics(ctx, hc, server)
		if err != nil {
			return err
		}
		if m.Streams >= want {
			return nil
		}
		if !benchSleep(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
	}
	return nil
}

// benchSleep waits d unless ctx ends first; it reports whether it waited.
func benchSleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (r *idleResult) print(stdout, stderr io.Writer, asJSON bool) {
	r.errors.print(stderr)
	if asJSON {
		b, _ := json.Marshal(r)
		fmt.Fprintf(stdout, "%s\n", b)
		return
	}
	kib := func(b float64) string { return fmt.Sprintf("%.1f KiB", b/1024) }
	mib := func(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
	fmt.Fprintf(stdout, "boxwire bench idle-ws: server %s, %d connections, settle %s (open-file limit %d)\n",
		r.Server, r.Connections, r.settle, r.RLimitNoFile)
	fmt.Fprintf(stdout, "opened:     %d in %.1fs, %d failed, %d dropped while idle\n", r.Opened, r.OpenSeconds, r.Failed, r.Dropped)
	fmt.Fprintf(stdout, "server:     RSS %s → %s, heap in use %s → %s, goroutines %d → %d, live streams %d → %d\n",
		mib(r.Before.RSS), mib(r.After.RSS), mib(r.Before.HeapInuse), mib(r.After.HeapInuse), r.Before.Goroutines, r.After.Goroutines,
		r.Before.Streams, r.After.Streams)
	fmt.Fprintf(stdout, "per conn:   RSS %s  heap in use %s  goroutines %.2f\n", kib(r.RSSPerConn), kib(r.HeapPerConn), r.GoroutinesPerConn)
}

func (r *idleResult) verdict() error {
	if r.Failed > 0 || r.Dropped > 0 {
		return fmt.Errorf("bench: %d of %d WebSockets failed to open, %d dropped", r.Failed, r.Connections, r.Dropped)
	}
	if held := r.After.Streams - r.Before.Streams; held < int64(r.Opened) {
		return fmt.Errorf("bench: the server held %d live streams more than before, not the %d opened: the figures are not per open WebSocket", held, r.Opened)
	}
	return nil
}

// ---------------------------------------------------------------------------
// bench longpoll

type longpollConfig struct {
	benchTarget
	Store           cmdline.StoreConfig
	Waiters, Rounds int
	PerUser         int
	Boxes           int
	Settle          time.Duration
	Repoll          string
}

func (c *longpollConfig) flags(fs *flag.FlagSet) {
	c.benchTarget.flags(fs)
	c.Store.Flags(fs)
	fs.IntVar(&c.Waiters, "waiters", 10000, "concurrent long-polls")
	fs.IntVar(&c.Rounds, "rounds", 3, "wake-ups to measure: one event each")
	fs.IntVar(&c.PerUser, "per-user", realtime.DefaultStreamsPerIdentity, "long-polls per bench user (the server allows at most --max-streams-per-identity, default 32)")
	fs.IntVar(&c.Boxes, "boxes", 1, "boxes the bench users are spread over; each round's event goes to one of them and wakes its members' long-polls only (1: every event wakes every waiter)")
	fs.DurationVar(&c.Settle, "settle", 3*time.Second, "time to wait after the last long-poll was sent before posting")
	fs.StringVar(&c.Repoll, "repoll", "after-round", "when a woken waiter polls again: after-round or immediate")
}

func (c *longpollConfig) check() error {
	if err := c.benchTarget.validate(); err != nil {
		return err
	}
	if err := c.Store.Validate(); err != nil {
		return err
	}
	switch {
	case c.Waiters < 1:
		return errors.New("--waiters must be at least 1")
	case c.Rounds < 1:
		return errors.New("--rounds must be at least 1")
	case c.PerUser < 1 || c.PerUser > realtime.DefaultStreamsPerIdentity:
		return fmt.Errorf("--per-user must be between 1 and %d", realtime.DefaultStreamsPerIdentity)
	case c.Boxes < 1 || c.Boxes > (c.Waiters+c.PerUser-1)/c.PerUser:
		return errors.New("--boxes must be between 1 and the number of bench users (--waiters / --per-user)")
	case c.Settle < 0:
		return errors.New("--settle must not be negative")
	case c.Repoll != "after-round" && c.Repoll != "immediate":
		return errors.New("--repoll must be after-round or immediate")
	}
	if c.Store.Database == "" {
		// Open would create an empty database, which no server reads.
		db := filepath.Join(c.Store.Data, "boxwire.db")
		if _, err := os.Stat(db); err != nil {
			return fmt.Errorf("--data %s: no %s: pass the running server's --data (or --database)", c.Store.Data, db)
		}
	}
	return nil
}

func (c *longpollConfig) asJSON() bool { return c.JSON }

const (
	// longpollRoundTimeout bounds the wait for every waiter to wake.
	longpollRoundTimeout = 30 * time.Second
	// longpollParkTimeout bounds the wait for every waiter to be waiting.
	longpollParkTimeout = 5 * time.Minute
	// longpollRequestTimeout bounds one long-poll: more than any sane hold
	// (the server's default is 50 s; a reconnect answer is simply re-polled).
	longpollRequestTimeout = 3 * time.Minute
	// longpollSignIns is the sign-ins at once: each costs the server an
	// argon2id hash.
	longpollSignIns = 4
)

// longpollRun is the state the waiters share with the coordinator.
type longpollRun struct {
	hc     *http.Client
	server string
	origin time.Time

	round  atomic.Int64 // the round being measured, 0 between rounds
	group  atomic.Int64 // the box the round's event went to
	woke   atomic.Int64 // waiters woken in the current round
	parked atomic.Int64 // waiters with a long-poll sent and unanswered

	// With --repoll after-round, woken waiters wait for the round's gate
	// to close before polling again.
	afterRound bool
	gateMu     sync.Mutex
	gate       chan struct{}

	reconnects, throttled, unexpected atomic.Int64
	errors                            benchErrors
}

// longpollWaiter is one long-poll loop of a member of box number group;
// wake[r] is when it woke in round r+1, in nanoseconds since origin (0:
// not woken).
type longpollWaiter struct {
	token string
	group int
	wake  []atomic.Int64
}

type longpollRound struct {
	Round  int     `json:"round"`
	Woke   int     `json:"woke"`
	Of     int     `json:"of"`
	PostMs float64 `json:"post_ms"`
	P50    float64 `json:"p50_ms"`
	P90    float64 `json:"p90_ms"`
	P99    float64 `json:"p99_ms"`
	Max    float64 `json:"max_ms"`
}

type longpollResult struct {
	Server        string          `json:"server"`
	Waiters       int             `json:"waiters"`
	Users         int             `json:"users"`
	UsersCreated  int             `json:"users_created"`
	PerUser       int             `json:"per_user"`
	Boxes         int             `json:"boxes"`
	Repoll        string          `json:"repoll"`
	Rounds        int             `json:"rounds"`
	SettleSeconds float64         `json:"settle_seconds"`
	Expected      int             `json:"expected"`
	Woke          int             `json:"woke"`
	Missing       int             `json:"missing"`
	P50           float64         `json:"p50_ms"`
	P90           float64         `json:"p90_ms"`
	P99           float64         `json:"p99_ms"`
	Max           float64         `json:"max_ms"`
	PerRound      []longpollRound `json:"per_round"`
	Reconnects    int64           `json:"reconnects"`
	Throttled     int64           `json:"throttled"`
	Unexpected    int64           `json:"unexpected_wakes"`
	Errors        int             `json:"errors"`
	SetupSeconds  float64         `json:"setup_seconds"`
	ParkSeconds   float64         `json:"park_seconds"`
	RLimitNoFile  uint64          `json:"rlimit_nofile"`

	settle time.Duration
	errors *benchErrors
}

func (c *longpollConfig) run(ctx context.Context) (benchReport, error) {
	res, err := benchLongpoll(ctx, *c)
	if err != nil {
		return nil, err
	}
	return res, nil
}

func benchLongpoll(ctx context.Context, cfg longpollConfig) (*longpollResult, error) {
	setup := time.Now()
	users := (cfg.Waiters + cfg.PerUser - 1) / cfg.PerUser
	r := &longpollResult{Server: cfg.Server, Waiters: cfg.Waiters, Users: users, PerUser: cfg.PerUser, Boxes: cfg.Boxes, Repoll: cfg.Repoll, Rounds: cfg.Rounds,
		SettleSeconds: cfg.Settle.Seconds(), settle: cfg.Settle}
	var err error
	if r.RLimitNoFile, err = benchFiles(cfg.Waiters); err != nil {
		return nil, err
	}
	hc := benchClient(cfg.Waiters + benchDialConcurrency)
	defer hc.CloseIdleConnections()
	// Sign-ins cost the server an argon2id hash each; the rounds follow.
	run := time.Duration(users)*100*time.Millisecond + time.Duration(cfg.Rounds)*(cfg.Settle+5*time.Second) + 2*time.Minute
	token, err := cfg.signIn(ctx, hc, cfg.Email, cfg.Password, run)
	if err != nil {
		return nil, err
	}
	boxes := make([]string, cfg.Boxes)
	for i := range boxes {
		if boxes[i], err = benchCreatePublicBox(ctx, hc, cfg.Server, token); err != nil {
			return nil, err
		}
	}
	if r.UsersCreated, err = longpollUsers(ctx, cfg.Store, users); err != nil {
		return nil, err
	}
	tokens := make([]string, users)
	var setupErrs benchErrors
	benchEach(ctx, users, longpollSignIns, func(i int) {
		tok, err := cfg.signIn(ctx, hc, longpollEmail(i), benchUsersPassword, run)
		if err == nil {
			err = benchCall(ctx, hc, cfg.Server+"/boxes/"+boxes[i%cfg.Boxes]+"/events", tok, map[string]string{"type": "member.join"}, &struct{}{})
			if err != nil {
				err = fmt.Errorf("%s joins the box: %w", longpollEmail(i), err)
			}
		}
		if err != nil {
			setupErrs.add(err)
			return
		}
		tokens[i] = tok
	})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if n := setupErrs.count(); n > 0 {
		return nil, fmt.Errorf("%d of %d bench users could not sign in and join (is --data/--database the server's?); most often: %s",
			n, users, setupErrs.most())
	}

	lr := &longpollRun{hc: hc, server: cfg.Server, origin: time.Now(), afterRound: cfg.Repoll == "after-round"}
	r.errors = &lr.errors
	waiters := make([]*longpollWaiter, cfg.Waiters)
	for i := range waiters {
		waiters[i] = &longpollWaiter{token: tokens[i%users], group: i % users % cfg.Boxes, wake: make([]atomic.Int64, cfg.Rounds)}
	}
	waitCtx, stopWaiting := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stopWaiting()
		wg.Wait()
	}()
	// Starting is bounded: a waiter holds a slot from its first request
	// until its long-poll is sent.
	starting := make(chan struct{}, benchDialConcurrency)
	for _, w := range waiters {
		wg.Go(func() { lr.wait(waitCtx, w, starting) })
	}
	r.SetupSeconds = benchSeconds(time.Since(setup))

	var all []time.Duration
	for round := 1; round <= cfg.Rounds; round++ {
		parking := time.Now()
		if !lr.waitParked(ctx, int64(cfg.Waiters), longpollParkTimeout) {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			err := fmt.Errorf("round %d: only %d of %d long-polls waiting after %s", round, lr.parked.Load(), cfg.Waiters, longpollParkTimeout)
			if lr.errors.count() > 0 {
				err = fmt.Errorf("%w; %d errors, most often: %s", err, lr.errors.count(), lr.errors.most())
			}
			return nil, err
		}
		if round == 1 {
			r.ParkSeconds = benchSeconds(time.Since(parking))
		}
		if !benchSleep(ctx, cfg.Settle) {
			return nil, ctx.Err()
		}
		gate := make(chan struct{})
		lr.gateMu.Lock()
		lr.gate = gate
		lr.gateMu.Unlock()
		group, expected := (round-1)%cfg.Boxes, 0
		for _, w := range waiters {
			if w.group == group {
				expected++
			}
		}
		r.Expected += expected
		lr.woke.Store(0)
		lr.group.Store(int64(group))
		lr.round.Store(int64(round))
		t0 := benchSince(lr.origin)
		_, err := benchPostEvent(ctx, hc, cfg.Server, boxes[group], token, benchTextEvent())
		posted := time.Duration(benchSince(lr.origin) - t0)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("round %d: post the event: %w", round, err)
		}
		deadline := time.Now().Add(longpollRoundTimeout)
		for lr.woke.Load() < int64(expected) && time.Now().Before(deadline) && ctx.Err() == nil {
			benchPause(ctx)
		}
		lr.round.Store(0)
		close(gate)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		lat := make([]time.Duration, 0, expected)
		for _, w := range waiters {
			if at := w.wake[round-1].Load(); at != 0 && w.group == group {
				lat = append(lat, time.Duration(at-t0))
			}
		}
		all = append(all, lat...)
		pr := longpollRound{Round: round, Woke: len(lat), Of: expected, PostMs: benchPercentile([]time.Duration{posted}, 1)}
		pr.P50, pr.P90, pr.P99, pr.Max = benchLatencies(lat)
		r.PerRound = append(r.PerRound, pr)
	}
	r.Woke, r.Missing = len(all), r.Expected-len(all)
	r.P50, r.P90, r.P99, r.Max = benchLatencies(all)
	r.Reconnects, r.Throttled, r.Unexpected = lr.reconnects.Load(), lr.throttled.Load(), lr.unexpected.Load()
	r.Errors = lr.errors.count()
	return r, nil
}

func longpollEmail(i int) string { return fmt.Sprintf("bench-%d@bench.example", i) }

// longpollUsers makes sure bench users 0…n-1 exist in the store (the same
// way as `boxwire user add`), and returns how many it created.
func longpollUsers(ctx context.Context, sc cmdline.StoreConfig, n int) (int, error) {
	s, err := sc.Open(ctx, store.Options{})
	if err != nil {
		return 0, fmt.Errorf("open the store: %w", err)
	}
	defer s.Close()
	var created atomic.Int64
	var failed benchErrors
	// Each creation hashes a password (argon2id): one per core.
	benchEach(ctx, n, runtime.GOMAXPROCS(0), func(i int) {
		email := longpollEmail(i)
		if _, err := s.IdentityByIdentifier(ctx, email); err == nil {
			return // from an earlier run
		} else if errs.CodeOf(err) != errs.NotFound {
			failed.add(err)
			return
		}
		_, err := auth.CreateUser(ctx, s, auth.NewUser{Email: email, Password: benchUsersPassword, Name: fmt.Sprintf("Bench %d", i)})
		switch {
		case err == nil:
			created.Add(1)
		case errs.CodeOf(err) == errs.Conflict: // created meanwhile
		default:
			failed.add(fmt.Errorf("create %s: %w", email, err))
		}
	})
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	if failed.count() > 0 {
		return 0, fmt.Errorf("%d of %d bench users could not be created; most often: %s", failed.count(), n, failed.most())
	}
	return int(created.Load()), nil
}

// waitParked waits until n long-polls are sent and unanswered.
func (lr *longpollRun) waitParked(ctx context.Context, n int64, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for lr.parked.Load() < n {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		benchPause(ctx)
	}
	return true
}

// wait is one waiter: its position now, then long-polls until ctx ends,
// moving to the next position after each new_change.
func (lr *longpollRun) wait(ctx context.Context, w *longpollWaiter, starting chan struct{}) {
	select {
	case starting <- struct{}{}:
	case <-ctx.Done():
		return
	}
	release := sync.OnceFunc(func() { <-starting })
	defer release()
	var pos string
	for pos == "" {
		p, err := benchStreamHead(ctx, lr.hc, lr.server, w.token, "now")
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			lr.errors.add(err)
			benchSleep(ctx, time.Second)
			continue
		}
		pos = p
	}
	for ctx.Err() == nil {
		msg, at, err := lr.poll(ctx, w.token, pos, release)
		release() // every later poll reuses this one's connection
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			lr.errors.add(err)
			benchSleep(ctx, 100*time.Millisecond)
		case msg == "throttled":
			lr.throttled.Add(1)
			benchSleep(ctx, 100*time.Millisecond)
		case msg == "reconnect":
			lr.reconnects.Add(1)
		case msg == "new_change":
			if r := lr.round.Load(); r > 0 && int64(w.group) == lr.group.Load() && w.wake[r-1].CompareAndSwap(0, at) {
				if lr.afterRound {
					lr.gateMu.Lock()
					gate := lr.gate // this round's: the next opens only once every waiter is waiting again
					lr.gateMu.Unlock()
					lr.woke.Add(1)
					select {
					case <-gate:
					case <-ctx.Done():
						return
					}
				} else {
					lr.woke.Add(1)
				}
			} else {
				lr.unexpected.Add(1)
			}
			for ctx.Err() == nil {
				next, err := benchStreamHead(ctx, lr.hc, lr.server, w.token, pos)
				if err == nil {
					pos = next
					break
				}
				if ctx.Err() == nil {
					lr.errors.add(err)
					benchSleep(ctx, 100*time.Millisecond)
				}
			}
		default:
			lr.errors.add(fmt.Errorf("long-poll answered %q", msg))
			benchSleep(ctx, 100*time.Millisecond)
		}
	}
}

// poll sends one long-poll and returns its message and when it arrived;
// sent is called once the request is written. A 429 (too many waiting
// long-polls for the user) is the message "throttled".
func (lr *longpollRun) poll(ctx context.Context, token, pos string, sent func()) (string, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, longpollRequestTimeout)
	defer cancel()
	var state atomic.Int32 // 0 sending, 1 parked, 2 answered
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) {
		if state.CompareAndSwap(0, 1) {
			lr.parked.Add(1)
		}
		sent()
	}})
	defer func() {
		if state.Swap(2) == 1 {
			lr.parked.Add(-1)
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		lr.server+"/2.0/events/realtime?stream_type=all&stream_position="+url.QueryEscape(pos), nil)
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := lr.hc.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusTooManyRequests {
		io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
		return "throttled", 0, nil
	}
	if res.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("long-poll: %w", benchStatusError(res))
	}
	var body struct {
		Message string `json:"message"`
	}
	err = json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&body)
	at := benchSince(lr.origin)
	io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20)) // to EOF: the connection goes back to the pool
	if err != nil {
		return "", 0, fmt.Errorf("long-poll: %w", err)
	}
	return body.Message, at, nil
}

func (r *longpollResult) print(stdout, stderr io.Writer, asJSON bool) {
	r.errors.print(stderr)
	if asJSON {
		b, _ := json.Marshal(r)
		fmt.Fprintf(stdout, "%s\n", b)
		return
	}
	fmt.Fprintf(stdout, "boxwire bench longpoll: server %s, %d waiters as %d users (%d created) in %d boxes, %d rounds, settle %s, re-poll %s\n",
		r.Server, r.Waiters, r.Users, r.UsersCreated, r.Boxes, r.Rounds, r.settle, r.Repoll)
	fmt.Fprintf(stdout, "set-up:     %.1fs (users, sign-ins, joins), all waiting %.1fs later (open-file limit %d)\n",
		r.SetupSeconds, r.ParkSeconds, r.RLimitNoFile)
	for _, pr := range r.PerRound {
		fmt.Fprintf(stdout, "round %d:    %d of %d woke; p50 %s  p90 %s  p99 %s  max %s (POST %s)\n",
			pr.Round, pr.Woke, pr.Of, benchMs(pr.P50), benchMs(pr.P90), benchMs(pr.P99), benchMs(pr.Max), benchMs(pr.PostMs))
	}
	fmt.Fprintf(stdout, "woke:       %d of %d, %d missing; %d reconnects, %d throttled, %d unexpected wakes, %d errors\n",
		r.Woke, r.Expected, r.Missing, r.Reconnects, r.Throttled, r.Unexpected, r.Errors)
	fmt.Fprintf(stdout, "wake-up:    p50 %s  p90 %s  p99 %s  max %s (from just before the POST)\n",
		benchMs(r.P50), benchMs(r.P90), benchMs(r.P99), benchMs(r.Max))
}

func (r *longpollResult) verdict() error {
	if r.Missing > 0 {
		return fmt.Errorf("bench: %d of %d wake-ups missing", r.Missing, r.Expected)
	}
	return nil
}
