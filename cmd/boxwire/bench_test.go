package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchFigures is the --json report, decoded strictly so that a renamed
// field breaks this test rather than the BENCHMARKS.md script.
type benchFigures struct {
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
	ConnsOpened     int     `json:"connections_opened"`
}

func benchUser(t *testing.T, ts *testServer) {
	t.Helper()
	if out, code := ts.cli(t, "user", "add", "--email", "bench@example.com", "--password", "bench-password", "--name", "Bench"); code != 0 {
		t.Fatalf("user add: %s", out)
	}
}

// A functional test of the command, not of the server's speed: it checks
// the figures are coherent and match what the server stored.
func TestBenchAppend(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	benchUser(t, ts)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := Main(ctx, []string{"bench", "append", "--server", ts.URL() + "/", "--email", "bench@example.com",
		"--password", "bench-password", "--conns", "4", "--duration", "300ms", "--warmup", "100ms", "--json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, &out, &errOut)
	}
	var f benchFigures
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("--json output: %v", err)
	}
	if f.Server != ts.URL() || f.Connections != 4 || f.Boxes != 1 || f.DurationSeconds != 0.3 || f.WarmupSeconds != 0.1 {
		t.Errorf("run described as %+v", f)
	}
	if f.Events <= 0 || f.Errors != 0 || f.WarmupErrors != 0 || f.EventsPerSecond <= 0 {
		t.Errorf("events %d, errors %d (+%d in warm-up), %v/s", f.Events, f.Errors, f.WarmupErrors, f.EventsPerSecond)
	}
	if !(f.P50 > 0 && f.P50 <= f.P90 && f.P90 <= f.P99 && f.P99 <= f.Max) {
		t.Errorf("latencies p50 %v p90 %v p99 %v max %v are not ordered", f.P50, f.P90, f.P99, f.Max)
	}
	if f.ConnsOpened < 1 || f.ConnsOpened > 4 {
		t.Errorf("%d connections opened for 4 workers: keep-alive is not reused", f.ConnsOpened)
	}
	if stored := benchStored(t, ts); stored < f.Events {
		t.Errorf("the box holds %d events, fewer than the %d acknowledged", stored, f.Events)
	}
}

// benchStored counts the events of the bench user's only box, warm-up
// appends and the box's own creation included.
func benchStored(t *testing.T, ts *testServer) int {
	t.Helper()
	u := ts.signIn(t, "bench@example.com", "bench-password")
	r := u.do("GET", "/boxes/joined", nil)
	var boxes []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.body, &boxes); r.status != 200 || err != nil || len(boxes) != 1 {
		t.Fatalf("joined boxes: %d %s", r.status, r.body)
	}
	r = u.do("HEAD", "/boxes/"+boxes[0].ID+"/events", nil)
	n, err := strconv.Atoi(r.header.Get("X-Total-Count"))
	if r.status != 204 || err != nil {
		t.Fatalf("count events: %d %v", r.status, r.header)
	}
	return n
}

func TestBenchAppendText(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	benchUser(t, ts)
	t.Setenv("BOXWIRE_SERVER", ts.URL())
	t.Setenv("BOXWIRE_PASSWORD", "bench-password")
	var out, errOut bytes.Buffer
	code := Main(t.Context(), []string{"bench", "append", "--email", "bench@example.com",
		"--conns", "2", "--duration", "200ms", "--warmup", "0s"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, &out, &errOut)
	}
	for _, want := range []string{"server " + ts.URL() + ", 2 connections, 200ms (after 0s warm-up), 1 box(es)\n",
		"\nevents:     ", " acknowledged (201), 0 errors\n", "\nthroughput: ", "\nlatency:    p50 "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, &out)
		}
	}
}

func TestBenchAppendRefusesBadFlags(t *testing.T) {
	ok := []string{"--server", "http://127.0.0.1:1", "--email", "b@example.com", "--password", "bench-password"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench"}, "usage: boxwire bench append"},
		{[]string{"bench", "prepend"}, "usage: boxwire bench append"},
		{append([]string{"bench", "append", "--conns", "0"}, ok...), "--conns must be at least 1"},
		{append([]string{"bench", "append", "--duration", "0s"}, ok...), "--duration must be positive"},
		{append([]string{"bench", "append", "--warmup", "-1s"}, ok...), "--warmup must not be negative"},
		{append([]string{"bench", "append", "--boxes", "65"}, ok...), "--boxes must be between 1 and --conns"},
		{append(ok, "--server", "ftp://x"), `--server "ftp://x" must be an http:// or https:// URL`},
		{append(ok, "--server", "127.0.0.1:8080"), "must be an http:// or https:// URL"},
		{[]string{"bench", "append", "--server", "http://127.0.0.1:1"}, "--email and --password are required"},
		{append([]string{"bench", "append", "extra"}, ok...), "unexpected arguments"},
		{append([]string{"bench", "append", "--conns", "many"}, ok...), "invalid value"},
	} {
		if tc.args[0] != "bench" {
			tc.args = append([]string{"bench", "append"}, tc.args...)
		}
		var out bytes.Buffer
		if code := Main(t.Context(), tc.args, &out, &out); code == 0 || !strings.Contains(out.String(), tc.want) {
			t.Errorf("%q: exit %d, output %q; want non-zero and %q", tc.args, code, out.String(), tc.want)
		}
	}
}

func TestBenchAppendStopsOnCancel(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	benchUser(t, ts)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(time.Second, cancel) // in the warm-up, or still signing in: both must stop
	started := time.Now()
	var out bytes.Buffer
	code := Main(ctx, []string{"bench", "append", "--server", ts.URL(), "--email", "bench@example.com",
		"--password", "bench-password", "--conns", "2", "--duration", "1m", "--warmup", "1m"}, &out, &out)
	if code == 0 || !strings.Contains(out.String(), "interrupted") {
		t.Errorf("exit %d, output %q; want an interrupted run", code, &out)
	}
	if took := time.Since(started); took > 20*time.Second {
		t.Errorf("a cancelled run took %v to stop", took)
	}
}
