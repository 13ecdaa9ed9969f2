package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func (f *targetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.Kind, "target", "", "boxwire-ws, boxwire-sse, centrifugo-ws or pocketbase-sse")
	fs.StringVar(&f.URL, "url", "", "server base URL, http://127.0.0.1:PORT")
	fs.StringVar(&f.Email, "email", "", "Boxwire user / PocketBase superuser e-mail")
	fs.StringVar(&f.Password, "password", "", "its password")
	fs.StringVar(&f.APIKey, "api-key", "", "Centrifugo HTTP API key")
}

func printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Printf("%s\n", b)
	return err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// ---------------------------------------------------------------------------
// prepare: what wrk needs to post to a server: a token and a URL.

func runPrepare(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("prepare", flag.ContinueOnError)
	var f targetFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch f.Kind {
	case "boxwire":
		f.Kind = "boxwire-ws"
		t, err := newTarget(f)
		if err != nil {
			return err
		}
		b := t.(*boxwire)
		if err := b.setup(ctx); err != nil {
			return err
		}
		return printJSON(map[string]string{"authorization": "Bearer " + b.token, "path": "/boxes/" + b.box + "/events"})
	case "pocketbase":
		f.Kind = "pocketbase-sse"
		t, err := newTarget(f)
		if err != nil {
			return err
		}
		p := t.(*pocketbase)
		if err := p.setup(ctx); err != nil {
			return err
		}
		return printJSON(map[string]string{"authorization": p.token, "path": "/api/collections/" + p.collection + "/records"})
	}
	return fmt.Errorf("prepare -target %q: want boxwire or pocketbase", f.Kind)
}

// ---------------------------------------------------------------------------
// fanout

type subscriber struct {
	closer io.Closer
	n      atomic.Int64 // deliveries seen
	mu     sync.Mutex
	frames []frame
	// arena holds the frames' bytes, reserved before the measured run
	// (see reserve), so that keeping a frame allocates nothing.
	arena []byte
}

// keep records a delivery read at at. data is the reader's buffer: it is
// copied, into the arena while it has room.
func (s *subscriber) keep(at time.Time, data []byte) {
	s.mu.Lock()
	var kept []byte
	if n := len(s.arena); cap(s.arena)-n >= len(data) {
		s.arena = append(s.arena, data...)
		kept = s.arena[n:len(s.arena):len(s.arena)]
	} else {
		kept = slices.Clone(data)
	}
	s.frames = append(s.frames, frame{at, kept})
	s.mu.Unlock()
	s.n.Add(1)
}

// reserve sizes the arena for n more frames like the last one kept.
// Keeping every frame of a run used to allocate as it went: the client's
// garbage collector then ran during the measured publishes, and its mark
// assists delayed the reader goroutines (2–3 ms at p99, for every server).
func (s *subscriber) reserve(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.frames) == 0 || n <= 0 {
		return
	}
	size := len(s.frames[len(s.frames)-1].data)
	s.arena = make([]byte, 0, n*(size+size/4+64))
}

type frame struct {
	at   time.Time
	data []byte
}

func runFanout(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	var f targetFlags
	f.register(fs)
	subs := fs.Int("subscribers", 1000, "subscribers to open")
	rate := fs.Float64("rate", 20, "publishes a second, one at a time: the next starts at the next tick after the previous one's acknowledgement")
	events := fs.Int("events", 200, "messages to publish (after one warm-up message)")
	publishers := fs.Int("publishers", 1, "publishers side by side, each serial at rate/publishers: one publisher cannot offer more than one publish per acknowledgement time")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *subs < 1 || *events < 1 || *rate <= 0 || *publishers < 1 {
		return errors.New("-subscribers, -events, -rate and -publishers must be positive")
	}
	t, err := newTarget(f)
	if err != nil {
		return err
	}
	if err := t.setup(ctx); err != nil {
		return err
	}

	all := make([]*subscriber, *subs)
	defer func() {
		for _, s := range all {
			if s != nil && s.closer != nil {
				s.closer.Close()
			}
		}
	}()
	var opening sync.WaitGroup
	var failed atomic.Int64
	var firstErr atomic.Value
	sem := make(chan struct{}, 64)
	start := time.Now()
	for i := range all {
		s := &subscriber{frames: make([]frame, 0, *events+1)}
		all[i] = s
		sem <- struct{}{}
		opening.Go(func() {
			defer func() { <-sem }()
			c, err := t.subscribe(ctx, func(at time.Time, data []byte) {
				if t.isPub(data) {
					s.keep(at, data)
				}
			})
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
				return
			}
			s.mu.Lock()
			s.closer = c
			s.mu.Unlock()
		})
	}
	opening.Wait()
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d of %d subscribers failed to open: %v", n, *subs, firstErr.Load())
	}
	openSeconds := time.Since(start).Seconds()

	// Warm-up: every subscriber must receive one message before measuring.
	if _, err := t.publish(ctx, 0); err != nil {
		return fmt.Errorf("warm-up publish: %w", err)
	}
	if got := waitAll(ctx, all, 1, 30*time.Second); got < len(all) {
		return fmt.Errorf("only %d of %d subscribers received the warm-up message", got, len(all))
	}
	for _, s := range all {
		s.reserve(*events)
	}
	runtime.GC() // what setting up left behind is not collected during the run

	// The run: each publisher makes one publish at a time. Each waits for
	// the previous one's acknowledgement; a tick that passes during a
	// slow publish is dropped (and counted), so a publisher never queues:
	// the latency measured is the server's, from just before the request.
	// With several publishers, publisher p takes every publishers-th
	// message, its ticks offset by p intervals of the whole rate.
	sent := make(map[string]time.Time, *events)
	acks := make([]time.Duration, 0, *events)
	late := 0
	var mu sync.Mutex
	interval := time.Duration(float64(time.Second) / *rate)
	own := interval * time.Duration(*publishers) // each publisher's interval
	runStart := time.Now()
	publish := func(p int) error {
		start := runStart.Add(time.Duration(p) * interval)
		slot := int64(0)
		for i := 1 + p; i <= *events; i += *publishers {
			// Slots are start + k·own: the next free one after the last
			// acknowledgement (a time.Ticker would keep one missed tick
			// and fire it at once).
			slot++
			if now := time.Since(start); now >= time.Duration(slot)*own {
				slot = int64(now/own) + 1
			}
			select {
			case <-time.After(time.Until(start.Add(time.Duration(slot) * own))):
			case <-ctx.Done():
				return ctx.Err()
			}
			at := time.Now()
			key, err := t.publish(ctx, i)
			if err != nil {
				return fmt.Errorf("publish %d: %w", i, err)
			}
			ack := time.Since(at)
			mu.Lock()
			if ack > own {
				late++
			}
			acks = append(acks, ack)
			sent[key] = at
			mu.Unlock()
		}
		return nil
	}
	var publishing sync.WaitGroup
	errs := make([]error, *publishers)
	for p := range *publishers {
		publishing.Go(func() { errs[p] = publish(p) })
	}
	publishing.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}

	publishSeconds := time.Since(runStart).Seconds()
	waitAll(ctx, all, int64(1+*events), 15*time.Second)

	var lat []time.Duration
	dups := 0
	for _, s := range all {
		s.mu.Lock()
		seen := make(map[string]bool, len(s.frames))
		for _, fr := range s.frames {
			key, ok := t.keyOf(fr.data)
			if !ok {
				continue
			}
			if seen[key] {
				dups++
				continue
			}
			seen[key] = true
			if at0, ok := sent[key]; ok {
				lat = append(lat, fr.at.Sub(at0))
			}
		}
		s.mu.Unlock()
	}
	slices.Sort(lat)
	slices.Sort(acks)
	expected := *subs * *events
	return printJSON(map[string]any{
		"target": f.Kind, "subscribers": *subs, "events": *events, "rate": *rate, "publishers": *publishers,
		"open_seconds": openSeconds, "publish_seconds": publishSeconds,
		"expected": expected, "delivered": len(lat), "missing": expected - len(lat), "duplicates": dups,
		"p50_ms": ms(percentile(lat, 0.5)), "p90_ms": ms(percentile(lat, 0.9)), "p99_ms": ms(percentile(lat, 0.99)), "max_ms": ms(percentile(lat, 1)),
		"ack_p50_ms": ms(percentile(acks, 0.5)), "ack_p99_ms": ms(percentile(acks, 0.99)), "late_publishes": late,
		"publishes_per_second": float64(*events) / publishSeconds,
	})
}

// waitAll waits until every subscriber has seen n deliveries, or timeout.
func waitAll(ctx context.Context, all []*subscriber, n int64, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		ready := 0
		for _, s := range all {
			if s.n.Load() >= n {
				ready++
			}
		}
		if ready == len(all) || time.Now().After(deadline) || ctx.Err() != nil {
			return ready
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// idle: server memory per idle, subscribed connection.

// rssKiB is a process's resident set (VmRSS), in KiB.
func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS")
}

// settledRSS waits d, then reads the RSS twice a second apart and keeps
// the lower (a collection may be under way).
func settledRSS(ctx context.Context, pid int, d time.Duration) (int64, error) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	a, err := rssKiB(pid)
	if err != nil {
		return 0, err
	}
	time.Sleep(time.Second)
	b, err := rssKiB(pid)
	if err != nil {
		return 0, err
	}
	return min(a, b), nil
}

func runIdle(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("idle", flag.ContinueOnError)
	var f targetFlags
	f.register(fs)
	conns := fs.Int("conns", 10000, "idle subscribed connections to open")
	pid := fs.Int("pid", 0, "the server's process id (its /proc/PID/status is read)")
	settle := fs.Duration("settle", 5*time.Second, "wait before each reading")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pid <= 0 || *conns < 1 {
		return errors.New("-pid and -conns are required")
	}
	t, err := newTarget(f)
	if err != nil {
		return err
	}
	if err := t.setup(ctx); err != nil {
		return err
	}
	before, err := settledRSS(ctx, *pid, *settle)
	if err != nil {
		return err
	}
	closers := make([]io.Closer, *conns)
	defer func() {
		for _, c := range closers {
			if c != nil {
				c.Close()
			}
		}
	}()
	var wg sync.WaitGroup
	var failed atomic.Int64
	var firstErr atomic.Value
	sem := make(chan struct{}, 64)
	for i := range closers {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := t.subscribe(ctx, func(time.Time, []byte) {})
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
				return
			}
			closers[i] = c
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d of %d connections failed to open: %v", n, *conns, firstErr.Load())
	}
	after, err := settledRSS(ctx, *pid, *settle)
	if err != nil {
		return err
	}
	return printJSON(map[string]any{"target": f.Kind, "conns": *conns, "rss_before_kib": before, "rss_after_kib": after,
		"kib_per_conn": float64(after-before) / float64(*conns)})
}

// ---------------------------------------------------------------------------
// startup: time from exec to the first 200 on -url, then idle RSS.

func runStartup(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("startup", flag.ContinueOnError)
	u := fs.String("url", "", "health URL that answers 200 once the server is ready")
	settle := fs.Duration("settle", 3*time.Second, "time idle before reading RSS")
	logFile := fs.String("log", os.DevNull, "file for the server's output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *u == "" || fs.NArg() == 0 {
		return errors.New("usage: peerbench startup -url URL -- CMD ARGS...")
	}
	out, err := os.Create(*logFile)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}()
	var ready time.Duration
	for ready == 0 {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("%s exited before it was ready: %v (see %s)", fs.Arg(0), err, *logFile)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if time.Since(start) > 30*time.Second {
			return fmt.Errorf("%s not ready on %s after 30s (see %s)", fs.Arg(0), *u, *logFile)
		}
		if res, err := hc.Get(*u); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				ready = time.Since(start)
				break
			}
		}
		time.Sleep(time.Millisecond)
	}
	rss, err := settledRSS(ctx, cmd.Process.Pid, *settle)
	if err != nil {
		return err
	}
	return printJSON(map[string]any{"startup_ms": ms(ready), "idle_rss_mib": float64(rss) / 1024})
}
