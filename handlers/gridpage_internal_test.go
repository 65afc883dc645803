package handlers

import "testing"

// The pages after the first hold about gridScrollPageCells cells: fewer
// rows as a table shows more columns, between 25 and the first page's 100.
func TestGridScrollPageSize(t *testing.T) {
	for _, c := range []struct{ columns, rows int }{{0, 100}, {1, 100}, {5, 100}, {6, 83}, {10, 50}, {20, 25}, {40, 25}, {200, 25}} {
		if got := gridScrollPageSize(c.columns); got != c.rows {
			t.Errorf("%d columns: pages of %d rows, want %d", c.columns, got, c.rows)
		}
	}
}
