package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Caller is who makes a request: a user of an application.
type Caller struct{ AppID, UserID int64 }

// Limits bound what one request may ask for.
type Limits struct {
	MaxEventRecipients      int // users one event may select (default 10,000)
	MaxEventMessage         int // an event's decoded payload, in bytes (default 4096)
	MaxSubscriptionsPerUser int // default 100
}

func (l Limits) withDefaults() Limits {
	if l.MaxEventRecipients <= 0 {
		l.MaxEventRecipients = 10000
	}
	if l.MaxEventMessage <= 0 {
		l.MaxEventMessage = 4096
	}
	if l.MaxSubscriptionsPerUser <= 0 {
		l.MaxSubscriptionsPerUser = 100
	}
	return l
}

// appCacheTTL is how long App's answer is reused: the dispatcher asks for
// every push, and `parley app update` run beside a running server changes
// the database under it, so the cache must not live long.
const appCacheTTL = 5 * time.Second

// Service is the push domain: subscriptions, events, per-app settings.
type Service struct {
	st   Store
	seal *Sealer
	log  *slog.Logger
	now  func() time.Time
	lim  Limits

	mu   sync.Mutex
	apps map[int64]cachedApp
}

type cachedApp struct {
	at time.Time
	ap *AppPush
}

// NewService returns the push domain over st; seal opens and seals the
// apps' credentials. Zero limits take their defaults.
func NewService(st Store, seal *Sealer, log *slog.Logger, now func() time.Time, lim Limits) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, seal: seal, log: log, now: now, lim: lim.withDefaults(), apps: map[int64]cachedApp{}}
}

// AppPush is what the dispatcher needs of one app.
type AppPush struct {
	AlertsOff bool
	Template  *Template // never nil: the default when the app set none
	Creds     *Credentials
}

// App returns an app's push settings with its credentials opened, reused
// for up to 5 s.
func (s *Service) App(ctx context.Context, appID int64) (*AppPush, error) {
	now := s.now()
	s.mu.Lock()
	c, ok := s.apps[appID]
	s.mu.Unlock()
	if ok && now.Sub(c.at) < appCacheTTL && !now.Before(c.at) {
		return c.ap, nil
	}
	st, err := s.st.AppSettings(ctx, appID)
	if err != nil {
		return nil, err
	}
	creds, err := s.open(st)
	if err != nil {
		return nil, err
	}
	ap := &AppPush{AlertsOff: st.AlertsOff, Creds: creds}
	ap.Template, err = ParseTemplate(st.Template)
	if st.Template == "" || err != nil {
		if err != nil {
			// Only UpdateSettings writes it, after parsing; a bad one
			// is a damaged row, not a reason to stop the app's alerts.
			s.log.Warn("push: stored template does not parse; using the default", "app_id", appID, "err", err)
		}
		ap.Template, _ = ParseTemplate(DefaultTemplate)
	}
	s.mu.Lock()
	s.apps[appID] = cachedApp{at: now, ap: ap}
	s.mu.Unlock()
	return ap, nil
}

// forget drops an app's cached settings after this process changed them.
func (s *Service) forget(appID int64) {
	s.mu.Lock()
	delete(s.apps, appID)
	s.mu.Unlock()
}

// open returns st's credentials; nil when it has none.
func (s *Service) open(st *StoredSettings) (*Credentials, error) {
	if len(st.Secrets) == 0 {
		return nil, nil
	}
	if s.seal == nil {
		return nil, errors.New("push: no sealing key to open the stored credentials")
	}
	plain, err := s.seal.Open(st.Secrets)
	if err != nil {
		return nil, fmt.Errorf("app %d: %w", st.AppID, err)
	}
	var c Credentials
	if err := json.Unmarshal(plain, &c); err != nil {
		return nil, fmt.Errorf("push: app %d: stored credentials: %w", st.AppID, err)
	}
	return &c, nil
}

// Status counts the outbox per channel.
func (s *Service) Status(ctx context.Context) ([]ChannelStats, error) {
	return s.st.OutboxStats(ctx, s.now())
}

// PendingAlerts counts the stored messages whose chat alerts the
// dispatcher has not queued yet (they are not in Status).
func (s *Service) PendingAlerts(ctx context.Context) (int, error) {
	return s.st.PendingAlerts(ctx)
}
