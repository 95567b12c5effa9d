package privacy

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Limits bound what one user may store (README limits table).
type Limits struct {
	MaxItems     int // items in one list
	MaxLists     int // lists of one user
	MaxNameBytes int // bytes of a list name
}

// Store persists lists. Implemented by internal/store/sqlite.
type Store interface {
	// TODO(privacy helper): define.
}

// Service is the privacy domain.
type Service struct {
	store  Store
	domain string // the XMPP domain: user JIDs are {id}-{app}@domain, occupants muc.domain/{id}
	lim    Limits
	log    *slog.Logger
	now    func() time.Time
}

// NewService returns the privacy domain over store.
func NewService(store Store, domain string, lim Limits, log *slog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, domain: domain, lim: lim, log: log, now: now}
}

var errTODO = errors.New("privacy: not built yet")

// Put creates or replaces the user's list l (REALTIME.md §18.2). A list
// with no items is a deletion (§18.5). Errors: apperr.KindMalformed
// (bad-request: a bad item, name or JID, an item for a user of another
// app, over a limit), apperr.KindConflict (the list is the default).
func (s *Service) Put(ctx context.Context, appID, userID int64, l List) error { return errTODO }

// Delete removes a list (§18.5): apperr.KindNotFound for an unknown one,
// apperr.KindConflict for the default list.
func (s *Service) Delete(ctx context.Context, appID, userID int64, name string) error { return errTODO }

// Get returns one list exactly as stored (§18.7), apperr.KindNotFound for
// an unknown one.
func (s *Service) Get(ctx context.Context, appID, userID int64, name string) (List, error) {
	return List{}, errTODO
}

// Names returns the user's list names and default (§18.6).
func (s *Service) Names(ctx context.Context, appID, userID int64) (Names, error) {
	return Names{}, errTODO
}

// SetDefault makes name the user's default list, or declines the default
// when name is "" (§18.4); apperr.KindNotFound for an unknown list. It
// applies at once to every session of the user, on every front end.
func (s *Service) SetDefault(ctx context.Context, appID, userID int64, name string) error {
	return errTODO
}

// Denies reports whether owner's effective (default) list refuses a
// stanza of kind exchanged with user other, seen in scope. It is on the
// hot path of every message: it answers from memory (a cache the
// service's own writes invalidate) and reads the store only for a user
// it has not seen within the cache's lifetime. On a store failure it
// logs and denies (a block list fails closed).
func (s *Service) Denies(ctx context.Context, appID, owner, other int64, scope Scope, kind Kind) bool {
	return false
}
