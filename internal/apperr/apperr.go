// Package apperr holds the typed errors the domain packages return, so that
// each front end (REST, XMPP) maps them to its wire shape in one place.
//
// It is a leaf: it imports only the standard library.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies a domain error; front ends map each kind to one status.
type Kind int

const (
	// KindInternal is a server fault, never the client's.
	KindInternal Kind = iota
	// KindInvalid is well-formed input that breaks a rule (REST 422).
	KindInvalid
	// KindMalformed is input that cannot be parsed at all (REST 400).
	KindMalformed
	// KindNotFound names nothing the caller can see (REST 404).
	KindNotFound
	// KindForbidden is a visible resource the caller may not act on (REST 403).
	KindForbidden
	// KindUnauthorized is wrong credentials (REST 401).
	KindUnauthorized
	// KindSessionExpired is a missing, unknown or expired session token (REST 401
	// with the exact body the SDK recognises).
	KindSessionExpired
	// KindConflict is a uniqueness clash that is not a field error.
	KindConflict
	// KindTooLarge is a request over a size limit (REST 413).
	KindTooLarge
	// KindRateLimited is a request refused by a rate limit or a failure
	// backoff, without being acted on (REST 429 with Retry-After).
	KindRateLimited
	// KindBlocked is a stanza or message the other user's privacy list
	// refuses (REALTIME.md §18.9: XMPP service-unavailable 503; REST 403).
	KindBlocked
	// KindBlocking is a message the sender's own mutual block refuses
	// (REALTIME.md §18.9: XMPP not-acceptable 406; REST 403).
	KindBlocking
)

// Error is a domain error. Field, when set, names the request field at fault.
type Error struct {
	Kind    Kind
	Field   string
	Message string
	Err     error // the cause, for logs; never shown to clients
	// RetryAfter is when a KindRateLimited request may be tried again.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	s := e.Message
	if e.Field != "" {
		s = e.Field + " " + s
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Invalid reports a rule broken by the value of field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Malformed reports input that cannot be parsed.
func Malformed(format string, args ...any) *Error {
	return &Error{Kind: KindMalformed, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports that what is named does not exist for the caller.
func NotFound(what string) *Error {
	return &Error{Kind: KindNotFound, Message: what + " not found"}
}

// Forbidden reports an action the caller may not take.
func Forbidden(format string, args ...any) *Error {
	return &Error{Kind: KindForbidden, Message: fmt.Sprintf(format, args...)}
}

// Unauthorized reports wrong credentials.
func Unauthorized() *Error {
	return &Error{Kind: KindUnauthorized, Message: "Unauthorized"}
}

// SessionExpired reports a missing, unknown, destroyed or expired session.
func SessionExpired() *Error {
	return &Error{Kind: KindSessionExpired, Message: "Required session does not exist"}
}

// Blocked reports that the other user's privacy list refuses the action.
func Blocked() *Error { return &Error{Kind: KindBlocked, Message: "Service not available."} }

// Blocking reports that the caller's own mutual block refuses the action.
func Blocking() *Error {
	return &Error{Kind: KindBlocking, Message: "You have blocked this user in both directions"}
}

// TooLarge reports a request over a size limit.
func TooLarge(format string, args ...any) *Error {
	return &Error{Kind: KindTooLarge, Message: fmt.Sprintf(format, args...)}
}

// RateLimited reports a request refused until retryAfter has passed; the
// message should say when, in whole seconds (see RetrySeconds).
func RateLimited(retryAfter time.Duration, format string, args ...any) *Error {
	return &Error{Kind: KindRateLimited, Message: fmt.Sprintf(format, args...), RetryAfter: retryAfter}
}

// RetrySeconds is d in whole seconds, rounded up and at least 1: what a
// client is told to wait (a Retry-After header has no fractions, and 0
// would invite an immediate retry).
func RetrySeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// KindOf returns the kind of err, KindInternal for errors of no domain kind.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// As returns err as an *Error when it is one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
