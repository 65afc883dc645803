package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/r3labs/sse/v2"
)

// Format selects what a subscriber receives for each event.
type Format int

const (
	// FormatHTML is for browsers: each event becomes the messages the
	// Broker's Renderer returns for it, typically HTML fragments for htmx.
	FormatHTML Format = iota + 1
	// FormatJSON is for API clients: each event is sent as its JSON encoding
	// ({"topic": ..., "type": ..., "data": ...}) under the SSE event name
	// Event.Type.
	FormatJSON
)

// String returns "html" or "json", for logs.
func (f Format) String() string {
	switch f {
	case FormatHTML:
		return "html"
	case FormatJSON:
		return "json"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// Message is one SSE message for HTML subscribers: Name becomes the "event:"
// field (empty means the default "message" event) and Data the "data:" lines.
type Message struct {
	Name string
	Data []byte
}

// Renderer turns an event into the messages HTML subscribers receive; it may
// return none. The Broker calls it once per event and only when the event's
// topic has an HTML subscriber in this process, on the Listener's goroutine,
// so it must be quick: events are delivered in order and wait for it. ctx is
// cancelled when the Broker closes. A panic is recovered and logged, and the
// event is then not sent to HTML subscribers.
type Renderer func(ctx context.Context, ev Event) []Message

// Defaults for BrokerOptions.
const (
	// DefaultHeartbeat is how often an idle stream gets a comment line so
	// that proxies and load balancers do not time it out.
	DefaultHeartbeat = 15 * time.Second
	// DefaultBufferSize is how many messages may wait for one subscriber
	// before it is considered too slow and disconnected.
	DefaultBufferSize = 64
)

// closeGrace is how long Close waits for subscribers to end by themselves
// before it interrupts their pending writes.
const closeGrace = time.Second

// pastDeadline is a write deadline in the past: setting it makes a blocked
// write to a subscriber's connection fail at once.
var pastDeadline = time.Unix(1, 0)

// BrokerOptions configures NewBroker. The zero value is usable: HTML
// subscribers then receive only heartbeats.
type BrokerOptions struct {
	// Heartbeat is the interval of the ": heartbeat" comment sent to every
	// stream; zero means DefaultHeartbeat and a negative value disables it.
	Heartbeat time.Duration
	// BufferSize is the number of messages queued for one subscriber beyond
	// what its connection holds; zero means DefaultBufferSize.
	BufferSize int
	// Renderer produces the messages for HTML subscribers; nil sends them
	// nothing but heartbeats.
	Renderer Renderer
	// Logger receives drops, render failures and malformed messages; nil
	// discards them.
	Logger *slog.Logger
	// RecheckInterval is how often every stream's Credentials.Check runs,
	// besides the re-checks that RecheckUser asks for; zero means
	// DefaultRecheckInterval and a negative value disables the periodic
	// re-check.
	RecheckInterval time.Duration
}

// Broker fans events out to the Server-Sent Events streams of this process's
// subscribers. It wraps an r3labs/sse Server with replay and automatic
// streams turned off.
//
// Each subscriber (one HTTP request) gets its own r3labs stream, and the
// Broker keeps the topic → subscribers index itself. That is deliberate:
// r3labs writes to all subscribers of one stream from one goroutine with
// blocking sends, so a subscriber that stops reading would stall everyone
// sharing its stream. With one stream each, a stalled client stalls only
// itself.
//
// Slow subscribers: a subscriber's messages first fill its TCP buffers, then
// a queue of 64 messages inside r3labs, then a queue of BufferSize messages.
// When that last queue is full, Publish (and the heartbeat) does not wait: the
// message is not queued and the subscriber is dropped at once. Dropping
// removes it from its topic, cancels its request context and sets its write
// deadline in the past, so its pending write fails, its connection is closed
// and its ServeHTTP returns. The client sees the stream end and, being an
// EventSource, reconnects. Other subscribers never wait for it.
//
// A Broker must be closed with Close, before http.Server.Shutdown.
type Broker struct {
	server    *sse.Server
	renderer  Renderer
	logger    *slog.Logger
	heartbeat time.Duration
	recheck   time.Duration

	// ctx is cancelled by Close; it stops the heartbeat and is given to the
	// Renderer.
	ctx           context.Context
	cancel        context.CancelFunc
	heartbeatDone chan struct{}
	// dropped counts the live streams dropped as too slow.
	dropped atomic.Int64
	nextID  atomic.Uint64
	// resyncs counts Resync calls (resync.go).
	resyncs atomic.Uint64

	mu     sync.Mutex
	closed bool
	// topics holds the subscribers that receive events, by topic.
	topics map[string]map[*subscriber]struct{}
	// count is the number of subscribers in topics.
	count int
	// streams holds every subscriber whose r3labs stream still exists, by
	// stream id; a subscriber stays here after it is dropped from topics
	// until r3labs has let go of it.
	streams map[string]*subscriber
}

// subscriber is one open event stream.
type subscriber struct {
	streamID string
	topic    string
	format   Format
	creds    Credentials
	// recheck asks the subscriber's watch to check its credentials now.
	recheck chan struct{}
	// cancel ends the request context r3labs watches, which makes it
	// unregister the subscriber and end the response.
	cancel context.CancelFunc
	// unsubscribed is closed once r3labs has unregistered the subscriber
	// and its stream is removed.
	unsubscribed chan struct{}
	// resyncsSeen is Broker.resyncs when the subscriber was created.
	resyncsSeen uint64

	mu sync.Mutex
	// rc controls the subscriber's connection; nil once ServeHTTP has
	// returned, after which the ResponseWriter must not be touched.
	rc *http.ResponseController
}

// NewBroker returns a running Broker; its heartbeat starts at once.
func NewBroker(opts BrokerOptions) *Broker {
	if opts.Heartbeat == 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if opts.BufferSize <= 0 {
		opts.BufferSize = DefaultBufferSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RecheckInterval == 0 {
		opts.RecheckInterval = DefaultRecheckInterval
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Broker{
		renderer:      opts.Renderer,
		logger:        opts.Logger,
		heartbeat:     opts.Heartbeat,
		recheck:       opts.RecheckInterval,
		ctx:           ctx,
		cancel:        cancel,
		heartbeatDone: make(chan struct{}),
		topics:        make(map[string]map[*subscriber]struct{}),
		streams:       make(map[string]*subscriber),
	}

	server := sse.New()
	server.AutoReplay = false // otherwise r3labs keeps every event forever
	server.AutoStream = false // streams exist only for subscribers we registered
	server.SplitData = true   // multi-line HTML becomes several data: lines
	server.BufferSize = opts.BufferSize
	server.Headers["X-Accel-Buffering"] = "no" // nginx must not buffer the stream
	server.OnUnsubscribe = b.removeStream
	server.OnSubscribe = b.resyncIfMissed
	b.server = server

	if b.heartbeat > 0 {
		go b.sendHeartbeats()
	} else {
		close(b.heartbeatDone)
	}
	return b
}

// ServeHTTP streams topic to one subscriber in format until the client goes
// away, the subscriber is dropped as too slow, its credentials end (see
// Credentials), or the Broker closes. The caller has already authorized the
// subscriber for topic with creds, whose Check is required. It clears any
// write deadline the http.Server set, since a stream outlives it, and answers
// 503 Service Unavailable once the Broker is closed. w must implement
// http.Flusher itself (in Echo pass c.Response(), not c.Response().Writer,
// which middleware such as scs may wrap); otherwise it answers 500.
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request, topic string, format Format, creds Credentials) {
	if topic == "" || (format != FormatHTML && format != FormatJSON) || creds.Check == nil {
		b.logger.Error("events: invalid subscription", "topic", topic, "format", format, "check", creds.Check != nil)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	// r3labs asserts http.Flusher on w itself; check first so that it never
	// fails after a stream was created.
	if _, ok := w.(http.Flusher); !ok {
		b.logger.Error("events: response writer cannot flush", "type", fmt.Sprintf("%T", w))
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	rc := http.NewResponseController(w)
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		b.logger.Warn("events: clear write deadline", "error", err)
	}

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	s := &subscriber{
		streamID:     "s" + strconv.FormatUint(b.nextID.Add(1), 10),
		topic:        topic,
		format:       format,
		creds:        creds,
		recheck:      make(chan struct{}, 1),
		cancel:       cancel,
		unsubscribed: make(chan struct{}),
		resyncsSeen:  b.resyncs.Load(),
		rc:           rc,
	}
	if !b.add(s) {
		http.Error(w, "event stream closed", http.StatusServiceUnavailable)
		return
	}
	defer b.finish(s)
	defer b.startWatch(ctx, s)()

	// r3labs reads the stream id from the query string and would reject a
	// non-numeric Last-Event-ID; there is nothing to replay anyway.
	req := r.Clone(ctx)
	query := req.URL.Query()
	query.Set("stream", s.streamID)
	req.URL.RawQuery = query.Encode()
	req.Header.Del("Last-Event-ID")
	b.server.ServeHTTP(w, req)
}

// Publish sends ev to this process's subscribers of ev.Topic: HTML
// subscribers get the Renderer's messages, rendered once for all of them, and
// JSON subscribers get the event itself. It never waits for a subscriber; see
// Broker for what happens to one that is too slow. Events for topics without
// subscribers cost a map lookup. An event of type TypeAuthChanged is sent to
// no one: it makes the streams of the user it names re-check their
// credentials (RecheckUser).
func (b *Broker) Publish(ev Event) {
	if ev.Type == TypeAuthChanged {
		if userID, ok := userOfTopic(ev.Topic); ok {
			b.RecheckUser(userID)
		}
		return
	}
	htmlSubs, jsonSubs := b.subscribersOf(ev.Topic)
	if len(htmlSubs) > 0 {
		msgs := b.render(ev)
		for _, s := range htmlSubs {
			b.send(s, msgs)
		}
	}
	if len(jsonSubs) > 0 {
		msg, ok := b.encodeJSON(ev)
		if !ok {
			return
		}
		for _, s := range jsonSubs {
			b.send(s, []Message{msg})
		}
	}
}

// Subscribers returns the number of streams currently receiving events, for a
// gauge.
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.count
}

// Close ends every stream and stops the heartbeat, so that
// http.Server.Shutdown does not wait for streams that never end. Subscribers
// get a second to finish their current write; after that their connections
// are interrupted. Close returns once every stream is gone (or, for a
// connection that cannot be interrupted, after a second more), and later
// subscriptions get 503. It is safe to call more than once.
func (b *Broker) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	subs := make([]*subscriber, 0, len(b.streams))
	for _, s := range b.streams {
		subs = append(subs, s)
	}
	clear(b.topics)
	b.count = 0
	b.mu.Unlock()

	b.cancel()
	<-b.heartbeatDone

	for _, s := range subs {
		s.cancel()
	}
	if !waitUnsubscribed(subs, closeGrace) {
		for _, s := range subs {
			s.interrupt()
		}
		if !waitUnsubscribed(subs, closeGrace) {
			b.logger.Warn("events: streams still open after close")
		}
	}
	// Only streams that could not be ended above remain; closing them
	// frees what can be freed.
	b.server.Close()
}

// add registers s and creates its stream, unless the Broker is closed.
func (b *Broker) add(s *subscriber) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.server.CreateStream(s.streamID)
	b.streams[s.streamID] = s
	subs := b.topics[s.topic]
	if subs == nil {
		subs = make(map[*subscriber]struct{})
		b.topics[s.topic] = subs
	}
	subs[s] = struct{}{}
	b.count++
	return true
}

// detach stops sending events to s and reports whether it was receiving them.
func (b *Broker) detach(s *subscriber) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	subs := b.topics[s.topic]
	if _, ok := subs[s]; !ok {
		return false
	}
	delete(subs, s)
	if len(subs) == 0 {
		delete(b.topics, s.topic)
	}
	b.count--
	return true
}

// finish runs when ServeHTTP for s returns.
func (b *Broker) finish(s *subscriber) {
	s.mu.Lock()
	s.rc = nil
	s.mu.Unlock()
	b.detach(s)
}

// removeStream is r3labs's OnUnsubscribe hook. Every stream has exactly one
// subscriber, so once r3labs has unregistered it the stream is removed, which
// also ends the stream's goroutine; streams therefore live exactly as long as
// their request and memory does not grow with every topic ever seen.
func (b *Broker) removeStream(streamID string, _ *sse.Subscriber) {
	b.server.RemoveStream(streamID)
	b.mu.Lock()
	s := b.streams[streamID]
	delete(b.streams, streamID)
	b.mu.Unlock()
	if s != nil {
		close(s.unsubscribed)
	}
}

// Dropped is how many live streams this broker has dropped as too slow to
// keep up (their browsers reconnect and resync).
func (b *Broker) Dropped() int64 { return b.dropped.Load() }

// drop disconnects a subscriber that cannot keep up.
func (b *Broker) drop(s *subscriber) {
	// A failed publish also happens when the client has just gone away
	// and its stream is already removed; that is not worth a warning.
	if b.detach(s) && b.server.StreamExists(s.streamID) {
		b.dropped.Add(1)
		b.logger.Warn("events: dropping slow subscriber", "topic", s.topic, "format", s.format)
	}
	s.cancel()
	s.interrupt()
}

// interrupt makes a write blocked on the subscriber's connection fail, which
// closes the connection; it does nothing once ServeHTTP has returned.
func (s *subscriber) interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rc == nil {
		return
	}
	// An error means the writer has no deadlines; the subscriber then ends
	// when its client or the operating system gives up on the connection.
	_ = s.rc.SetWriteDeadline(pastDeadline)
}

// subscribersOf returns the current subscribers of topic by format.
func (b *Broker) subscribersOf(topic string) (htmlSubs, jsonSubs []*subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.topics[topic] {
		if s.format == FormatHTML {
			htmlSubs = append(htmlSubs, s)
		} else {
			jsonSubs = append(jsonSubs, s)
		}
	}
	return htmlSubs, jsonSubs
}

// send queues msgs for s, dropping s if its queue is full.
func (b *Broker) send(s *subscriber, msgs []Message) {
	for _, m := range msgs {
		if !b.server.TryPublish(s.streamID, &sse.Event{Event: []byte(m.Name), Data: m.Data}) {
			b.drop(s)
			return
		}
	}
}

// render calls the Renderer and keeps the messages SSE can carry.
func (b *Broker) render(ev Event) (msgs []Message) {
	if b.renderer == nil {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			b.logger.Error("events: renderer panicked", "topic", ev.Topic, "type", ev.Type, "panic", p)
			msgs = nil
		}
	}()
	rendered := b.renderer(b.ctx, ev)
	msgs = make([]Message, 0, len(rendered))
	for _, m := range rendered {
		switch {
		case !validEventName(m.Name):
			b.logger.Warn("events: skipping message with a line break in its name", "topic", ev.Topic, "type", ev.Type, "name", m.Name)
		case len(m.Data) == 0:
			// r3labs treats an event without data as the end of the
			// stream, so an empty message cannot be sent.
			b.logger.Warn("events: skipping message without data", "topic", ev.Topic, "type", ev.Type, "name", m.Name)
		default:
			msgs = append(msgs, Message{Name: m.Name, Data: normalizeNewlines(m.Data)})
		}
	}
	return msgs
}

// encodeJSON returns the message JSON subscribers receive for ev.
func (b *Broker) encodeJSON(ev Event) (Message, bool) {
	if err := ev.validate(); err != nil {
		b.logger.Warn("events: skipping invalid event", "topic", ev.Topic, "type", ev.Type, "error", err)
		return Message{}, false
	}
	data, err := json.Marshal(ev)
	if err != nil {
		b.logger.Warn("events: skipping event that does not encode", "topic", ev.Topic, "type", ev.Type, "error", err)
		return Message{}, false
	}
	return Message{Name: ev.Type, Data: data}, true
}

// normalizeNewlines turns CRLF and CR into LF: SSE ends a line at any of
// them, but r3labs splits data lines only at LF.
func normalizeNewlines(data []byte) []byte {
	if !bytes.ContainsRune(data, '\r') {
		return data
	}
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
}

// sendHeartbeats writes a comment to every stream at each tick until Close.
func (b *Broker) sendHeartbeats() {
	defer close(b.heartbeatDone)
	ticker := time.NewTicker(b.heartbeat)
	defer ticker.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-ticker.C:
			for _, s := range b.allSubscribers() {
				if !b.server.TryPublish(s.streamID, &sse.Event{Comment: []byte("heartbeat")}) {
					b.drop(s)
				}
			}
		}
	}
}

// allSubscribers returns every subscriber receiving events.
func (b *Broker) allSubscribers() []*subscriber {
	b.mu.Lock()
	defer b.mu.Unlock()
	all := make([]*subscriber, 0, b.count)
	for _, subs := range b.topics {
		for s := range subs {
			all = append(all, s)
		}
	}
	return all
}

// waitUnsubscribed waits up to timeout for every subscriber in subs to be
// unregistered and reports whether they all were.
func waitUnsubscribed(subs []*subscriber, timeout time.Duration) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for _, s := range subs {
		select {
		case <-s.unsubscribed:
		case <-timer.C:
			return false
		}
	}
	return true
}
