package workbooks_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// TestRenameColumn renames a column by id; a taken name is refused, and
// someone else's table is not found.
func TestRenameColumn(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	tbl, err := f.svc.RenameColumn(ctx, f.owner, f.wb.ID, f.table.ID, f.col(t, "Price"), " Unit price ")
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := tbl.Columns.ByID(f.col(t, "Price")); !ok || c.Name != "Unit price" {
		t.Fatalf("renamed column = %+v", c)
	}
	_, err = f.svc.RenameColumn(ctx, f.owner, f.wb.ID, f.table.ID, "Unit price", "title")
	wantKind(t, err, apperr.Invalid)
	other := MustUser(t, f.pool)
	_, err = f.svc.RenameColumn(ctx, other, f.wb.ID, f.table.ID, "Unit price", "Mine")
	wantKind(t, err, apperr.NotFound)
}

// TestChangeColumnType previews a text → number change, lists the cell that
// would not convert, refuses the change while it would, and converts with
// the failing value emptied once asked to; suggestions convert too.
func TestChangeColumnType(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	tbl, err := f.svc.AddScratchColumn(ctx, f.owner, f.wb.ID, f.table.ID, "Weight", values.Text)
	if err != nil {
		t.Fatal(err)
	}
	f.table = tbl
	good := f.MustRecord(t, map[string]any{"Title": "A", "Weight": " 12.50 "})
	bad := f.MustRecord(t, map[string]any{"Title": "B", "Weight": "heavy"})
	empty := f.MustRecord(t, map[string]any{"Title": "C"})
	if _, err := f.svc.ProposeSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Proposal{Source: workbooks.SourceAgent,
		Updates: []workbooks.RecordUpdate{{RecordID: empty.ID, Fields: map[string]any{"Weight": "7"}}}}); err != nil {
		t.Fatal(err)
	}

	p, err := f.svc.PreviewTypeChange(ctx, f.owner, f.wb.ID, f.table.ID, "Weight", values.Number)
	if err != nil {
		t.Fatal(err)
	}
	if p.Cells != 2 || p.Failing != 1 || len(p.Examples) != 1 || p.Examples[0].RecordID != bad.ID || p.Examples[0].Text != "heavy" ||
		!strings.Contains(p.Examples[0].Problem, "number") {
		t.Fatalf("preview = %+v", p)
	}
	// Refused while a value would not convert: nothing changes.
	_, _, err = f.svc.ChangeColumnType(ctx, f.owner, f.wb.ID, f.table.ID, "Weight", values.Number, false)
	wantKind(t, err, apperr.Invalid)
	if got := f.MustFind(t, bad.ID).Fields[f.col(t, "Weight")]; got != "heavy" {
		t.Fatalf("after refusal bad = %v", got)
	}

	tbl, _, err = f.svc.ChangeColumnType(ctx, f.owner, f.wb.ID, f.table.ID, "Weight", values.Number, true)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := tbl.Columns.Lookup("Weight"); c.Type != values.Number {
		t.Fatalf("type = %s", c.Type)
	}
	wid := f.col(t, "Weight")
	g := f.MustFind(t, good.ID)
	if fmt.Sprint(g.Fields[wid]) != "12.50" || g.Version <= good.Version {
		t.Fatalf("good = %v (version %d → %d)", g.Fields[wid], good.Version, g.Version)
	}
	if v, ok := f.MustFind(t, bad.ID).Fields[wid]; ok && v != nil {
		t.Fatalf("bad = %v, want emptied", v)
	}
	if s := f.MustFind(t, empty.ID).Suggestions[wid]; fmt.Sprint(s) != "7" {
		t.Fatalf("suggestion = %#v", s)
	}
	// The number sorts as a number now.
	page, err := f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Filter: "Weight > 12"})
	if err != nil || len(page.Records) != 1 {
		t.Fatalf("filter on converted = %v, %v", page.Records, err)
	}

	// The same type, a source column and someone else's table are refused.
	_, err = f.svc.PreviewTypeChange(ctx, f.owner, f.wb.ID, f.table.ID, "Weight", values.Number)
	wantKind(t, err, apperr.Invalid)
	_, err = f.svc.PreviewTypeChange(ctx, MustUser(t, f.pool), f.wb.ID, f.table.ID, "Weight", values.Text)
	wantKind(t, err, apperr.NotFound)
}

// TestChangeColumnTypeToSelectAdoptsOptions converts text into a select,
// whose options become the distinct values.
func TestChangeColumnTypeToSelectAdoptsOptions(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	f.MustRecord(t, map[string]any{"Title": "b"})
	f.MustRecord(t, map[string]any{"Title": "a"})
	tbl, p, err := f.svc.ChangeColumnType(ctx, f.owner, f.wb.ID, f.table.ID, "Title", values.Select, false)
	if err != nil || p.Failing != 0 {
		t.Fatal(err, p)
	}
	if c, _ := tbl.Columns.Lookup("Title"); fmt.Sprint(c.Options) != "[a b]" {
		t.Fatalf("options = %v", c.Options)
	}
}

// TestSetColumnOptions adds, renames and removes options: a rename follows
// into the cells (not as an edit), a removed option stays in its cells.
func TestSetColumnOptions(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	draft := f.MustPulled(t, "1", map[string]any{"Title": "A", "Status": "Draft"})
	pub := f.MustPulled(t, "2", map[string]any{"Title": "B", "Status": "Published"})
	tbl, n, err := f.svc.SetColumnOptions(ctx, f.owner, f.wb.ID, f.table.ID, "Status", []workbooks.OptionEdit{
		{From: "Draft", To: "In progress"}, {From: "Published", To: ""}, {To: "Archived"},
	})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := tbl.Columns.Lookup("Status")
	if fmt.Sprint(c.Options) != "[In progress Archived]" || n != 1 {
		t.Fatalf("options = %v, changed %d", c.Options, n)
	}
	sid := f.col(t, "Status")
	d := f.MustFind(t, draft.ID)
	if d.Fields[sid] != "In progress" || d.State != workbooks.StateClean {
		t.Fatalf("renamed cell = %v (%s)", d.Fields[sid], d.State)
	}
	if p := f.MustFind(t, pub.ID); p.Fields[sid] != "Published" {
		t.Fatalf("removed option's cell = %v", p.Fields[sid])
	}
	_, _, err = f.svc.SetColumnOptions(ctx, f.owner, f.wb.ID, f.table.ID, "Price", []workbooks.OptionEdit{{To: "x"}})
	wantKind(t, err, apperr.Invalid)
	_, _, err = f.svc.SetColumnOptions(ctx, f.owner, f.wb.ID, f.table.ID, "Status", []workbooks.OptionEdit{{To: "a"}, {To: "A"}})
	wantKind(t, err, apperr.Invalid)
	_, _, err = f.svc.SetColumnOptions(ctx, MustUser(t, f.pool), f.wb.ID, f.table.ID, "Status", nil)
	wantKind(t, err, apperr.NotFound)
}

// TestSetMultiSelectOptionsRenamesItems renames an item inside lists,
// merging it into one the list already holds.
func TestSetMultiSelectOptionsRenamesItems(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	tbl, err := f.svc.CreateTable(ctx, f.owner, f.wb.ID, workbooks.TableInput{Name: "Tags", Columns: []workbooks.ColumnInput{
		{Name: "Tags", Type: values.MultiSelect, Options: []string{"red", "blue", "navy"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := f.svc.CreateRecord(ctx, f.owner, f.wb.ID, tbl.ID, map[string]any{"Tags": []string{"navy", "red", "blue"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.SetColumnOptions(ctx, f.owner, f.wb.ID, tbl.ID, "Tags", []workbooks.OptionEdit{
		{From: "red", To: "crimson"}, {From: "blue", To: "blue"}, {From: "navy", To: ""},
	}); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.FindRecord(ctx, f.owner, f.wb.ID, tbl.ID, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(got.Fields[tbl.Columns[0].ID]); s != "[navy crimson blue]" {
		t.Fatalf("tags = %s", s)
	}
}

// TestMultiSort sorts by two keys, pages through with cursors without
// skipping or repeating, and refuses more than MaxSortKeys.
func TestMultiSort(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	type row struct {
		title  string
		status any
		price  any
	}
	rows := []row{
		{"a", "Draft", 3}, {"b", "Published", 1}, {"c", "Draft", 1}, {"d", nil, 5}, {"e", "Published", nil},
		{"f", "Draft", nil}, {"g", "Published", 2}, {"h", nil, nil}, {"i", "Draft", 3},
	}
	for _, r := range rows {
		fields := map[string]any{"Title": r.title}
		if r.status != nil {
			fields["Status"] = r.status
		}
		if r.price != nil {
			fields["Price"] = r.price
		}
		f.MustRecord(t, fields)
	}
	// Status ascending (empty last), then price descending (empty last),
	// then the table's order.
	want := "a i c f g b e d h"
	// A big table reads pages after a cursor as ranges of the first key.
	big := workbooks.NewService(f.pool)
	big.SetIndexThreshold(1)
	for _, limit := range []int{2, 4, 100, -1, -3} {
		svc := f.svc
		if limit < 0 {
			svc, limit = big, -limit
		}
		var got []string
		cursor := ""
		for range 20 {
			page, err := svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Sort: "Status,-Price", Limit: limit, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Records {
				got = append(got, r.Fields[f.col(t, "Title")].(string))
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if strings.Join(got, " ") != want {
			t.Fatalf("limit %d: order %v, want %s", limit, got, want)
		}
	}
	// The panel's neighbours follow the same order.
	page, _ := f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Sort: "Status,-Price", Limit: 100})
	prev, next, err := f.svc.Neighbours(ctx, f.owner, f.wb.ID, f.table.ID, page.Records[3].ID, workbooks.RecordQuery{Sort: "Status,-Price"})
	if err != nil || prev != page.Records[2].ID || next != page.Records[4].ID {
		t.Fatalf("neighbours of f = %s, %s (%v)", prev, next, err)
	}
	_, err = f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Sort: "Status,-Price,Title,SKU"})
	wantKind(t, err, apperr.Invalid)
	_, err = f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Sort: "Status,Nope"})
	wantKind(t, err, apperr.Invalid)
	// A cursor of the one-key sort does not serve the two-key one.
	one, _ := f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Sort: "Status", Limit: 2})
	_, err = f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Sort: "Status,-Price", Cursor: one.NextCursor})
	wantKind(t, err, apperr.Invalid)
}

// TestInsertScratchColumn puts a scratch column left or right of another.
func TestInsertScratchColumn(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	if _, err := f.svc.InsertScratchColumn(ctx, f.owner, f.wb.ID, f.table.ID, "Left of price", values.Text, "Price", false); err != nil {
		t.Fatal(err)
	}
	tbl, err := f.svc.InsertScratchColumn(ctx, f.owner, f.wb.ID, f.table.ID, "Right of price", values.Number, f.col(t, "Price"), true)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range tbl.Columns {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "Title,Left of price,Price,Right of price,In stock,Status,SKU" {
		t.Fatalf("columns = %s", got)
	}
	_, err = f.svc.InsertScratchColumn(ctx, f.owner, f.wb.ID, f.table.ID, "X", values.Text, "Nope", true)
	wantKind(t, err, apperr.NotFound)
	_, err = f.svc.InsertScratchColumn(ctx, MustUser(t, f.pool), f.wb.ID, f.table.ID, "X", values.Text, "Price", true)
	wantKind(t, err, apperr.NotFound)
}

// TestSourceColumnKeepsTypeAndOptionValues: a column from a data source
// can be renamed (its remote key stays, so publishing still writes the
// source's field) but not change type, and its options can be added but
// not renamed; a scratch column of the same table changes type freely.
func TestSourceColumnKeepsTypeAndOptionValues(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	var dsID string
	if err := f.pool.QueryRow(ctx, `INSERT INTO data_sources (owner_id, service, name, credentials) VALUES ($1, 'postgres', 'Shop DB', '\x00') RETURNING id`,
		f.owner).Scan(&dsID); err != nil {
		t.Fatal(err)
	}
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := f.svc.CreateSourcedTableTx(ctx, tx, f.owner, f.wb.ID, workbooks.SourcedTableInput{
		Name: "Remote", Service: "postgres", DataSourceID: dsID, RemoteTableID: `"public"."things"`,
		Columns: []workbooks.ColumnInput{
			{Name: "Name", Type: values.Text, RemoteKey: "name", RemoteType: "text"},
			{Name: "State", Type: values.Select, Options: []string{"on", "off"}, RemoteKey: "state", RemoteType: "text"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	renamed, err := f.svc.RenameColumn(ctx, f.owner, f.wb.ID, tbl.ID, "Name", "Title")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := renamed.Columns.Lookup("Title"); c.RemoteKey != "name" {
		t.Fatalf("renamed source column = %+v", c)
	}
	_, err = f.svc.PreviewTypeChange(ctx, f.owner, f.wb.ID, tbl.ID, "Title", values.Number)
	wantKind(t, err, apperr.Invalid)
	if !strings.Contains(apperr.MessageOf(err), "data source") {
		t.Fatalf("refusal = %q", apperr.MessageOf(err))
	}
	_, _, err = f.svc.SetColumnOptions(ctx, f.owner, f.wb.ID, tbl.ID, "State", []workbooks.OptionEdit{{From: "on", To: "enabled"}, {From: "off", To: "off"}})
	wantKind(t, err, apperr.Invalid)
	if _, _, err := f.svc.SetColumnOptions(ctx, f.owner, f.wb.ID, tbl.ID, "State", []workbooks.OptionEdit{{From: "on", To: "on"}, {From: "off", To: "off"}, {To: "broken"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AddScratchColumn(ctx, f.owner, f.wb.ID, tbl.ID, "Mine", values.Text); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.ChangeColumnType(ctx, f.owner, f.wb.ID, tbl.ID, "Mine", values.Number, false); err != nil {
		t.Fatal(err)
	}
}
