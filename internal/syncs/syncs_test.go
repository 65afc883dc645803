package syncs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/connectors/postgres"
	"github.com/scratchpad/scratchpad/internal/jobs"
	"github.com/scratchpad/scratchpad/internal/syncs"
	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// sources opens the test's source database for any data source id.
type sources struct{ url string }

func (s sources) Open(ctx context.Context, ownerID, dataSourceID string) (connectors.Connector, string, error) {
	c, err := postgres.Open(ctx, s.url)
	return c, postgres.ServiceID, err
}

// fixture is an app database with a River client running syncs, and a
// source database holding a products table.
type fixture struct {
	pool   *pgxpool.Pool
	src    *pgxpool.Pool
	store  *workbooks.Service
	syncs  *syncs.Service
	owner  string
	wb     string
	dsID   string
	client *jobs.Client
}

const productsDDL = `CREATE TABLE products (
	id int PRIMARY KEY,
	title text NOT NULL,
	body text,
	price numeric(10, 2),
	tags text[],
	in_stock boolean)`

func mustFixture(t testing.TB, rows int) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{pool: testdb.New(t)}
	srcURL := testdb.NewURL(t)
	var err error
	if f.src, err = pgxpool.New(ctx, srcURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.src.Close)
	if _, err := f.src.Exec(ctx, productsDDL); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= rows; i++ {
		f.mustSource(t, `INSERT INTO products VALUES ($1, $2, $3, $4, $5, $6)`,
			i, fmt.Sprintf("Product %d", i), fmt.Sprintf("Body %d", i), fmt.Sprintf("%d.50", i), []string{"a"}, i%2 == 0)
	}
	f.store = workbooks.NewService(f.pool)
	if f.syncs, err = syncs.NewService(f.pool, f.store, sources{url: srcURL}, syncs.Options{
		Sleep: func(context.Context, time.Duration) error { return nil },
	}); err != nil {
		t.Fatal(err)
	}
	u, err := accounts.NewService(f.pool).SignUp(ctx, accounts.SignUpInput{Email: "sync@example.com", Name: "Sync", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	f.owner = u.ID
	wb, err := f.store.CreateWorkbook(ctx, f.owner, "Shop")
	if err != nil {
		t.Fatal(err)
	}
	f.wb = wb.ID
	if err := f.pool.QueryRow(ctx, `INSERT INTO data_sources (owner_id, service, name, credentials)
		VALUES ($1, 'postgres', 'Shop database', '\x00') RETURNING id`, f.owner).Scan(&f.dsID); err != nil {
		t.Fatal(err)
	}
	opts := jobs.Options{Queues: map[string]int{river.QueueDefault: 1}, Syncs: f.syncs, Workbooks: f.store, NoPeriodic: true, Logger: slog.New(slog.DiscardHandler)}
	if f.client, err = jobs.NewClient(f.pool, opts); err != nil {
		t.Fatal(err)
	}
	if err := f.client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = f.client.Stop(stop)
	})
	return f
}

func (f *fixture) mustSource(t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := f.src.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// mustFinish waits for sync id to end and returns it.
func (f *fixture) mustFinish(t testing.TB, id string) syncs.Sync {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		sy, err := f.syncs.FindSync(context.Background(), f.owner, id)
		if err != nil {
			t.Fatal(err)
		}
		if sy.Finished() {
			return sy
		}
		if time.Now().After(deadline) {
			t.Fatalf("sync %s did not finish: %+v", id, sy)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mustAddProducts adds the source's products table to the workbook and
// waits for its pull.
func (f *fixture) mustAddProducts(t testing.TB) workbooks.Table {
	t.Helper()
	tbl, sy, err := f.syncs.AddTable(context.Background(), f.owner, f.wb, syncs.AddTableInput{DataSourceID: f.dsID, RemoteTableID: `"public"."products"`})
	if err != nil {
		t.Fatal(err)
	}
	if sy = f.mustFinish(t, sy.ID); sy.Status != syncs.StatusDone {
		t.Fatalf("first pull ended %s: %s", sy.Status, sy.Error)
	}
	tbl, err = f.store.FindTable(context.Background(), f.owner, f.wb, tbl.ID)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// records returns the table's records by remote id (created ones by id).
func (f *fixture) records(t testing.TB, tbl workbooks.Table) map[string]workbooks.Record {
	t.Helper()
	page, err := f.store.FindRecordsIn(context.Background(), f.owner, tbl, workbooks.RecordQuery{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]workbooks.Record{}
	for _, r := range page.Records {
		key := r.RemoteID
		if key == "" {
			key = r.ID
		}
		out[key] = r
	}
	return out
}

func col(t testing.TB, tbl workbooks.Table, name string) string {
	t.Helper()
	c, ok := tbl.Columns.Lookup(name)
	if !ok {
		t.Fatalf("no column %s", name)
	}
	return c.ID
}

// mustEdit sets one field of a record as a person would.
func (f *fixture) mustEdit(t testing.TB, tbl workbooks.Table, rec workbooks.Record, field string, v any) workbooks.Record {
	t.Helper()
	out, err := f.store.UpdateRecord(context.Background(), f.owner, f.wb, tbl.ID, rec.ID, map[string]any{field: v}, rec.Version)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) mustPull(t testing.TB, tbl workbooks.Table) syncs.Sync {
	t.Helper()
	sy, err := f.syncs.StartPull(context.Background(), f.owner, f.wb, []string{tbl.ID})
	if err != nil {
		t.Fatal(err)
	}
	if sy = f.mustFinish(t, sy.ID); sy.Status != syncs.StatusDone {
		t.Fatalf("pull ended %s: %s", sy.Status, sy.Error)
	}
	return sy
}

func (f *fixture) mustPublish(t testing.TB, tbl workbooks.Table) syncs.Sync {
	t.Helper()
	sy, err := f.syncs.StartPublish(context.Background(), f.owner, f.wb, []string{tbl.ID})
	if err != nil {
		t.Fatal(err)
	}
	if sy = f.mustFinish(t, sy.ID); sy.Status != syncs.StatusDone {
		t.Fatalf("publish ended %s: %s", sy.Status, sy.Error)
	}
	return sy
}

// sourceRow reads one product at the source.
func (f *fixture) sourceRow(t testing.TB, id int) (title string, body *string, price string, ok bool) {
	t.Helper()
	err := f.src.QueryRow(context.Background(), `SELECT title, body, coalesce(price::text, '') FROM products WHERE id = $1`, id).Scan(&title, &body, &price)
	if err == pgx.ErrNoRows {
		return "", nil, "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return title, body, price, true
}

func TestAddTablePullsTheSourceTable(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, 12)
	tbl := f.mustAddProducts(t)
	if !tbl.Sourced() || tbl.LastPulledAt == nil || tbl.SyncID != "" || tbl.PullCursor != "" {
		t.Fatalf("table after its pull: %+v", tbl)
	}
	price, _ := tbl.Columns.Lookup("price")
	if price.Type != values.Number || price.RemoteKey != "price" || price.RemoteType != "numeric(10,2)" {
		t.Fatalf("price column %+v", price)
	}
	if id, _ := tbl.Columns.Lookup("id"); id.ReadOnly {
		t.Fatalf("a key the source does not generate must be writable for creates: %+v", id)
	}
	recs := f.records(t, tbl)
	if len(recs) != 12 {
		t.Fatalf("%d records, want 12", len(recs))
	}
	r := recs["7"]
	if r.State != workbooks.StateClean || r.Fields[col(t, tbl, "title")] != "Product 7" ||
		fmt.Sprint(r.Fields[col(t, tbl, "price")]) != "7.50" || r.Fields[col(t, tbl, "in_stock")] != false {
		t.Fatalf("record 7: %+v", r)
	}
}

func TestRepullMergesAsDesignSays(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, 6)
	tbl := f.mustAddProducts(t)
	title, body := col(t, tbl, "title"), col(t, tbl, "body")
	recs := f.records(t, tbl)
	f.mustEdit(t, tbl, recs["2"], title, "Mine 2")   // the source changes the title too: conflict
	f.mustEdit(t, tbl, recs["3"], title, "Mine 3")   // the source changes another field only
	f.mustEdit(t, tbl, recs["4"], title, "Agreed 4") // the source comes to the same value
	f.mustEdit(t, tbl, recs["5"], title, "Orphan 5") // the source deletes it
	versions := map[string]int{}
	for id, r := range f.records(t, tbl) {
		versions[id] = r.Version
	}

	f.mustSource(t, `UPDATE products SET body = 'Body 1 changed' WHERE id = 1`)
	f.mustSource(t, `UPDATE products SET title = 'Theirs 2' WHERE id = 2`)
	f.mustSource(t, `UPDATE products SET body = 'Body 3 changed' WHERE id = 3`)
	f.mustSource(t, `UPDATE products SET title = 'Agreed 4' WHERE id = 4`)
	f.mustSource(t, `DELETE FROM products WHERE id IN (5, 6)`)
	f.mustSource(t, `INSERT INTO products (id, title) VALUES (7, 'Product 7')`)
	sy := f.mustPull(t, tbl)

	recs = f.records(t, tbl)
	if len(recs) != 6 {
		t.Fatalf("%d records after the re-pull, want 6 (1-5, 7)", len(recs))
	}
	check := func(id string, cond bool, msg string) {
		t.Helper()
		if !cond {
			t.Errorf("record %s: %s: %+v", id, msg, recs[id])
		}
	}
	check("1", recs["1"].Fields[body] == "Body 1 changed" && recs["1"].State == workbooks.StateClean && recs["1"].Version == versions["1"]+1,
		"a clean record takes the source's values")
	check("2", recs["2"].Fields[title] == "Mine 2" && recs["2"].Conflicts[title] == "Theirs 2" && recs["2"].State == workbooks.StateUpdated,
		"an edit the source changed too is kept, with a conflict")
	check("3", recs["3"].Fields[title] == "Mine 3" && recs["3"].Fields[body] == "Body 3 changed" && len(recs["3"].Conflicts) == 0,
		"an edited record keeps its edit and takes the source's other fields")
	check("4", recs["4"].State == workbooks.StateClean && len(recs["4"].EditedFields) == 0,
		"an edit the source agrees with is no longer an edit")
	check("5", recs["5"].SourceDeleted && recs["5"].Fields[title] == "Orphan 5", "an edited record deleted at the source is flagged")
	_, gone := recs["6"]
	check("6", !gone, "a clean record deleted at the source is removed")
	check("7", recs["7"].Fields[title] == "Product 7" && recs["7"].State == workbooks.StateClean, "a new source record is added")
	c := sy.Counts()
	if c.Created != 1 || c.Deleted != 1 || c.Conflicts != 2 {
		t.Errorf("pull counts %+v: want 1 created, 1 removed, 2 needing attention", c)
	}
}

func TestRepullOfAnUnchangedSourceChangesNothing(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, 40)
	tbl := f.mustAddProducts(t)
	before := f.records(t, tbl)
	f.mustPull(t, tbl)
	after := f.records(t, tbl)
	for id, r := range after {
		if r.Version != before[id].Version || r.UpdatedAt != before[id].UpdatedAt {
			t.Fatalf("record %s moved from version %d to %d", id, before[id].Version, r.Version)
		}
	}
}

func TestPublishWritesExactlyTheChanges(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, 5)
	tbl := f.mustAddProducts(t)
	title, body, price := col(t, tbl, "title"), col(t, tbl, "body"), col(t, tbl, "price")
	recs := f.records(t, tbl)
	f.mustEdit(t, tbl, recs["1"], title, "New title 1")
	f.mustEdit(t, tbl, recs["2"], price, "19.99")
	if err := f.store.DeleteRecord(context.Background(), f.owner, f.wb, tbl.ID, recs["3"].ID); err != nil {
		t.Fatal(err)
	}
	created, err := f.store.CreateRecord(context.Background(), f.owner, f.wb, tbl.ID,
		map[string]any{col(t, tbl, "id"): 100, title: "Created here", body: "Fresh"})
	if err != nil {
		t.Fatal(err)
	}

	preview, err := f.syncs.Preview(context.Background(), f.owner, f.wb, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if tp := preview.Tables[0]; tp.Creates != 1 || tp.Updates != 2 || tp.Deletes != 1 || len(tp.UpdateCells) != 2 {
		t.Fatalf("preview %+v", tp)
	}
	sy := f.mustPublish(t, tbl)
	if c := sy.Counts(); c.Created != 1 || c.Updated != 2 || c.Deleted != 1 || c.Failed != 0 || c.Conflicts != 0 {
		t.Fatalf("publish counts %+v", c)
	}

	if got, _, _, _ := f.sourceRow(t, 1); got != "New title 1" {
		t.Errorf("source title 1 = %q", got)
	}
	if got, b, p, _ := f.sourceRow(t, 2); p != "19.99" || got != "Product 2" || b == nil || *b != "Body 2" {
		t.Errorf("source row 2 = %q %v %q: only the price should change", got, b, p)
	}
	if _, _, _, ok := f.sourceRow(t, 3); ok {
		t.Error("row 3 is still at the source")
	}
	if got, b, _, ok := f.sourceRow(t, 100); !ok || got != "Created here" || b == nil || *b != "Fresh" {
		t.Errorf("created row: %q %v %v", got, b, ok)
	}
	for id, r := range f.records(t, tbl) {
		if r.State != workbooks.StateClean || len(r.EditedFields) != 0 || len(r.PublishErrors) != 0 {
			t.Errorf("record %s after publishing: %+v", id, r)
		}
	}
	if r := f.records(t, tbl)["100"]; r.ID != created.ID {
		t.Errorf("the created record did not get its remote id: %+v", r)
	}
	// Nothing is left to publish.
	if preview, _ = f.syncs.Preview(context.Background(), f.owner, f.wb, nil, 0); !preview.Empty() {
		t.Errorf("after publishing, the preview still has %+v", preview.Tables[0])
	}
}

// TestPublishCreateTakesWhatTheSourceFilledIn: a record created here
// without its key (the source assigns it) or a defaulted field gets both
// from the source once published, the values typed here staying, so the
// grid shows the new key at once and the next pull finds nothing to change.
func TestPublishCreateTakesWhatTheSourceFilledIn(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, 3)
	f.mustSource(t, `ALTER TABLE products ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (START WITH 50)`)
	f.mustSource(t, `ALTER TABLE products ALTER COLUMN in_stock SET DEFAULT true`)
	tbl := f.mustAddProducts(t)
	title, price := col(t, tbl, "title"), col(t, tbl, "price")
	created, err := f.store.CreateRecord(context.Background(), f.owner, f.wb, tbl.ID,
		map[string]any{title: "Made here", price: "7.25"})
	if err != nil {
		t.Fatal(err)
	}
	if c := f.mustPublish(t, tbl).Counts(); c.Created != 1 || c.Failed != 0 {
		t.Fatalf("publish counts %+v", c)
	}
	r, ok := f.records(t, tbl)["50"]
	if !ok || r.ID != created.ID {
		t.Fatalf("the created record did not get the remote id 50: %+v", f.records(t, tbl))
	}
	want := map[string]string{"id": "50", "title": `"Made here"`, "price": "7.25", "in_stock": "true", "body": "null"}
	for name, w := range want {
		if got := valuesJSON(r.Fields[col(t, tbl, name)]); got != w {
			t.Errorf("after the publish the created record's %s is %s, want %s", name, got, w)
		}
	}
	if r.State != workbooks.StateClean || len(r.EditedFields) != 0 {
		t.Errorf("the created record is %s with edits %v, want clean", r.State, r.EditedFields)
	}
	if c := f.mustPull(t, tbl).Counts(); c.Updated != 0 || c.Created != 0 || c.Conflicts != 0 {
		t.Errorf("the pull after the publish changed something: %+v", c)
	}
}

func TestPublishKeepsConflictsBackUntilResolved(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, 3)
	tbl := f.mustAddProducts(t)
	title, body := col(t, tbl, "title"), col(t, tbl, "body")
	recs := f.records(t, tbl)
	f.mustEdit(t, tbl, recs["1"], title, "Mine 1")
	r2 := f.mustEdit(t, tbl, recs["2"], title, "Mine 2")
	f.mustEdit(t, tbl, r2, body, "My body 2")
	// Meanwhile someone changes the same fields at the source, and one
	// field that is not edited here.
	f.mustSource(t, `UPDATE products SET title = 'Theirs 1' WHERE id = 1`)
	f.mustSource(t, `UPDATE products SET title = 'Theirs 2', price = 99 WHERE id = 2`)

	sy := f.mustPublish(t, tbl)
	if c := sy.Counts(); c.Conflicts != 2 || c.Updated != 1 {
		t.Fatalf("publish counts %+v: want 2 records in conflict, 1 updated (record 2's body)", c)
	}
	if got, _, _, _ := f.sourceRow(t, 1); got != "Theirs 1" {
		t.Fatalf("a conflicting edit overwrote the source: %q", got)
	}
	if got, b, p, _ := f.sourceRow(t, 2); got != "Theirs 2" || b == nil || *b != "My body 2" || p != "99.00" {
		t.Fatalf("row 2 = %q %v %q: the body publishes, the title stays theirs, the price is left alone", got, b, p)
	}
	recs = f.records(t, tbl)
	if recs["1"].Conflicts[title] != "Theirs 1" || recs["2"].Conflicts[title] != "Theirs 2" {
		t.Fatalf("conflicts not recorded: %+v / %+v", recs["1"].Conflicts, recs["2"].Conflicts)
	}

	// Take theirs for record 1; keep mine for record 2.
	sel := func(id string) workbooks.ConflictSelector {
		return workbooks.ConflictSelector{Cells: []workbooks.Cell{{RecordID: id, Field: "title"}}}
	}
	if n, err := f.store.ResolveConflicts(context.Background(), f.owner, f.wb, tbl.ID, sel(recs["1"].ID), false); err != nil || n != 1 {
		t.Fatalf("take theirs: %d, %v", n, err)
	}
	if n, err := f.store.ResolveConflicts(context.Background(), f.owner, f.wb, tbl.ID, sel(recs["2"].ID), true); err != nil || n != 1 {
		t.Fatalf("keep mine: %d, %v", n, err)
	}
	recs = f.records(t, tbl)
	if r := recs["1"]; r.Fields[title] != "Theirs 1" || r.State != workbooks.StateClean || len(r.Conflicts) != 0 {
		t.Fatalf("after taking theirs: %+v", r)
	}
	f.mustPublish(t, tbl)
	if got, _, _, _ := f.sourceRow(t, 2); got != "Mine 2" {
		t.Fatalf("after keeping mine, the publish wrote %q", got)
	}
}

func TestRevertPublishProposesWhatItOverwrote(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, 3)
	tbl := f.mustAddProducts(t)
	title := col(t, tbl, "title")
	recs := f.records(t, tbl)
	f.mustEdit(t, tbl, recs["1"], title, "Renamed 1")
	if err := f.store.DeleteRecord(context.Background(), f.owner, f.wb, tbl.ID, recs["2"].ID); err != nil {
		t.Fatal(err)
	}
	sy := f.mustPublish(t, tbl)
	counts, err := f.syncs.RevertPublish(context.Background(), f.owner, f.wb, sy.ID)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Updates != 1 || counts.Creates != 1 {
		t.Fatalf("revert proposed %+v: want the old title back and the deleted record again", counts)
	}
	recs = f.records(t, tbl)
	if recs["1"].Suggestions[title] != "Product 1" || recs["1"].Fields[title] != "Renamed 1" {
		t.Fatalf("record 1 after the revert: %+v", recs["1"])
	}
	if _, err := f.syncs.RevertPublish(context.Background(), f.owner, f.wb, "00000000-0000-0000-0000-000000000000"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("revert of an unknown publish: %v", err)
	}
}

// valuesJSON is a helper for messages.
func valuesJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

var _ = valuesJSON

// A publish of more records than a few update batches (2,000 for
// PostgreSQL) writes each once, commits each batch's outcome, and keeps a
// conflict found in a middle batch back; the progress counts add up.
func TestPublishOfSeveralBatchesWritesEveryRecord(t *testing.T) {
	t.Parallel()
	const n = 4321
	ctx := context.Background()
	f := mustFixture(t, 0)
	f.mustSource(t, `INSERT INTO products SELECT i, 'Product ' || i, 'Body ' || i, (i || '.50')::numeric, ARRAY['a'], i % 2 = 0 FROM generate_series(1, $1) i`, n)
	tbl := f.mustAddProducts(t)
	title := col(t, tbl, "title")
	rows, err := f.pool.Query(ctx, `SELECT id::text, remote_id, version FROM records WHERE table_id = $1 ORDER BY seq`, tbl.ID)
	if err != nil {
		t.Fatal(err)
	}
	type rec struct {
		ID, RemoteID string
		Version      int
	}
	recs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[rec])
	if err != nil || len(recs) != n {
		t.Fatalf("%d records after the pull: %v", len(recs), err)
	}
	for part := range slices.Chunk(recs, workbooks.MaxBatchSize) {
		var b workbooks.Batch
		for _, r := range part {
			b.Updates = append(b.Updates, workbooks.BatchUpdate{RecordID: r.ID, Fields: map[string]any{title: "Edited " + r.RemoteID}, Version: r.Version})
		}
		if _, err := f.store.BatchRecords(ctx, f.owner, f.wb, tbl.ID, b); err != nil {
			t.Fatal(err)
		}
	}
	// A title changed at the source since the pull, in the second batch.
	f.mustSource(t, `UPDATE products SET title = 'Theirs' WHERE id = 3000`)

	sy := f.mustPublish(t, tbl)
	if c := sy.Counts(); c.Updated != n-1 || c.Conflicts != 1 || c.Failed != 0 {
		t.Fatalf("publish counts %+v", c)
	}
	var written, theirs int
	if err := f.src.QueryRow(ctx, `SELECT count(*) FILTER (WHERE title = 'Edited ' || id), count(*) FILTER (WHERE title = 'Theirs') FROM products`).Scan(&written, &theirs); err != nil {
		t.Fatal(err)
	}
	if written != n-1 || theirs != 1 {
		t.Errorf("source: %d titles written, %d kept as theirs; want %d and 1", written, theirs, n-1)
	}
	var clean, conflicted int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'clean' AND original IS NULL AND edited_fields = '{}'),
		count(*) FILTER (WHERE state = 'updated' AND conflicts IS NOT NULL AND remote_id = '3000') FROM records WHERE table_id = $1`, tbl.ID).Scan(&clean, &conflicted); err != nil {
		t.Fatal(err)
	}
	if clean != n-1 || conflicted != 1 {
		t.Errorf("records: %d clean, %d in conflict; want %d and 1", clean, conflicted, n-1)
	}
}

// TestPublishOutcomeSettlesOnlyWhatWasPublished: a record still as the
// publish listed it stops being edited in the fields published, and keeps
// the others edited with their values as pulled; a record edited again
// after it was listed keeps the new edit, which no publish has written.
func TestPublishOutcomeSettlesOnlyWhatWasPublished(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := mustFixture(t, 3)
	tbl := f.mustAddProducts(t)
	title, price := col(t, tbl, "title"), col(t, tbl, "price")
	recs := f.records(t, tbl)
	r1 := f.mustEdit(t, tbl, recs["1"], title, "Title 1, published")
	f.mustEdit(t, tbl, r1, price, "11.50")
	f.mustEdit(t, tbl, recs["2"], title, "Title 2, published")
	r3 := f.mustEdit(t, tbl, recs["3"], title, "Title 3, listed")

	listed, err := f.store.PublishUpdates(ctx, tbl, 0, 10)
	if err != nil || len(listed) != 3 {
		t.Fatalf("listed %d records: %v", len(listed), err)
	}
	o := workbooks.PublishOutcome{Published: map[string]map[string]any{}, Listed: map[string]int{}}
	for _, rec := range listed {
		o.Published[rec.ID] = map[string]any{title: rec.Fields[title]}
		o.Listed[rec.ID] = rec.Version
	}
	// Edited again while the source was being written.
	f.mustEdit(t, tbl, r3, title, "Title 3, edited again")

	if err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		return f.store.RecordPublishOutcomeTx(ctx, tx, tbl, "", o)
	}); err != nil {
		t.Fatal(err)
	}
	got := f.records(t, tbl)
	if r := got["1"]; r.State != workbooks.StateUpdated || !slices.Equal(r.EditedFields, []string{price}) {
		t.Errorf("record 1: state %s, edited %v; want only the price still edited", r.State, r.EditedFields)
	} else if orig, err := r.Original(); err != nil || orig[title] != "Title 1, published" || fmt.Sprint(orig[price]) != "1.50" {
		t.Errorf("record 1 as pulled: %v (%v): the title is now the published one, the price the pulled one", orig, err)
	}
	if r := got["2"]; r.State != workbooks.StateClean || len(r.EditedFields) != 0 || r.Fields[title] != "Title 2, published" {
		t.Errorf("record 2: %+v; want clean with the published title", r)
	}
	if r := got["3"]; r.State != workbooks.StateUpdated || !slices.Equal(r.EditedFields, []string{title}) || r.Fields[title] != "Title 3, edited again" {
		t.Errorf("record 3: %+v; want the later edit kept as an edit", r)
	} else if orig, _ := r.Original(); orig[title] != "Title 3, listed" {
		t.Errorf("record 3 as pulled: %v; want the published title", orig)
	}
}
