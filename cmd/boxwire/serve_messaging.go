package main

import (
	"context"
	"net/http"
	"time"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/channel"
	"github.com/boxwire/boxwire/internal/channel/sandbox"
	"github.com/boxwire/boxwire/internal/channel/whatsapp"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/msgrules"
	"github.com/boxwire/boxwire/internal/msgservice"
	"github.com/boxwire/boxwire/internal/netguard"
	"github.com/boxwire/boxwire/internal/realtime"
	"github.com/boxwire/boxwire/internal/webhook"
)

// startMessaging builds the messaging service with its channels, starts
// its workers (the channel sender and the webhook dispatcher) and returns
// the routes it adds: the channels' callbacks and the test clock.
func (s *Server) startMessaging(ctx context.Context) map[string]http.Handler {
	cfg := s.Config
	clock := cfg.Now
	routes := map[string]http.Handler{}
	if cfg.TestClock {
		tc := &movableClock{base: cfg.Now}
		clock = tc.Now
		routes["POST /_test/clock"] = tc
		s.Log.Warn("--test-clock is on: anyone can move the messaging clock with POST /_test/clock")
	}
	// One guard refuses inside targets when an admin sets them and on
	// every connection a delivery makes.
	guard := &webhook.Guard{Lookup: cfg.WebhookLookup,
		Policy: netguard.Policy{AllowPrivate: cfg.WebhookAllowPrivate, Allow: cfg.WebhookAllowCIDRs}}
	// The Graph API's URL is the operator's setting, not a user's, so
	// the WhatsApp client is not guarded: tests point it at a local fake.
	// Incoming files are downloaded from a URL Meta's answer names: that
	// URL is data, so its connections go through the same guard.
	mediaHTTP := guard.Client()
	mediaHTTP.Timeout = 5 * time.Minute
	s.Business = &msgservice.Service{Store: s.Store, Now: clock, Log: s.Log, Verifier: s.Verifier, WebhookTargets: guard,
		Channels: map[string]channel.Sender{
			msgrules.ChannelSandbox:  sandboxChannel{},
			msgrules.ChannelWhatsApp: &whatsapp.Client{BaseURL: cfg.WhatsAppGraphURL, MediaHTTP: mediaHTTP},
		},
		Media: s.MediaBlobs, PublicURL: s.Config.PublicURL, MaxMediaSize: cfg.MaxMediaSize, MaxFetchAttempts: cfg.MediaFetchAttempts,
		OnSend: s.counters.send}
	s.Webhooks = &webhook.Dispatcher{Store: s.Store, MaxFailures: cfg.WebhookMaxFailures, Log: s.Log, Guard: guard,
		OnDelivery: s.counters.webhook}
	if cfg.WebhookBackoff > 0 {
		s.Webhooks.Backoff = func(int) time.Duration { return cfg.WebhookBackoff }
	}
	var wctx context.Context
	wctx, s.stopWorkers = context.WithCancel(context.WithoutCancel(ctx))
	s.background(wctx, func(ctx context.Context) { s.Business.RunSender(ctx, s.Log) })
	s.background(wctx, s.Webhooks.Run)
	s.background(wctx, func(ctx context.Context) { s.Business.RunMediaFetcher(ctx, s.Log) })
	s.background(wctx, s.wakeWebhooks)
	wa := whatsapp.Callbacks[msgrules.APIAccount]{Account: s.whatsappAccount, Apply: s.Business.ChannelEvents, Log: s.Log}
	routes["GET /channels/whatsapp/{id}"] = http.HandlerFunc(wa.Verify)
	routes["POST /channels/whatsapp/{id}"] = http.HandlerFunc(wa.Receive)
	return routes
}

func (s *Server) background(ctx context.Context, fn func(context.Context)) {
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		fn(ctx)
	}()
}

// wakeWebhooks wakes the dispatcher when an organisation's entries commit,
// on this node or, through the broker, on another.
func (s *Server) wakeWebhooks(ctx context.Context) {
	sub := s.Broker.Subscribe(64)
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-sub.C:
			if msgrules.IsOrgScope(n.Scope) {
				s.Webhooks.Wake()
			}
		}
	}
}

func rateLimit(cfg Config) *httpx.RateLimit {
	if cfg.RateLimit <= 0 {
		return nil
	}
	return &httpx.RateLimit{Rate: cfg.RateLimit, Burst: cfg.RateBurst}
}

// sandboxChannel is the sandbox transport, which also reports the
// delivered and read statuses a phone would.
type sandboxChannel struct{ sandbox.Sender }

func (sandboxChannel) Progress(id string, at time.Time) []channel.Status {
	return sandbox.Progress(id, at)
}

// whatsappAccount reads a WhatsApp API account and what authenticates
// Meta's callbacks for it.
func (s *Server) whatsappAccount(ctx context.Context, id string) (whatsapp.Secrets, msgrules.APIAccount, error) {
	a, err := s.Business.ChannelAccount(ctx, id, msgrules.ChannelWhatsApp)
	if errs.CodeOf(err) == errs.NotFound {
		return whatsapp.Secrets{}, a, whatsapp.ErrUnknownAccount
	}
	return whatsapp.Secrets{AppSecret: a.Settings.AppSecret, VerifyToken: a.Settings.VerifyToken,
		PhoneNumberID: a.Settings.PhoneNumberID}, a, err
}

// viewer is what an identity sees live: its boxes' events and its
// organisation's messaging changes.
func (s *Server) viewer(who identity.Identity) realtime.Viewer {
	return realtime.Either(s.Boxes.NewViewer(who), s.Business.NewViewer(who))
}
