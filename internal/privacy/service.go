package privacy

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/xmpp"
)

// Limits bound what one user may store (README limits table).
type Limits struct {
	MaxItems     int // items in one list
	MaxLists     int // lists of one user
	MaxNameBytes int // bytes of a list name
}

// Defaults of Limits, applied by NewService to every field left zero.
const (
	DefaultMaxItems     = 1000 // the SDK writes two items per user: 500 users
	DefaultMaxLists     = 50
	DefaultMaxNameBytes = 128
)

// ConflictText is the text of the error a change of the default list gets
// (REALTIME.md §18.10); the SDK hands it to the app as info.
const ConflictText = "Decline the default list before changing it"

// The store's errors. The checks they report run inside the store's own
// transaction, so that two concurrent requests cannot both pass them.
var (
	ErrNotFound     = errors.New("privacy: no such list")
	ErrIsDefault    = errors.New("privacy: the list is the default list")
	ErrTooManyLists = errors.New("privacy: too many lists")
)

// Store persists lists. Implemented by internal/store/sqlite. Lists are
// kept per (app, user, name) in creation order; at most one of a user's
// lists is their default. Every method that writes is one transaction.
type Store interface {
	// PutPrivacyList creates list l (items in ascending order, at least
	// one) or replaces its items; a replaced list keeps its place in the
	// creation order. It returns ErrIsDefault, writing nothing, when the
	// list is the user's default, and ErrTooManyLists when it is new and
	// the user already has maxLists lists.
	PutPrivacyList(ctx context.Context, appID, userID int64, l List, maxLists int) error
	// DeletePrivacyList removes a list: ErrNotFound for an unknown one,
	// ErrIsDefault (removing nothing) for the default list.
	DeletePrivacyList(ctx context.Context, appID, userID int64, name string) error
	// PrivacyList returns one list, items in ascending order, or
	// ErrNotFound.
	PrivacyList(ctx context.Context, appID, userID int64, name string) (List, error)
	// PrivacyNames returns the user's list names in creation order and the
	// default's name ("" for none).
	PrivacyNames(ctx context.Context, appID, userID int64) (Names, error)
	// SetDefaultPrivacyList makes name the default list, or declines the
	// default when name is "": ErrNotFound for an unknown list.
	SetDefaultPrivacyList(ctx context.Context, appID, userID int64, name string) error
	// DefaultPrivacyList returns the user's default list; ok is false when
	// they have none.
	DefaultPrivacyList(ctx context.Context, appID, userID int64) (l List, ok bool, err error)
}

// Service is the privacy domain.
type Service struct {
	store  Store
	domain string // the XMPP domain: user JIDs are {id}-{app}@domain, occupants muc.domain/{id}
	lim    Limits
	log    *slog.Logger
	now    func() time.Time
	cache  *listCache
}

// NewService returns the privacy domain over store. Zero fields of lim
// take their defaults; log may be nil.
func NewService(store Store, domain string, lim Limits, log *slog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if lim.MaxItems <= 0 {
		lim.MaxItems = DefaultMaxItems
	}
	if lim.MaxLists <= 0 {
		lim.MaxLists = DefaultMaxLists
	}
	if lim.MaxNameBytes <= 0 {
		lim.MaxNameBytes = DefaultMaxNameBytes
	}
	return &Service{store: store, domain: strings.ToLower(domain), lim: lim, log: log, now: now, cache: newListCache()}
}

// Limits returns the limits in force (defaults applied).
func (s *Service) Limits() Limits { return s.lim }

// Put creates or replaces the user's list l (REALTIME.md §18.2). A list
// with no items is a deletion (§18.5). Errors: apperr.KindMalformed
// (bad-request: a bad item, name or JID, an item for a user of another
// app, over the item limit), apperr.KindNotFound (a "group" item: Parley
// has no roster groups), apperr.KindTooLarge (a new list over the user's
// list limit), apperr.KindConflict (the list is the default).
//
// Items are stored as given; l.Items need not be sorted. Well-formed JIDs
// that name no user of the owner's app (foreign domains, room JIDs,
// anything at the domain that is not a user JID) are stored and returned
// but match nothing.
func (s *Service) Put(ctx context.Context, appID, userID int64, l List) error {
	if err := s.checkName(l.Name); err != nil {
		return err
	}
	if len(l.Items) == 0 {
		return s.Delete(ctx, appID, userID, l.Name)
	}
	items, err := s.checkItems(appID, l.Items)
	if err != nil {
		return err
	}
	err = s.store.PutPrivacyList(ctx, appID, userID, List{Name: l.Name, Items: items}, s.lim.MaxLists)
	s.cache.forget(cacheKey{appID, userID})
	return s.storeErr(err)
}

// Delete removes a list (§18.5): apperr.KindNotFound for an unknown one,
// apperr.KindConflict for the default list.
func (s *Service) Delete(ctx context.Context, appID, userID int64, name string) error {
	if err := s.checkName(name); err != nil {
		return err
	}
	err := s.store.DeletePrivacyList(ctx, appID, userID, name)
	s.cache.forget(cacheKey{appID, userID})
	return s.storeErr(err)
}

// Get returns one list exactly as stored (§18.7), items in ascending
// order, apperr.KindNotFound for an unknown one.
func (s *Service) Get(ctx context.Context, appID, userID int64, name string) (List, error) {
	if err := s.checkName(name); err != nil {
		return List{}, err
	}
	l, err := s.store.PrivacyList(ctx, appID, userID, name)
	if err != nil {
		return List{}, s.storeErr(err)
	}
	return l, nil
}

// Names returns the user's list names and default (§18.6).
func (s *Service) Names(ctx context.Context, appID, userID int64) (Names, error) {
	n, err := s.store.PrivacyNames(ctx, appID, userID)
	if err != nil {
		return Names{}, s.storeErr(err)
	}
	return n, nil
}

// SetDefault makes name the user's default list, or declines the default
// when name is "" (§18.4); apperr.KindNotFound for an unknown list. It
// applies at once to every session of the user, on every front end.
func (s *Service) SetDefault(ctx context.Context, appID, userID int64, name string) error {
	if name != "" {
		if err := s.checkName(name); err != nil {
			return err
		}
	}
	err := s.store.SetDefaultPrivacyList(ctx, appID, userID, name)
	s.cache.forget(cacheKey{appID, userID})
	return s.storeErr(err)
}

// Denies reports whether owner's effective (default) list refuses a
// stanza of kind exchanged with user other, seen in scope. It is on the
// hot path of every message: it answers from memory (a cache the
// service's own writes invalidate) and reads the store only for a user
// it has not seen within the cache's lifetime. On a store failure it
// logs and denies (a block list fails closed).
//
// kind is normally one Kind; when it has several bits, Denies reports
// whether any of them is refused.
func (s *Service) Denies(ctx context.Context, appID, owner, other int64, scope Scope, kind Kind) bool {
	c, err := s.compiled(ctx, appID, owner)
	if err != nil {
		s.log.Error("privacy: reading the default list failed; refusing", "app", appID, "user", owner, "err", err)
		return true
	}
	return c.denies(other, scope, kind)
}

// compiled returns owner's default list compiled (nil when they have
// none), from the cache when it is fresh.
func (s *Service) compiled(ctx context.Context, appID, owner int64) (*compiled, error) {
	k := cacheKey{appID, owner}
	now := s.now()
	c, ok, gen := s.cache.get(k, now)
	if ok {
		return c, nil
	}
	l, has, err := s.store.DefaultPrivacyList(ctx, appID, owner)
	if err != nil {
		return nil, err
	}
	c = nil
	if has {
		c = s.compile(appID, l)
	}
	s.cache.put(k, c, gen, now)
	return c, nil
}

func (s *Service) storeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return apperr.NotFound("Privacy list")
	case errors.Is(err, ErrIsDefault):
		return &apperr.Error{Kind: apperr.KindConflict, Message: ConflictText}
	case errors.Is(err, ErrTooManyLists):
		return apperr.TooLarge("Too many privacy lists: at most %d", s.lim.MaxLists)
	}
	return err
}

// checkName applies the rules of a list name: non-empty, at most
// MaxNameBytes bytes of valid UTF-8 without control characters.
func (s *Service) checkName(name string) error {
	switch {
	case name == "":
		return apperr.Malformed("A privacy list needs a name")
	case len(name) > s.lim.MaxNameBytes:
		return apperr.Malformed("A privacy list name has at most %d bytes", s.lim.MaxNameBytes)
	case !utf8.ValidString(name):
		return apperr.Malformed("A privacy list name must be valid UTF-8")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return apperr.Malformed("A privacy list name must not contain control characters")
	}
	return nil
}

// checkItems validates items and returns them sorted by order.
func (s *Service) checkItems(appID int64, items []Item) ([]Item, error) {
	if len(items) > s.lim.MaxItems {
		return nil, apperr.Malformed("A privacy list has at most %d items", s.lim.MaxItems)
	}
	out := make([]Item, len(items))
	copy(out, items)
	sortItems(out)
	for i, it := range out {
		if i > 0 && out[i-1].Order == it.Order {
			return nil, apperr.Malformed("Two privacy list items have order %d", it.Order)
		}
		if it.Action != "allow" && it.Action != "deny" {
			return nil, apperr.Malformed("A privacy list item's action is allow or deny")
		}
		if it.Kinds&^(Message|IQ|PresenceIn|PresenceOut) != 0 {
			return nil, apperr.Malformed("Unknown privacy list item kinds")
		}
		switch it.Type {
		case "":
			if it.Value != "" {
				return nil, apperr.Malformed("A privacy list item without a type has no value")
			}
		case "subscription":
			switch it.Value {
			case "none", "to", "from", "both":
			default:
				return nil, apperr.Malformed("A subscription item's value is none, to, from or both")
			}
		case "group":
			return nil, apperr.NotFound("Roster group")
		case "jid":
			j, err := xmpp.ParseJID(it.Value)
			if err != nil {
				return nil, apperr.Malformed("A privacy list item's value is not a JID")
			}
			if j.Domain == s.domain && j.Local != "" {
				if _, app, ok := xmpp.ParseUserLocal(j.Local); ok && app != appID {
					return nil, apperr.Malformed("A privacy list item names a user of another app")
				}
			}
		default:
			return nil, apperr.Malformed("A privacy list item's type is jid, group or subscription")
		}
	}
	return out, nil
}

// sortItems sorts items by ascending order.
func sortItems(items []Item) {
	slices.SortStableFunc(items, func(a, b Item) int { return cmp.Compare(a.Order, b.Order) })
}

// parseOccupant returns the user id of a muc.{domain}/{id} resource in
// the form Parley writes occupant nicknames (decimal, no sign, no leading
// zero).
func parseOccupant(res string) (int64, bool) {
	n, err := strconv.ParseInt(res, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != res {
		return 0, false
	}
	return n, true
}
