package workbooks_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// columnNames are the names of cols in order.
func columnNames(cols []workbooks.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

// TestSetTableLayoutKeepsWidthsOrderAndRowHeight checks that a layout is
// kept with the table, changes merge with what was kept, and a moved column
// stays in place across reads.
func TestSetTableLayoutKeepsWidthsOrderAndRowHeight(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	conn := f.MustListen(t)

	if _, err := f.svc.SetTableLayout(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.LayoutChange{
		Widths: map[string]int{"Title": 300, f.col(t, "Price"): 90}, RowHeight: workbooks.RowTall,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SetTableLayout(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.LayoutChange{Move: "SKU", By: -3}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SetTableLayout(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.LayoutChange{Widths: map[string]int{"Price": 0}}); err != nil {
		t.Fatal(err)
	}
	tbl, err := f.svc.FindTable(ctx, f.owner, f.wb.ID, f.table.ID)
	if err != nil {
		t.Fatal(err)
	}
	l := tbl.Layout
	if l.Widths[f.col(t, "Title")] != 300 || len(l.Widths) != 1 {
		t.Errorf("widths = %v, want only Title at 300", l.Widths)
	}
	if l.RowHeight != workbooks.RowTall {
		t.Errorf("row height = %q, want tall", l.RowHeight)
	}
	got := columnNames(l.OrderedColumns(tbl.Columns))
	want := []string{"Title", "SKU", "Price", "In stock", "Status"}
	if !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	// The API's columns keep the table's own order.
	if names := columnNames(tbl.Columns); names[len(names)-1] != "SKU" {
		t.Errorf("table columns reordered: %v", names)
	}
	// A layout is presentation: other tabs are not told the table changed.
	if ev, ok := nextEvent(t, conn, 300*time.Millisecond); ok {
		t.Errorf("layout change sent an event: %+v", ev)
	}

	// A full order, then a column added afterwards comes last.
	if _, err := f.svc.SetTableLayout(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.LayoutChange{
		Order: []string{"Status", "Title", "Price", "In stock", "SKU"},
	}); err != nil {
		t.Fatal(err)
	}
	tbl, err = f.svc.AddScratchColumn(ctx, f.owner, f.wb.ID, f.table.ID, "Notes", values.Text)
	if err != nil {
		t.Fatal(err)
	}
	if got := columnNames(tbl.Layout.OrderedColumns(tbl.Columns)); !slices.Equal(got, []string{"Status", "Title", "Price", "In stock", "SKU", "Notes"}) {
		t.Errorf("order after adding a column = %v", got)
	}
}

// TestSetTableLayoutRefusals checks the caps and the owner scoping: widths
// out of bounds, unknown columns and row heights, duplicated or oversized
// orders are Invalid; someone else's table is NotFound and stays as it was.
func TestSetTableLayoutRefusals(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	other := MustUser(t, f.pool)
	many := map[string]int{}
	for i := range 501 {
		many[strings.Repeat("x", i+1)] = 100
	}
	tests := []struct {
		name  string
		owner string
		table string
		ch    workbooks.LayoutChange
		want  apperr.Kind
	}{
		{"too narrow", f.owner, f.table.ID, workbooks.LayoutChange{Widths: map[string]int{"Title": workbooks.MinColumnWidth - 1}}, apperr.Invalid},
		{"too wide", f.owner, f.table.ID, workbooks.LayoutChange{Widths: map[string]int{"Title": workbooks.MaxColumnWidth + 1}}, apperr.Invalid},
		{"negative width", f.owner, f.table.ID, workbooks.LayoutChange{Widths: map[string]int{"Title": -5}}, apperr.Invalid},
		{"width of no column", f.owner, f.table.ID, workbooks.LayoutChange{Widths: map[string]int{"Nope": 100}}, apperr.Invalid},
		{"too many widths", f.owner, f.table.ID, workbooks.LayoutChange{Widths: many}, apperr.Invalid},
		{"order names a column twice", f.owner, f.table.ID, workbooks.LayoutChange{Order: []string{"Title", "Title"}}, apperr.Invalid},
		{"order of no column", f.owner, f.table.ID, workbooks.LayoutChange{Order: []string{"Nope"}}, apperr.Invalid},
		{"order longer than the table", f.owner, f.table.ID, workbooks.LayoutChange{Order: slices.Repeat([]string{"Title"}, 6)}, apperr.Invalid},
		{"move of no column", f.owner, f.table.ID, workbooks.LayoutChange{Move: "Nope", By: 1}, apperr.Invalid},
		{"unknown row height", f.owner, f.table.ID, workbooks.LayoutChange{RowHeight: "huge"}, apperr.Invalid},
		{"another user's table", other, f.table.ID, workbooks.LayoutChange{RowHeight: workbooks.RowTall}, apperr.NotFound},
		{"malformed table id", f.owner, "nope", workbooks.LayoutChange{RowHeight: workbooks.RowTall}, apperr.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.SetTableLayout(ctx, tt.owner, f.wb.ID, tt.table, tt.ch)
			if !apperr.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	tbl, err := f.svc.FindTable(ctx, f.owner, f.wb.ID, f.table.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Layout.RowHeight != "" || tbl.Layout.Widths != nil || tbl.Layout.Order != nil {
		t.Errorf("layout after refusals = %+v, want the default", tbl.Layout)
	}
}
