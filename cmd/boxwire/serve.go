package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	acmeproto "golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/boxwire/boxwire/internal/api"
	boxesapi "github.com/boxwire/boxwire/internal/api/boxes"
	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/blob"
	"github.com/boxwire/boxwire/internal/boxservice"
	"github.com/boxwire/boxwire/internal/broker"
	"github.com/boxwire/boxwire/internal/broker/natsbroker"
	"github.com/boxwire/boxwire/internal/cmdline"
	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/msgservice"
	"github.com/boxwire/boxwire/internal/netpoll"
	"github.com/boxwire/boxwire/internal/realtime"
	"github.com/boxwire/boxwire/internal/smtpmail"
	"github.com/boxwire/boxwire/internal/store"
	"github.com/boxwire/boxwire/internal/webhook"
)

// Server is a running Boxwire: the wiring of every part, by hand.
type Server struct {
	Config Config
	Store  *store.Store
	Auth   *auth.Service
	// Verifier proves identities' e-mail addresses with codes.
	Verifier *auth.Verifier
	Boxes    *boxservice.Service
	// MediaBlobs is the file store sealed at rest with a key derived from
	// the operator's: for files the server holds in the clear, such as
	// the messaging channels' media. Box files, which clients encrypt,
	// are stored as they come (docs/decisions.md, "Files at rest").
	MediaBlobs boxservice.Blobs
	Broker     broker.Broker
	Hub        *realtime.Hub
	// StreamQuota counts each identity's live streams on this node.
	StreamQuota *realtime.Quota
	Log         *slog.Logger
	// Business is the messaging service; Webhooks deliver its changes.
	Business *msgservice.Service
	Webhooks *webhook.Dispatcher

	counters    *outcomeCounters
	stopWorkers context.CancelFunc // the sender and the webhook dispatcher
	stopSweep   context.CancelFunc // the sweep of orphan files
	workers     sync.WaitGroup

	stopHub       context.CancelFunc
	hubDone       chan error
	shutdown      context.Context // ends when Close begins: live streams end first
	startShutdown context.CancelFunc
	streams       sync.WaitGroup // WebSockets, which outlive their requests
	poller        *netpoll.Poller
	closeOnce     sync.Once
	closeErr      error

	http     *http.Server
	debug    *http.Server // pprof, only with --debug-addr
	metrics  *http.Server // /metrics, only with --metrics-addr
	metricsL net.Listener
	listener net.Listener
	served   chan error
}

// Start opens the store, builds the handler and starts listening.
func Start(ctx context.Context, cfg Config, logOut io.Writer) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	level, _ := logLevel(cfg.LogLevel) // Validate checked it
	s := &Server{Config: cfg, Log: slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: level})), served: make(chan error, 1)}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var err error
	if cfg.NATS != "" {
		s.Broker, err = natsbroker.Open(cfg.NATS, natsbroker.Options{Logger: s.Log})
		if err != nil {
			return nil, err
		}
	} else {
		s.Broker = broker.NewLocal()
	}
	// The hub needs the store, and the store's commits go to the hub: the
	// few commits of start-up, before the hub exists, it reads anyway.
	var hub atomic.Pointer[realtime.Hub]
	s.Store, err = cfg.Open(ctx, store.Options{
		Now:     cfg.Now,
		Metrics: store.NewMetrics(reg),
		Committed: func(es []journal.Entry) {
			if h := hub.Load(); h != nil {
				h.Committed(es)
			}
		},
		Publish: func(ctx context.Context, ns []journal.Notice) {
			if err := s.Broker.Publish(ctx, ns); err != nil {
				s.Log.Warn("publish notices", "error", err) // readers catch up by position
			}
		},
	})
	if err != nil {
		s.Broker.Close()
		return nil, err
	}
	s.counters = newOutcomeCounters(reg)
	s.Auth, err = auth.New(ctx, s.Store, auth.Config{Now: cfg.Now, AccessTTL: cfg.AccessTTL, OnLoginFailure: s.counters.login})
	if err != nil {
		s.Store.Close()
		return nil, err
	}
	s.Verifier = &auth.Verifier{Store: s.Store, Log: s.Log}
	if cfg.SMTPURL != "" {
		s.Verifier.Mail, _ = smtpmail.Parse(cfg.SMTPURL) // Validate checked it
	}
	blobs, err := openBlobs(ctx, cfg)
	if err != nil {
		s.Store.Close()
		return nil, err
	}
	rawMedia, err := openMediaBlobs(ctx, cfg, blobs)
	if err != nil {
		s.Store.Close()
		return nil, err
	}
	if cfg.NATS != "" && cfg.Blobs == "" {
		// Events reach every node through the broker; files do not: one
		// uploaded here is a 404 on the other nodes.
		s.Log.Warn("several nodes need a shared blob store: files uploaded to this node stay in its data directory; set --blobs s3://…",
			"blobs", filepath.Join(cfg.Data, "files"))
	}
	if s.MediaBlobs, err = sealBlobs(rawMedia, s.Store.SecretKey()); err != nil {
		s.Store.Close()
		return nil, err
	}
	selfOrg, err := selfOrgID(ctx, s.Store, cfg.SelfOrgID)
	if err != nil {
		s.Store.Close()
		return nil, err
	}
	s.Boxes = &boxservice.Service{Store: s.Store, Blobs: blobs, MaxFileSize: cfg.MaxFileSize, SelfOrgID: selfOrg}
	s.Hub = realtime.NewHub(s.Store, s.Broker)
	hub.Store(s.Hub)
	s.Hub.OnError = func(err error) { s.Log.Error("realtime hub: reading the journal failed; retrying", "error", err) }
	s.Hub.OnEntry = func(e journal.Entry) {
		s.Boxes.NoteEntry(e)
		if id, ok := realtime.Revokes(&e); ok {
			s.Auth.Forget(id) // a revocation made on another node counts here at once
		}
	}
	s.Boxes.UseHubPosition(s.Hub.Head)
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "boxwire_realtime_streams",
		Help: "Live streams (WebSockets, SSE, waiting long-polls) on this node."}, func() float64 { return float64(s.Hub.Connections()) }))
	var hubCtx context.Context
	hubCtx, s.stopHub = context.WithCancel(context.WithoutCancel(ctx))
	s.hubDone = make(chan error, 1)
	go func() { s.hubDone <- s.Hub.Run(hubCtx) }()
	s.shutdown, s.startShutdown = context.WithCancel(context.WithoutCancel(ctx))
	if s.poller, err = netpoll.New(); err == nil {
		if s.listener, err = net.Listen("tcp", cfg.Addr); err != nil {
			s.poller.Close()
			err = addrInUse(err, cfg.Addr)
		}
	}
	if err == nil {
		err = s.serveTLS()
	}
	if err == nil && cfg.MetricsAddr != "" {
		if s.metricsL, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			s.listener.Close()
			s.poller.Close()
			err = fmt.Errorf("--metrics-addr: %w", err)
		}
	}
	if err != nil {
		s.stopHub()
		<-s.hubDone
		s.Store.Close()
		s.Broker.Close()
		return nil, err
	}
	s.StreamQuota = &realtime.Quota{Max: cfg.MaxStreamsPerIdentity}
	s.registerLiveMetrics(reg)
	var sweepCtx context.Context
	sweepCtx, s.stopSweep = context.WithCancel(context.WithoutCancel(ctx))
	s.background(sweepCtx, func(ctx context.Context) { s.sweepBlobs(ctx, "files", blobs) })
	if m, ok := rawMedia.(blob.Sweepable); ok {
		s.background(sweepCtx, func(ctx context.Context) { s.sweepBlobs(ctx, "media", m) })
	}
	if s.Config.PublicURL == "" {
		s.Config.PublicURL = s.URL()
		if len(cfg.TLSDomains) > 0 {
			s.Config.PublicURL = "https://" + cfg.TLSDomains[0]
		}
		if host, _, _ := net.SplitHostPort(cfg.Addr); host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
			// Links and long-poll URLs would name an address no client
			// can reach.
			s.Log.Warn("--addr listens on every interface but --public-url is not set: invitation links and realtime URLs will name "+s.Config.PublicURL+"; set --public-url to the address clients use",
				"addr", cfg.Addr)
		}
	}
	routes := s.startMessaging(ctx) // after the public URL: files' fileLocation starts with it
	s.http = &http.Server{
		Handler: api.New(api.Deps{Auth: s.Auth, Verifier: s.Verifier, Store: s.Store, Boxes: s.Boxes, Log: s.Log, Registry: reg,
			Live: boxesapi.Realtime{Hub: s.Hub, Origins: cfg.Origins, Shutdown: s.shutdown,
				WriteTimeout: cfg.StreamWriteTimeout, QueueSize: cfg.StreamQueue, PingEvery: cfg.StreamPingEvery, Viewer: s.viewer,
				Streams: &s.streams, Poller: s.poller, Quota: s.StreamQuota},
			Bodies:        httpx.BodyLimits{Timeout: cfg.BodyTimeout, MinRate: cfg.UploadMinRate},
			SecureCookies: strings.HasPrefix(s.Config.PublicURL, "https://"),
			PublicURL:     s.Config.PublicURL, LongPollHold: s.Config.LongPollHold,
			Business: s.Business, RateLimit: rateLimit(cfg), Routes: routes, MetricsElsewhere: s.metricsL != nil,
			Proxies: cfg.TrustedProxies, CORSOrigins: cfg.CORSOrigins}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn),
	}
	go func() { s.served <- s.http.Serve(s.listener) }()
	if s.metricsL != nil {
		s.metrics = &http.Server{Handler: metricsHandler(reg), ReadHeaderTimeout: 10 * time.Second}
		go s.metrics.Serve(s.metricsL)
	}
	if cfg.DebugAddr != "" {
		s.debug = &http.Server{Addr: cfg.DebugAddr, Handler: debugHandler(), ReadHeaderTimeout: 10 * time.Second}
		go s.debug.ListenAndServe()
	}
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// MetricsAddr is where /metrics is served apart, "" without --metrics-addr.
func (s *Server) MetricsAddr() string {
	if s.metricsL == nil {
		return ""
	}
	return s.metricsL.Addr().String()
}

// URL is the server's base URL on its listener.
func (s *Server) URL() string {
	if s.Config.TLSCert != "" || len(s.Config.TLSDomains) > 0 {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}

// serveTLS puts TLS on the listener when --tls-cert or --tls-domain ask
// for it. HTTP/1.1 only: WebSockets need it, and an API gains little from
// HTTP/2 behind the connection reuse clients already do.
func (s *Server) serveTLS() error {
	cfg := s.Config
	var tc *tls.Config
	switch {
	case cfg.TLSCert != "":
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		tc = &tls.Config{Certificates: []tls.Certificate{cert}}
	case len(cfg.TLSDomains) > 0:
		m := &autocert.Manager{Prompt: autocert.AcceptTOS, HostPolicy: autocert.HostWhitelist(cfg.TLSDomains...),
			Cache: autocert.DirCache(filepath.Join(cfg.Data, "certs"))}
		tc = m.TLSConfig()
	default:
		return nil
	}
	tc.MinVersion = tls.VersionTLS12
	protos := []string{"http/1.1"}
	for _, p := range tc.NextProtos {
		if p == acmeproto.ALPNProto {
			protos = append(protos, p) // the TLS-ALPN-01 challenge
		}
	}
	tc.NextProtos = protos
	s.listener = tls.NewListener(s.listener, tc)
	return nil
}

// Close stops taking requests, lets the ones in flight finish (their
// writes are committed, never cut off), then closes the store.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() { s.closeErr = s.close(ctx) })
	return s.closeErr
}

func (s *Server) close(ctx context.Context) error {
	if s.debug != nil {
		s.debug.Close()
	}
	if s.metrics != nil {
		s.metrics.Close()
	}
	s.startShutdown() // WebSockets close with "going away", long-polls answer "reconnect"
	err := s.http.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.http.Close()
	}
	waitGroup(ctx, &s.streams) // their close frames are written
	s.poller.Close()
	s.stopWorkers()
	s.stopSweep()
	s.workers.Wait()
	s.stopHub()
	<-s.hubDone
	return errors.Join(err, s.Broker.Close(), s.Store.Close())
}

// waitGroup waits for wg unless ctx ends first.
func waitGroup(ctx context.Context, wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := newServeFlags(&cfg)
	if err := cmdline.Parse(fs, args, stderr); err != nil || cmdline.HelpAsked(args) {
		return err
	}
	started := time.Now()
	s, err := Start(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "boxwire %s listening on %s (public URL %s), store: %s, ready in %s\n",
		versionString(), s.URL(), s.Config.PublicURL, s.Store.Description(), time.Since(started).Round(time.Millisecond))
	// Start-up leaves 4–5 MB of garbage (the migrations, the phone-number
	// metadata parsed at init). An idle server runs no collection for two
	// minutes and then still holds part of it (35 MiB, then 33 MiB);
	// returning it now gives 31 MiB at once, near DESIGN §9's 30 MB
	// (BENCHMARKS.md, "Idle server and start-up").
	debug.FreeOSMemory()
	select {
	case <-ctx.Done():
	case err := <-s.served:
		s.Close(context.Background())
		return err
	}
	fmt.Fprintln(stdout, "boxwire: shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.Close(shutdownCtx); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "boxwire: stopped")
	return nil
}

// newServeFlags defines serve's flags into cfg.
func newServeFlags(cfg *Config) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.flags(fs)
	return fs
}

func metricsHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", api.MetricsHandler(reg))
	return mux
}

// debugHandler serves pprof on its own mux, never on the public one.
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// selfOrgID is the organisation boxes belong to when their creator names
// none (Misakey's "self org"): the configured one, or one generated on
// first start and stored, so every node and every restart agree.
func selfOrgID(ctx context.Context, s *store.Store, configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	return s.Secret(ctx, "self_org_id", func() (string, error) { return uuid.NewString(), nil })
}

// addrInUse turns "bind: address already in use" into what to do about it.
func addrInUse(err error, addr string) error {
	if !errors.Is(err, syscall.EADDRINUSE) {
		return err
	}
	return fmt.Errorf("%s is already in use, by another Boxwire or another program: "+
		"stop it, or give this one another address, e.g. --addr 127.0.0.1:8081 (or 127.0.0.1:0 for any free port; "+
		"the address is printed once the server is ready): %w", addr, err)
}
