package views

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// TestGridCellsAsTemplates checks that the cells gridCells writes by hand
// are byte for byte those the gridCell and cellEditor templates render.
func TestGridCellsAsTemplates(t *testing.T) {
	cols := []workbooks.Column{
		{ID: "c_title", Name: "Title <&\"'>", Type: values.Text},
		{ID: "c_body", Name: "Body", Type: values.Text, Format: values.FormatMarkdown},
		{ID: "c_plain", Name: "Plain", Type: values.Text, Format: values.FormatPlain},
		{ID: "c_url", Name: "URL", Type: values.Text, Format: values.FormatURL},
		{ID: "c_mail", Name: "Mail", Type: values.Text, Format: values.FormatEmail},
		{ID: "c_num", Name: "Price", Type: values.Number},
		{ID: "c_bool", Name: "Pub", Type: values.Boolean, ReadOnly: true},
		{ID: "c_date", Name: "D", Type: values.Date},
		{ID: "c_dt", Name: "DT", Type: values.Datetime},
		{ID: "c_sel", Name: "S", Type: values.Select},
		{ID: "c_ms", Name: "MS", Type: values.MultiSelect},
		{ID: "c_json", Name: "J", Type: values.JSON},
	}
	long := strings.Repeat("word ünï <b>&amp; ", 100)
	vals := []map[string]any{
		{"c_title": "Hello <world> & \"x\"", "c_body": "\n\n  # Heading <x>  \nrest\nmore", "c_plain": long, "c_url": "https://example.com/?a=1&b=<2>",
			"c_mail": "a@b.example", "c_num": json.Number("12.50"), "c_bool": true, "c_date": "2024-01-02", "c_dt": "2024-01-02T03:04:05+02:00",
			"c_sel": "Sci<ence>", "c_ms": []any{"a", "b<", json.Number("3")}, "c_json": map[string]any{"k": []any{1.5, "v<"}}},
		{"c_title": long, "c_body": long + "\r\nsecond", "c_url": "javascript:alert(1)", "c_mail": "not an email", "c_num": json.Number("-3"),
			"c_bool": false, "c_dt": "garbage", "c_ms": "single", "c_json": "just a string"},
		{"c_title": "", "c_body": "\n \n", "c_url": "http://x.y/" + long},
		{},
	}
	var recs []workbooks.Record
	states := []workbooks.RecordState{workbooks.StateClean, workbooks.StateCreated, workbooks.StateDeleted, workbooks.StateUpdated}
	for i, v := range vals {
		for j, st := range states {
			r := workbooks.Record{ID: "rec-" + string(rune('a'+i)) + string(rune('a'+j)), Version: i + j, State: st, Fields: v,
				Suggestions: map[string]any{}, Problems: map[string]string{}}
			if j%2 == 1 {
				r.EditedFields = []string{"c_title", "c_num"}
				r.Suggestions["c_title"] = "Suggested <new> title"
				r.Suggestions["c_num"] = nil
				r.Problems["c_body"] = "bad <thing> & \"q\""
			}
			if i == 1 && j == 2 {
				r.SuggestedAction = "create"
			}
			if i == 2 && j == 0 {
				r.SuggestedAction = "delete"
			}
			if i == 0 && j == 3 {
				r.Conflicts = map[string]any{"c_num": json.Number("7"), "c_body": nil}
				r.SourceDeleted = true
			}
			recs = append(recs, r)
		}
	}
	g := GridContext{WorkbookID: "wb1", TableID: "t1", Columns: cols, cells: cellColumns(cols)}
	ctx := context.Background()
	cellStates := []CellState{{}, {ColumnID: "c_title", Conflict: "changed <meanwhile>"}, {ColumnID: "c_num", Editing: true, Value: "1"},
		{ColumnID: "c_body", Error: "bad"}}
	for _, rec := range recs {
		for _, st := range cellStates {
			recURL := RecordURL(g, rec.ID)
			var want, got bytes.Buffer
			for _, col := range g.cells {
				var err error
				if st.Editing && st.ColumnID == col.ID {
					err = cellEditor(g, rec, col.Column, st, col.Pin).Render(ctx, &want)
				} else {
					err = gridCell(recURL, rec, col, st).Render(ctx, &want)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := gridCells(g, recURL, rec, st).Render(ctx, &got); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("record %s, state %+v:\ngot  %s\nwant %s", rec.ID, st, got.String(), want.String())
			}
		}
	}
}

func TestAppendBase36(t *testing.T) {
	for _, u := range []uint64{0, 1, 35, 36, 37, 1295, 1296, 1<<63 - 1, 1 << 63, ^uint64(0), 14695981039346656037} {
		if got, want := string(appendBase36(nil, u)), strconv.FormatUint(u, 36); got != want {
			t.Errorf("%d: %s, want %s", u, got, want)
		}
	}
}

func TestTotalLabel(t *testing.T) {
	for _, c := range []struct {
		n                 int64
		estimate, atLeast bool
		want              string
	}{
		{1, false, false, "1 record"},
		{3663, false, false, "3,663 records"},
		{10000, false, true, "10,000+ records"},
		{1234567, true, false, "≈ 1,234,567 records"},
		{0, false, false, "0 records"},
	} {
		if got := totalLabel(c.n, c.estimate, c.atLeast); got != c.want {
			t.Errorf("totalLabel(%d, %v, %v) = %q, want %q", c.n, c.estimate, c.atLeast, got, c.want)
		}
	}
}
