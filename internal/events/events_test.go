package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/scratchpad/scratchpad/internal/events"
)

// execerMustNotRun fails the test if Notify reaches the database.
type execerMustNotRun struct{ tb testing.TB }

func (e execerMustNotRun) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	e.tb.Error("Notify sent an event it should have rejected")
	return pgconn.CommandTag{}, nil
}

func TestNotifyRejectsEventsThatCannotTravel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ev   events.Event
		want error
	}{
		{"no topic", events.Event{Type: "record.updated"}, events.ErrInvalidEvent},
		{"no type", events.Event{Topic: "workbook:1"}, events.ErrInvalidEvent},
		{"line break in type", events.Event{Topic: "workbook:1", Type: "a\nb"}, events.ErrInvalidEvent},
		{"data not JSON", events.Event{Topic: "workbook:1", Type: "t", Data: json.RawMessage("{")}, events.ErrInvalidEvent},
		{"payload too large", events.Event{
			Topic: "workbook:1", Type: "t",
			Data: json.RawMessage(`"` + strings.Repeat("x", events.MaxPayloadBytes) + `"`),
		}, events.ErrPayloadTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := events.Notify(t.Context(), execerMustNotRun{t}, tt.ev)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Notify error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestTopics(t *testing.T) {
	t.Parallel()
	if got := events.UserTopic("u1"); got != "user:u1" {
		t.Errorf("UserTopic = %q", got)
	}
	if got := events.WorkbookTopic("w1"); got != "workbook:w1" {
		t.Errorf("WorkbookTopic = %q", got)
	}
}

// mustNotify sends an event of type typ with data {"n": n} through db.
func mustNotify(tb testing.TB, db events.Execer, topic, typ string, n int) {
	tb.Helper()
	ev := events.Event{Topic: topic, Type: typ, Data: json.RawMessage(`{"n":` + strconv.Itoa(n) + `}`)}
	if err := events.Notify(context.Background(), db, ev); err != nil {
		tb.Fatalf("Notify %s: %v", typ, err)
	}
}

// mustNextType returns the type of the next JSON-format event after checking
// that the SSE event name matches it.
func mustNextType(tb testing.TB, c *sseClient) string {
	tb.Helper()
	got := c.MustNext(tb)
	var ev events.Event
	if err := json.Unmarshal([]byte(got.Data), &ev); err != nil {
		tb.Fatalf("event data %q is not an Event: %v", got.Data, err)
	}
	if got.Name != ev.Type {
		tb.Fatalf("SSE event name %q, event type %q", got.Name, ev.Type)
	}
	return ev.Type
}

func TestNotifyIsDeliveredOnlyAfterCommit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	inst := MustInstance(t, "events-commit", events.BrokerOptions{})
	topic := UniqueTopic(t)
	client := MustSubscribe(t, inst.streamServer, topic, "json")

	// PostgreSQL delivers notifications in commit order, so a marker sent
	// after the transaction's NOTIFY but committed first must arrive first.
	tx, err := inst.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustNotify(t, tx, topic, "committed", 1)
	mustNotify(t, inst.pool, topic, "marker-before-commit", 2)
	if got := mustNextType(t, client); got != "marker-before-commit" {
		t.Fatalf("got %q before the commit", got)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := mustNextType(t, client); got != "committed" {
		t.Fatalf("got %q after the commit, want committed", got)
	}

	tx, err = inst.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustNotify(t, tx, topic, "rolled-back", 3)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	mustNotify(t, inst.pool, topic, "marker-after-rollback", 4)
	if got := mustNextType(t, client); got != "marker-after-rollback" {
		t.Fatalf("got %q after the rollback, want only the marker", got)
	}
}

func TestSubscribersReceiveRenderedHTMLAndJSON(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	renders := map[string]int{}
	renderer := func(_ context.Context, ev events.Event) []events.Message {
		mu.Lock()
		renders[ev.Topic]++
		mu.Unlock()
		return []events.Message{
			{Name: "record-1", Data: []byte("<tr data-testid=\"record\">\r\n  <td>one</td>\n</tr>")},
			{Name: "skipped", Data: nil},           // SSE through r3labs cannot carry it
			{Name: "bad\nname", Data: []byte("x")}, // would break the stream
			{Name: "toast", Data: []byte(ev.Type)},
		}
	}
	inst := MustInstance(t, "events-formats", events.BrokerOptions{Renderer: renderer})
	topic := UniqueTopic(t)
	html1 := MustSubscribe(t, inst.streamServer, topic, "html")
	html2 := MustSubscribe(t, inst.streamServer, topic, "html")
	api := MustSubscribe(t, inst.streamServer, topic, "json")
	if got := inst.broker.Subscribers(); got != 3 {
		t.Fatalf("Subscribers() = %d, want 3", got)
	}

	sent := events.Event{Topic: topic, Type: "record.updated", Data: json.RawMessage(`{"record_id":"1"}`)}
	if err := events.Notify(t.Context(), inst.pool, sent); err != nil {
		t.Fatal(err)
	}

	wantHTML := []sseEvent{
		{Name: "record-1", Data: "<tr data-testid=\"record\">\n  <td>one</td>\n</tr>"},
		{Name: "toast", Data: "record.updated"},
	}
	for i, client := range []*sseClient{html1, html2} {
		for _, want := range wantHTML {
			if got := client.MustNext(t); got != want {
				t.Errorf("HTML subscriber %d got %+v, want %+v", i+1, got, want)
			}
		}
	}

	got := api.MustNext(t)
	var ev events.Event
	if err := json.Unmarshal([]byte(got.Data), &ev); err != nil {
		t.Fatalf("JSON subscriber got %q: %v", got.Data, err)
	}
	if got.Name != "record.updated" || ev.Topic != sent.Topic || ev.Type != sent.Type || !bytes.Equal(ev.Data, sent.Data) {
		t.Errorf("JSON subscriber got name %q, event %+v; want %+v", got.Name, ev, sent)
	}
	if !strings.Contains(got.Data, `"topic":`) || !strings.Contains(got.Data, `"data":{"record_id":"1"}`) {
		t.Errorf("JSON payload %s does not use the documented keys", got.Data)
	}

	mu.Lock()
	calls := renders[topic]
	mu.Unlock()
	if calls != 1 {
		t.Errorf("Renderer called %d times for one event, want once for all subscribers", calls)
	}

	for _, c := range []*sseClient{html1, html2, api} {
		c.body.Close()
	}
	MustEventually(t, "the disconnected subscribers are gone", func() bool { return inst.broker.Subscribers() == 0 })
}

func TestEventsReachSubscribersOfOtherInstances(t *testing.T) {
	t.Parallel()
	renderer := func(_ context.Context, ev events.Event) []events.Message {
		return []events.Message{{Name: ev.Type, Data: []byte("<p>" + string(ev.Data) + "</p>")}}
	}
	a := MustInstance(t, "events-instance-a", events.BrokerOptions{Renderer: renderer})
	b := MustInstance(t, "events-instance-b", events.BrokerOptions{Renderer: renderer})
	topic := UniqueTopic(t)
	onB := MustSubscribe(t, b.streamServer, topic, "html")
	onA := MustSubscribe(t, a.streamServer, topic, "json")

	tx, err := a.pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	mustNotify(t, tx, topic, "cell.changed", 7)
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}

	if got, want := onB.MustNext(t), (sseEvent{Name: "cell.changed", Data: `<p>{"n":7}</p>`}); got != want {
		t.Errorf("subscriber on instance B got %+v, want %+v", got, want)
	}
	if got := mustNextType(t, onA); got != "cell.changed" {
		t.Errorf("subscriber on instance A got %q", got)
	}
}

func TestListenerSkipsMalformedNotifications(t *testing.T) {
	t.Parallel()
	inst := MustInstance(t, "events-malformed", events.BrokerOptions{})
	topic := UniqueTopic(t)
	client := MustSubscribe(t, inst.streamServer, topic, "json")

	for _, payload := range []string{
		"not json",
		`{"topic": ` + strconv.Quote(topic) + `}`,
		`{"topic": ` + strconv.Quote(topic) + `, "type": "a\nb"}`,
	} {
		if _, err := inst.pool.Exec(t.Context(), "select pg_notify($1, $2)", events.Channel, payload); err != nil {
			t.Fatal(err)
		}
	}
	mustNotify(t, inst.pool, topic, "valid", 1)
	if got := mustNextType(t, client); got != "valid" {
		t.Fatalf("got %q, want the valid event only", got)
	}
}

func TestListenerReconnectsAfterItsConnectionIsTerminated(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	appName := fmt.Sprintf("events-reconnect-%d", time.Now().UnixNano())
	inst := MustInstance(t, appName, events.BrokerOptions{})
	topic := UniqueTopic(t)
	client := MustSubscribe(t, inst.streamServer, topic, "json")

	mustNotify(t, inst.pool, topic, "before", 1)
	if got := mustNextType(t, client); got != "before" {
		t.Fatalf("got %q", got)
	}

	listenerPID := func() (pid int32) {
		err := inst.pool.QueryRow(ctx, `
			select pid from pg_stat_activity
			where application_name = $1 and state = 'idle' and query ilike 'listen %'`, appName).Scan(&pid)
		if err != nil {
			return 0
		}
		return pid
	}
	oldPID := listenerPID()
	if oldPID == 0 {
		t.Fatal("listener backend not found in pg_stat_activity")
	}
	var terminated bool
	if err := inst.pool.QueryRow(ctx, "select pg_terminate_backend($1)", oldPID).Scan(&terminated); err != nil || !terminated {
		t.Fatalf("pg_terminate_backend: %v, %v", terminated, err)
	}

	// Events committed while the listener reconnects are lost by design, so
	// wait until its new connection has run LISTEN before notifying. The
	// stream hears of the gap first.
	MustEventually(t, "the listener listens on a new connection", func() bool {
		pid := listenerPID()
		return pid != 0 && pid != oldPID
	})
	mustNotify(t, inst.pool, topic, "after", 2)
	MustResync(t, client, topic, "json")
	if got := mustNextType(t, client); got != "after" {
		t.Fatalf("got %q after reconnecting", got)
	}
}

// bigMessage is the size of the messages the slow-subscriber tests send, so
// that a client that does not read fills its TCP buffers quickly.
const bigMessage = 256 << 10

// bigRenderer renders each event as its data followed by bigMessage bytes.
func bigRenderer() events.Renderer {
	padding := bytes.Repeat([]byte("x"), bigMessage)
	return func(_ context.Context, ev events.Event) []events.Message {
		return []events.Message{{Name: "tick", Data: append([]byte(string(ev.Data)+" "), padding...)}}
	}
}

func TestSlowSubscriberIsDroppedWithoutDelayingOthers(t *testing.T) {
	t.Parallel()
	server := MustStreamServer(t, events.BrokerOptions{Renderer: bigRenderer(), BufferSize: 4, Heartbeat: -1})
	topic := UniqueTopic(t)
	fast := MustSubscribe(t, server, topic, "html")
	slow := mustOpenStream(t, server, topic, "html") // never read until dropped
	defer slow.Body.Close()

	// Publish is paced by the fast subscriber only: each event must reach it
	// before the next is published, while the slow one's buffers fill up.
	published := 0
	for server.broker.Subscribers() == 2 {
		if published == 1000 {
			t.Fatalf("slow subscriber still connected after %d messages of %d bytes", published, bigMessage)
		}
		published++
		server.broker.Publish(events.Event{Topic: topic, Type: "tick", Data: json.RawMessage(strconv.Itoa(published))})
		got := fast.MustNext(t)
		if n, _, _ := strings.Cut(got.Data, " "); n != strconv.Itoa(published) {
			t.Fatalf("fast subscriber got message %s, want %d", n, published)
		}
	}
	t.Logf("slow subscriber dropped after %d messages", published)
	if n := server.broker.Dropped(); n != 1 {
		t.Errorf("the broker counts %d dropped streams, want 1", n)
	}

	server.broker.Publish(events.Event{Topic: topic, Type: "tick", Data: json.RawMessage(`"after"`)})
	if got := fast.MustNext(t); !strings.HasPrefix(got.Data, `"after" `) {
		t.Fatalf("fast subscriber got %.20q after the drop", got.Data)
	}

	// The dropped subscriber's connection is closed: reading it now ends.
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		_, _ = io.Copy(io.Discard, slow.Body)
	}()
	select {
	case <-ended:
	case <-time.After(timeout):
		t.Fatal("the dropped subscriber's stream did not end")
	}
}

func TestHeartbeatsReachIdleStreams(t *testing.T) {
	t.Parallel()
	server := MustStreamServer(t, events.BrokerOptions{Heartbeat: 20 * time.Millisecond})
	client := MustSubscribe(t, server, UniqueTopic(t), "json")
	select {
	case got := <-client.comments:
		if got != "heartbeat" {
			t.Fatalf("comment %q, want heartbeat", got)
		}
	case <-time.After(timeout):
		t.Fatal("no heartbeat")
	}
}

func TestCloseEndsEveryStream(t *testing.T) {
	t.Parallel()
	server := MustStreamServer(t, events.BrokerOptions{Renderer: bigRenderer(), BufferSize: 1000})
	topic := UniqueTopic(t)
	html := MustSubscribe(t, server, topic, "html")
	api := MustSubscribe(t, server, UniqueTopic(t), "json")

	// A subscriber that does not read, with a queue large enough that it is
	// not dropped: its stream is blocked in a write when Close is called.
	stuck := mustOpenStream(t, server, topic, "html")
	defer stuck.Body.Close()
	for i := range 100 {
		server.broker.Publish(events.Event{Topic: topic, Type: "tick", Data: json.RawMessage(strconv.Itoa(i))})
	}
	if got := server.broker.Subscribers(); got != 3 {
		t.Fatalf("Subscribers() = %d before Close, want 3", got)
	}

	closed := make(chan struct{})
	go func() {
		defer close(closed)
		server.broker.Close()
	}()
	select {
	case <-closed:
	case <-time.After(timeout):
		t.Fatal("Close did not return")
	}

	html.MustEnd(t)
	api.MustEnd(t)
	if got := server.broker.Subscribers(); got != 0 {
		t.Errorf("Subscribers() = %d after Close, want 0", got)
	}
	query := url.Values{"topic": {topic}, "format": {"html"}}
	resp, err := server.Client().Get(server.URL + "/events?" + query.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("subscribing after Close: status %s, want 503", resp.Status)
	}
}
