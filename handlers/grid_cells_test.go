package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// postCells sends the grid's batch edit (static/grid_keys.js) as the page
// does: JSON with the CSRF header.
func postCells(t testing.TB, b *apptest.Browser, base, gridURL string, body any) (int, map[string]any) {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, base+gridURL+"/cells", strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", b.CSRF())
	r := b.Do(req)
	var out map[string]any
	if err := json.Unmarshal([]byte(r.Body), &out); err != nil {
		t.Fatalf("POST cells: %d, not JSON: %s", r.Status, r.Body)
	}
	return r.Status, out
}

type cellEdit = map[string]any

func (f gridFixture) value(t testing.TB, recID, col string) any {
	t.Helper()
	rec, err := f.inst.App.Workbooks.FindRecord(context.Background(), f.user.ID, f.wb.ID, f.tbl.ID, recID)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Fields[f.col[col]]
}

func TestGridEditCells(t *testing.T) {
	t.Parallel()
	f := mustGridFixture(t)
	f.b.Get(f.gridURL())
	ctx := context.Background()
	a, g := f.recs[0], f.recs[2]

	// A paste of two rows by two columns saves all four cells, with the
	// values read as the cell editors read them, and gives what undo needs.
	status, out := postCells(t, f.b, f.inst.URL, f.gridURL(), map[string]any{"edits": []cellEdit{
		{"record_id": a.ID, "column_id": f.col["Title"], "text": "Pasted A", "version": a.Version},
		{"record_id": a.ID, "column_id": f.col["Price"], "text": "7.25", "version": a.Version},
		{"record_id": g.ID, "column_id": f.col["Title"], "text": "Pasted G", "version": g.Version},
		{"record_id": g.ID, "column_id": f.col["Meta"], "text": `{"b":2}`, "version": g.Version},
		{"record_id": g.ID, "column_id": f.col["Tags"], "text": "promo, news", "version": g.Version},
	}})
	if status != http.StatusOK {
		t.Fatalf("paste: %d %v", status, out)
	}
	if got := f.value(t, a.ID, "Title"); got != "Pasted A" {
		t.Errorf("Title of A is %v", got)
	}
	if got := f.value(t, a.ID, "Price"); got != json.Number("7.25") {
		t.Errorf("Price of A is %#v", got)
	}
	if got, ok := f.value(t, g.ID, "Meta").(map[string]any); !ok || got["b"] != json.Number("2") {
		t.Errorf("Meta of G is %#v, want the object", f.value(t, g.ID, "Meta"))
	}
	if got := fmt.Sprint(f.value(t, g.ID, "Tags")); got != "[news promo]" && got != "[promo news]" {
		t.Errorf("Tags of G is %s, want the two choices copied from a cell", got)
	}
	changes, _ := out["changes"].([]any)
	if len(changes) != 5 {
		t.Fatalf("changes: %v", out["changes"])
	}
	first := changes[0].(map[string]any)
	if first["before"] != "Alpha launch" || first["after"] != "Pasted A" {
		t.Errorf("first change: %v", first)
	}
	if rows, _ := out["rows"].(string); strings.Count(rows, `data-record-id="`) != 2 || !strings.Contains(rows, "Pasted G") {
		t.Errorf("rows: %s", rows)
	}
	rec, err := f.inst.App.Workbooks.FindRecord(ctx, f.user.ID, f.wb.ID, f.tbl.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != workbooks.StateUpdated || len(rec.EditedFields) != 2 {
		t.Errorf("A after the paste: state %s, edited %v", rec.State, rec.EditedFields)
	}

	t.Run("stale version refuses everything", func(t *testing.T) {
		// a.Version is the version before the paste: someone's later
		// change must not be overwritten, and the other cell of the same
		// paste is not saved either.
		status, out := postCells(t, f.b, f.inst.URL, f.gridURL(), map[string]any{"edits": []cellEdit{
			{"record_id": g.ID, "column_id": f.col["Note"], "text": "not saved", "version": g.Version + 1},
			{"record_id": a.ID, "column_id": f.col["Title"], "text": "Overwrite", "version": a.Version},
		}})
		if status != http.StatusConflict || !strings.Contains(out["error"].(string), "This record was changed") {
			t.Fatalf("stale paste: %d %v", status, out)
		}
		if got := f.value(t, a.ID, "Title"); got != "Pasted A" {
			t.Errorf("Title of A is %v after a stale paste", got)
		}
		if got := f.value(t, g.ID, "Note"); got != nil {
			t.Errorf("Note of G is %v after a refused paste", got)
		}
	})

	t.Run("undo checks the cell, not the record", func(t *testing.T) {
		// Undo of the Title paste, expecting what the paste left: it
		// goes through although the record changed since (the Price).
		status, out := postCells(t, f.b, f.inst.URL, f.gridURL(), map[string]any{"edits": []cellEdit{
			{"record_id": a.ID, "column_id": f.col["Title"], "value": "Alpha launch", "expect": "Pasted A"},
		}})
		if status != http.StatusOK || f.value(t, a.ID, "Title") != "Alpha launch" {
			t.Fatalf("undo: %d %v, Title %v", status, out, f.value(t, a.ID, "Title"))
		}
		// Someone else changes the Price; undoing the paste of the
		// Price must not clobber their value.
		cur, _ := f.inst.App.Workbooks.FindRecord(ctx, f.user.ID, f.wb.ID, f.tbl.ID, a.ID)
		if _, err := f.inst.App.Workbooks.UpdateRecord(ctx, f.user.ID, f.wb.ID, f.tbl.ID, a.ID, map[string]any{"Price": "99"}, cur.Version); err != nil {
			t.Fatal(err)
		}
		status, out = postCells(t, f.b, f.inst.URL, f.gridURL(), map[string]any{"edits": []cellEdit{
			{"record_id": a.ID, "column_id": f.col["Price"], "value": json.Number("12.5"), "expect": json.Number("7.25")},
		}})
		if status != http.StatusConflict || !strings.Contains(out["error"].(string), "Price was changed by someone else since (it now holds “99”)") {
			t.Fatalf("undo over someone's change: %d %v", status, out)
		}
		if got := f.value(t, a.ID, "Price"); got != json.Number("99") {
			t.Errorf("Price is %v, want their 99", got)
		}
	})

	t.Run("revert to the pulled value", func(t *testing.T) {
		cur, _ := f.inst.App.Workbooks.FindRecord(ctx, f.user.ID, f.wb.ID, f.tbl.ID, g.ID)
		status, out := postCells(t, f.b, f.inst.URL, f.gridURL(), map[string]any{"edits": []cellEdit{
			{"record_id": g.ID, "column_id": f.col["Title"], "revert": true, "version": cur.Version},
			{"record_id": g.ID, "column_id": f.col["Meta"], "revert": true, "version": cur.Version},
			{"record_id": g.ID, "column_id": f.col["Tags"], "revert": true, "version": cur.Version},
		}})
		if status != http.StatusOK {
			t.Fatalf("revert: %d %v", status, out)
		}
		rec, _ := f.inst.App.Workbooks.FindRecord(ctx, f.user.ID, f.wb.ID, f.tbl.ID, g.ID)
		if rec.Fields[f.col["Title"]] != "Gamma" || rec.Fields[f.col["Meta"]] != nil {
			t.Errorf("after revert: %v", rec.Fields)
		}
		if rec.State != workbooks.StateClean || len(rec.EditedFields) != 0 {
			t.Errorf("a record reverted whole is clean again: %s %v", rec.State, rec.EditedFields)
		}
		// A record created here has no pulled value.
		created, err := f.inst.App.Workbooks.CreateRecord(ctx, f.user.ID, f.wb.ID, f.tbl.ID, map[string]any{"Title": "New"})
		if err != nil {
			t.Fatal(err)
		}
		status, out = postCells(t, f.b, f.inst.URL, f.gridURL(), map[string]any{"edits": []cellEdit{
			{"record_id": created.ID, "column_id": f.col["Title"], "revert": true, "version": created.Version},
		}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(out["error"].(string), "no pulled value") {
			t.Errorf("revert of a new record: %d %v", status, out)
		}
	})

	t.Run("a value the column refuses", func(t *testing.T) {
		cur, _ := f.inst.App.Workbooks.FindRecord(ctx, f.user.ID, f.wb.ID, f.tbl.ID, g.ID)
		status, out := postCells(t, f.b, f.inst.URL, f.gridURL(), map[string]any{"edits": []cellEdit{
			{"record_id": g.ID, "column_id": f.col["Title"], "text": "fine", "version": cur.Version},
			{"record_id": g.ID, "column_id": f.col["Price"], "text": "cheap", "version": cur.Version},
		}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(out["error"].(string), "Price") || !strings.Contains(out["error"].(string), "Nothing was saved") {
			t.Fatalf("bad number: %d %v", status, out)
		}
		if got := f.value(t, g.ID, "Title"); got != "Gamma" {
			t.Errorf("Title saved from a refused paste: %v", got)
		}
	})
}

func TestGridEditCellsReadOnlyColumn(t *testing.T) {
	t.Parallel()
	f := mustGridFixture(t)
	ctx := context.Background()
	tbl, err := f.inst.App.Workbooks.CreateTable(ctx, f.user.ID, f.wb.ID, workbooks.TableInput{Name: "Products", Columns: []workbooks.ColumnInput{
		{Name: "SKU", Type: values.Text, ReadOnly: true},
		{Name: "title", Type: values.Text},
	}})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := f.inst.App.Workbooks.CreateRecord(ctx, f.user.ID, f.wb.ID, tbl.ID, map[string]any{"title": "Lamp"})
	if err != nil {
		t.Fatal(err)
	}
	gridURL := "/workbooks/" + f.wb.ID + "/tables/" + tbl.ID
	f.b.Get(gridURL)
	status, out := postCells(t, f.b, f.inst.URL, gridURL, map[string]any{"edits": []cellEdit{
		{"record_id": rec.ID, "column_id": tbl.Columns[1].ID, "text": "Desk", "version": rec.Version},
		{"record_id": rec.ID, "column_id": tbl.Columns[0].ID, "text": "X-1", "version": rec.Version},
	}})
	if status != http.StatusUnprocessableEntity || out["error"] != "SKU is read-only: its cells cannot be changed here. Nothing was saved." {
		t.Fatalf("read-only: %d %v", status, out)
	}
	got, _ := f.inst.App.Workbooks.FindRecord(ctx, f.user.ID, f.wb.ID, tbl.ID, rec.ID)
	if got.Fields[tbl.Columns[1].ID] != "Lamp" {
		t.Errorf("title changed by a refused paste: %v", got.Fields)
	}
}

func TestGridEditCellsCap(t *testing.T) {
	t.Parallel()
	f := mustGridFixture(t)
	f.b.Get(f.gridURL())
	a := f.recs[0]
	edits := make([]cellEdit, workbooks.MaxCellEdits+1)
	for i := range edits {
		edits[i] = cellEdit{"record_id": a.ID, "column_id": f.col["Note"], "text": "x", "version": a.Version}
	}
	status, out := postCells(t, f.b, f.inst.URL, f.gridURL(), map[string]any{"edits": edits})
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(out["error"].(string), fmt.Sprintf("at most %d cells", workbooks.MaxCellEdits)) {
		t.Fatalf("over the cap: %d %v", status, out)
	}
	if got := f.value(t, a.ID, "Note"); got != "javascript:alert(1)" {
		t.Errorf("Note changed by a refused paste: %v", got)
	}
}

func TestGridEditCellsOtherUsersTable(t *testing.T) {
	t.Parallel()
	f := mustGridFixture(t)
	other := f.inst.NewBrowser(t)
	other.MustSignUp("other-cells@example.com", gridPassword)
	a := f.recs[0]
	status, out := postCells(t, other, f.inst.URL, f.gridURL(), map[string]any{"edits": []cellEdit{
		{"record_id": a.ID, "column_id": f.col["Title"], "text": "Mine now", "version": a.Version},
	}})
	if status != http.StatusNotFound {
		t.Fatalf("someone else's table: %d %v", status, out)
	}
	if got := f.value(t, a.ID, "Title"); got != "Alpha launch" {
		t.Errorf("Title changed through someone else's table: %v", got)
	}
}

// TestGridCellValues: a copy of cells the grid shows cut short asks for
// them in full, as the editors show them; someone else's table is 404.
func TestGridCellValues(t *testing.T) {
	t.Parallel()
	f := mustGridFixture(t)
	a, b := f.recs[0], f.recs[1]
	q := "?record=" + a.ID + "&record=" + b.ID + "&record=not-a-record&column=" + f.col["Body"] + "&column=" + f.col["Price"] + "&column=" + f.col["Tags"]
	r := f.b.Get(f.gridURL() + "/cells" + q)
	var out struct {
		Values [][]string `json:"values"`
	}
	if err := json.Unmarshal([]byte(r.Body), &out); r.Status != http.StatusOK || err != nil {
		t.Fatalf("cells: %d %s", r.Status, r.Body)
	}
	want := [][]string{{"# Heading\nsecond line", "12.5", "news, tech"}, {"", "3", ""}, {"", "", ""}}
	if fmt.Sprint(out.Values) != fmt.Sprint(want) {
		t.Errorf("values %q, want %q", out.Values, want)
	}
	other := f.inst.NewBrowser(t)
	other.MustSignUp("other-values@example.com", gridPassword)
	if r := other.Get(f.gridURL() + "/cells" + q); r.Status != http.StatusNotFound || strings.Contains(r.Body, "Heading") {
		t.Errorf("someone else's table: %d %s", r.Status, r.Body)
	}
}
