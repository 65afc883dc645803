package connectors

import (
	"errors"
	"fmt"
	"time"
)

// ErrorKind classifies what went wrong at a service, for the person who can
// fix it.
type ErrorKind string

// The kinds of connector error.
const (
	// Auth: the credentials are wrong, expired or lack a permission.
	Auth ErrorKind = "auth"
	// NotFound: the table or record does not exist (any more).
	NotFound ErrorKind = "not_found"
	// Invalid: the service refused a value or a request as invalid.
	Invalid ErrorKind = "invalid"
	// Conflict: the service refused a write that clashes with its data (a
	// unique key taken, a row changed meanwhile).
	Conflict ErrorKind = "conflict"
	// RateLimited: the service asks to slow down; RetryAfter says for how
	// long.
	RateLimited ErrorKind = "rate_limited"
	// Unavailable: the service cannot be reached or is failing; trying
	// again later may work.
	Unavailable ErrorKind = "unavailable"
)

// Error is a failure a person can act on. Message is written for them and
// never holds a credential or raw driver text; Cause is for logs.
type Error struct {
	Kind    ErrorKind
	Message string
	// Field is the column key a record error is about, if any.
	Field string
	// RetryAfter is how long a RateLimited or Unavailable service asked us
	// to wait; zero when it did not say.
	RetryAfter time.Duration
	Cause      error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

// Unwrap exposes the cause.
func (e *Error) Unwrap() error { return e.Cause }

// Errorf returns an *Error of kind with a message for people.
func Errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// AsError returns err's *Error, if it has one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// KindOf returns the kind of err, or "" when it is not an *Error.
func KindOf(err error) ErrorKind {
	if e, ok := AsError(err); ok {
		return e.Kind
	}
	return ""
}

// Retryable reports whether trying the same call again later may succeed.
func Retryable(err error) bool {
	k := KindOf(err)
	return k == RateLimited || k == Unavailable
}

// Message returns what to tell a person about err: the *Error's message, or
// a general one for failures that are ours to look into.
func Message(err error) string {
	if e, ok := AsError(err); ok {
		return e.Message
	}
	return "The data source failed in an unexpected way; try again, and if it keeps failing, tell us."
}
