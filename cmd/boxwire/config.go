package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/smtpmail"
	"github.com/boxwire/boxwire/internal/store"
	"github.com/boxwire/boxwire/internal/store/postgres"
	"github.com/boxwire/boxwire/internal/store/sqlite"
)

var errUsage = errors.New("usage")

// StoreConfig says where the data lives.
type StoreConfig struct {
	Data     string // data directory: the SQLite file, the encrypted files
	Database string // "" for SQLite in Data, or a postgres:// URL
}

// Config is the server's configuration.
type Config struct {
	StoreConfig
	Addr      string
	PublicURL string
	// MaxFileSize bounds an encrypted file upload, in bytes.
	MaxFileSize int64
	// DebugAddr, if set, serves net/http/pprof there (keep it on loopback).
	DebugAddr string
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
	// SelfOrgID is the organisation id boxes get when their creator names
	// none; empty: one generated on first start and stored.
	SelfOrgID string
}

func env(name, def string) string {
	if v, ok := os.LookupEnv("BOXWIRE_" + name); ok {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	d, err := time.ParseDuration(env(name, ""))
	if err != nil {
		return def
	}
	return d
}

func envInt(name string, def int64) int64 {
	v, err := strconv.ParseInt(env(name, ""), 10, 64)
	if err != nil {
		return def
	}
	return v
}

func (c *StoreConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Data, "data", env("DATA", "./boxwire-data"), "data directory (env BOXWIRE_DATA)")
	fs.StringVar(&c.Database, "database", env("DATABASE", ""), "empty for SQLite in the data directory, or postgres://… (env BOXWIRE_DATABASE)")
}

func (c *Config) flags(fs *flag.FlagSet) {
	c.StoreConfig.flags(fs)
	fs.StringVar(&c.Addr, "addr", env("ADDR", "127.0.0.1:8080"), "listen address (env BOXWIRE_ADDR)")
	fs.Int64Var(&c.MaxFileSize, "max-file-size", envInt("MAX_FILE_SIZE", 64<<20), "largest encrypted file upload, in bytes (env BOXWIRE_MAX_FILE_SIZE)")
	fs.StringVar(&c.DebugAddr, "debug-addr", env("DEBUG_ADDR", ""), "if set, serve Go's pprof profiles on this address, e.g. 127.0.0.1:6060 (env BOXWIRE_DEBUG_ADDR)")
	fs.Func("ws-origins", "comma-separated browser origins (host patterns) allowed to open WebSockets; same-origin always is (env BOXWIRE_WS_ORIGINS)", func(v string) error {
		c.Origins = splitList(v)
		return nil
	})
	c.Origins = splitList(env("WS_ORIGINS", ""))
	fs.StringVar(&c.NATS, "nats", env("NATS", ""), "NATS URL (nats://host:4222) to wake the other nodes of a cluster; empty for one node (env BOXWIRE_NATS)")
	fs.DurationVar(&c.LongPollHold, "longpoll-hold", envDuration("LONGPOLL_HOLD", 50*time.Second), "how long a Box-compatible long-poll waits before answering reconnect (env BOXWIRE_LONGPOLL_HOLD)")
	fs.StringVar(&c.WhatsAppGraphURL, "whatsapp-graph-url", env("WHATSAPP_GRAPH_URL", "https://graph.facebook.com"), "base URL of Meta's Graph API for WhatsApp sends (env BOXWIRE_WHATSAPP_GRAPH_URL)")
	fs.IntVar(&c.WebhookMaxFailures, "webhook-max-failures", int(envInt("WEBHOOK_MAX_FAILURES", 10)), "disable an outbound webhook after this many consecutive failed deliveries, 0 never (env BOXWIRE_WEBHOOK_MAX_FAILURES)")
	fs.Float64Var(&c.RateLimit, "rate-limit", float64(envInt("RATE_LIMIT", 20)), "messaging API requests a second per user and calling application, 0 for no limit (env BOXWIRE_RATE_LIMIT)")
	fs.IntVar(&c.RateBurst, "rate-burst", int(envInt("RATE_BURST", 40)), "burst allowed above --rate-limit (env BOXWIRE_RATE_BURST)")
	fs.BoolVar(&c.TestClock, "test-clock", env("TEST_CLOCK", "") == "1", "TESTING ONLY: let POST /_test/clock move the messaging clock (env BOXWIRE_TEST_CLOCK=1)")
	fs.StringVar(&c.SMTPURL, "smtp-url", env("SMTP_URL", ""), "SMTP server for e-mail verification codes: smtp://[user:password@]host[:port]?from=ADDRESS, or smtps://; empty: only the operator verifies addresses (env BOXWIRE_SMTP_URL)")
	fs.StringVar(&c.SelfOrgID, "self-org-id", env("SELF_ORG_ID", ""), "organisation id (a UUID) shown as owner_org_id of the boxes; empty: one generated on first start and stored (env BOXWIRE_SELF_ORG_ID)")
	fs.StringVar(&c.PublicURL, "public-url", env("PUBLIC_URL", ""), "URL clients reach this server at; default http://ADDR (env BOXWIRE_PUBLIC_URL)")
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
	if c.LongPollHold <= 0 {
		c.LongPollHold = 50 * time.Second
	}
	if c.MaxFileSize < 0 {
		return errors.New("--max-file-size must be positive")
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
	if c.WhatsAppGraphURL == "" {
		c.WhatsAppGraphURL = "https://graph.facebook.com"
	}
	return nil
}

// Validate checks the store configuration.
func (c *StoreConfig) Validate() error {
	if c.Data == "" {
		return errors.New("--data must not be empty")
	}
	if c.Database != "" && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") {
		return fmt.Errorf("--database must be empty (SQLite) or a postgres:// URL")
	}
	return nil
}

// Open opens the configured store, creating and migrating it.
func (c *StoreConfig) Open(ctx context.Context, opts store.Options) (*store.Store, error) {
	if c.Database != "" {
		return postgres.Open(ctx, c.Database, opts)
	}
	if err := os.MkdirAll(c.Data, 0o700); err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, filepath.Join(c.Data, "boxwire.db"), opts)
}

// parse parses a command's flags; -h prints them and is not an error.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %v\n", fs.Args())
		return errUsage
	}
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
