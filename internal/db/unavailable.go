package db

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsUnavailable reports whether err means that the database cannot be
// reached right now, as opposed to a statement it refused: no connection
// could be made (refused, reset, timed out, or refused by the server: a
// pgconn.ConnectError, which is also what a pool returns when it cannot
// open a connection to hand out), the server is shutting down, starting up
// or out of connection slots (SQLSTATE 57P01, 57P02, 57P03, 53300 and the
// connection exceptions of class 08), or the connection broke under a
// statement. The same request may well succeed a few seconds later, which
// is why the HTTP layer answers these 503 with Retry-After instead of 500.
// It is the one place that knows what such errors look like.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableState(pgErr.Code)
	}
	return brokenConnection(err)
}

// unavailableState reports whether a SQLSTATE says the server cannot serve
// this session now, rather than that the statement was wrong.
func unavailableState(code string) bool {
	switch code {
	case "57P01", // admin_shutdown: the server is stopping (fast or smart)
		"57P02", // crash_shutdown: another backend crashed
		"57P03", // cannot_connect_now: the server is starting up or in recovery
		"53300": // too_many_connections
		return true
	case "08P01": // protocol_violation is a bug, not an outage
		return false
	}
	return strings.HasPrefix(code, "08") // connection_exception
}

// brokenConnection reports whether err is pgconn's report of a connection
// that went away under a statement: the socket was reset, closed or ended
// early. Only errors that came through pgconn count (they all carry its
// SafeToRetry method), so that, say, an upload cut short (io.ErrUnexpectedEOF)
// or a refused call to another service is not taken for the database.
func brokenConnection(err error) bool {
	var fromPgconn interface{ SafeToRetry() bool }
	if !errors.As(err, &fromPgconn) {
		return false
	}
	for _, target := range []error{
		pgconn.ErrConnClosed, io.ErrUnexpectedEOF, io.EOF, net.ErrClosed,
		syscall.ECONNRESET, syscall.ECONNREFUSED, syscall.ECONNABORTED, syscall.EPIPE,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
