package events

import (
	"context"
	"strings"
	"sync"
)

// Kind is the type of an event (Event.Type) as a typed constant: each
// domain declares the kinds it sends next to their payloads, so a renderer
// registered for a kind and the code that sends it name the same thing.
type Kind string

// RenderFunc renders one event of a kind for browsers. It runs on the
// listener's goroutine: it must be quick, and events whose payload carries
// everything to show (an agent's streamed text) must not touch the database.
type RenderFunc func(ctx context.Context, ev Event) []Message

// Registry maps event kinds to their renderers, so the parts of the app plug
// their own events in instead of growing one switch. It is safe for
// concurrent use.
type Registry struct {
	mu       sync.RWMutex
	exact    map[Kind]RenderFunc
	prefixes []prefixRenderer
}

type prefixRenderer struct {
	prefix string
	fn     RenderFunc
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry { return &Registry{exact: map[Kind]RenderFunc{}} }

// Handle registers fn for events of kind k, replacing an earlier one.
func (r *Registry) Handle(k Kind, fn RenderFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exact[k] = fn
}

// HandlePrefix registers fn for every kind that starts with prefix and has
// no exact renderer; the longest matching prefix wins.
func (r *Registry) HandlePrefix(prefix string, fn RenderFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prefixes = append(r.prefixes, prefixRenderer{prefix: prefix, fn: fn})
}

// Lookup returns the renderer of ev's kind, if one is registered.
func (r *Registry) Lookup(kind string) (RenderFunc, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if fn, ok := r.exact[Kind(kind)]; ok {
		return fn, true
	}
	var best *prefixRenderer
	for i := range r.prefixes {
		p := &r.prefixes[i]
		if strings.HasPrefix(kind, p.prefix) && (best == nil || len(p.prefix) > len(best.prefix)) {
			best = p
		}
	}
	if best == nil {
		return nil, false
	}
	return best.fn, true
}

// Render renders ev with the renderer of its kind, and reports whether one
// is registered: it has the shape of the handlers' extra renderers.
func (r *Registry) Render(ctx context.Context, ev Event) ([]Message, bool) {
	fn, ok := r.Lookup(ev.Type)
	if !ok {
		return nil, false
	}
	return fn(ctx, ev), true
}
