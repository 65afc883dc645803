// Package idempotency makes API creates safe to retry. A client sends an
// Idempotency-Key header with a POST; the first request with that key runs
// and its response is kept for 24 hours, and a retry with the same key and
// the same request (method, path and body) gets that response back without
// running again. The same key with a different request is invalid input; a
// retry that arrives while the first request still runs is a conflict.
//
// Keys belong to the authenticated user, so two users never see each other's
// responses. The key row is inserted before the request runs (insert first,
// with the primary key deciding who won), which makes concurrent duplicates
// safe across processes. Only successful (2xx) responses are kept: a request
// that fails changed nothing, so its key is released and a retry runs again.
//
// This package is the store; the HTTP middleware that uses it lives with
// the other middleware in handlers, so nothing here depends on Echo.
//
// Store.Purge deletes keys past their 24 hours; Begin takes over an expired
// key by itself, so the purge only keeps the table small.
package idempotency
