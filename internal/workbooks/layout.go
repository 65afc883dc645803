package workbooks

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
)

// TableLayout is how a person lays out a table's grid: column widths,
// column order and row height. It is presentation only: the API's column
// order, exports and records ignore it.
type TableLayout struct {
	// Widths are column widths in CSS pixels by column id; a column
	// without one takes the grid's default width.
	Widths map[string]int `json:"widths,omitempty"`
	// Order lists column ids in the order the grid shows them; columns it
	// does not name follow in the table's own order.
	Order []string `json:"order,omitempty"`
	// RowHeight is one of RowShort, RowMedium, RowTall; empty is RowShort.
	RowHeight string `json:"row_height,omitempty"`
}

// The row heights of TableLayout.RowHeight.
const (
	RowShort  = "short"
	RowMedium = "medium"
	RowTall   = "tall"
)

// The bounds of a column width, in CSS pixels.
const (
	MinColumnWidth = 48
	MaxColumnWidth = 1200
)

// LayoutChange changes part of a table's layout; what it leaves zero stays.
type LayoutChange struct {
	// Widths sets column widths by column id or name; 0 goes back to the
	// default width.
	Widths map[string]int
	// Order, when not nil, is the new column order, by id or name; it
	// must not name a column twice.
	Order []string
	// Move moves one column (by id or name) By places in the display
	// order: negative is to the left.
	Move string
	By   int
	// RowHeight, when set, is the new row height.
	RowHeight string
}

// decodeLayout reads a stored layout; a layout that does not decode is the
// default one rather than an error, since it only decides presentation.
func decodeLayout(b []byte) TableLayout {
	var l TableLayout
	if len(b) > 0 {
		_ = json.Unmarshal(b, &l)
	}
	return l
}

// OrderedColumns returns cols in the layout's order: the columns it names,
// in its order, then the others in theirs. Ids it names that cols lacks are
// skipped.
func (l TableLayout) OrderedColumns(cols []Column) []Column {
	if len(l.Order) == 0 {
		return cols
	}
	out := make([]Column, 0, len(cols))
	used := make(map[string]bool, len(cols))
	for _, id := range l.Order {
		i := slices.IndexFunc(cols, func(c Column) bool { return c.ID == id })
		if i >= 0 && !used[id] {
			out = append(out, cols[i])
			used[id] = true
		}
	}
	for _, c := range cols {
		if !used[c.ID] {
			out = append(out, c)
		}
	}
	return out
}

// SetTableLayout changes the layout of one of the owner's tables and
// returns the table with it. Unknown columns, widths out of bounds and
// unknown row heights are refused. Errors: Invalid, NotFound.
func (s *Service) SetTableLayout(ctx context.Context, ownerID, workbookID, tableID string, ch LayoutChange) (Table, error) {
	var out Table
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		t, err := lockTable(ctx, q, ownerID, workbookID, tableID, lockExclusive)
		if err != nil {
			return err
		}
		l, err := applyLayoutChange(t, ch)
		if err != nil {
			return err
		}
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		if err := q.SetTableLayout(ctx, db.SetTableLayoutParams{WorkbookID: workbookID, ID: tableID, Layout: b}); err != nil {
			return err
		}
		t.Layout = l
		out = t
		return nil
	})
	if err != nil {
		return Table{}, wrap("set layout", err)
	}
	return out, nil
}

func layoutField(field, format string, args ...any) error {
	return apperr.InvalidFields("Please correct the layout.", apperr.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// applyLayoutChange returns t's layout with ch applied, keeping only
// columns t still has.
func applyLayoutChange(t Table, ch LayoutChange) (TableLayout, error) {
	l := t.Layout
	lookup := func(field, key string) (string, error) {
		c, ok := t.Columns.Lookup(key)
		if !ok {
			return "", layoutField(field, "names no column of this table: %q", clipName(key))
		}
		return c.ID, nil
	}
	if len(ch.Widths) > maxColumns {
		return l, layoutField("widths", "must name at most %d columns", maxColumns)
	}
	widths := map[string]int{}
	for id, w := range l.Widths {
		if _, ok := t.Columns.Lookup(id); ok {
			widths[id] = w
		}
	}
	for key, w := range ch.Widths {
		id, err := lookup("width", key)
		if err != nil {
			return l, err
		}
		switch {
		case w == 0:
			delete(widths, id)
		case w < MinColumnWidth || w > MaxColumnWidth:
			return l, layoutField("width", "must be between %d and %d pixels", MinColumnWidth, MaxColumnWidth)
		default:
			widths[id] = w
		}
	}
	l.Widths = widths
	if len(l.Widths) == 0 {
		l.Widths = nil
	}
	if ch.Order != nil {
		if len(ch.Order) > len(t.Columns) {
			return l, layoutField("order", "names more columns than the table has")
		}
		order := make([]string, 0, len(ch.Order))
		for _, key := range ch.Order {
			id, err := lookup("order", key)
			if err != nil {
				return l, err
			}
			if slices.Contains(order, id) {
				return l, layoutField("order", "names a column twice: %q", clipName(key))
			}
			order = append(order, id)
		}
		l.Order = order
	}
	if ch.Move != "" {
		id, err := lookup("move", ch.Move)
		if err != nil {
			return l, err
		}
		cols := l.OrderedColumns(t.Columns)
		order := make([]string, len(cols))
		for i, c := range cols {
			order[i] = c.ID
		}
		i := slices.Index(order, id)
		j := min(max(i+ch.By, 0), len(order)-1)
		order = slices.Insert(slices.Delete(order, i, i+1), j, id)
		l.Order = order
	}
	// Keep only columns the table has, so a removed column's id goes.
	l.Order = slices.DeleteFunc(slices.Clone(l.Order), func(id string) bool { _, ok := t.Columns.Lookup(id); return !ok })
	if len(l.Order) == 0 {
		l.Order = nil
	}
	switch ch.RowHeight {
	case "":
	case RowShort, RowMedium, RowTall:
		l.RowHeight = ch.RowHeight
	default:
		return l, layoutField("row_height", "must be short, medium or tall")
	}
	return l, nil
}

// clipName cuts a column name quoted back in an error to a readable size.
func clipName(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}
