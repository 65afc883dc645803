package workbooks_test

import (
	"context"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

func TestWorkbookAndTableCRUD(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()

	if _, err := f.svc.CreateWorkbook(ctx, f.owner, "  "); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("blank name: %v, want Invalid", err)
	}
	second, err := f.svc.CreateWorkbook(ctx, f.owner, "Blog")
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.svc.FindWorkbooks(ctx, f.owner, workbooks.SortByName)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "Blog" || list[1].Name != "Shop" {
		t.Fatalf("by name = %+v", list)
	}
	list, _ = f.svc.FindWorkbooks(ctx, f.owner, workbooks.SortByCreated)
	if list[0].ID != second.ID {
		t.Errorf("newest first: got %s first", list[0].Name)
	}
	renamed, err := f.svc.RenameWorkbook(ctx, f.owner, second.ID, "Journal")
	if err != nil || renamed.Name != "Journal" {
		t.Fatalf("rename: %+v %v", renamed, err)
	}

	// Tables: create with validation, move, hide, scratch columns.
	_, err = f.svc.CreateTable(ctx, f.owner, f.wb.ID, workbooks.TableInput{Name: "Bad", Columns: []workbooks.ColumnInput{
		{Name: "A", Type: values.Text}, {Name: "a", Type: values.Text}, {Name: "B", Type: "colour"},
	}})
	if fields := apperr.FieldsOf(err); len(fields) != 2 {
		t.Fatalf("bad columns: %v (fields %v), want 2 field errors", err, fields)
	}
	orders, err := f.svc.CreateTable(ctx, f.owner, f.wb.ID, workbooks.TableInput{Name: "Orders"})
	if err != nil {
		t.Fatal(err)
	}
	if orders.Position != 1 {
		t.Errorf("second table position = %d, want 1", orders.Position)
	}
	wb, err := f.svc.MoveTable(ctx, f.owner, f.wb.ID, orders.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(wb.Tables) != 2 || wb.Tables[0].ID != orders.ID || wb.Tables[0].Position != 0 || wb.Tables[1].Position != 1 {
		t.Fatalf("after move: %+v", wb.Tables)
	}
	if tb, err := f.svc.SetTableHidden(ctx, f.owner, f.wb.ID, orders.ID, true); err != nil || !tb.Hidden {
		t.Fatalf("hide: %+v %v", tb, err)
	}
	if tb, err := f.svc.RenameTable(ctx, f.owner, f.wb.ID, orders.ID, "Sales"); err != nil || tb.Name != "Sales" {
		t.Fatalf("rename table: %+v %v", tb, err)
	}
	for _, id := range []string{f.table.ID} {
		tbl, err := f.svc.FindTable(ctx, f.owner, f.wb.ID, id)
		if err != nil || len(tbl.Columns) != len(productColumns) {
			t.Fatalf("find table: %+v %v", tbl, err)
		}
		for _, c := range tbl.Columns {
			if len(c.ID) != 10 || c.ID[:2] != "c_" {
				t.Errorf("column id %q does not look generated", c.ID)
			}
		}
	}

	rec := f.MustRecord(t, map[string]any{"Title": "Mug"})
	tbl, err := f.svc.AddScratchColumn(ctx, f.owner, f.wb.ID, f.table.ID, "Notes", values.Text)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AddScratchColumn(ctx, f.owner, f.wb.ID, f.table.ID, "notes", values.Text); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("duplicate name: %v, want Invalid", err)
	}
	notes := tbl.Columns[len(tbl.Columns)-1]
	if !notes.Scratch {
		t.Fatal("added column is not scratch")
	}
	if _, err := f.svc.SetHiddenColumns(ctx, f.owner, f.wb.ID, f.table.ID, []string{"Notes", "Price"}); err != nil {
		t.Fatal(err)
	}
	rec, err = f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, rec.ID, map[string]any{"Notes": "check"}, rec.Version)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RemoveColumn(ctx, f.owner, f.wb.ID, f.table.ID, f.col(t, "Title")); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("remove a source column: %v, want Invalid", err)
	}
	tbl, err = f.svc.RemoveColumn(ctx, f.owner, f.wb.ID, f.table.ID, "Notes")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tbl.Columns.ByID(notes.ID); ok || len(tbl.HiddenColumns) != 1 {
		t.Errorf("after remove: columns %v hidden %v", tbl.Columns, tbl.HiddenColumns)
	}
	if got := f.MustFind(t, rec.ID); got.Fields[notes.ID] != nil {
		t.Errorf("record still has the removed column: %v", got.Fields)
	}

	if err := f.svc.DeleteTable(ctx, f.owner, f.wb.ID, orders.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FindTable(ctx, f.owner, f.wb.ID, orders.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("deleted table: %v", err)
	}
	if err := f.svc.DeleteWorkbook(ctx, f.owner, f.wb.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FindWorkbook(ctx, f.owner, f.wb.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("deleted workbook: %v", err)
	}
}

// TestOtherUsersIDsAreNotFound checks that every method treats another
// user's workbooks, tables and records, and malformed ids, as missing.
func TestOtherUsersIDsAreNotFound(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	rec := f.MustRecord(t, map[string]any{"Title": "Mug"})
	other := MustUser(t, f.pool)
	wb, tb, r := f.wb.ID, f.table.ID, rec.ID
	sel := workbooks.Selector{All: true}

	calls := map[string]func(owner, wb, tb, r string) error{
		"FindWorkbook":   func(o, w, _, _ string) error { _, err := f.svc.FindWorkbook(ctx, o, w); return err },
		"RenameWorkbook": func(o, w, _, _ string) error { _, err := f.svc.RenameWorkbook(ctx, o, w, "x"); return err },
		"DeleteWorkbook": func(o, w, _, _ string) error { return f.svc.DeleteWorkbook(ctx, o, w) },
		"CreateTable": func(o, w, _, _ string) error {
			_, err := f.svc.CreateTable(ctx, o, w, workbooks.TableInput{Name: "x"})
			return err
		},
		"FindTable":      func(o, w, t, _ string) error { _, err := f.svc.FindTable(ctx, o, w, t); return err },
		"RenameTable":    func(o, w, t, _ string) error { _, err := f.svc.RenameTable(ctx, o, w, t, "x"); return err },
		"SetTableHidden": func(o, w, t, _ string) error { _, err := f.svc.SetTableHidden(ctx, o, w, t, true); return err },
		"MoveTable":      func(o, w, t, _ string) error { _, err := f.svc.MoveTable(ctx, o, w, t, 0); return err },
		"DeleteTable":    func(o, w, t, _ string) error { return f.svc.DeleteTable(ctx, o, w, t) },
		"AddScratchColumn": func(o, w, t, _ string) error {
			_, err := f.svc.AddScratchColumn(ctx, o, w, t, "x", values.Text)
			return err
		},
		"RemoveColumn":     func(o, w, t, _ string) error { _, err := f.svc.RemoveColumn(ctx, o, w, t, "x"); return err },
		"SetHiddenColumns": func(o, w, t, _ string) error { _, err := f.svc.SetHiddenColumns(ctx, o, w, t, nil); return err },
		"CreateRecord": func(o, w, t, _ string) error {
			_, err := f.svc.CreateRecord(ctx, o, w, t, map[string]any{"Title": "x"})
			return err
		},
		"FindRecord": func(o, w, t, r string) error { _, err := f.svc.FindRecord(ctx, o, w, t, r); return err },
		"UpdateRecord": func(o, w, t, r string) error {
			_, err := f.svc.UpdateRecord(ctx, o, w, t, r, map[string]any{"Title": "y"}, 1)
			return err
		},
		"DeleteRecord":  func(o, w, t, r string) error { return f.svc.DeleteRecord(ctx, o, w, t, r) },
		"RestoreRecord": func(o, w, t, r string) error { _, err := f.svc.RestoreRecord(ctx, o, w, t, r); return err },
		"FindRecords": func(o, w, t, _ string) error {
			_, err := f.svc.FindRecords(ctx, o, w, t, workbooks.RecordQuery{})
			return err
		},
		"ProposeSuggestions": func(o, w, t, r string) error {
			_, err := f.svc.ProposeSuggestions(ctx, o, w, t, workbooks.Proposal{Source: workbooks.SourceAPI,
				Updates: []workbooks.RecordUpdate{{RecordID: r, Fields: map[string]any{"Title": "z"}}}})
			return err
		},
		"AcceptSuggestions": func(o, w, t, _ string) error { _, err := f.svc.AcceptSuggestions(ctx, o, w, t, sel); return err },
		"RejectSuggestions": func(o, w, t, _ string) error { _, err := f.svc.RejectSuggestions(ctx, o, w, t, sel); return err },
		"Counters":          func(o, w, t, _ string) error { _, err := f.svc.Counters(ctx, o, w, t); return err },
	}
	recordLevel := map[string]bool{"FindRecord": true, "UpdateRecord": true, "DeleteRecord": true,
		"RestoreRecord": true, "ProposeSuggestions": true}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			cases := map[string][4]string{
				"other owner":       {other, wb, tb, r},
				"malformed owner":   {"nope", wb, tb, r},
				"malformed wb":      {f.owner, "wb'; drop table records;--", tb, r},
				"malformed table":   {f.owner, wb, "123", r},
				"table of other wb": {f.owner, "00000000-0000-0000-0000-000000000000", tb, r},
			}
			if recordLevel[name] {
				cases["malformed record"] = [4]string{f.owner, wb, tb, "rec_1"}
				cases["unknown record"] = [4]string{f.owner, wb, tb, "00000000-0000-0000-0000-000000000001"}
			}
			for label, a := range cases {
				if name == "CreateTable" || name == "RenameWorkbook" || name == "DeleteWorkbook" || name == "FindWorkbook" {
					if label == "malformed table" {
						continue
					}
				}
				if err := call(a[0], a[1], a[2], a[3]); !apperr.Is(err, apperr.NotFound) {
					t.Errorf("%s: error = %v, want NotFound", label, err)
				}
			}
		})
	}
	// Nothing of the owner's changed.
	if got := f.MustFind(t, rec.ID); got.Version != rec.Version || got.Fields[f.col(t, "Title")] != "Mug" {
		t.Errorf("record changed: %+v", got)
	}
	if list, _ := f.svc.FindWorkbooks(ctx, other, workbooks.SortByName); len(list) != 0 {
		t.Errorf("other user sees %d workbooks", len(list))
	}
}

// The *In methods take a table the caller loaded, and only for the owner it
// was loaded for: another owner, a table built by hand and a loaded table
// pointed at another table are all not found.
func TestInMethodsTakeOnlyTablesLoadedForTheOwner(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	rec := f.MustRecord(t, map[string]any{"Title": "Mug"})
	other := MustUser(t, f.pool)
	otherWB, err := f.svc.CreateWorkbook(ctx, other, "Theirs")
	if err != nil {
		t.Fatal(err)
	}
	otherTable, err := f.svc.CreateTable(ctx, other, otherWB.ID, workbooks.TableInput{Name: "T", Columns: productColumns})
	if err != nil {
		t.Fatal(err)
	}
	found, err := f.svc.FindTable(ctx, f.owner, f.wb.ID, f.table.ID)
	if err != nil {
		t.Fatal(err)
	}
	wb, err := f.svc.FindWorkbook(ctx, f.owner, f.wb.ID)
	if err != nil {
		t.Fatal(err)
	}
	repointed := found
	repointed.WorkbookID, repointed.ID = otherWB.ID, otherTable.ID

	calls := map[string]func(owner string, tbl workbooks.Table) error{
		"FindRecordsIn": func(o string, tbl workbooks.Table) error {
			_, err := f.svc.FindRecordsIn(ctx, o, tbl, workbooks.RecordQuery{})
			return err
		},
		"CountersIn": func(o string, tbl workbooks.Table) error { _, err := f.svc.CountersIn(ctx, o, tbl); return err },
		"FindRecordIn": func(o string, tbl workbooks.Table) error {
			_, err := f.svc.FindRecordIn(ctx, o, tbl, rec.ID)
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			for label, tbl := range map[string]workbooks.Table{"FindTable": found, "FindWorkbook": wb.Tables[0], "CreateTable": f.table} {
				if err := call(f.owner, tbl); err != nil {
					t.Errorf("table from %s: %v", label, err)
				}
			}
			refused := map[string]struct {
				owner string
				tbl   workbooks.Table
			}{
				"other owner":            {other, found},
				"empty owner":            {"", found},
				"built by hand":          {f.owner, workbooks.Table{ID: f.table.ID, WorkbookID: f.wb.ID, Columns: f.table.Columns}},
				"repointed":              {f.owner, repointed},
				"repointed, other owner": {other, repointed},
			}
			for label, c := range refused {
				if err := call(c.owner, c.tbl); !apperr.Is(err, apperr.NotFound) {
					t.Errorf("%s: error = %v, want NotFound", label, err)
				}
			}
		})
	}
}

// TestRecordEditsMoveTheWorkbooksLastChange is issue 9's item 10: the
// workbook list's "Last change" follows edits to its records, not only
// changes to its tables.
func TestRecordEditsMoveTheWorkbooksLastChange(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	rec := f.MustRecord(t, map[string]any{"Title": "Lamp"})
	if _, err := f.pool.Exec(ctx, `UPDATE workbooks SET updated_at = now() - interval '2 hours' WHERE id = $1`, f.wb.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, rec.ID, map[string]any{"Title": "Desk lamp"}, rec.Version); err != nil {
		t.Fatal(err)
	}
	wb, err := f.svc.FindWorkbook(ctx, f.owner, f.wb.ID)
	if err != nil {
		t.Fatal(err)
	}
	if age := time.Since(wb.UpdatedAt); age > time.Minute {
		t.Fatalf("the workbook's last change is %s old after an edit", age)
	}
}
