package syncs_test

import (
	"context"
	"testing"

	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// TestTableSizeStaysExactOnEveryWritePath follows a table through every way
// records come and go (a first pull's COPY, a re-pull's merge and sweep,
// creates, deletes and restores, proposed creates and deletes accepted and
// rejected, source-deleted records dropped, a publish removing deleted
// records, the table's deletion) and after each compares the size the store
// keeps (migration 00021), which the grid shows and the big-table decision
// reads, with count(*).
func TestTableSizeStaysExactOnEveryWritePath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := mustFixture(t, 30)
	var tbl workbooks.Table
	check := func(step string) {
		t.Helper()
		var counted, kept int64
		if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM records WHERE workbook_id = $1 AND table_id = $2`, f.wb, tbl.ID).Scan(&counted); err != nil {
			t.Fatal(err)
		}
		if err := f.pool.QueryRow(ctx, `SELECT coalesce((SELECT records FROM table_sizes WHERE workbook_id = $1 AND table_id = $2), 0)`, f.wb, tbl.ID).Scan(&kept); err != nil {
			t.Fatal(err)
		}
		if kept != counted {
			t.Fatalf("after %s: table_sizes says %d records, count(*) %d", step, kept, counted)
		}
		page, err := f.store.FindRecords(ctx, f.owner, f.wb, tbl.ID, workbooks.RecordQuery{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if page.EstimatedTotal != counted || page.TotalIsEstimate {
			t.Fatalf("after %s: the grid's total is %d (estimate %v), want exactly %d", step, page.EstimatedTotal, page.TotalIsEstimate, counted)
		}
	}
	tbl = f.mustAddProducts(t)
	check("the first pull (COPY)")

	title := col(t, tbl, "title")
	recs := f.records(t, tbl)
	f.mustEdit(t, tbl, recs["5"], title, "Mine 5")
	f.mustEdit(t, tbl, recs["6"], title, "Mine 6")
	f.mustSource(t, `DELETE FROM products WHERE id IN (4, 5, 6, 7)`)
	f.mustSource(t, `INSERT INTO products (id, title) SELECT g, 'New ' || g FROM generate_series(31, 40) g`)
	f.mustPull(t, tbl)
	check("a re-pull adding 10 records and sweeping 2 (2 flagged)")

	if _, err := f.store.ResolveSourceDeleted(ctx, f.owner, f.wb, tbl.ID, []string{recs["5"].ID}, false, false); err != nil {
		t.Fatal(err)
	}
	check("dropping a record deleted at the source")
	if _, err := f.store.ResolveSourceDeleted(ctx, f.owner, f.wb, tbl.ID, nil, true, true); err != nil {
		t.Fatal(err)
	}
	check("re-creating one")

	created, err := f.store.CreateRecord(ctx, f.owner, f.wb, tbl.ID, map[string]any{title: "Made here", col(t, tbl, "id"): 100})
	if err != nil {
		t.Fatal(err)
	}
	check("a create")
	if err := f.store.DeleteRecord(ctx, f.owner, f.wb, tbl.ID, created.ID); err != nil {
		t.Fatal(err)
	}
	check("deleting a record created here (removed)")
	if err := f.store.DeleteRecord(ctx, f.owner, f.wb, tbl.ID, recs["1"].ID); err != nil {
		t.Fatal(err)
	}
	check("deleting a pulled record (marked)")
	if _, err := f.store.RestoreRecord(ctx, f.owner, f.wb, tbl.ID, recs["1"].ID); err != nil {
		t.Fatal(err)
	}
	check("a restore")

	id := col(t, tbl, "id")
	drafts := []workbooks.RecordFields{{Fields: map[string]any{id: 101, title: "Draft A"}},
		{Fields: map[string]any{id: 102, title: "Draft B"}}, {Fields: map[string]any{id: 103, title: "Draft C"}}}
	if _, err := f.store.ProposeSuggestions(ctx, f.owner, f.wb, tbl.ID, workbooks.Proposal{Creates: drafts, Source: workbooks.SourceAgent}); err != nil {
		t.Fatal(err)
	}
	check("proposed creates (drafts)")
	var draftIDs []string
	if err := f.pool.QueryRow(ctx, `SELECT array_agg(record_id::text) FROM suggestions WHERE workbook_id = $1 AND table_id = $2 AND action = 'create'`, f.wb, tbl.ID).Scan(&draftIDs); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.AcceptSuggestions(ctx, f.owner, f.wb, tbl.ID, workbooks.Selector{RecordIDs: draftIDs[:1]}); err != nil {
		t.Fatal(err)
	}
	check("an accepted create")
	if _, err := f.store.RejectSuggestions(ctx, f.owner, f.wb, tbl.ID, workbooks.Selector{RecordIDs: draftIDs[1:2]}); err != nil {
		t.Fatal(err)
	}
	check("a rejected create")
	if _, err := f.store.ProposeSuggestions(ctx, f.owner, f.wb, tbl.ID, workbooks.Proposal{
		Deletes: []string{draftIDs[0], draftIDs[2], recs["2"].ID, recs["3"].ID}, Source: workbooks.SourceAgent}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.AcceptSuggestions(ctx, f.owner, f.wb, tbl.ID, workbooks.Selector{All: true}); err != nil {
		t.Fatal(err)
	}
	check("accepted deletes (a draft removed, pulled records marked)")

	f.mustPublish(t, tbl)
	check("a publish (deleted records removed, created ones kept)")

	if err := f.store.DeleteTable(ctx, f.owner, f.wb, tbl.ID); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM table_sizes WHERE table_id = $1`, tbl.ID).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("after the table's deletion: %d size rows (%v)", rows, err)
	}
}
