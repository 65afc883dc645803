// Package apperr defines the kinds of error the domain returns. Handlers map
// each kind to one HTTP status, page, htmx fragment or problem+json code in a
// single place, so the domain never knows about HTTP and users never see
// internal error text.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the people and programs that receive it.
type Kind string

// The kinds of error. Their values are the stable `code` of API errors.
const (
	NotFound     Kind = "not_found"
	Invalid      Kind = "invalid_input"
	Conflict     Kind = "conflict"
	StaleVersion Kind = "stale_version"
	Locked       Kind = "locked"
	Unauthorized Kind = "unauthorized"
	Forbidden    Kind = "forbidden"
	RateLimited  Kind = "rate_limited"
	TooLarge     Kind = "too_large"
	// NoModelKey means no API key for the model provider is configured,
	// neither the server's nor the user's own.
	NoModelKey Kind = "llm_key_missing"
	// Unavailable means a part the app depends on, such as its database,
	// cannot be reached right now: the same request may succeed shortly.
	Unavailable Kind = "unavailable"
	Internal    Kind = "internal"
)

// FieldError names one invalid input field and why.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a domain error: a kind, a message safe to show a user, optional
// per-field errors, and the underlying cause for logs only.
type Error struct {
	Kind    Kind
	Message string
	Fields  []FieldError
	Cause   error
}

// Error implements error with the user-facing message and, for logs, the cause.
func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Cause }

// New returns an error of kind with a user-facing message.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of kind with a user-facing message and a cause kept
// for logs.
func Wrap(kind Kind, cause error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// InvalidFields returns an invalid-input error listing the fields at fault.
func InvalidFields(message string, fields ...FieldError) *Error {
	return &Error{Kind: Invalid, Message: message, Fields: fields}
}

// KindOf returns the kind of err, or Internal for errors the domain did not
// classify.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// MessageOf returns the user-facing message of err, or a generic message for
// unclassified errors, whose text must not reach users.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong on our side. Please try again."
}

// FieldsOf returns the per-field errors of err, if any.
func FieldsOf(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Is reports whether err is of kind.
func Is(err error, kind Kind) bool { return err != nil && KindOf(err) == kind }
