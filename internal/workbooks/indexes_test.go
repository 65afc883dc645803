package workbooks_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/recordindex"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// MustBigTable fills the fixture's table with n records (titles "r1"…, prices
// cycling through 0…996 with every tenth one empty) and analyzes them, so the
// planner sees a table worth indexing.
func (f *fixture) MustBigTable(tb testing.TB, n int) {
	tb.Helper()
	ctx := context.Background()
	_, err := f.pool.Exec(ctx, `INSERT INTO records (workbook_id, table_id, fields, original)
		SELECT $1, $2, v, v FROM (
			SELECT jsonb_strip_nulls(jsonb_build_object($3::text, 'r' || g,
				$4::text, CASE WHEN g % 10 <> 0 THEN g % 997 END)) AS v
			FROM generate_series(1, $5::int) g) s`,
		f.wb.ID, f.table.ID, f.col(tb, "Title"), f.col(tb, "Price"), n)
	if err != nil {
		tb.Fatalf("insert records: %v", err)
	}
	if _, err := f.pool.Exec(ctx, `ANALYZE records`); err != nil {
		tb.Fatal(err)
	}
}

// MustBuildIndexes runs the build job of every pending index of the table,
// as the River worker would, and returns the indexes by column id and kind.
func (f *fixture) MustBuildIndexes(tb testing.TB, svc *workbooks.Service) map[string]recordindex.Index {
	tb.Helper()
	ctx := context.Background()
	list, err := svc.Indexes().Find(ctx, f.wb.ID, f.table.ID)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]recordindex.Index{}
	for _, ri := range list {
		args := recordindex.BuildArgs{WorkbookID: f.wb.ID, TableID: f.table.ID, ColumnID: ri.ColumnID, IndexKind: ri.Kind}
		if err := svc.Indexes().Build(ctx, args); err != nil {
			tb.Fatalf("build index %+v: %v", ri, err)
		}
		out[ri.ColumnID+"/"+ri.Kind] = ri
	}
	return out
}

// indexExists reports whether PostgreSQL has an index of that name.
func (f *fixture) indexExists(tb testing.TB, name string) bool {
	tb.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_class WHERE relname = $1`, name).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n == 1
}

func TestBigTablesAskForIndexesThatTheirPagesThenUse(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	f.MustBigTable(t, 20000)
	big := workbooks.NewService(f.pool)
	big.SetIndexThreshold(1000)

	queries := []workbooks.RecordQuery{
		{Sort: "Price", Limit: 100},
		{Sort: "-Price", Filter: "Title <> 'r7'", Limit: 100},
		{Filter: "contains(Title, 'r1234')", Limit: 100},
	}
	for _, q := range queries {
		if _, err := big.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, q); err != nil {
			t.Fatal(err)
		}
	}
	var jobs int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'build_record_index'`).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if jobs != 3 {
		t.Errorf("%d build jobs enqueued, want 3 (price asc and desc, title trigram)", jobs)
	}
	idx := f.MustBuildIndexes(t, big)
	price, title := f.col(t, "Price"), f.col(t, "Title")
	for _, key := range []string{price + "/asc", price + "/desc", title + "/trgm"} {
		if _, ok := idx[key]; !ok {
			t.Fatalf("no index %s among %v", key, idx)
		}
	}
	again, _ := big.Indexes().Find(ctx, f.wb.ID, f.table.ID)
	for _, ri := range again {
		if ri.Status != "ready" || !f.indexExists(t, ri.Name) {
			t.Errorf("index %+v not ready", ri)
		}
	}

	first, err := big.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Sort: "Price", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	plans := []struct {
		q     workbooks.RecordQuery
		index string
	}{
		{workbooks.RecordQuery{Sort: "Price", Limit: 100}, idx[price+"/asc"].Name},
		{workbooks.RecordQuery{Sort: "Price", Limit: 100, Cursor: first.NextCursor}, idx[price+"/asc"].Name},
		{workbooks.RecordQuery{Sort: "-Price", Limit: 100}, idx[price+"/desc"].Name},
		{workbooks.RecordQuery{Filter: "contains(Title, 'r1234')", Limit: 100}, idx[title+"/trgm"].Name},
		// Either direction serves equality.
		{workbooks.RecordQuery{Filter: "Price = 5", Limit: 100}, "ri_"},
	}
	for _, p := range plans {
		plan, err := big.ExplainFindRecords(ctx, f.owner, f.wb.ID, f.table.ID, p.q)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, p.index) {
			t.Errorf("plan of %+v does not use %s:\n%s", p.q, p.index, plan)
		}
	}

	// The default order and the quick filters are served by the schema's own indexes.
	rec := first.Records[0]
	if _, err := f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, rec.ID, map[string]any{"Title": "edited"}, rec.Version); err != nil {
		t.Fatal(err)
	}
	for q, index := range map[workbooks.RecordQuery]string{
		{Limit: 100}:                                "_seq_idx on records_p",
		{Has: workbooks.HasEdits, Limit: 100}:       "_dirty_idx on records_p",
		{Has: workbooks.HasSuggestions, Limit: 100}: "suggestions_",
	} {
		plan, err := big.ExplainFindRecords(ctx, f.owner, f.wb.ID, f.table.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, index) {
			t.Errorf("plan of %+v does not use %s:\n%s", q, index, plan)
		}
	}

	// Paging through a big table with its indexes gives what a small table's
	// plain query gives.
	for _, q := range []workbooks.RecordQuery{{Sort: "Price", Limit: 500}, {Sort: "-Price", Limit: 500}} {
		got := mustAllIDs(t, big, f, q)
		want := mustAllIDs(t, f.svc, f, q)
		if len(got) != 20000 || !slices.Equal(got, want) {
			t.Errorf("sort %q: big-table paging gives %d records, want the %d of the plain query in the same order", q.Sort, len(got), len(want))
		}
	}
}

// mustAllIDs pages through q with svc and returns the record ids in order.
func mustAllIDs(tb testing.TB, svc *workbooks.Service, f *fixture, q workbooks.RecordQuery) []string {
	tb.Helper()
	var ids []string
	for {
		page, err := svc.FindRecords(context.Background(), f.owner, f.wb.ID, f.table.ID, q)
		if err != nil {
			tb.Fatal(err)
		}
		for _, r := range page.Records {
			ids = append(ids, r.ID)
		}
		if page.NextCursor == "" {
			return ids
		}
		q.Cursor = page.NextCursor
	}
}

func TestBigTablePagingKeepsTiesAndEmptyValuesInOrder(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	prices := []any{3, nil, 1, 3, 2, nil, 3, 1, nil, 2, 3, 5}
	for i, p := range prices {
		fields := map[string]any{"Title": fmt.Sprintf("t%02d", i%5)}
		if p != nil {
			fields["Price"] = p
		}
		f.MustRecord(t, fields)
	}
	big := workbooks.NewService(f.pool)
	big.SetIndexThreshold(1)
	for _, limit := range []int{1, 2, 5, 50} {
		for _, sort := range []string{"", "Price", "-Price", "Title", "-Title", "-status"} {
			q := workbooks.RecordQuery{Sort: sort, Limit: limit, Filter: "Title <> 't04'"}
			got, want := mustAllIDs(t, big, f, q), mustAllIDs(t, f.svc, f, q)
			if !slices.Equal(got, want) {
				t.Errorf("limit %d sort %q: big-table order %v, want %v", limit, sort, got, want)
			}
		}
	}
}

func TestIndexesGoWithTheirColumnAndTable(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	f.MustBigTable(t, 2000)
	tbl, err := f.svc.AddScratchColumn(ctx, f.owner, f.wb.ID, f.table.ID, "Score", values.Number)
	if err != nil {
		t.Fatal(err)
	}
	big := workbooks.NewService(f.pool)
	big.SetIndexThreshold(1000)
	for _, sort := range []string{"Score", "Title"} {
		if _, err := big.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Sort: sort}); err != nil {
			t.Fatal(err)
		}
	}
	idx := f.MustBuildIndexes(t, big)
	score, _ := tbl.Columns.Lookup("Score")
	scoreIdx, titleIdx := idx[score.ID+"/asc"], idx[f.col(t, "Title")+"/asc"]
	if !f.indexExists(t, scoreIdx.Name) || !f.indexExists(t, titleIdx.Name) {
		t.Fatalf("indexes not built: %v", idx)
	}

	if _, err := f.svc.RemoveColumn(ctx, f.owner, f.wb.ID, f.table.ID, score.ID); err != nil {
		t.Fatal(err)
	}
	list, _ := big.Indexes().Find(ctx, f.wb.ID, f.table.ID)
	if len(list) != 1 || list[0].Name != titleIdx.Name {
		t.Errorf("indexes after removing the column: %+v", list)
	}
	if n, err := big.Indexes().DropStale(ctx); err != nil || n != 1 {
		t.Fatalf("dropped %d, %v; want 1", n, err)
	}
	if f.indexExists(t, scoreIdx.Name) || !f.indexExists(t, titleIdx.Name) {
		t.Errorf("after the drop job: score index exists %v, title index exists %v",
			f.indexExists(t, scoreIdx.Name), f.indexExists(t, titleIdx.Name))
	}

	if err := f.svc.DeleteTable(ctx, f.owner, f.wb.ID, f.table.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := big.Indexes().DropStale(ctx); err != nil || n != 1 {
		t.Fatalf("dropped %d, %v; want 1", n, err)
	}
	if f.indexExists(t, titleIdx.Name) {
		t.Error("the deleted table's index is still there")
	}
	var stats int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM pg_statistic_ext WHERE stxname LIKE 'rs\_%'`).Scan(&stats); err != nil || stats != 0 {
		t.Errorf("%d column statistics left (%v)", stats, err)
	}
	// A build job that runs after its table is gone does nothing.
	args := recordindex.BuildArgs{WorkbookID: f.wb.ID, TableID: f.table.ID, ColumnID: f.col(t, "Title"), IndexKind: "asc"}
	if err := big.Indexes().Build(ctx, args); err != nil || f.indexExists(t, titleIdx.Name) {
		t.Errorf("late build: %v", err)
	}
}

// A case-insensitive search for a common word, sorted by another column,
// walks the sort index and filters: the trigram index comes with statistics
// on lower(value), so the planner knows the word is in a quarter of the
// records instead of guessing a handful (and reading them all through the
// trigram index, then sorting).
func TestCommonWordSearchWalksTheSortIndex(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	_, err := f.pool.Exec(ctx, `INSERT INTO records (workbook_id, table_id, fields)
		SELECT $1, $2, jsonb_build_object($3::text, CASE WHEN g % 4 = 0 THEN 'Harbor view ' ELSE 'Quiet street ' END || g,
			$4::text, g % 997)
		FROM generate_series(1, 20000) g`, f.wb.ID, f.table.ID, f.col(t, "Title"), f.col(t, "Price"))
	if err != nil {
		t.Fatal(err)
	}
	big := workbooks.NewService(f.pool)
	big.SetIndexThreshold(1000)
	q := workbooks.RecordQuery{Sort: "Price", Filter: "contains(Title, 'harbor')", Limit: 100}
	if _, err := big.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, q); err != nil {
		t.Fatal(err)
	}
	idx := f.MustBuildIndexes(t, big)
	sortIndex := idx[f.col(t, "Price")+"/asc"].Name
	if sortIndex == "" || idx[f.col(t, "Title")+"/trgm"].Name == "" {
		t.Fatalf("indexes %v, want Price asc and Title trgm", idx)
	}
	plan, err := big.ExplainFindRecords(ctx, f.owner, f.wb.ID, f.table.ID, q)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, sortIndex) || strings.Contains(plan, "Bitmap") {
		t.Errorf("plan does not walk the sort index %s:\n%s", sortIndex, plan)
	}
	page, err := big.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, q)
	if err != nil || len(page.Records) != 100 {
		t.Fatalf("page: %d records, %v", len(page.Records), err)
	}
}

// TestBulkAcceptRefreshesStatistics is issue 9's item 11 for bulk accepts:
// records the planner has not analyzed yet (autovacuum is off on the test
// server) make a big table look small, so no index is asked for; accepting
// a thousand suggestions refreshes the statistics, and the next sorted page
// asks for its index.
func TestBulkAcceptRefreshesStatistics(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	_, err := f.pool.Exec(ctx, `INSERT INTO records (workbook_id, table_id, fields, original)
		SELECT $1, $2, v, v FROM (
			SELECT jsonb_build_object($3::text, 'r' || g, $4::text, g % 997) AS v
			FROM generate_series(1, 12000) g) s`,
		f.wb.ID, f.table.ID, f.col(t, "Title"), f.col(t, "Price"))
	if err != nil {
		t.Fatal(err)
	}
	svc := workbooks.NewService(f.pool)
	svc.SetIndexThreshold(11000)
	if _, err := svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Sort: "Price", Limit: 100}); err != nil {
		t.Fatal(err)
	}
	if idx, _ := svc.Indexes().Find(ctx, f.wb.ID, f.table.ID); len(idx) != 0 {
		t.Skipf("the records were analyzed already (autovacuum?): %v", idx)
	}

	rows, err := f.pool.Query(ctx, `SELECT id::text FROM records WHERE table_id = $1 ORDER BY seq LIMIT $2`, f.table.ID, workbooks.BulkWriteRows)
	if err != nil {
		t.Fatal(err)
	}
	var updates []workbooks.RecordUpdate
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		updates = append(updates, workbooks.RecordUpdate{RecordID: id, Fields: map[string]any{"Title": "accepted " + id}})
	}
	if _, err := svc.ProposeSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Proposal{Source: workbooks.SourceAgent, Updates: updates}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AcceptSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Selector{All: true}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Sort: "Price", Limit: 100}); err != nil {
			t.Fatal(err)
		}
		if idx, _ := svc.Indexes().Find(ctx, f.wb.ID, f.table.ID); len(idx) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("after a bulk accept the sorted page still asks for no index: the statistics are stale")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBigTablesAmongManyGetTheirIndexes fills 24 tables of one database,
// half of them above the index threshold, and checks that exactly those ask
// for indexes. Sizing a table from the planner's estimate for its two ids
// (before migration 00021) multiplied their selectivities, and with 21
// tables in a database no table reached the threshold.
func TestBigTablesAmongManyGetTheirIndexes(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	svc := workbooks.NewService(f.pool)
	svc.SetIndexThreshold(2000)
	type sized struct {
		table workbooks.Table
		n     int
	}
	var tables []sized
	for i := range 24 {
		tbl, err := f.svc.CreateTable(ctx, f.owner, f.wb.ID, workbooks.TableInput{Name: fmt.Sprintf("T%d", i), Columns: productColumns})
		if err != nil {
			t.Fatal(err)
		}
		n := 1990 + i%2*(20+i) // odd tables are big
		if _, err := f.pool.Exec(ctx, `INSERT INTO records (workbook_id, table_id, fields)
			SELECT $1, $2, jsonb_build_object($3::text, 'r' || g) FROM generate_series(1, $4::int) g`,
			f.wb.ID, tbl.ID, tbl.Columns[0].ID, n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, sized{tbl, n})
	}
	if _, err := f.pool.Exec(ctx, `ANALYZE records`); err != nil {
		t.Fatal(err)
	}
	for _, s := range tables {
		page, err := svc.FindRecords(ctx, f.owner, f.wb.ID, s.table.ID, workbooks.RecordQuery{Sort: "Title", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if page.EstimatedTotal != int64(s.n) || page.TotalIsEstimate {
			t.Errorf("%s: total %d (estimate %v), want %d", s.table.Name, page.EstimatedTotal, page.TotalIsEstimate, s.n)
		}
		list, err := svc.Indexes().Find(ctx, f.wb.ID, s.table.ID)
		if err != nil {
			t.Fatal(err)
		}
		if big := s.n >= 2000; big != (len(list) == 1) {
			t.Errorf("%s of %d records: %d indexes requested", s.table.Name, s.n, len(list))
		}
	}
}

// TestFilteredTotalsAreExactUpToTheCap: a filtered view of a big table is
// counted exactly up to 10,000 matches, and past that said to have at
// least 10,000, never the planner's guess when the count is quick.
func TestFilteredTotalsAreExactUpToTheCap(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	tbl, err := f.svc.CreateTable(ctx, f.owner, f.wb.ID, workbooks.TableInput{Name: "Big", Columns: productColumns})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(ctx, `INSERT INTO records (workbook_id, table_id, fields)
		SELECT $1, $2, jsonb_build_object($3::text, CASE WHEN g <= 3663 THEN 'match' ELSE 'other' END) FROM generate_series(1, 12000) g`,
		f.wb.ID, tbl.ID, tbl.Columns[0].ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		filter           string
		total            int64
		atLeast, estimte bool
	}{
		{"", 12000, false, false},
		{"Title = 'match'", 3663, false, false},
		{"Title = 'other'", 8337, false, false},
		{"contains(Title, 't')", 10000, true, false},
	} {
		page, err := f.svc.FindRecords(ctx, f.owner, f.wb.ID, tbl.ID, workbooks.RecordQuery{Filter: c.filter, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if page.EstimatedTotal != c.total || page.TotalIsAtLeast != c.atLeast || page.TotalIsEstimate != c.estimte {
			t.Errorf("filter %q: total %d (at least %v, estimate %v), want %d (%v, %v)", c.filter,
				page.EstimatedTotal, page.TotalIsAtLeast, page.TotalIsEstimate, c.total, c.atLeast, c.estimte)
		}
	}
}

// TestBulkWriteAmongManyTablesLeavesItsIndexesReady is issue 11's last
// target on a small scale: in a database of many tables, some of them big
// with indexes of their own, a table that a bulk write (an import, a pull)
// has just made big gets its indexes before the write's job ends
// (PrepareTableForReads, with this test as the index queue's worker), and
// its first sorted and filtered pages use them, with no autovacuum and no
// page having asked before.
func TestBulkWriteAmongManyTablesLeavesItsIndexesReady(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	svc := workbooks.NewService(f.pool)
	svc.SetIndexThreshold(2000)
	fill := func(tbl workbooks.Table, n int) {
		t.Helper()
		if _, err := f.pool.Exec(ctx, `INSERT INTO records (workbook_id, table_id, fields)
			SELECT $1, $2, jsonb_build_object($3::text, 'r' || g, $4::text, g % 997, $5::text, CASE WHEN g % 3 = 0 THEN 'Draft' ELSE 'Published' END)
			FROM generate_series(1, $6::int) g`,
			f.wb.ID, tbl.ID, tbl.Columns[0].ID, tbl.Columns[1].ID, tbl.Columns[3].ID, n); err != nil {
			t.Fatal(err)
		}
	}
	// The test's worker builds every pending index of the workbook, as the
	// index queue would.
	work := func(ctx context.Context) {
		for ctx.Err() == nil {
			rows, err := f.pool.Query(ctx, `SELECT table_id::text, column_id, kind FROM record_indexes WHERE workbook_id = $1 AND status = 'pending'`, f.wb.ID)
			if err != nil {
				return
			}
			var pending []recordindex.BuildArgs
			for rows.Next() {
				a := recordindex.BuildArgs{WorkbookID: f.wb.ID}
				if err := rows.Scan(&a.TableID, &a.ColumnID, &a.IndexKind); err != nil {
					t.Error(err)
				}
				pending = append(pending, a)
			}
			rows.Close()
			for _, a := range pending {
				if err := svc.Indexes().Build(ctx, a); err != nil && ctx.Err() == nil {
					t.Errorf("build %+v: %v", a, err)
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	workCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); work(workCtx) }()
	defer func() { stop(); <-done }()

	var others []workbooks.Table
	for i := range 24 {
		tbl, err := f.svc.CreateTable(ctx, f.owner, f.wb.ID, workbooks.TableInput{Name: fmt.Sprintf("T%d", i), Columns: productColumns})
		if err != nil {
			t.Fatal(err)
		}
		fill(tbl, 500+i%2*2500) // odd tables are big
		others = append(others, tbl)
	}
	// The big ones already have their sort indexes, as their pages asked.
	for _, o := range others {
		if _, err := svc.FindRecords(ctx, f.owner, f.wb.ID, o.ID, workbooks.RecordQuery{Sort: "-Price", Limit: 10}); err != nil {
			t.Fatal(err)
		}
	}
	tbl, err := f.svc.CreateTable(ctx, f.owner, f.wb.ID, workbooks.TableInput{Name: "Imported", Columns: productColumns})
	if err != nil {
		t.Fatal(err)
	}
	fill(tbl, 6000)
	if err := svc.PrepareTableForReads(ctx, tbl, time.Minute); err != nil {
		t.Fatal(err)
	}
	idx, err := svc.Indexes().Find(ctx, f.wb.ID, tbl.ID)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, ri := range idx {
		if ri.Status != "ready" {
			t.Errorf("index %+v not ready after PrepareTableForReads", ri)
		}
		names[ri.ColumnID+"/"+ri.Kind] = ri.Name
	}
	// Price and Status (ordered types first), then Title, the first text
	// column, each both ways; In stock is a boolean, SKU comes fourth.
	if len(idx) != 2*recordindex.ReadyColumns {
		t.Errorf("%d indexes, want %d: %+v", len(idx), 2*recordindex.ReadyColumns, idx)
	}
	price, title, status := tbl.Columns[1].ID, tbl.Columns[0].ID, tbl.Columns[3].ID
	for _, p := range []struct {
		q     workbooks.RecordQuery
		index []string
	}{
		{workbooks.RecordQuery{Sort: "-Price", Limit: 100}, []string{names[price+"/desc"]}},
		{workbooks.RecordQuery{Sort: "Title", Limit: 100}, []string{names[title+"/asc"]}},
		{workbooks.RecordQuery{Sort: "-Price", Filter: "Status = 'Draft'", Limit: 100}, []string{names[price+"/desc"], names[status+"/asc"], names[status+"/desc"]}},
	} {
		plan, err := svc.ExplainFindRecords(ctx, f.owner, f.wb.ID, tbl.ID, p.q)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(p.index, func(name string) bool { return name != "" && strings.Contains(plan, name) }) {
			t.Errorf("the first page %+v after the bulk write uses none of %v:\n%s", p.q, p.index, plan)
		}
	}
}
