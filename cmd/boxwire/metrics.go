package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/boxwire/boxwire/internal/broker/natsbroker"
	"github.com/boxwire/boxwire/internal/realtime"
)

// The metrics an operator alerts on (README, "Metrics"): the services
// report outcomes through plain hooks, and only this wiring knows
// Prometheus.

// outcomeCounters are the counters fed by the services' hooks.
type outcomeCounters struct {
	webhooks, sends, logins *prometheus.CounterVec
}

func newOutcomeCounters(reg prometheus.Registerer) *outcomeCounters {
	c := &outcomeCounters{
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "boxwire_webhook_deliveries_total",
			Help: "Webhook delivery attempts, by outcome: delivered, failed (retried later), disabled (the failure that disabled the hook)."}, []string{"outcome"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "boxwire_channel_sends_total",
			Help: "Messages handed to a channel (sandbox, whatsapp), by outcome: sent, failed (for good), retried."}, []string{"channel", "outcome"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "boxwire_login_failures_total",
			Help: "Refused sign-ins, by reason: wrong_credentials, throttled, disabled."}, []string{"reason"}),
	}
	reg.MustRegister(c.webhooks, c.sends, c.logins)
	// Every series exists from the start, so a rate() alert sees 0, not nothing.
	for _, o := range []string{"delivered", "failed", "disabled"} {
		c.webhooks.WithLabelValues(o)
	}
	for _, r := range []string{"wrong_credentials", "throttled", "disabled"} {
		c.logins.WithLabelValues(r)
	}
	return c
}

func (c *outcomeCounters) webhook(outcome string) { c.webhooks.WithLabelValues(outcome).Inc() }
func (c *outcomeCounters) send(channel, outcome string) {
	c.sends.WithLabelValues(channel, outcome).Inc()
}
func (c *outcomeCounters) login(reason string) { c.logins.WithLabelValues(reason).Inc() }

// registerLiveMetrics adds the gauges read when scraped: streams per
// transport, NATS, and the journal's head and how far its followers are.
func (s *Server) registerLiveMetrics(reg prometheus.Registerer) {
	for _, t := range realtime.Transports {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "boxwire_realtime_streams_by_transport",
			Help: "Live streams open on this node, by transport.", ConstLabels: prometheus.Labels{"transport": string(t)}},
			func() float64 { return float64(s.StreamQuota.OpenBy(t)) }))
	}
	if nb, ok := s.Broker.(*natsbroker.Broker); ok {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "boxwire_nats_connected",
			Help: "1 while this node is connected to NATS; 0 while it is not (other nodes' writes then reach it by a one-second poll)."},
			func() float64 {
				if nb.Connected() {
					return 1
				}
				return 0
			}))
	}
	reg.MustRegister(&journalCollector{s: s})
}

// maxLagWebhooks bounds the webhooks whose lag one scrape reads.
const maxLagWebhooks = 1000

var (
	headDesc = prometheus.NewDesc("boxwire_journal_head_position",
		"Position of the newest committed journal entry.", nil, nil)
	hubLagDesc = prometheus.NewDesc("boxwire_follower_lag_entries",
		"Committed journal entries a follower on this node has not yet read (the realtime hub: what live streams wait for).", []string{"follower"}, nil)
	webhookLagDesc = prometheus.NewDesc("boxwire_webhook_lag_seconds",
		"Age of the oldest journal entry of its organisation an enabled webhook has not yet passed (0 when it is up to date).", []string{"webhook"}, nil)
)

// journalCollector reads the journal's head and the followers' positions
// at scrape time, with a deadline, so a slow database slows no request.
type journalCollector struct{ s *Server }

func (j *journalCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- headDesc
	ch <- hubLagDesc
	ch <- webhookLagDesc
}

func (j *journalCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	head, err := j.s.Store.JournalHead(ctx)
	if err != nil {
		j.s.Log.Warn("metrics: journal head", "error", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(headDesc, prometheus.GaugeValue, float64(head))
	ch <- prometheus.MustNewConstMetric(hubLagDesc, prometheus.GaugeValue, float64(max(0, head-j.s.Hub.Head())), "realtime_hub")
	lags, err := j.s.Store.WebhookLags(ctx, maxLagWebhooks)
	if err != nil {
		j.s.Log.Warn("metrics: webhook lags", "error", err)
		return
	}
	now := j.s.Config.Now()
	for _, l := range lags {
		age := 0.0
		if !l.Oldest.IsZero() {
			age = max(0, now.Sub(l.Oldest).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(webhookLagDesc, prometheus.GaugeValue, age, l.WebhookID)
	}
}
