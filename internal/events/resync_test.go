package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/events"
)

// MustResync waits for the next event on c and checks that it is the resync
// message of its format: the SSE event "resync" with, for JSON subscribers,
// an Event of type resync on the subscriber's own topic.
func MustResync(tb testing.TB, c *sseClient, topic, format string) {
	tb.Helper()
	got := c.MustNext(tb)
	if got.Name != events.ResyncType {
		tb.Fatalf("%s subscriber of %s got %+v, want a %q message", format, topic, got, events.ResyncType)
	}
	if format != "json" {
		return
	}
	var ev events.Event
	if err := json.Unmarshal([]byte(got.Data), &ev); err != nil {
		tb.Fatalf("resync data %q is not an Event: %v", got.Data, err)
	}
	var data struct{ Kind string }
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		tb.Fatalf("resync event data %s: %v", ev.Data, err)
	}
	if ev.Topic != topic || ev.Type != events.ResyncType || data.Kind != events.ResyncType {
		tb.Fatalf("JSON resync event = %+v, want topic %s, type and kind %s", ev, topic, events.ResyncType)
	}
}

func TestResyncReachesEveryStreamInItsFormat(t *testing.T) {
	t.Parallel()
	// The Renderer is not asked: a resync is the same for every page.
	renderer := func(_ context.Context, ev events.Event) []events.Message {
		t.Errorf("Renderer called for %+v", ev)
		return nil
	}
	server := MustStreamServer(t, events.BrokerOptions{Heartbeat: -1, Renderer: renderer})
	topicA, topicB := UniqueTopic(t), UniqueTopic(t)
	subs := []struct {
		topic, format string
		client        *sseClient
	}{
		{topic: topicA, format: "html"},
		{topic: topicA, format: "json"},
		{topic: topicB, format: "html"},
		{topic: topicB, format: "json"},
	}
	for i := range subs {
		subs[i].client = MustSubscribe(t, server, subs[i].topic, subs[i].format)
	}

	server.broker.Resync()
	for _, s := range subs {
		MustResync(t, s.client, s.topic, s.format)
	}
}

func TestListenerResyncsEveryStreamAfterReconnecting(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	appName := fmt.Sprintf("events-resync-%d", time.Now().UnixNano())
	inst := MustInstance(t, appName, events.BrokerOptions{Heartbeat: -1})
	topicA, topicB := UniqueTopic(t), UniqueTopic(t)
	html := MustSubscribe(t, inst.streamServer, topicA, "html")
	api := MustSubscribe(t, inst.streamServer, topicB, "json")

	var pid int32
	err := inst.pool.QueryRow(ctx, `
		select pid from pg_stat_activity
		where application_name = $1 and state = 'idle' and query ilike 'listen %'`, appName).Scan(&pid)
	if err != nil {
		t.Fatalf("listener backend not found in pg_stat_activity: %v", err)
	}
	if _, err := inst.pool.Exec(ctx, "select pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}

	// Whatever was committed while the listener was away is lost, so every
	// stream, whatever its topic, is told to reload what it shows; events
	// flow again afterwards.
	MustResync(t, html, topicA, "html")
	MustResync(t, api, topicB, "json")
	mustNotify(t, inst.pool, topicB, "after", 1)
	if got := mustNextType(t, api); got != "after" {
		t.Fatalf("got %q after the resync", got)
	}
}
