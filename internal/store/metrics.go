package store

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the committer's Prometheus collectors.
type Metrics struct {
	commits    *prometheus.CounterVec
	batch      prometheus.Histogram
	appends    prometheus.Counter
	commitTime prometheus.Histogram
	syncTime   prometheus.Histogram
}

// NewMetrics registers the store's collectors with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "boxwire_store_commits_total", Help: "Write transactions, by result.",
		}, []string{"result"}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "boxwire_store_commit_batch_size", Help: "Writes gathered into one transaction (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		appends: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "boxwire_journal_appends_total", Help: "Journal entries committed.",
		}),
		commitTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "boxwire_store_commit_seconds", Help: "Time to run and commit one batch.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		syncTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "boxwire_store_sync_seconds", Help: "Time to make one committed batch durable (SQLite: fsync of the write-ahead log).",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16),
		}),
	}
	reg.MustRegister(m.commits, m.batch, m.appends, m.commitTime, m.syncTime)
	return m
}

func (m *Metrics) observeCommit(jobs, appends int, d time.Duration, err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.commits.WithLabelValues(result).Inc()
	m.batch.Observe(float64(jobs))
	m.appends.Add(float64(appends))
	m.commitTime.Observe(d.Seconds())
}

func (m *Metrics) observeSync(d time.Duration) {
	if m != nil {
		m.syncTime.Observe(d.Seconds())
	}
}
