package workbooks_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/events"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// MustListen returns a plain connection listening on the events channel.
func (f *fixture) MustListen(tb testing.TB) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.ConnectConfig(context.Background(), f.pool.Config().ConnConfig.Copy())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(context.Background(), "LISTEN "+events.Channel); err != nil {
		tb.Fatal(err)
	}
	return conn
}

type eventPayload struct {
	Topic string `json:"topic"`
	Type  string `json:"type"`
	Data  struct {
		Kind      string   `json:"kind"`
		TableID   string   `json:"table_id"`
		RecordIDs []string `json:"record_ids"`
		Bulk      bool     `json:"bulk"`
	} `json:"data"`
}

// nextEvent waits up to wait for a notification; ok is false when none came.
func nextEvent(tb testing.TB, conn *pgx.Conn, wait time.Duration) (eventPayload, bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	n, err := conn.WaitForNotification(ctx)
	if err != nil {
		return eventPayload{}, false
	}
	var ev eventPayload
	if err := json.Unmarshal([]byte(n.Payload), &ev); err != nil {
		tb.Fatalf("payload %q: %v", n.Payload, err)
	}
	if len(n.Payload) > events.MaxPayloadBytes {
		tb.Errorf("payload is %d bytes", len(n.Payload))
	}
	return ev, true
}

func TestEventsAreSentOnCommitOnly(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	rec := f.MustRecord(t, map[string]any{"Title": "Mug"})
	conn := f.MustListen(t)

	// A refused edit rolls back and sends nothing.
	if _, err := f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, rec.ID, map[string]any{"Title": "x"}, 7); err == nil {
		t.Fatal("stale edit succeeded")
	}
	if _, err := f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, rec.ID, map[string]any{"Price": "abc"}, 1); err == nil {
		t.Fatal("invalid edit succeeded")
	}
	if ev, ok := nextEvent(t, conn, 300*time.Millisecond); ok {
		t.Fatalf("event after a failed edit: %+v", ev)
	}

	if _, err := f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, rec.ID, map[string]any{"Title": "Cup"}, 1); err != nil {
		t.Fatal(err)
	}
	ev, ok := nextEvent(t, conn, 5*time.Second)
	if !ok {
		t.Fatal("no event after an edit")
	}
	if ev.Topic != events.WorkbookTopic(f.wb.ID) || ev.Type != "record.updated" || ev.Data.Kind != "record.updated" ||
		ev.Data.TableID != f.table.ID || len(ev.Data.RecordIDs) != 1 || ev.Data.RecordIDs[0] != rec.ID {
		t.Errorf("event = %+v", ev)
	}
	if ev, ok := nextEvent(t, conn, 200*time.Millisecond); ok {
		t.Errorf("a second event for one edit: %+v", ev)
	}
}

func TestBulkEventsStayUnderThePayloadLimit(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	creates := make([]workbooks.RecordFields, 250)
	for i := range creates {
		creates[i] = workbooks.RecordFields{Fields: map[string]any{"Title": "draft"}}
	}
	conn := f.MustListen(t)
	counts, err := f.svc.ProposeSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Proposal{Source: workbooks.SourceAgent, Creates: creates})
	if err != nil || counts.Creates != 250 {
		t.Fatalf("propose: %+v %v", counts, err)
	}
	ev, ok := nextEvent(t, conn, 5*time.Second)
	if !ok || !ev.Data.Bulk || len(ev.Data.RecordIDs) != 0 {
		t.Fatalf("event = %+v", ev)
	}
	counts, err = f.svc.RejectSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Selector{All: true})
	if err != nil || counts.Creates != 250 {
		t.Fatalf("reject: %+v %v", counts, err)
	}
	if ev, ok := nextEvent(t, conn, 5*time.Second); !ok || ev.Type != "records.changed" || !ev.Data.Bulk {
		t.Fatalf("reject event = %+v", ev)
	}
	page, err := f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{})
	if err != nil || len(page.Records) != 0 {
		t.Errorf("drafts left after reject: %d %v", len(page.Records), err)
	}
}

// TestEventsNameUpToTheCapWithoutFailing covers the sizes just under the
// point where an event switches to bulk: every count must commit, naming the
// records while they fit.
func TestEventsNameUpToTheCapWithoutFailing(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	for _, n := range []int{149, 150, 151, 199, 200} {
		creates := make([]workbooks.RecordFields, n)
		for i := range creates {
			creates[i] = workbooks.RecordFields{Fields: map[string]any{"Title": "draft"}}
		}
		conn := f.MustListen(t)
		counts, err := f.svc.ProposeSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Proposal{Source: workbooks.SourceAgent, Creates: creates})
		if err != nil || counts.Creates != n {
			t.Fatalf("propose %d: %+v %v", n, counts, err)
		}
		ev, ok := nextEvent(t, conn, 5*time.Second)
		if !ok {
			t.Fatalf("%d drafts: no event", n)
		}
		if named := len(ev.Data.RecordIDs); ev.Data.Bulk == (named > 0) || (!ev.Data.Bulk && named != n) {
			t.Fatalf("%d drafts: event names %d records, bulk %v", n, named, ev.Data.Bulk)
		}
		if _, err := f.svc.RejectSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Selector{All: true}); err != nil {
			t.Fatal(err)
		}
		_ = conn.Close(ctx)
	}
}
