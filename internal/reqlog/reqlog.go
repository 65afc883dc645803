// Package reqlog attaches request attributes (the request id) to a context
// so every log line written with that context carries them, wherever it is
// logged from.
package reqlog

import (
	"context"
	"log/slog"
)

type ctxKey struct{}

// With returns ctx carrying attrs (key/value pairs) for log records.
func With(ctx context.Context, attrs ...any) context.Context {
	prev, _ := ctx.Value(ctxKey{}).([]any)
	return context.WithValue(ctx, ctxKey{}, append(append([]any{}, prev...), attrs...))
}

// Handler wraps a slog handler, adding the context's attributes to records.
type Handler struct{ slog.Handler }

// Handle adds the context's attributes, if any, to r.
func (h Handler) Handle(ctx context.Context, r slog.Record) error {
	if attrs, ok := ctx.Value(ctxKey{}).([]any); ok {
		r.Add(attrs...)
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the wrapper around derived handlers.
func (h Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return Handler{h.Handler.WithAttrs(attrs)}
}

// WithGroup keeps the wrapper around derived handlers.
func (h Handler) WithGroup(name string) slog.Handler { return Handler{h.Handler.WithGroup(name)} }

// New returns a text or JSON logger at level that includes request attributes.
func New(w interface{ Write([]byte) (int, error) }, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(Handler{h})
}
