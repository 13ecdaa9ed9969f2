// Package api assembles Boxwire's HTTP handler: the operational endpoints
// and every API surface on one mux.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/cors"

	boxesapi "github.com/boxwire/boxwire/internal/api/boxes"
	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/api/messaging"
	"github.com/boxwire/boxwire/internal/api/openapi"
	"github.com/boxwire/boxwire/internal/api/stream"
	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/boxservice"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgservice"
	"github.com/boxwire/boxwire/internal/store"
	"github.com/boxwire/boxwire/internal/web"
)

// Deps is what the handler is built from.
type Deps struct {
	Auth          *auth.Service
	Verifier      *auth.Verifier
	Store         *store.Store
	Log           *slog.Logger
	Registry      *prometheus.Registry
	Boxes         *boxservice.Service
	Live          boxesapi.Realtime
	SecureCookies bool
	// PublicURL is where clients reach this server (long-poll URLs).
	PublicURL string
	// LongPollHold is how long the Box-compatible realtime URL waits.
	LongPollHold time.Duration
	Business     *msgservice.Service
	// RateLimit bounds the messaging surface per user and calling
	// application; nil for none.
	RateLimit *httpx.RateLimit
	// Bodies bound how long request bodies may take to arrive.
	Bodies httpx.BodyLimits
	// Routes are more handlers by pattern: the channels' inbound
	// callbacks, which authenticate by the channel's own means.
	Routes map[string]http.Handler
	// Proxies may say who the client is (--trusted-proxies).
	Proxies httpx.Proxies
	// MetricsElsewhere says /metrics has a listener of its own
	// (--metrics-addr), so this public handler must not serve it.
	MetricsElsewhere bool
	// CORSOrigins may call the API from their pages' scripts (--cors-origins).
	CORSOrigins []string
}

// Handler is the server's handler. Its routes are all registered
// through one httpx.Mux, which checks every route's input and lists them.
type Handler struct {
	http.Handler
	mux *httpx.Mux
}

// Routes are the patterns the handler serves ("GET /boxes/{id}", …).
func (h *Handler) Routes() []string { return h.mux.Routes() }

// New returns the server's handler.
func New(d Deps) *Handler {
	mux := httpx.NewMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpx.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := d.Store.Ping(ctx); err != nil {
			httpx.Log(ctx).Warn("store not reachable", "error", err)
			httpx.JSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "store": d.Store.Engine()})
			return
		}
		httpx.JSON(w, http.StatusOK, map[string]string{"status": "ok", "store": d.Store.Engine()})
	})
	mux.HandleFunc("GET /openapi.json", openapi.Handler)
	if !d.MetricsElsewhere {
		mux.Handle("GET /metrics", MetricsHandler(d.Registry))
	}

	(&boxesapi.Handler{Auth: d.Auth, Verifier: d.Verifier, Store: d.Store, Boxes: d.Boxes, Live: d.Live}).Register(mux.Surface(httpx.Misakey))
	msg := &messaging.Handler{Auth: d.Auth, Store: d.Store, Business: d.Business, SecureCookies: d.SecureCookies}
	if d.RateLimit != nil {
		msg.Limit = d.RateLimit.Wrap(httpx.Problem)
	}
	msg.Register(mux)
	for pattern, h := range d.Routes {
		mux.Handle(pattern, httpx.Recover(httpx.Problem, h))
	}
	(&stream.Handler{Auth: d.Auth, Store: d.Store, Hub: d.Live.Hub, PublicURL: d.PublicURL,
		Hold: d.LongPollHold, Shutdown: d.Live.Shutdown, Viewer: d.Live.Viewer, Quota: d.Live.Quota}).Register(mux.Surface(httpx.Box))

	// Anything else: a JSON 404 rather than the mux's plain text.
	notFound := func(w http.ResponseWriter, r *http.Request) {
		httpx.Problem(w, r, errs.E(errs.NotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	}
	mux.HandleFunc("/", notFound)

	// The web app: its page at "/" and its files under /app/; every API
	// route above is more specific, so it keeps precedence.
	app := web.New()
	mux.HandleFunc("GET /{$}", app.Page)
	mux.HandleFunc("GET "+web.Prefix, app.Asset(notFound))
	return &Handler{Handler: d.Proxies.Wrap(httpx.Observe(d.Log, httpx.NewMetrics(d.Registry), crossOrigin(d.CORSOrigins, d.Bodies.Wrap(app.Links(mux))))), mux: mux}
}

// crossOrigin lets the pages of the configured origins call the API from
// their scripts (rs/cors answers the preflights). It allows the bearer
// header but not credentials: cookies stay same-site, so a page elsewhere
// never acts with a signed-in browser's session. The Box-compatible
// OPTIONS /2.0/events is no preflight (it has no
// Access-Control-Request-Method) and reaches its handler.
func crossOrigin(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowedHeaders: []string{"Authorization", "Content-Type", "X-Calling-Application", "X-Request-Id"},
		ExposedHeaders: []string{"X-Request-Id", "X-Total-Count", "Retry-After", "Location"},
		MaxAge:         600,
	}).Handler(next)
}

// MetricsHandler serves the registry in Prometheus' exposition format.
func MetricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}
