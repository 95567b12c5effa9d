package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/parley-chat/parley/internal/metrics"
)

// The metrics of --metrics-addr (internal/metrics). Every server has its
// own registry; the domains report to it through their observer hooks,
// attached here in one place, and the collector reads the rest at scrape
// time (scrape below). Without --metrics-addr nothing is attached and the
// domains keep their no-op observers.

// attachMetrics builds s.metrics and hooks the domains to it; New calls
// it before anything can post, log in or answer a request.
func (s *Server) attachMetrics() *metrics.Metrics {
	m := metrics.New()
	s.Chat.SetCommitObserver(m)
	s.Auth.SetLoginObserver(m)
	m.Watch(s.scrape, s.log.With("component", "metrics"))
	return m
}

// scrape is the collector's snapshot: the engine's counts and sizes, the
// offline messages held, and the push dispatcher's and outbox's counts.
func (s *Server) scrape(ctx context.Context) (metrics.Snapshot, error) {
	st := s.engine.Stats()
	snap := metrics.Snapshot{Connections: st.Connections, Sessions: st.Sessions,
		OutboxBytes: st.OutboxBytes, OutboxMaxBytes: st.OutboxMaxBytes, Routed: st.Routed,
		SlowQueue: st.SlowQueue, SlowMemory: st.SlowMemory, OfflineNotKept: st.OfflineNotKept}
	var errs []error
	held, err := s.db.OfflineHeld(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("offline messages: %w", err))
	}
	snap.OfflineHeld = held
	outbox, err := s.Push.Status(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("push outbox: %w", err))
	}
	if snap.PushPendingAlerts, err = s.Push.PendingAlerts(ctx); err != nil {
		errs = append(errs, fmt.Errorf("pending chat alerts: %w", err))
	}
	now := s.now()
	for _, c := range s.pushOut.Counts() {
		pc := metrics.PushChannel{Channel: string(c.Channel), Sent: c.Sent, Retried: c.Retried, Dead: c.Dead, Gone: c.Gone}
		for _, o := range outbox {
			if o.Channel != c.Channel {
				continue
			}
			pc.Queued, pc.Due, pc.Leased = o.Queued, o.Due, o.Leased
			pc.OutboxSent, pc.OutboxDead, pc.OutboxRetried = o.Sent, o.Dead, o.Retried
			if !o.OldestQueued.IsZero() {
				pc.OldestQueued = max(now.Sub(o.OldestQueued), 0)
			}
		}
		snap.Push = append(snap.Push, pc)
	}
	return snap, errors.Join(errs...)
}

// serveMetrics serves /metrics on --metrics-addr, on its own mux (never on
// the public listeners).
func (s *Server) serveMetrics() error {
	ln, err := net.Listen("tcp", s.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen --metrics-addr %s: %w", s.cfg.MetricsAddr, err)
	}
	s.metricsLn = ln
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler(s.log.With("component", "metrics")))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		if err := srv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("metrics listener stopped", "err", err)
		}
	}()
	s.log.Info("metrics listening", "addr", ln.Addr().String())
	return nil
}

// MetricsAddr is the bound metrics address, "" when --metrics-addr is off.
func (s *Server) MetricsAddr() string {
	if s.metricsLn == nil {
		return ""
	}
	return s.metricsLn.Addr().String()
}
