package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Functional tests of the realtime benches: small runs against the real
// server in-process, checking that every figure is coherent and nothing
// was lost. They never assert a speed.

// runBenchJSON runs a bench with --json and decodes its report strictly.
func runBenchJSON(t *testing.T, out any, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := Main(ctx, append(args, "--json"), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("%q: exit %d\nstdout: %s\nstderr: %s", args, code, &stdout, &stderr)
	}
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		t.Fatalf("--json output %q: %v", stdout.String(), err)
	}
	if dec.More() {
		t.Fatalf("--json printed more than one object: %s", &stdout)
	}
}

func ordered(t *testing.T, what string, p50, p90, p99, max float64) {
	t.Helper()
	if !(p50 > 0 && p50 <= p90 && p90 <= p99 && p99 <= max) {
		t.Errorf("%s: p50 %v p90 %v p99 %v max %v are not ordered and positive", what, p50, p90, p99, max)
	}
}

// refuses checks that `bench cmd`, with the flags ok then a case's
// arguments (the later flag wins), exits non-zero naming the problem.
func refuses(t *testing.T, cmd string, ok []string, cases map[string][]string) {
	t.Helper()
	for want, extra := range cases {
		args := append(append([]string{"bench", cmd}, ok...), extra...)
		var out bytes.Buffer
		if code := Main(t.Context(), args, &out, &out); code == 0 || !strings.Contains(out.String(), want) {
			t.Errorf("%q: exit %d, output %q; want non-zero and %q", args, code, out.String(), want)
		}
	}
}

var benchOK = []string{"--server", "http://127.0.0.1:1", "--email", "b@example.com", "--password", "bench-password"}

type fanoutFigures struct {
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
}

func TestBenchFanout(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	benchUser(t, ts)
	var f fanoutFigures
	runBenchJSON(t, &f, "bench", "fanout", "--server", ts.URL(), "--email", "bench@example.com", "--password", "bench-password",
		"--subscribers", "5", "--events", "5", "--interval", "10ms")
	if f.Server != ts.URL() || f.Subscribers != 5 || f.Events != 5 || f.IntervalMs != 10 {
		t.Errorf("run described as %+v", f)
	}
	if f.Posted != 5 || f.PostErrors != 0 || f.Expected != 25 || f.Samples != 25 || f.Missing != 0 || f.Duplicates != 0 || f.Dropped != 0 {
		t.Errorf("posted %d (%d errors), %d of %d samples, %d missing, %d duplicates, %d dropped",
			f.Posted, f.PostErrors, f.Samples, f.Expected, f.Missing, f.Duplicates, f.Dropped)
	}
	ordered(t, "latency", f.P50, f.P90, f.P99, f.Max)
	if f.FramesPerSecond <= 0 || f.DurationSeconds <= 0 || f.PostP50 <= 0 || f.PostP50 > f.PostP99 {
		t.Errorf("rate %v frames/s over %vs, POST p50 %v p99 %v", f.FramesPerSecond, f.DurationSeconds, f.PostP50, f.PostP99)
	}
	// At most one post a tick of 10 ms: 5 posts take at least 40 ms.
	if f.PostsPerSecond <= 0 || f.PostsPerSecond > 5/0.040 || f.SkippedTicks < 0 {
		t.Errorf("%v posts/s, %d ticks skipped; want at most one post per 10 ms tick", f.PostsPerSecond, f.SkippedTicks)
	}
	// Ended: every subscriber's connection is closed by the bench.
	waitFor(t, 10*time.Second, "the bench's WebSockets to close", func() bool { return ts.Hub.Connections() == 0 })
	// The box holds the warm-up and the measured events, and its creation.
	if n := benchStored(t, ts); n != 1+1+5 {
		t.Errorf("the box holds %d events, want 7", n)
	}

	// The human report says the same.
	var out bytes.Buffer
	if code := Main(t.Context(), []string{"bench", "fanout", "--server", ts.URL(), "--email", "bench@example.com",
		"--password", "bench-password", "--subscribers", "2", "--events", "2", "--interval", "0s"}, &out, &out); code != 0 {
		t.Fatalf("exit %d: %s", code, &out)
	}
	for _, want := range []string{"2 subscribers, 2 events every 0s\n", "delivered:  4 of 4 (subscriber × event) samples, 0 missing", "\nlatency:    p50 "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, &out)
		}
	}
}

func TestBenchFanoutRefusesBadFlags(t *testing.T) {
	refuses(t, "fanout", benchOK, map[string][]string{
		"--subscribers must be at least 1": {"--subscribers", "0"},
		"--events must be at least 1":      {"--events", "-3"},
		"--interval must not be negative":  {"--interval", "-1ms"},
		"must be an http:// or https://":   {"--server", "ws://127.0.0.1:1"},
		"invalid value":                    {"--events", "many"},
		"unexpected arguments":             {"extra"},
	})
	refuses(t, "fanout", nil, map[string][]string{"--email and --password are required": {"--server", "http://127.0.0.1:1"}})
	var out bytes.Buffer
	if code := Main(t.Context(), []string{"bench", "nothing"}, &out, &out); code == 0 ||
		!strings.Contains(out.String(), "bench fanout") || !strings.Contains(out.String(), "bench longpoll") {
		t.Errorf("unknown bench: exit %d, %q", code, &out)
	}
}

type idleFigures struct {
	Server        string  `json:"server"`
	Connections   int     `json:"connections"`
	Opened        int     `json:"opened"`
	Failed        int     `json:"failed"`
	Dropped       int     `json:"dropped"`
	OpenSeconds   float64 `json:"open_seconds"`
	SettleSeconds float64 `json:"settle_seconds"`
	RLimitNoFile  uint64  `json:"rlimit_nofile"`
	Before        struct {
		RSS        int64 `json:"rss_bytes"`
		HeapInuse  int64 `json:"heap_inuse_bytes"`
		Goroutines int64 `json:"goroutines"`
		Streams    int64 `json:"streams"`
	} `json:"before"`
	After struct {
		RSS        int64 `json:"rss_bytes"`
		HeapInuse  int64 `json:"heap_inuse_bytes"`
		Goroutines int64 `json:"goroutines"`
		Streams    int64 `json:"streams"`
	} `json:"after"`
	RSSPerConn        float64 `json:"rss_per_conn_bytes"`
	HeapPerConn       float64 `json:"heap_inuse_per_conn_bytes"`
	GoroutinesPerConn float64 `json:"goroutines_per_conn"`
}

func TestBenchIdleWS(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	benchUser(t, ts)
	var f idleFigures
	runBenchJSON(t, &f, "bench", "idle-ws", "--server", ts.URL(), "--email", "bench@example.com", "--password", "bench-password",
		"--connections", "20", "--settle", "200ms")
	if f.Server != ts.URL() || f.Connections != 20 || f.SettleSeconds != 0.2 {
		t.Errorf("run described as %+v", f)
	}
	if f.Opened != 20 || f.Failed != 0 || f.Dropped != 0 {
		t.Errorf("opened %d, failed %d, dropped %d", f.Opened, f.Failed, f.Dropped)
	}
	if f.RLimitNoFile < 120 {
		t.Errorf("open-file limit reported as %d", f.RLimitNoFile)
	}
	// Memory figures are whatever they are (this process holds both ends);
	// the metrics were read while the server held every connection.
	if f.Before.RSS <= 0 || f.Before.HeapInuse <= 0 || f.Before.Goroutines <= 0 || f.After.RSS <= 0 || f.After.HeapInuse <= 0 {
		t.Errorf("metrics before %+v, after %+v", f.Before, f.After)
	}
	if f.After.Streams-f.Before.Streams != 20 {
		t.Errorf("live streams %d → %d: the connections were not open when measured", f.Before.Streams, f.After.Streams)
	}
	waitFor(t, 10*time.Second, "the bench's WebSockets to close", func() bool { return ts.Hub.Connections() == 0 })
}

func TestBenchIdleWSRefusesBadFlags(t *testing.T) {
	refuses(t, "idle-ws", benchOK, map[string][]string{
		"--connections must be at least 1": {"--connections", "0"},
		"--settle must not be negative":    {"--settle", "-1s"},
		"must be an http:// or https://":   {"--server", "127.0.0.1:8080"},
	})
	refuses(t, "idle-ws", nil, map[string][]string{"--email and --password are required": {"--server", "http://127.0.0.1:1"}})
	// No server there: a clear error, not a hang.
	var out bytes.Buffer
	if code := Main(t.Context(), append([]string{"bench", "idle-ws", "--connections", "1"}, benchOK...), &out, &out); code == 0 ||
		!strings.Contains(out.String(), "sign in as b@example.com") {
		t.Errorf("no server: exit %d, %q", code, &out)
	}
}

type longpollFigures struct {
	Server        string  `json:"server"`
	Waiters       int     `json:"waiters"`
	Users         int     `json:"users"`
	UsersCreated  int     `json:"users_created"`
	PerUser       int     `json:"per_user"`
	Boxes         int     `json:"boxes"`
	Repoll        string  `json:"repoll"`
	Rounds        int     `json:"rounds"`
	SettleSeconds float64 `json:"settle_seconds"`
	Expected      int     `json:"expected"`
	Woke          int     `json:"woke"`
	Missing       int     `json:"missing"`
	P50           float64 `json:"p50_ms"`
	P90           float64 `json:"p90_ms"`
	P99           float64 `json:"p99_ms"`
	Max           float64 `json:"max_ms"`
	PerRound      []struct {
		Round  int     `json:"round"`
		Woke   int     `json:"woke"`
		Of     int     `json:"of"`
		PostMs float64 `json:"post_ms"`
		P50    float64 `json:"p50_ms"`
		P90    float64 `json:"p90_ms"`
		P99    float64 `json:"p99_ms"`
		Max    float64 `json:"max_ms"`
	} `json:"per_round"`
	Reconnects   int64   `json:"reconnects"`
	Throttled    int64   `json:"throttled"`
	Unexpected   int64   `json:"unexpected_wakes"`
	Errors       int     `json:"errors"`
	SetupSeconds float64 `json:"setup_seconds"`
	ParkSeconds  float64 `json:"park_seconds"`
	RLimitNoFile uint64  `json:"rlimit_nofile"`
}

func storeArgs(sc StoreConfig) []string {
	args := []string{"--data", sc.Data}
	if sc.Database != "" {
		args = append(args, "--database", sc.Database)
	}
	return args
}

// The server keeps its default long-poll hold (50 s): every wake-up here
// is a new_change, never a reconnect.
func TestBenchLongpoll(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	benchUser(t, ts)
	args := append([]string{"bench", "longpoll", "--server", ts.URL(), "--email", "bench@example.com", "--password", "bench-password",
		"--waiters", "5", "--rounds", "1", "--per-user", "2", "--settle", "300ms"}, storeArgs(ts.store)...)
	var f longpollFigures
	runBenchJSON(t, &f, args...)
	if f.Server != ts.URL() || f.Waiters != 5 || f.Users != 3 || f.UsersCreated != 3 || f.PerUser != 2 || f.Rounds != 1 ||
		f.SettleSeconds != 0.3 || f.Repoll != "after-round" {
		t.Errorf("run described as %+v", f)
	}
	if f.Expected != 5 || f.Woke != 5 || f.Missing != 0 || f.Errors != 0 || f.Throttled != 0 || f.Unexpected != 0 {
		t.Errorf("woke %d of %d (%d missing), %d errors, %d throttled, %d unexpected", f.Woke, f.Expected, f.Missing, f.Errors, f.Throttled, f.Unexpected)
	}
	if len(f.PerRound) != 1 || f.PerRound[0].Round != 1 || f.PerRound[0].Woke != 5 || f.PerRound[0].Of != 5 || f.PerRound[0].PostMs <= 0 {
		t.Errorf("rounds %+v", f.PerRound)
	}
	ordered(t, "wake-up", f.P50, f.P90, f.P99, f.Max)
	// The bench users exist, with the documented password.
	for _, email := range []string{"bench-0@bench.example", "bench-2@bench.example"} {
		ts.signIn(t, email, "bench-password")
	}

	// A second run reuses them, over two rounds, re-polling at once.
	args = append([]string{"bench", "longpoll", "--server", ts.URL(), "--email", "bench@example.com", "--password", "bench-password",
		"--waiters", "5", "--rounds", "2", "--per-user", "2", "--settle", "200ms", "--repoll", "immediate"}, storeArgs(ts.store)...)
	f = longpollFigures{}
	runBenchJSON(t, &f, args...)
	if f.Users != 3 || f.UsersCreated != 0 || f.Repoll != "immediate" || f.Expected != 10 || f.Woke != 10 || f.Missing != 0 ||
		f.Unexpected != 0 || len(f.PerRound) != 2 {
		t.Errorf("second run: %+v", f)
	}

	// Spread over two boxes, each round wakes one box's members only.
	// Waiter i is user i mod 3, in box (i mod 3) mod 2: waiters 0, 2 and 3
	// in box 0, waiters 1 and 4 in box 1.
	args = append([]string{"bench", "longpoll", "--server", ts.URL(), "--email", "bench@example.com", "--password", "bench-password",
		"--waiters", "5", "--rounds", "2", "--per-user", "2", "--boxes", "2", "--settle", "200ms"}, storeArgs(ts.store)...)
	f = longpollFigures{}
	runBenchJSON(t, &f, args...)
	if f.Boxes != 2 || f.Expected != 3+2 || f.Woke != 5 || f.Missing != 0 || f.Unexpected != 0 || len(f.PerRound) != 2 ||
		f.PerRound[0].Of != 3 || f.PerRound[0].Woke != 3 || f.PerRound[1].Of != 2 || f.PerRound[1].Woke != 2 {
		t.Errorf("two boxes: %+v", f)
	}
}

func TestBenchLongpollRefusesBadFlags(t *testing.T) {
	data := t.TempDir()
	ok := append(append([]string(nil), benchOK...), "--data", data)
	refuses(t, "longpoll", ok, map[string][]string{
		"--waiters must be at least 1":     {"--waiters", "0"},
		"--rounds must be at least 1":      {"--rounds", "0"},
		"--per-user must be between 1 and": {"--per-user", "33"},
		"--boxes must be between 1 and":    {"--waiters", "4", "--per-user", "2", "--boxes", "3"},
		"--settle must not be negative":    {"--settle", "-2s"},
		"--repoll must be after-round or":  {"--repoll", "later"},
		"--database must be empty":         {"--database", "mysql://x"},
		"must be an http:// or https://":   {"--server", "ftp://x"},
	})
	// A data directory without the server's database is refused up front,
	// rather than filled with users no server will see.
	var out bytes.Buffer
	if code := Main(t.Context(), append([]string{"bench", "longpoll"}, ok...), &out, &out); code == 0 ||
		!strings.Contains(out.String(), "pass the running server's --data") {
		t.Errorf("empty --data: exit %d, %q", code, &out)
	}
}

func TestBenchLongpollStopsOnCancel(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	benchUser(t, ts)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	args := append([]string{"bench", "longpoll", "--server", ts.URL(), "--email", "bench@example.com", "--password", "bench-password",
		"--waiters", "3", "--rounds", "1", "--settle", "1m"}, storeArgs(ts.store)...)
	time.AfterFunc(2*time.Second, cancel) // waiters parked, or still setting up: both must stop
	started := time.Now()
	var out bytes.Buffer
	code := Main(ctx, args, &out, &out)
	if code == 0 || !strings.Contains(out.String(), "interrupted") {
		t.Errorf("exit %d, output %q; want an interrupted run", code, &out)
	}
	if took := time.Since(started); took > 20*time.Second {
		t.Errorf("a cancelled run took %v to stop", took)
	}
}
