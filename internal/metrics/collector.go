package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Snapshot is what the collector reads at scrape time: the values that
// cost a walk, a lock or a query, and the domains' own atomic counters.
type Snapshot struct {
	// Connections are the open XMPP connections by transport (tcp, ws).
	Connections map[string]int
	// Sessions are the bound XMPP sessions (with those waiting for a
	// resume).
	Sessions int
	// OutboxBytes is the stanza bytes every session holds (queued or
	// unacknowledged); OutboxMaxBytes the most one session holds.
	OutboxBytes, OutboxMaxBytes int64
	// Routed counts message copies queued for recipients' sessions.
	Routed int64
	// SlowQueue and SlowMemory count sessions closed for reading too
	// slowly: past their own bound, or holding most when the server was
	// over its total.
	SlowQueue, SlowMemory int64
	// OfflineHeld is the messages kept for offline delivery;
	// OfflineNotKept counts those refused because their recipient had
	// --offline-max kept.
	OfflineHeld, OfflineNotKept int64
	// Push is one entry per push channel.
	Push []PushChannel
	// PushPendingAlerts is the stored messages whose chat alerts are not
	// queued as pushes yet.
	PushPendingAlerts int
}

// PushChannel is one push channel: the dispatcher's outcomes since start
// and the outbox's rows by state now.
type PushChannel struct {
	Channel                   string
	Sent, Retried, Dead, Gone int64 // since start
	// The outbox now: queued (of which due and leased), sent and dead
	// rows kept, and rows that took more than one try.
	Queued, Due, Leased, OutboxSent, OutboxDead, OutboxRetried int
	OldestQueued                                               time.Duration // age of the oldest queued push; 0 when none
}

// Reader takes a Snapshot; an error leaves out what it could not read.
type Reader func(ctx context.Context) (Snapshot, error)

// scrapeTimeout bounds the reads of one scrape.
const scrapeTimeout = 5 * time.Second

var (
	descConns     = prometheus.NewDesc("parley_connections", "Open XMPP connections, by transport (tcp: TCP and direct TLS; ws: WebSocket).", []string{"transport"}, nil)
	descSessions  = prometheus.NewDesc("parley_sessions", "Bound XMPP sessions, including those waiting for their client to resume.", nil, nil)
	descRouted    = prometheus.NewDesc("parley_messages_routed_total", "Message stanzas (content, typing, markers) queued for recipients' sessions, one per copy.", nil, nil)
	descOutBytes  = prometheus.NewDesc("parley_outbox_bytes", "Stanza bytes held for all XMPP clients (queued or written but unacknowledged).", nil, nil)
	descOutMax    = prometheus.NewDesc("parley_outbox_max_session_bytes", "Stanza bytes held for the one XMPP session holding the most.", nil, nil)
	descSlow      = prometheus.NewDesc("parley_sessions_closed_slow_total", "XMPP sessions closed for reading too slowly, by reason (queue: past their own --out-queue or --out-queue-bytes; memory: holding the most while the server was over --out-queue-total-bytes).", []string{"reason"}, nil)
	descOffline   = prometheus.NewDesc("parley_offline_messages", "Messages kept for offline delivery.", nil, nil)
	descNotKept   = prometheus.NewDesc("parley_offline_not_kept_total", "Messages not kept for offline delivery because their recipient had --offline-max kept already.", nil, nil)
	descPushOut   = prometheus.NewDesc("parley_push_total", "Pushes the dispatcher finished since start, by channel and outcome (sent, retried: a try failed and another is scheduled, dead: out of tries, gone: the provider said the subscription is gone).", []string{"channel", "outcome"}, nil)
	descPushBox   = prometheus.NewDesc("parley_push_outbox", "Pushes in the outbox, by channel and state (queued, due: queued and due now, leased: being sent, sent and dead: kept for the record).", []string{"channel", "state"}, nil)
	descPushRetry = prometheus.NewDesc("parley_push_outbox_retried", "Pushes in the outbox that took more than one try, by channel.", []string{"channel"}, nil)
	descPushAge   = prometheus.NewDesc("parley_push_oldest_queued_seconds", "Age of the oldest queued push, by channel (0 when none is queued).", []string{"channel"}, nil)
	descPushAlert = prometheus.NewDesc("parley_push_pending_chat_alerts", "Stored messages whose chat alerts are not queued as pushes yet (the dispatcher queues them every 100 ms, slowly while the chat is saturated).", nil, nil)
)

// collector turns a Snapshot into metrics at each scrape.
type collector struct {
	read Reader
	log  *slog.Logger
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConns, descSessions, descRouted, descOutBytes, descOutMax, descSlow,
		descOffline, descNotKept, descPushOut, descPushBox, descPushRetry, descPushAge, descPushAlert} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	s, err := c.read(ctx)
	if err != nil {
		// What was read is still served; the scrape says what failed.
		c.log.Warn("metrics: read", "err", err)
		ch <- prometheus.NewInvalidMetric(descOffline, err)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	// Both transports always appear, at 0 when nothing is connected.
	for _, t := range []string{"tcp", "ws"} {
		gauge(descConns, float64(s.Connections[t]), t)
	}
	for t, n := range s.Connections {
		if t != "tcp" && t != "ws" {
			gauge(descConns, float64(n), t)
		}
	}
	gauge(descSessions, float64(s.Sessions))
	counter(descRouted, s.Routed)
	gauge(descOutBytes, float64(s.OutboxBytes))
	gauge(descOutMax, float64(s.OutboxMaxBytes))
	counter(descSlow, s.SlowQueue, "queue")
	counter(descSlow, s.SlowMemory, "memory")
	if err == nil {
		gauge(descOffline, float64(s.OfflineHeld))
		gauge(descPushAlert, float64(s.PushPendingAlerts))
	}
	counter(descNotKept, s.OfflineNotKept)
	for _, p := range s.Push {
		counter(descPushOut, p.Sent, p.Channel, "sent")
		counter(descPushOut, p.Retried, p.Channel, "retried")
		counter(descPushOut, p.Dead, p.Channel, "dead")
		counter(descPushOut, p.Gone, p.Channel, "gone")
		gauge(descPushBox, float64(p.Queued), p.Channel, "queued")
		gauge(descPushBox, float64(p.Due), p.Channel, "due")
		gauge(descPushBox, float64(p.Leased), p.Channel, "leased")
		gauge(descPushBox, float64(p.OutboxSent), p.Channel, "sent")
		gauge(descPushBox, float64(p.OutboxDead), p.Channel, "dead")
		gauge(descPushRetry, float64(p.OutboxRetried), p.Channel)
		gauge(descPushAge, p.OldestQueued.Seconds(), p.Channel)
	}
}
