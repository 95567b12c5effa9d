// Package metrics is Parley's Prometheus exposition: one Registry per
// server (two servers in one process each have their own), the live
// counters and histograms the domains report to through their observer
// interfaces (chat.CommitObserver, rest.RequestObserver,
// auth.LoginObserver, all implemented by *Metrics), and a collector
// that reads everything costlier (connections, outbox sizes, offline
// messages, the push outbox) only when Prometheus scrapes.
//
// It is the only package that imports prometheus; it imports no domain.
// internal/server builds it and wires it to the domains. Live updates are
// atomic adds and histogram observations, once per batch, request or
// failed login, never per message copy.
package metrics

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one server's registry and live metrics.
type Metrics struct {
	reg *prometheus.Registry

	stored      prometheus.Counter
	batchSize   prometheus.Histogram
	commitTime  prometheus.Histogram
	requests    *prometheus.CounterVec
	requestTime *prometheus.HistogramVec
	logins      *prometheus.CounterVec
}

// New returns a registry holding the live metrics and the Go runtime's
// and the process's own.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		stored: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_messages_stored_total",
			Help: "Messages stored by the group committer (live XMPP and REST posts; retransmissions and refused posts not counted)."}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parley_commit_batch_size",
			Help:    "Requests (messages, receipts, edits, alerts) per group-commit transaction.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}}),
		commitTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parley_commit_duration_seconds",
			Help:    "Time of one group-commit transaction, from its first statement to its commit.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 15)}), // 100 µs … 1.6 s
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_http_requests_total",
			Help: `REST requests answered, by route (the ServeMux pattern, such as "GET /chat/Dialog/{id}"; "unmatched" for unknown paths and CORS preflights) and status code.`},
			[]string{"route", "code"}),
		requestTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "parley_http_request_duration_seconds",
			Help:    "Time to answer a REST request, by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 9)}, // 0.5 ms … 33 s
			[]string{"route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_login_failures_total",
			Help: "Failed password logins, by front end (rest, xmpp) and reason (unknown_user, wrong_password, limited: turned away by the guessing limits)."},
			[]string{"via", "reason"}),
	}
	m.reg.MustRegister(m.stored, m.batchSize, m.commitTime, m.requests, m.requestTime, m.logins,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Committed records one group commit (chat.CommitObserver).
func (m *Metrics) Committed(size, stored int, took time.Duration) {
	m.batchSize.Observe(float64(size))
	m.commitTime.Observe(took.Seconds())
	if stored > 0 {
		m.stored.Add(float64(stored))
	}
}

// Request records one answered REST request (rest.RequestObserver).
func (m *Metrics) Request(route string, status int, took time.Duration) {
	if route == "" {
		// Prometheus reads an empty label as no label: name it.
		route = unmatched
	}
	m.requests.WithLabelValues(route, statusText(status)).Inc()
	m.requestTime.WithLabelValues(route).Observe(took.Seconds())
}

// LoginFailed records one failed login (auth.LoginObserver).
func (m *Metrics) LoginFailed(via, reason string) { m.logins.WithLabelValues(via, reason).Inc() }

// Watch registers the scrape-time collector over read.
func (m *Metrics) Watch(read Reader, log *slog.Logger) {
	m.reg.MustRegister(&collector{read: read, log: log})
}

// Handler serves the registry in the Prometheus text (or protobuf)
// format; a value that fails to read is left out and logged, the rest is
// served.
func (m *Metrics) Handler(log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg, // promhttp's own error counters, in this registry
	})
}

// unmatched is the route of requests no route matched (404, 405) and of
// CORS preflights, which the middleware answers itself.
const unmatched = "unmatched"

// statusText avoids strconv's allocation for the common codes.
func statusText(code int) string {
	switch code {
	case 200:
		return "200"
	case 201:
		return "201"
	case 400:
		return "400"
	case 401:
		return "401"
	case 403:
		return "403"
	case 404:
		return "404"
	case 422:
		return "422"
	case 429:
		return "429"
	case 500:
		return "500"
	}
	return strconv.Itoa(code)
}
