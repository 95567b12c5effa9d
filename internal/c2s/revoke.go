package c2s

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/xmpp"
)

// Ending credentials. The auth domain decides which credentials stop being
// valid (a destroyed session's token, the tokens and the old password of
// a user who changed the password, everything of a deleted user) and tells
// the engine through auth.SessionEvents, which Engine implements. The
// engine only finds the sessions that authenticated with those credentials
// and closes them.
//
// Every session that authenticated is in credIndex under its user, with
// the credential it authenticated with (an opaque key from the
// Authenticator: a token's hash, or a key of the password). A user has few
// sessions, so ending a credential walks the user's sessions and compares.
//
// The stream error is <not-authorized/>: RFC 6120 §4.9.3.12 names it for
// an entity no longer authorized to keep its stream. Every stream error
// makes the connectycube SDK close the connection, report it
// (onConnectionErrorListener) and reconnect after 5 s with the same
// password; none stops that loop by itself (REALTIME.md §1.3, §19). What
// stops it is the reconnect's SASL failure: the credential is dead, Parley
// answers <failure/> and keeps the stream open, and the SDK then stays
// idle until the app logs in again.

// credIndex is the engine's index of authenticated sessions by user.
type credIndex struct {
	mu     sync.Mutex
	gen    uint64 // counts endings: a login that raced one checks again
	byUser map[credUser]map[*Session]struct{}
}

type credUser struct{ app, user int64 }

// sessionCred is what a session authenticated with (guarded by
// credIndex.mu) and how its ending is signalled.
type sessionCred struct {
	cred    []byte
	user    credUser
	tracked bool
	done    chan struct{} // closed when the session has finished
	// deleted: the account is gone, so what the session could not deliver
	// is dropped rather than kept as offline messages of a deleted user.
	deleted atomic.Bool
}

// errEndedMeanwhile refuses a login whose credential kept being ended
// while it was checked.
var errEndedMeanwhile = apperr.Unauthorized()

// login checks the credentials and records the session under its user. A
// check that raced an ending (the password was right when it was read, but
// the session or password was ended before the session was recorded, so
// the ending could not see it) is made again, against the new state.
func (s *Session) login(ctx context.Context, appID, userID int64, password, addr string) error {
	e := s.e
	for range 3 {
		e.creds.mu.Lock()
		gen := e.creds.gen
		e.creds.mu.Unlock()
		var cred []byte
		err := onFreshStack(func() (err error) {
			cred, err = e.auth.CheckChatPassword(ctx, appID, userID, password, addr)
			return err
		})
		if err != nil {
			return err
		}
		if e.track(s, credUser{appID, userID}, cred, gen) {
			return nil
		}
	}
	return errEndedMeanwhile
}

// track records s as authenticated with cred, unless an ending happened
// since gen was read.
func (e *Engine) track(s *Session, u credUser, cred []byte, gen uint64) bool {
	e.creds.mu.Lock()
	defer e.creds.mu.Unlock()
	if e.creds.gen != gen {
		return false
	}
	if e.creds.byUser == nil {
		e.creds.byUser = map[credUser]map[*Session]struct{}{}
	}
	m := e.creds.byUser[u]
	if m == nil {
		m = map[*Session]struct{}{}
		e.creds.byUser[u] = m
	}
	m[s] = struct{}{}
	s.rev.cred, s.rev.user, s.rev.tracked = cred, u, true
	if s.rev.done == nil {
		s.rev.done = make(chan struct{})
	}
	return true
}

// untrack forgets a finished session and signals whoever ends it.
func (e *Engine) untrack(s *Session) {
	e.creds.mu.Lock()
	defer e.creds.mu.Unlock()
	if !s.rev.tracked {
		return
	}
	s.rev.tracked = false
	if m := e.creds.byUser[s.rev.user]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(e.creds.byUser, s.rev.user)
		}
	}
	close(s.rev.done)
}

// handOver is a resume: the earlier session old continues on the
// connection that authenticated as from, so it now holds from's
// credential, and from (which never bound) is forgotten.
func (e *Engine) handOver(from, old *Session) {
	e.creds.mu.Lock()
	if from.rev.tracked && old.rev.tracked {
		old.rev.cred = from.rev.cred
	}
	e.creds.mu.Unlock()
	e.untrack(from)
}

// endWait bounds how long ending a user's sessions waits for them to
// finish (a client that does not read holds its writer up to
// writeTimeout).
const endWait = writeTimeout + 2*time.Second

// CredentialsEnded closes the connections (and resumable sessions) of a
// user that authenticated with one of creds, and returns once they have
// finished.
func (e *Engine) CredentialsEnded(appID, userID int64, creds [][]byte) {
	e.end(credUser{appID, userID}, false, "The session or password this connection logged in with was ended", func(c []byte) bool {
		for _, x := range creds {
			if bytes.Equal(c, x) {
				return true
			}
		}
		return false
	})
}

// UserDeleted closes every connection of a deleted user and returns once
// they have finished; nothing they could not deliver is kept.
func (e *Engine) UserDeleted(appID, userID int64) {
	e.end(credUser{appID, userID}, true, "Account deleted", func([]byte) bool { return true })
}

func (e *Engine) end(u credUser, deleted bool, text string, match func([]byte) bool) {
	e.creds.mu.Lock()
	e.creds.gen++
	var ending []*Session
	for s := range e.creds.byUser[u] {
		if match(s.rev.cred) {
			ending = append(ending, s)
		}
	}
	e.creds.mu.Unlock()
	for _, s := range ending {
		if deleted {
			s.rev.deleted.Store(true)
		}
		s.revoke(text)
	}
	deadline := time.After(endWait)
	for _, s := range ending {
		select {
		case <-s.rev.done:
		case <-deadline:
			e.log.Warn("ended sessions still finishing", "user", u.user, "app", u.app)
			return
		}
	}
}

// revoke ends the session now, without resumption: a live connection
// gets the stream error and the closing element, then closes; a parked
// session expires at once. Called from outside the session's goroutines,
// so it queues without waiting for room (a full queue is being closed
// anyway), and it waits for the writer to put both on the wire before
// closing: the reader is blocked in a read, and interrupting that read
// closes a WebSocket at once.
func (s *Session) revoke(text string) {
	if l := s.out.currentLink(); l != nil {
		l.final.Store(true)
		if !l.closing.Swap(true) { // not if the stream is ending already
			s.out.push(xmpp.StreamError("not-authorized", text, true).Encode(), kindNonza)
			s.out.push(xmpp.NewElement("close", "xmlns", xmpp.NSFraming).Encode(), kindNonza)
		}
		s.flush()
	}
	s.endNow()
}
