package workbooks_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// ProposeSuggestionsTx writes in the caller's transaction: a rollback
// leaves no suggestion, a commit keeps them with the provenance the caller
// passed, the model included.
func TestProposeSuggestionsTxCommitsWithTheCaller(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	r := f.MustRecord(t, map[string]any{"Title": "Lamp"})
	session := "4a8f3c52-8f64-4f0b-9d59-2d3a4e1c9b11"
	p := workbooks.Proposal{Source: workbooks.SourceAgent, AgentSessionID: session, AgentMessageID: 42, Model: "fake/model",
		Updates: []workbooks.RecordUpdate{{RecordID: r.ID, Fields: map[string]any{"Title": "Desk lamp"}}}}
	failed := errors.New("the caller's own write fails")
	err := db.InTx(ctx, f.pool, func(tx pgx.Tx) error {
		if c, err := f.svc.ProposeSuggestionsTx(ctx, tx, f.owner, f.wb.ID, f.table.ID, p); err != nil || c.Updates != 1 {
			t.Fatalf("propose: %+v %v", c, err)
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatal(err)
	}
	if got := f.MustFind(t, r.ID); len(got.Suggestions) != 0 {
		t.Fatalf("a rolled-back proposal left %v", got.Suggestions)
	}
	if err := db.InTx(ctx, f.pool, func(tx pgx.Tx) error {
		_, err := f.svc.ProposeSuggestionsTx(ctx, tx, f.owner, f.wb.ID, f.table.ID, p)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var source, model, sess string
	var msg int64
	if err := f.pool.QueryRow(ctx, `SELECT source, agent_model, agent_session_id::text, agent_message_id FROM suggestions WHERE record_id = $1`, r.ID).
		Scan(&source, &model, &sess, &msg); err != nil {
		t.Fatal(err)
	}
	if source != workbooks.SourceAgent || model != "fake/model" || sess != session || msg != 42 {
		t.Errorf("provenance = %s %s %s %d", source, model, sess, msg)
	}
}
