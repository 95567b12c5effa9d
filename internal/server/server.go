// Package server wires Parley together: it is the only package that knows
// the concrete backends (the SQLite store today), and it owns every
// listener and background goroutine, started in order and stopped in
// reverse. Two Servers can run in one process.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/blob"
	"github.com/parley-chat/parley/internal/c2s"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/data"
	"github.com/parley-chat/parley/internal/datadir"
	"github.com/parley-chat/parley/internal/limit"
	"github.com/parley-chat/parley/internal/metrics"
	"github.com/parley-chat/parley/internal/presence"
	"github.com/parley-chat/parley/internal/privacy"
	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/rest"
	"github.com/parley-chat/parley/internal/router"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/transport/tcp"
	"github.com/parley-chat/parley/internal/transport/ws"
	"github.com/parley-chat/parley/internal/xmpp"
)

// sessionSweepEvery is how often expired sessions are deleted.
const sessionSweepEvery = 10 * time.Minute

// Server is one Parley instance.
type Server struct {
	cfg   config.Config
	log   *slog.Logger
	db    *sqlite.DB
	lock  *datadir.Lock // the data dir is this server's alone until Shutdown
	Auth  *auth.Service
	Chat  *chat.Service
	Data  *data.Service
	Blobs *blob.Service
	// Push is the push domain (REST.md §10): subscriptions, events, the
	// apps' push settings.
	Push *push.Service
	// pushOut sends the outbox (chat alerts and events) to the providers.
	pushOut *push.Dispatcher
	http    *http.Server
	ready   atomic.Bool
	now     func() time.Time

	// Privacy is the privacy-list domain (REALTIME.md §18): the c2s engine
	// answers its IQs, chat and presence ask it Denies.
	Privacy *privacy.Service

	httpLn  net.Listener
	wsLn    net.Listener
	debugLn net.Listener // --debug-addr, nil when off
	// metrics is the server's Prometheus registry (metrics.go), served on
	// metricsLn; both nil without --metrics-addr.
	metrics   *metrics.Metrics
	metricsLn net.Listener
	ws        *ws.Handler // serves --ws-addr itself (transport/ws.Serve)
	// XMPP over TCP: plain with STARTTLS, and direct TLS when configured.
	xmppLn, xmppsLn net.Listener
	limits          xmpp.Limits
	tlsConfig       *tls.Config
	engine          *c2s.Engine
	// runCtx bounds background work and real-time sessions.
	runCtx    context.Context
	runCancel context.CancelFunc
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	shutdownOnce sync.Once
	shutdownErr  error

	// Presence is the presence rules over presenceDir, the process's
	// presence state (internal/presence.Local).
	Presence    *presence.Service
	presenceDir *presence.Local
}

// Option adjusts how New builds a Server.
type Option func(*options)

type options struct {
	now func() time.Time
}

// WithClock makes the server read time from now instead of time.Now (tests
// use it to age sessions without waiting).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// New opens the store and builds the services; nothing listens yet.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) (*Server, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		// Loaded first so a bad certificate stops start-up with a clear error.
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", cfg.Source("tls-cert"), cfg.Source("tls-key"), err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	providers, err := pushProviders(cfg) // a bad --push-ca-file stops start-up here
	if err != nil {
		return nil, err
	}
	lock, err := datadir.Acquire(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, cfg.DataDir, log.With("component", "store"))
	if err != nil {
		lock.Release()
		return nil, err
	}
	// The key that seals the apps' push credentials (push.key beside
	// parley.db); a damaged one stops start-up with a clear error.
	seal, err := push.OpenSealer(cfg.DataDir)
	if err != nil {
		db.Close()
		lock.Release()
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, db: db, lock: lock, now: o.now}
	s.Auth = auth.NewService(db, auth.Config{SessionTTL: cfg.SessionTTL, PasswordIterations: cfg.PasswordIterations,
		LoginFreeFailures: cfg.LoginFreeFailures, LoginBackoffMax: cfg.LoginBackoffMax,
		LoginFailuresPerIP: cfg.LoginFailuresPerIP, AppSessionsPerIP: cfg.AppSessionsPerIP},
		log.With("component", "auth"), o.now)
	s.Chat = chat.NewService(db, s.Auth, nil, log.With("component", "chat"), o.now)
	s.Chat.SetLimits(chat.Limits{MaxDialogsPerUser: cfg.MaxDialogsPerUser, CreateRate: createRate(cfg)})
	if cfg.SearchRate > 0 {
		s.Chat.SetSearchRate(limit.Rate{Every: time.Minute / time.Duration(cfg.SearchRate), Burst: cfg.SearchBurst})
	}
	if s.Blobs, err = openBlobs(ctx, cfg, db, s.Auth, log.With("component", "blob"), o.now); err != nil {
		s.Chat.Close()
		db.Close()
		lock.Release()
		return nil, err
	}
	s.Privacy = privacy.NewService(db, cfg.Domain, privacy.Limits{MaxItems: cfg.PrivacyMaxItems, MaxLists: cfg.PrivacyMaxLists},
		log.With("component", "privacy"), o.now)
	s.Chat.SetBlocks(s.Privacy) // every message is checked against block lists (REALTIME.md §18.9)
	s.presenceDir = presence.NewLocal(db, log.With("component", "presence"), o.now)
	s.Presence = presence.NewService(s.presenceDir, s.Auth, s.Privacy, o.now) // presence honours blocks too
	s.Data = data.NewService(db, userTags{s.Auth}, log.With("component", "data"), o.now)
	s.Push = push.NewService(db, seal, log.With("component", "push"), o.now, push.Limits{})
	s.pushOut = push.NewDispatcher(db, s.Push, providers, pushDirectory{s.Auth, s.Chat},
		push.DispatchConfig{Workers: cfg.PushWorkers, MaxTries: cfg.PushMaxTries, Timeout: cfg.PushTimeout,
			Chat: s.Chat}, // pushes yield to a saturated chat
		log.With("component", "push"), o.now)
	restOpts := []rest.Option{rest.WithData(s.Data), rest.WithBlobs(s.Blobs), rest.WithPush(s.Push)}
	if cfg.MetricsAddr != "" {
		s.metrics = s.attachMetrics()
		restOpts = append(restOpts, rest.WithRequestObserver(s.metrics))
	}
	api := rest.New(rest.Config{MaxBodyBytes: cfg.MaxBodyBytes, CORSOrigin: cfg.CORSOrigin, Domain: cfg.Domain,
		PublicURL: cfg.PublicURL, Presence: s.Presence},
		s.Auth, s.Chat, log, s.ready.Load, restOpts...)
	// Real-time sessions live as long as the server, not their HTTP request.
	s.runCtx, s.runCancel = context.WithCancel(context.WithoutCancel(ctx))
	limits := xmpp.Limits{MaxStanzaBytes: cfg.MaxStanzaBytes}
	s.limits, s.tlsConfig = limits, tlsConfig
	s.engine = c2s.NewEngine(c2s.Config{Domain: cfg.Domain, Limits: limits, OutQueue: cfg.OutQueue,
		OutQueueBytes: cfg.OutQueueBytes, OutQueueTotalBytes: cfg.OutQueueTotalBytes,
		OfflineMax: cfg.OfflineMax, OfflineMaxAge: cfg.OfflineMaxAge, Now: o.now,
		AuthTimeout: cfg.AuthTimeout, ResumeTimeout: cfg.ResumeTimeout, MaxConnsPerIP: cfg.MaxConnsPerIP, MaxConnsPerUser: cfg.MaxConnsPerUser,
		StanzaRate: limit.PerSecond(cfg.MaxStanzaRate, cfg.MaxStanzaBurst), MaxWatched: cfg.MaxWatched},
		s.Auth, s.Chat, db, router.NewLocal(), log)
	s.engine.SetPresence(s.Presence)
	// Ending sessions, passwords and accounts closes the connections that
	// used them.
	s.Auth.SetSessionEvents(s.engine)
	s.engine.SetPrivacy(s.Privacy)
	s.Chat.SetNotifier(s.engine.Notifier()) // what REST changes is told live
	s.Chat.SetAttention(s.engine)           // who is away, for chat alerts
	wsHandler := ws.NewHandler(s.runCtx, s.engine, limits, log)
	mux := http.NewServeMux()
	mux.Handle("/ws", wsHandler) // XMPP over WebSocket beside REST (spec README §3)
	mux.Handle("/", api)
	s.ws = wsHandler
	s.http = &http.Server{
		TLSConfig:         tlsConfig,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// EnsureDefaultApp creates an app named "default" when the store has none,
// reporting whether it did.
func (s *Server) EnsureDefaultApp(ctx context.Context) (*auth.App, bool, error) {
	apps, err := s.Auth.ListApps(ctx)
	if err != nil {
		return nil, false, err
	}
	if len(apps) > 0 {
		return &apps[0], false, nil
	}
	app, err := s.Auth.CreateApp(ctx, "default", nil)
	return app, err == nil, err
}

// Start binds the listeners and serves until Shutdown. It returns once the
// server is ready (GET /health answers 200).
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen %s %s: %w", s.cfg.Source("http-addr"), s.cfg.HTTPAddr, err)
	}
	if s.http.TLSConfig != nil {
		ln = tls.NewListener(ln, s.http.TLSConfig) // https:// with a certificate configured
	}
	s.httpLn = ln
	wsLn, err := net.Listen("tcp", s.cfg.WSAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("listen %s %s: %w", s.cfg.Source("ws-addr"), s.cfg.WSAddr, err)
	}
	if s.tlsConfig != nil {
		wsLn = tls.NewListener(wsLn, s.tlsConfig)
	}
	s.wsLn = wsLn
	if s.xmppLn, err = net.Listen("tcp", s.cfg.XMPPAddr); err != nil {
		ln.Close()
		wsLn.Close()
		return fmt.Errorf("listen %s %s: %w", s.cfg.Source("xmpp-addr"), s.cfg.XMPPAddr, err)
	}
	if s.cfg.XMPPSAddr != "" {
		if s.xmppsLn, err = net.Listen("tcp", s.cfg.XMPPSAddr); err != nil {
			ln.Close()
			wsLn.Close()
			s.xmppLn.Close()
			return fmt.Errorf("listen %s %s: %w", s.cfg.Source("xmpps-addr"), s.cfg.XMPPSAddr, err)
		}
	}
	if s.cfg.DebugAddr != "" {
		if err := s.serveDebug(); err != nil {
			ln.Close()
			wsLn.Close()
			s.xmppLn.Close()
			if s.xmppsLn != nil {
				s.xmppsLn.Close()
			}
			return err
		}
	}
	if s.metrics != nil {
		if err := s.serveMetrics(); err != nil {
			ln.Close()
			wsLn.Close()
			s.xmppLn.Close()
			if s.xmppsLn != nil {
				s.xmppsLn.Close()
			}
			if s.debugLn != nil {
				s.debugLn.Close()
			}
			return err
		}
	}
	ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, l := range []struct {
		ln     net.Listener
		direct bool
	}{{s.xmppLn, false}, {s.xmppsLn, true}} {
		if l.ln == nil {
			continue
		}
		srv := tcp.NewServer(s.engine, s.limits, s.tlsConfig, l.direct, s.log)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			srv.Serve(s.runCtx, l.ln)
		}()
	}
	s.wg.Add(4)
	go func() {
		defer s.wg.Done()
		// Pushes queued before a restart are sent now; on shutdown the
		// ones in flight finish (each within --push-timeout) first.
		s.pushOut.Run(ctx)
	}()
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("listener stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		if err := s.ws.Serve(wsLn); err != nil {
			s.log.Error("listener stopped", "addr", wsLn.Addr().String(), "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		s.sweepSessions(ctx)
	}()
	s.ready.Store(true)
	s.log.Info("parley ready", s.readyAttrs()...)
	return nil
}

// XMPPAddr is the bound XMPP-over-TCP address (useful with port 0).
func (s *Server) XMPPAddr() string {
	if s.xmppLn == nil {
		return ""
	}
	return s.xmppLn.Addr().String()
}

// XMPPSAddr is the bound direct-TLS address, "" when not configured.
func (s *Server) XMPPSAddr() string {
	if s.xmppsLn == nil {
		return ""
	}
	return s.xmppsLn.Addr().String()
}

// WSAddr is the bound WebSocket address (useful with port 0).
func (s *Server) WSAddr() string {
	if s.wsLn == nil {
		return ""
	}
	return s.wsLn.Addr().String()
}

// HTTPAddr is the bound HTTP address (useful with port 0).
func (s *Server) HTTPAddr() string {
	if s.httpLn == nil {
		return ""
	}
	return s.httpLn.Addr().String()
}

func (s *Server) sweepSessions(ctx context.Context) {
	t := time.NewTicker(sessionSweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := s.db.DeleteExpiredSessions(ctx, s.now())
			if err != nil && ctx.Err() == nil {
				s.log.Warn("sweep expired sessions", "err", err)
			} else if n > 0 {
				s.log.Debug("swept expired sessions", "count", n)
			}
		}
	}
}

// Shutdown stops accepting, lets in-flight requests finish until ctx ends,
// stops background work and closes the store. It is safe to call twice.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		s.ready.Store(false)
		var errs []error
		for _, ln := range []net.Listener{s.xmppLn, s.xmppsLn, s.wsLn, s.debugLn, s.metricsLn} {
			if ln != nil {
				ln.Close()
			}
		}
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
			s.http.Close()
		}
		s.runCancel() // ends real-time sessions
		s.engine.Wait()
		// Every session has left: the last-seen times of everyone who was
		// online are pending now, and are written before the store closes.
		if err := s.presenceDir.Close(); err != nil {
			errs = append(errs, fmt.Errorf("write last-seen times: %w", err))
		}
		if s.cancel != nil {
			s.cancel()
		}
		s.wg.Wait()
		s.Chat.Close() // after HTTP: in-flight requests may still post
		if err := s.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
		if err := s.lock.Release(); err != nil {
			errs = append(errs, fmt.Errorf("release data dir: %w", err))
		}
		s.shutdownErr = errors.Join(errs...)
	})
	return s.shutdownErr
}

// serveDebug exposes Go's profiler on --debug-addr, on its own mux (never
// on the public listeners).
func (s *Server) serveDebug() error {
	ln, err := net.Listen("tcp", s.cfg.DebugAddr)
	if err != nil {
		return fmt.Errorf("listen %s %s: %w", s.cfg.Source("debug-addr"), s.cfg.DebugAddr, err)
	}
	s.debugLn = ln
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		if err := srv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("debug listener stopped", "err", err)
		}
	}()
	s.log.Info("profiler listening", "addr", ln.Addr().String())
	return nil
}

// DebugAddr is the bound profiler address, "" when --debug-addr is off.
func (s *Server) DebugAddr() string {
	if s.debugLn == nil {
		return ""
	}
	return s.debugLn.Addr().String()
}

// createRate is the dialog creation rate of cfg: DialogCreateRate a minute,
// DialogCreateBurst at once.
func createRate(cfg config.Config) limit.Rate {
	if cfg.DialogCreateRate <= 0 {
		return limit.Rate{}
	}
	return limit.Rate{Every: time.Minute / time.Duration(cfg.DialogCreateRate), Burst: cfg.DialogCreateBurst}
}

// OfflineNotKept is how many messages were not kept for offline delivery
// because their recipient had --offline-max kept already.
func (s *Server) OfflineNotKept() int64 { return s.engine.OfflineNotKept() }

// RoomsJoined is how many (session, room) pairs are joined (REALTIME.md §15).
func (s *Server) RoomsJoined() int { return s.engine.RoomsJoined() }

// StatusWatches is how many status-streaming subscriptions the engine's
// watcher index holds, counted by session and by watched user
// (REALTIME.md §16.3).
func (s *Server) StatusWatches() (bySession, byUser int) { return s.engine.StatusWatches() }

// userTags gives the data domain a user's tags (open_for_groups matches
// them) from the auth service.
type userTags struct{ auth *auth.Service }

func (u userTags) UserTags(ctx context.Context, appID, userID int64) ([]string, error) {
	usr, err := u.auth.User(ctx, appID, userID)
	if err != nil {
		return nil, err
	}
	return usr.Tags, nil
}
