package events

import (
	"encoding/json"

	"github.com/r3labs/sse/v2"
)

// ResyncType is the type of the event, and the SSE event name of the message,
// that tells a stream it may have missed events: see [Broker.Resync].
const ResyncType = "resync"

// resyncData is the data of the resync Event JSON subscribers receive; its
// kind matches the type, as the kind of every workbook event does.
var resyncData = json.RawMessage(`{"kind":"` + ResyncType + `"}`)

// Resync tells every stream of this process, whatever its topic, to reload
// what it shows, because events may have been lost: the Listener calls it
// each time it has run LISTEN again after losing its connection (and after
// its first LISTEN, for streams that opened before it). HTML subscribers get
// a message named "resync", JSON subscribers an Event of type ResyncType on
// their own topic with data {"kind": "resync"}; the Renderer is not asked.
// Like Publish it never waits: a subscriber whose queue is full is dropped,
// and its client reconnects.
func (b *Broker) Resync() {
	b.resyncs.Add(1)
	for _, s := range b.allSubscribers() {
		b.sendResync(s)
	}
}

// resyncIfMissed is r3labs's OnSubscribe hook; it runs once the subscriber
// of a new stream is registered. A message published to a stream before
// that reaches nobody, so a stream that opened while the Listener was
// reconnecting could miss the resync meant for it: it is sent again when a
// Resync happened after the subscriber was created.
func (b *Broker) resyncIfMissed(streamID string, _ *sse.Subscriber) {
	b.mu.Lock()
	s := b.streams[streamID]
	b.mu.Unlock()
	if s != nil && s.resyncsSeen != b.resyncs.Load() {
		b.sendResync(s)
	}
}

// sendResync queues the resync message of s's format for s.
func (b *Broker) sendResync(s *subscriber) {
	msg := Message{Name: ResyncType, Data: []byte(ResyncType)}
	if s.format == FormatJSON {
		var ok bool
		if msg, ok = b.encodeJSON(Event{Topic: s.topic, Type: ResyncType, Data: resyncData}); !ok {
			return
		}
	}
	b.send(s, []Message{msg})
}
