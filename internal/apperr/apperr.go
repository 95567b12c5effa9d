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
	// KindTooMany is a rate limit reached (REST 429 with Retry-After).
	KindTooMany
)

// Error is a domain error. Field, when set, names the request field at fault.
type Error struct {
	Kind    Kind
	Field   string
	Message string
	Err     error // the cause, for logs; never shown to clients
	// RetryAfter is, for KindTooMany, how long until the limit allows the
	// request again.
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

// TooLarge reports a request over a size limit.
func TooLarge(format string, args ...any) *Error {
	return &Error{Kind: KindTooLarge, Message: fmt.Sprintf(format, args...)}
}

// TooMany reports a rate limit reached; retryAfter is how long until the
// request would be allowed.
func TooMany(retryAfter time.Duration, format string, args ...any) *Error {
	return &Error{Kind: KindTooMany, Message: fmt.Sprintf(format, args...), RetryAfter: retryAfter}
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
