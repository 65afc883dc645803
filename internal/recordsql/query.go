package recordsql

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/filter"
	"github.com/scratchpad/scratchpad/internal/ids"
)

// Query selects and orders a page of a table's records.
type Query struct {
	// Filter is an expression in the filter language; empty means all.
	Filter string
	// Sort is a column name (or id), ascending, or with a leading "-",
	// descending; empty means the table's own order. Empty values come last
	// either way. Up to MaxSortKeys columns separated by commas sort by the
	// first, then the second among equal values, and so on ("Status,-Price");
	// a name that itself holds a comma is written as the column's id.
	Sort string
	// Has narrows to records with unpublished changes ("edits") or pending
	// suggestions ("suggestions").
	Has string
	// Cursor is the NextCursor of the previous page, for the same sort.
	Cursor string
	// Limit is the page size: DefaultPageSize when zero, at most MaxPageSize.
	Limit int
	// WithoutTotal leaves the page's total zero and skips counting (or
	// estimating) it, for pages that do not show it.
	WithoutTotal bool
}

// Page sizes of a listing.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// The quick filters of Query.Has.
const (
	HasEdits       = "edits"
	HasSuggestions = "suggestions"
)

// Table is what the SQL needs to know of a table: its ids and its columns
// as the filter compiler sees them.
type Table struct {
	WorkbookID string
	ID         string
	Columns    []filter.Column
}

// Builder accumulates a query's conditions and its bind arguments.
type Builder struct {
	// Where are conditions on the records alias r, joined by AND.
	Where []string
	Args  []any
}

// Arg adds v to the arguments and returns its placeholder.
func (b *Builder) Arg(v any) string {
	b.Args = append(b.Args, v)
	return "$" + strconv.Itoa(len(b.Args))
}

// Scope adds to b the conditions selecting the records of t that q's
// filter and quick filter match (its sort, cursor and limit are ignored).
// Listings, neighbours, find & replace and fill all select records through
// it. With literalIDs (for a big table) the table's ids are written into the
// SQL as TablePredicate writes them, so that PostgreSQL can use the table's
// partial on-demand indexes; otherwise they are bind parameters.
// Errors: Invalid.
func (b *Builder) Scope(t Table, q Query, literalIDs bool) error {
	if literalIDs {
		pred, err := TablePredicate("r", t.WorkbookID, t.ID)
		if err != nil {
			return err
		}
		b.Where = append(b.Where, pred)
	} else {
		b.Where = append(b.Where, "r.workbook_id = "+b.Arg(t.WorkbookID), "r.table_id = "+b.Arg(t.ID))
	}
	compiled, err := filter.Compile(q.Filter, t.Columns, "r.fields", len(b.Args))
	if err != nil {
		var fe *filter.Error
		if errors.As(err, &fe) {
			return apperr.InvalidFields("The filter is not valid: "+fe.Error(),
				apperr.FieldError{Field: "filter", Message: fe.Error()})
		}
		return fmt.Errorf("recordsql: compile filter: %w", err)
	}
	b.Args = append(b.Args, compiled.Args...)
	b.Where = append(b.Where, compiled.SQL)
	switch q.Has {
	case "":
	case HasEdits:
		b.Where = append(b.Where, "r.state <> 'clean'")
	case HasSuggestions:
		b.Where = append(b.Where, `EXISTS (SELECT 1 FROM suggestions s
			WHERE s.workbook_id = r.workbook_id AND s.table_id = r.table_id AND s.record_id = r.id)`)
	default:
		return apperr.InvalidFields("Unknown quick filter.",
			apperr.FieldError{Field: "has", Message: `must be "edits" or "suggestions"`})
	}
	return nil
}

// sqlUUID returns id as a SQL uuid literal. It is the one way ids enter SQL
// text, and it refuses anything that is not a canonical UUID.
func sqlUUID(id string) (string, error) {
	if !ids.ValidUUID(id) {
		return "", fmt.Errorf("recordsql: %q is not a uuid", id)
	}
	return "'" + strings.ToLower(id) + "'::uuid", nil
}

// TablePredicate is the WHERE condition of a table's partial indexes over
// the records alias ("" for no alias): the condition the indexes are built
// with (package recordindex) and the one a big table's listings repeat, as
// literals, so the planner can use them.
func TablePredicate(alias, workbookID, tableID string) (string, error) {
	wb, err := sqlUUID(workbookID)
	if err != nil {
		return "", err
	}
	tbl, err := sqlUUID(tableID)
	if err != nil {
		return "", err
	}
	if alias != "" {
		alias += "."
	}
	return alias + "workbook_id = " + wb + " AND " + alias + "table_id = " + tbl, nil
}
