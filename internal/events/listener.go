package events

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgxlisten"
)

// Reconnect backoff of the Listener: the first reconnect after a lost
// connection waits minReconnectDelay, and each failed attempt doubles the
// wait up to maxReconnectDelay.
const (
	minReconnectDelay = 250 * time.Millisecond
	maxReconnectDelay = 30 * time.Second
)

// maxLoggedPayload bounds how much of a malformed payload is logged.
const maxLoggedPayload = 200

// Listener holds this process's one LISTEN connection on Channel and passes
// every notification to a Broker. It opens its own connection with the
// pool's connection settings (a LISTEN needs a session of its own, so it
// cannot go through a transaction-mode pooler) and keeps it for as long as
// it runs, reconnecting with backoff when it is lost. Events committed while
// it is disconnected are not delivered; instead, each time it listens again
// it calls Broker.Resync, so every stream learns that it should reload what
// it shows.
type Listener struct {
	pool   *pgxpool.Pool
	broker *Broker
	logger *slog.Logger

	ready     chan struct{}
	readyOnce sync.Once

	// Only the pgxlisten goroutine touches these.
	attempted bool // whether a connection was attempted before
	failures  int  // connection attempts since the last successful LISTEN
}

// NewListener returns a Listener that feeds broker from a connection
// configured like pool's; logger may be nil. Call Run to start it.
func NewListener(pool *pgxpool.Pool, broker *Broker, logger *slog.Logger) *Listener {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Listener{
		pool:   pool,
		broker: broker,
		logger: logger,
		ready:  make(chan struct{}),
	}
}

// Ready returns a channel that is closed once the first LISTEN has succeeded:
// from then on every committed Notify reaches the Broker, except while the
// Listener is reconnecting.
func (l *Listener) Ready() <-chan struct{} {
	return l.ready
}

// Run listens until ctx is done and then returns nil. Connection and
// database failures are logged and retried, never returned; malformed
// notifications are logged and skipped. Call Run once.
func (l *Listener) Run(ctx context.Context) error {
	listener := &pgxlisten.Listener{
		Connect: l.connect,
		LogError: func(ctx context.Context, err error) {
			if ctx.Err() == nil { // errors caused by shutdown are expected
				l.logger.Error("events: listener", "error", err)
			}
		},
		// A negative delay makes pgxlisten retry at once; connect waits
		// with exponential backoff instead of pgxlisten's fixed delay.
		ReconnectDelay: -1,
	}
	listener.Handle(Channel, notificationHandler{l})
	err := listener.Listen(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("events: listen: %w", err)
}

// connect opens the LISTEN connection, first waiting out the backoff unless
// this is the first attempt.
func (l *Listener) connect(ctx context.Context) (*pgx.Conn, error) {
	if l.attempted {
		if err := sleep(ctx, reconnectDelay(l.failures)); err != nil {
			return nil, err
		}
	}
	l.attempted = true
	l.failures++
	return pgx.ConnectConfig(ctx, l.pool.Config().ConnConfig)
}

// listening is called after each successful LISTEN. Whatever was committed
// before it reached nobody in this process: streams opened before the first
// LISTEN and every stream after a reconnect are told to resync, before Ready
// reports the Listener ready.
func (l *Listener) listening() {
	l.failures = 0
	l.logger.Info("events: listening", "channel", Channel)
	l.broker.Resync()
	l.readyOnce.Do(func() { close(l.ready) })
}

// deliver decodes one notification and publishes it.
func (l *Listener) deliver(payload string) {
	var ev Event
	err := json.Unmarshal([]byte(payload), &ev)
	if err == nil {
		err = ev.validate()
	}
	if err != nil {
		if len(payload) > maxLoggedPayload {
			payload = payload[:maxLoggedPayload] + "…"
		}
		l.logger.Warn("events: skipping malformed notification", "error", err, "payload", payload)
		return
	}
	l.broker.Publish(ev)
}

// notificationHandler adapts a Listener to pgxlisten without exporting the
// handler methods.
type notificationHandler struct{ l *Listener }

// HandleNotification implements pgxlisten.Handler.
func (h notificationHandler) HandleNotification(_ context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
	h.l.deliver(n.Payload)
	return nil
}

// HandleBacklog implements pgxlisten.BacklogHandler. pgxlisten calls it right
// after LISTEN succeeds, which is what Ready reports; there is no backlog to
// read because events are not stored.
func (h notificationHandler) HandleBacklog(context.Context, string, *pgx.Conn) error {
	h.l.listening()
	return nil
}

// reconnectDelay returns the wait before the next attempt after failures
// failed ones, with ±20% jitter so that instances do not reconnect in step.
func reconnectDelay(failures int) time.Duration {
	delay := maxReconnectDelay
	if failures < 16 {
		delay = min(minReconnectDelay<<failures, maxReconnectDelay)
	}
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(delay) * jitter)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
