package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/cmdline"
	"github.com/boxwire/boxwire/internal/smtpmail"
)

// StoreConfig says where the data lives. It is cmdline's, shared with the
// operator's commands and the load generators, which take the same flags.
type StoreConfig = cmdline.StoreConfig

// Config is the server's configuration.
type Config struct {
	StoreConfig
	Addr      string
	PublicURL string
	// MaxFileSize bounds an encrypted file upload, in bytes.
	MaxFileSize int64
	// BodyTimeout is how long a request body may take to arrive;
	// UploadMinRate (bytes a second) lets an upload take longer as long
	// as it keeps that average (see httpx.BodyLimits).
	BodyTimeout   time.Duration
	UploadMinRate int64
	// MaxStreamsPerIdentity bounds one identity's live streams on a node
	// (WebSockets, SSE and waiting long-polls together).
	MaxStreamsPerIdentity int
	// AccessTTL is the access tokens' lifetime; live streams end with it.
	AccessTTL time.Duration
	// DebugAddr, if set, serves net/http/pprof there (keep it on loopback).
	DebugAddr string
	// MetricsAddr, if set, serves /metrics there and no longer on Addr,
	// so the metrics need not be public.
	MetricsAddr string
	// Blobs, if set, is an S3-compatible store for files
	// (s3://BUCKET?endpoint=…&region=…); empty keeps them under Data.
	Blobs string
	// MaxMediaSize caps a message's file below WhatsApp's limit for its
	// kind (0: those limits, 5 MB for images up to 100 MB for documents).
	MaxMediaSize int64
	// MediaFetchAttempts bounds the tries to fetch an incoming file (0: 8);
	// tests lower it.
	MediaFetchAttempts int
	// BlobSweepGrace is how old a file or an unfinished upload must be
	// before the sweep removes it for want of a database reference
	// (zero: 24h). It must exceed the longest upload on any node.
	BlobSweepGrace time.Duration
	// NATS, if set, carries journal notices between nodes (nats://…).
	NATS string
	// LongPollHold is how long the Box-compatible realtime URL waits
	// before answering reconnect.
	LongPollHold time.Duration
	// StreamWriteTimeout and StreamQueue tune when a live client counts as
	// too slow (zero: 10s and 256 entries), StreamPingEvery how often
	// WebSockets are pinged (zero: 25s); tests shrink them.
	StreamWriteTimeout time.Duration
	StreamQueue        int
	StreamPingEvery    time.Duration
	// Origins are the browser origins allowed to open WebSockets besides
	// the server's own (host patterns such as "app.example.com").
	Origins []string
	// Now is the clock; end-to-end tests set it. Default time.Now.
	Now func() time.Time

	// WhatsAppGraphURL is the base URL of Meta's Graph API; tests point it
	// at a local fake.
	WhatsAppGraphURL string
	// WebhookMaxFailures disables an outbound webhook after this many
	// consecutive failed deliveries (0: never).
	WebhookMaxFailures int
	// WebhookBackoff, if set, replaces the exponential retry wait of
	// outbound webhooks (tests).
	WebhookBackoff time.Duration
	// WebhookAllowPrivate lets webhooks reach private, loopback and
	// link-local targets (never cloud metadata): for targets on the
	// premises. Off, they are refused (issue 13).
	WebhookAllowPrivate bool
	// WebhookAllowCIDRs are ranges webhooks may reach whatever they are.
	WebhookAllowCIDRs []netip.Prefix
	// WebhookLookup, if set, resolves webhook targets' names instead of
	// the system resolver, at creation and at delivery (tests).
	WebhookLookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// RateLimit and RateBurst bound the messaging API's requests per user
	// and calling application (requests a second, burst); 0 disables.
	RateLimit float64
	RateBurst int
	// SMTPURL names the SMTP server that sends identifier verification
	// codes (smtp://… or smtps://…); empty: no e-mail, only the operator
	// verifies addresses.
	SMTPURL string
	// TestClock makes the messaging clock settable through
	// POST /_test/clock, to try the 24-hour session window without
	// waiting a day. Never in production.
	TestClock bool

	webhookAllowCIDRs string // --webhook-allow-cidrs, parsed by Validate
	// TrustedProxies may say who the client is in Forwarded or
	// X-Forwarded-For; nobody else's word is taken.
	TrustedProxies []netip.Prefix
	trustedProxies string // --trusted-proxies, parsed by Validate
	// SelfOrgID is the organisation id boxes get when their creator names
	// none; empty: one generated on first start and stored.
	SelfOrgID string
	// TLSCert and TLSKey serve HTTPS with the operator's certificate;
	// TLSDomains with certificates from Let's Encrypt (ACME TLS-ALPN-01),
	// cached under Data/certs.
	TLSCert, TLSKey string
	TLSDomains      []string
	// LogLevel is the least level logged: debug, info, warn or error.
	LogLevel string
	// CORSOrigins are the browser origins (https://app.example.com) whose
	// scripts may call the API with a bearer token.
	CORSOrigins []string
}

func envDuration(name string, def time.Duration) time.Duration {
	d, err := time.ParseDuration(cmdline.Env(name, ""))
	if err != nil {
		return def
	}
	return d
}

func envInt(name string, def int64) int64 {
	v, err := strconv.ParseInt(cmdline.Env(name, ""), 10, 64)
	if err != nil {
		return def
	}
	return v
}

func (c *Config) flags(fs *flag.FlagSet) {
	c.StoreConfig.Flags(fs)
	fs.StringVar(&c.Addr, "addr", cmdline.Env("ADDR", "127.0.0.1:8080"), "listen address (env BOXWIRE_ADDR)")
	fs.Int64Var(&c.MaxFileSize, "max-file-size", envInt("MAX_FILE_SIZE", 64<<20), "largest encrypted file upload, in bytes (env BOXWIRE_MAX_FILE_SIZE)")
	fs.DurationVar(&c.BodyTimeout, "body-timeout", envDuration("BODY_TIMEOUT", 30*time.Second), "how long a request body may take to arrive; slower clients get 408 (env BOXWIRE_BODY_TIMEOUT)")
	fs.Int64Var(&c.UploadMinRate, "upload-min-rate", envInt("UPLOAD_MIN_RATE", 16384), "bytes a second an upload must average after --body-timeout's grace, or 408 (env BOXWIRE_UPLOAD_MIN_RATE)")
	fs.IntVar(&c.MaxStreamsPerIdentity, "max-streams-per-identity", int(envInt("MAX_STREAMS_PER_IDENTITY", 32)), "live streams (WebSocket, SSE, long-poll together) one identity may hold open on a node; more get 429 (env BOXWIRE_MAX_STREAMS_PER_IDENTITY)")
	fs.DurationVar(&c.AccessTTL, "access-ttl", envDuration("ACCESS_TTL", 15*time.Minute), "lifetime of access tokens; live streams end when theirs expires (env BOXWIRE_ACCESS_TTL)")
	fs.StringVar(&c.DebugAddr, "debug-addr", cmdline.Env("DEBUG_ADDR", ""), "if set, serve Go's pprof profiles on this address, e.g. 127.0.0.1:6060 (env BOXWIRE_DEBUG_ADDR)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", cmdline.Env("METRICS_ADDR", ""), "if set, serve /metrics on this address only (e.g. 127.0.0.1:9090), not on --addr (env BOXWIRE_METRICS_ADDR)")
	fs.Func("ws-origins", "comma-separated browser origins (host patterns) allowed to open WebSockets; same-origin always is (env BOXWIRE_WS_ORIGINS)", func(v string) error {
		c.Origins = splitList(v)
		return nil
	})
	c.Origins = splitList(cmdline.Env("WS_ORIGINS", ""))
	fs.StringVar(&c.Blobs, "blobs", cmdline.Env("BLOBS", ""), "S3-compatible file store shared by all nodes (s3://BUCKET?endpoint=HOST:PORT&region=R, keys from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); empty for DATA/files (env BOXWIRE_BLOBS)")
	fs.Int64Var(&c.MaxMediaSize, "max-media-size", envInt("MAX_MEDIA_SIZE", 0), "largest file of a message, in bytes; 0 for WhatsApp's limits by kind (5 MB images … 100 MB documents) (env BOXWIRE_MAX_MEDIA_SIZE)")
	fs.DurationVar(&c.BlobSweepGrace, "blob-sweep-grace", envDuration("BLOB_SWEEP_GRACE", 24*time.Hour), "files and unfinished uploads that no database row refers to are removed once this old (left by a crash or a failed removal); it must exceed the longest upload on any node (env BOXWIRE_BLOB_SWEEP_GRACE)")
	fs.StringVar(&c.NATS, "nats", cmdline.Env("NATS", ""), "NATS URL (nats://host:4222) to wake the other nodes of a cluster; empty for one node (env BOXWIRE_NATS)")
	fs.DurationVar(&c.LongPollHold, "longpoll-hold", envDuration("LONGPOLL_HOLD", 50*time.Second), "how long a Box-compatible long-poll waits before answering reconnect (env BOXWIRE_LONGPOLL_HOLD)")
	fs.StringVar(&c.WhatsAppGraphURL, "whatsapp-graph-url", cmdline.Env("WHATSAPP_GRAPH_URL", "https://graph.facebook.com"), "base URL of Meta's Graph API for WhatsApp sends (env BOXWIRE_WHATSAPP_GRAPH_URL)")
	fs.IntVar(&c.WebhookMaxFailures, "webhook-max-failures", int(envInt("WEBHOOK_MAX_FAILURES", 10)), "disable an outbound webhook after this many consecutive failed deliveries, 0 never (env BOXWIRE_WEBHOOK_MAX_FAILURES)")
	fs.BoolVar(&c.WebhookAllowPrivate, "webhook-allow-private", cmdline.Env("WEBHOOK_ALLOW_PRIVATE", "") == "1", "let webhooks reach private, loopback and link-local addresses (never cloud metadata), for targets on the premises (env BOXWIRE_WEBHOOK_ALLOW_PRIVATE=1)")
	c.webhookAllowCIDRs = cmdline.Env("WEBHOOK_ALLOW_CIDRS", "")
	fs.StringVar(&c.webhookAllowCIDRs, "webhook-allow-cidrs", c.webhookAllowCIDRs, "comma-separated address ranges (10.1.0.0/16, fd00::/8, or one address) webhooks may reach even if private (env BOXWIRE_WEBHOOK_ALLOW_CIDRS)")
	c.trustedProxies = cmdline.Env("TRUSTED_PROXIES", "")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", c.trustedProxies, "comma-separated address ranges (10.0.0.0/8, or one address) of the reverse proxies in front; only their Forwarded/X-Forwarded-For name the client, for the login throttle and the log (env BOXWIRE_TRUSTED_PROXIES)")
	fs.Float64Var(&c.RateLimit, "rate-limit", float64(envInt("RATE_LIMIT", 20)), "messaging API requests a second per user and calling application, 0 for no limit (env BOXWIRE_RATE_LIMIT)")
	fs.IntVar(&c.RateBurst, "rate-burst", int(envInt("RATE_BURST", 40)), "burst allowed above --rate-limit (env BOXWIRE_RATE_BURST)")
	fs.BoolVar(&c.TestClock, "test-clock", cmdline.Env("TEST_CLOCK", "") == "1", "TESTING ONLY: let POST /_test/clock move the messaging clock (env BOXWIRE_TEST_CLOCK=1)")
	fs.StringVar(&c.SMTPURL, "smtp-url", cmdline.Env("SMTP_URL", ""), "SMTP server for e-mail verification codes: smtp://[user:password@]host[:port]?from=ADDRESS, or smtps://; empty: only the operator verifies addresses (env BOXWIRE_SMTP_URL)")
	fs.StringVar(&c.SelfOrgID, "self-org-id", cmdline.Env("SELF_ORG_ID", ""), "organisation id (a UUID) shown as owner_org_id of the boxes; empty: one generated on first start and stored (env BOXWIRE_SELF_ORG_ID)")
	fs.StringVar(&c.PublicURL, "public-url", cmdline.Env("PUBLIC_URL", ""), "URL clients reach this server at; default http://ADDR (https:// with TLS) (env BOXWIRE_PUBLIC_URL)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "serve HTTPS with this certificate (PEM, with its chain); needs --tls-key (env BOXWIRE_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "the private key of --tls-cert (PEM) (env BOXWIRE_TLS_KEY)")
	fs.Func("tls-domain", "serve HTTPS with certificates from Let's Encrypt for these comma-separated names (ACME TLS-ALPN-01: --addr must be reachable as port 443 of each name); kept in DATA/certs (env BOXWIRE_TLS_DOMAIN)", func(v string) error {
		c.TLSDomains = splitList(v)
		return nil
	})
	fs.StringVar(&c.LogLevel, "log-level", "info", "least level logged: debug (also health checks), info (requests), warn or error (env BOXWIRE_LOG_LEVEL)")
	fs.Func("cors-origins", "comma-separated browser origins (https://app.example.com) whose scripts may call the API with a bearer token; cookies are never sent cross-site (env BOXWIRE_CORS_ORIGINS)", func(v string) error {
		c.CORSOrigins = splitList(v)
		return nil
	})
}

// Validate checks the configuration and fills in derived defaults.
func (c *Config) Validate() error {
	if err := c.StoreConfig.Validate(); err != nil {
		return err
	}
	if c.Addr == "" {
		return errors.New("--addr must not be empty")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--public-url %q must be an http:// or https:// URL", c.PublicURL)
		}
		c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	}
	if c.SelfOrgID != "" {
		u, err := uuid.Parse(c.SelfOrgID)
		if err != nil {
			return fmt.Errorf("--self-org-id %q must be a UUID", c.SelfOrgID)
		}
		c.SelfOrgID = u.String() // one spelling, as stored and compared
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxFileSize == 0 {
		c.MaxFileSize = 64 << 20
	}
	if c.BlobSweepGrace == 0 {
		c.BlobSweepGrace = 24 * time.Hour
	}
	if c.BlobSweepGrace < 0 {
		return errors.New("--blob-sweep-grace must be positive")
	}
	if c.LongPollHold <= 0 {
		c.LongPollHold = 50 * time.Second
	}
	if c.MaxFileSize < 0 {
		return errors.New("--max-file-size must be positive")
	}
	if c.MaxMediaSize < 0 {
		return errors.New("--max-media-size must be 0 or positive")
	}
	if c.BodyTimeout == 0 {
		c.BodyTimeout = 30 * time.Second
	}
	if c.UploadMinRate == 0 {
		c.UploadMinRate = 16384
	}
	if c.MaxStreamsPerIdentity == 0 {
		c.MaxStreamsPerIdentity = 32
	}
	if c.AccessTTL < 0 {
		return errors.New("--access-ttl must be positive")
	}
	if c.BodyTimeout < 0 || c.UploadMinRate < 0 || c.MaxStreamsPerIdentity < 0 {
		return errors.New("--body-timeout, --upload-min-rate and --max-streams-per-identity must be positive")
	}
	if c.RateLimit < 0 || c.RateBurst < 0 {
		return errors.New("--rate-limit and --rate-burst must not be negative")
	}
	if c.RateLimit > 0 && c.RateBurst < 1 {
		c.RateBurst = 1
	}
	if c.SMTPURL != "" {
		if _, err := smtpmail.Parse(c.SMTPURL); err != nil {
			return err
		}
	}
	if err := c.parseAllowCIDRs(); err != nil {
		return err
	}
	if err := c.parseTrustedProxies(); err != nil {
		return err
	}
	if c.WhatsAppGraphURL == "" {
		c.WhatsAppGraphURL = "https://graph.facebook.com"
	}
	if _, err := logLevel(c.LogLevel); err != nil {
		return err
	}
	for _, o := range c.CORSOrigins {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("--cors-origins: %q is not an origin like https://app.example.com", o)
		}
	}
	return c.validateTLS()
}

// validateTLS checks the TLS flags go together and the files load.
func (c *Config) validateTLS() error {
	switch {
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return errors.New("--tls-cert and --tls-key go together: give both, or neither")
	case c.TLSCert != "" && len(c.TLSDomains) > 0:
		return errors.New("--tls-domain gets certificates itself: give it, or --tls-cert/--tls-key, not both")
	case c.TLSCert != "":
		if _, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey); err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
	}
	return nil
}

// logLevel parses --log-level.
func logLevel(v string) (slog.Level, error) {
	var l slog.Level
	if v == "" {
		return slog.LevelInfo, nil
	}
	if err := l.UnmarshalText([]byte(v)); err != nil {
		return l, fmt.Errorf("--log-level %q must be debug, info, warn or error", v)
	}
	return l, nil
}

// parseTrustedProxies adds the ranges of --trusted-proxies.
func (c *Config) parseTrustedProxies() error {
	for _, v := range splitList(c.trustedProxies) {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				return fmt.Errorf("--trusted-proxies: %q is not an address range like 10.0.0.0/8", v)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, p.Masked())
	}
	c.trustedProxies = ""
	return nil
}

// parseAllowCIDRs adds the ranges of --webhook-allow-cidrs; a single
// address is a range of one.
func (c *Config) parseAllowCIDRs() error {
	for _, v := range splitList(c.webhookAllowCIDRs) {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				return fmt.Errorf("--webhook-allow-cidrs: %q is not an address range like 10.1.0.0/16", v)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		c.WebhookAllowCIDRs = append(c.WebhookAllowCIDRs, p.Masked())
	}
	c.webhookAllowCIDRs = ""
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
