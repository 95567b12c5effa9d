package c2s

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/presence"
	"github.com/parley-chat/parley/internal/xmpp"
)

// Status streaming (REALTIME.md §16.3): a session subscribes to users'
// online/offline transitions and gets each one pushed as an unsolicited
// last-activity result. Subscriptions belong to the session: they end
// with it and are never restored.
//
// The watcher index maps a watched user to the sessions subscribed to it.
// The presence Directory reports a user's transitions one at a time, in
// order, while it holds that user (presence.Directory.Watch); the pushes
// are queued there, under the watched user's shard lock, with the
// sessions' non-blocking Send. So every subscribed session gets every
// transition once, in order, and a slow subscriber never holds up a
// transition (a full queue ends that subscriber's session instead).
//
// A subscription's first push (the current value, §16.3's SHOULD) is read
// outside the index's locks (it may read the store) and then queued
// under the shard lock only if no transition was pushed to the user's
// watchers since the session subscribed: that transition was at least as
// new, and the current value after it would be stale.

// DefaultMaxWatched is how many users one session may watch by default
// (--max-watched).
const DefaultMaxWatched = 256

// statusShards is how many locks the watched users are spread over.
const statusShards = 32

type watchKey struct{ app, user int64 }

// watchers are the sessions subscribed to one user.
type watchers struct {
	sessions map[*Session]struct{}
	// pushed counts the transitions pushed to them (see above).
	pushed uint64
}

type statusShard struct {
	mu      sync.Mutex
	watched map[watchKey]*watchers
}

// statusIndex is the engine's watcher index. Its zero value is ready.
type statusIndex struct {
	shards [statusShards]statusShard
	ids    atomic.Uint64 // push ids

	mu       sync.Mutex // guards watching; never held with a shard's lock
	watching map[*Session]map[watchKey]struct{}
}

func (x *statusIndex) shard(k watchKey) *statusShard {
	return &x.shards[uint64(k.user)%statusShards]
}

// subscribe records that s watches k, unless s watches max others
// already (a subscription s holds already does not count twice). It
// returns how many transitions k's watchers had been pushed.
func (x *statusIndex) subscribe(s *Session, k watchKey, max int) (pushed uint64, ok bool) {
	x.mu.Lock()
	set := x.watching[s]
	if _, in := set[k]; !in && len(set) >= max {
		x.mu.Unlock()
		return 0, false
	}
	if set == nil {
		if x.watching == nil {
			x.watching = map[*Session]map[watchKey]struct{}{}
		}
		set = map[watchKey]struct{}{}
		x.watching[s] = set
	}
	set[k] = struct{}{}
	x.mu.Unlock()

	sh := x.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.watched == nil {
		sh.watched = map[watchKey]*watchers{}
	}
	w := sh.watched[k]
	if w == nil {
		w = &watchers{sessions: map[*Session]struct{}{}}
		sh.watched[k] = w
	}
	w.sessions[s] = struct{}{}
	return w.pushed, true
}

// unsubscribe forgets that s watches k (nothing when it did not).
func (x *statusIndex) unsubscribe(s *Session, k watchKey) {
	x.mu.Lock()
	set := x.watching[s]
	_, in := set[k]
	delete(set, k)
	if len(set) == 0 {
		delete(x.watching, s)
	}
	x.mu.Unlock()
	if in {
		x.remove(s, k)
	}
}

func (x *statusIndex) remove(s *Session, k watchKey) {
	sh := x.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if w := sh.watched[k]; w != nil {
		delete(w.sessions, s)
		if len(w.sessions) == 0 {
			delete(sh.watched, k)
		}
	}
}

// drop forgets every subscription of s (its end).
func (x *statusIndex) drop(s *Session) {
	x.mu.Lock()
	set := x.watching[s]
	delete(x.watching, s)
	x.mu.Unlock()
	for k := range set {
		x.remove(s, k)
	}
}

// StatusWatches is how many (session, watched user) subscriptions the
// index holds, counted both ways (the per-session sets and the per-user
// sets must agree): what stays flat under a subscription flood.
func (e *Engine) StatusWatches() (bySession, byUser int) {
	x := &e.status
	x.mu.Lock()
	for _, set := range x.watching {
		bySession += len(set)
	}
	x.mu.Unlock()
	for i := range x.shards {
		sh := &x.shards[i]
		sh.mu.Lock()
		for _, w := range sh.watched {
			byUser += len(w.sessions)
		}
		sh.mu.Unlock()
	}
	return bySession, byUser
}

// statusPush is the push to session s about user k (REALTIME.md §16.3):
// a result IQ with an id no client chose, from the watched user's bare
// JID.
func (e *Engine) statusPush(s *Session, k watchKey, seconds int64) []byte {
	iq := xmpp.NewElement("iq", "xmlns", xmpp.NSClient, "type", "result",
		"id", "status-"+strconv.FormatUint(e.status.ids.Add(1), 36),
		"from", xmpp.UserJID(k.user, k.app, e.cfg.Domain).String(), "to", s.jid.String())
	iq.AppendChild(xmpp.NewElement("query", "xmlns", xmpp.NSLast, "seconds", strconv.FormatInt(seconds, 10)))
	return iq.Encode()
}

// statusChanged is the Directory's watcher: it pushes one transition to
// every session watching the user whose list does not hide it from them.
// It runs while the Directory holds the user (see above): it only queues.
func (e *Engine) statusChanged(c presence.Change) {
	k := watchKey{c.AppID, c.UserID}
	sh := e.status.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	w := sh.watched[k]
	if w == nil {
		return
	}
	w.pushed++
	seconds := c.Seconds(e.presence.Now())
	ctx := context.Background()
	for s := range w.sessions {
		if e.presence.Shows(ctx, k.app, k.user, s.userID) {
			s.Send(e.statusPush(s, k, seconds))
		}
	}
}

// statusIQ answers a subscription change (REALTIME.md §16.3):
//
//	<iq type="set"><subscribe xmlns="…status_streaming" user_jid="…" enable="true|false"/></iq>
//
// Errors: bad-request for a payload or JID that is not one; item-not-found
// for a user of another app or an unknown user; resource-constraint past
// --max-watched. A user whose list blocks the subscriber is accepted and
// never pushed (presence.Service.Shows).
func (s *Session) statusIQ(ctx context.Context, el, q *xmpp.Element) {
	p := s.e.presence
	if p == nil {
		s.write(xmpp.StanzaError(el, "service-unavailable", ""))
		return
	}
	if el.Attr("type") != "set" || q.Name != "subscribe" {
		s.write(xmpp.StanzaError(el, "bad-request", "expected a set of <subscribe/>"))
		return
	}
	var enable bool
	switch q.Attr("enable") {
	case "true", "1":
		enable = true
	case "false", "0":
	default:
		s.write(xmpp.StanzaError(el, "bad-request", "enable must be true or false"))
		return
	}
	target, appID, ok := s.userOf(q.Attr("user_jid"))
	if !ok {
		s.write(xmpp.StanzaError(el, "bad-request", "user_jid is not a user's JID"))
		return
	}
	k := watchKey{s.appID, target}
	if !enable {
		if appID == s.appID {
			s.e.status.unsubscribe(s, k)
		}
		s.write(s.iqResult(el))
		return
	}
	if appID != s.appID {
		s.write(xmpp.StanzaError(el, "item-not-found", errUnknownUser))
		return
	}
	if err := onFreshStack(func() error { return p.CanWatch(ctx, s.appID, s.userID, target) }); err != nil {
		s.presenceError(el, err)
		return
	}
	pushed, ok := s.e.status.subscribe(s, k, s.e.cfg.MaxWatched)
	if !ok {
		s.write(xmpp.StanzaError(el, "resource-constraint",
			fmt.Sprintf("at most %d users may be watched by one session", s.e.cfg.MaxWatched)))
		return
	}
	s.write(s.iqResult(el))
	var seconds int64
	var show bool
	err := onFreshStack(func() (err error) {
		seconds, show, err = p.Current(ctx, s.appID, s.userID, target)
		return err
	})
	if err != nil {
		s.log.Warn("status streaming: current value", "err", err)
		return
	}
	if !show {
		return
	}
	sh := s.e.status.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if w := sh.watched[k]; w != nil && w.pushed == pushed {
		if _, in := w.sessions[s]; in {
			s.Send(s.e.statusPush(s, k, seconds))
		}
	}
}

// userOf reads a user's JID {user}-{app}@{domain} (any resource); ok is
// false for anything else.
func (s *Session) userOf(raw string) (userID, appID int64, ok bool) {
	j, err := xmpp.ParseJID(raw)
	if err != nil || j.Local == "" || j.Domain != s.e.cfg.Domain {
		return 0, 0, false
	}
	return xmpp.ParseUserLocal(j.Local)
}

// iqResult is the empty result to an IQ of the session's client.
func (s *Session) iqResult(el *xmpp.Element) *xmpp.Element {
	r := xmpp.NewElement("iq", "xmlns", xmpp.NSClient, "type", "result", "id", el.Attr("id"), "to", s.jid.String())
	if to := el.Attr("to"); to != "" {
		r.SetAttr("from", to)
	}
	return r
}

// errUnknownUser is the text of every item-not-found about a user: the
// same for an unknown id, a user of another app and one who never
// connected, so that it reveals nothing.
const errUnknownUser = "User not found"

// presenceError answers a refusal of the presence rules: item-not-found
// for an unknown user (or one of another app, or who never connected),
// service-unavailable for a block (REALTIME.md §16.2).
func (s *Session) presenceError(el *xmpp.Element, err error) {
	// The text is what the SDK reports as the rejection's info (§19).
	switch apperr.KindOf(err) {
	case apperr.KindNotFound:
		s.write(xmpp.StanzaError(el, "item-not-found", errUnknownUser))
	case apperr.KindBlocked:
		s.write(xmpp.StanzaError(el, "service-unavailable", apperr.Blocked().Message))
	default:
		s.log.Error("presence query failed", "err", err)
		s.write(xmpp.StanzaError(el, "internal-server-error", ""))
	}
}
