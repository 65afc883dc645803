package views

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"

	"github.com/scratchpad/scratchpad/internal/filter"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// The grid's layout (column widths and order, row height; kept per table by
// workbooks.SetTableLayout) and its search box. static/grid_layout.js
// drives both in the browser.

// SearchColumns are the names of the columns the grid's search box looks
// in: every text and select column, shown or hidden.
func SearchColumns(t workbooks.Table) []string {
	var out []string
	for _, c := range t.Columns {
		if c.Type == values.Text || c.Type == values.Select {
			out = append(out, c.Name)
		}
	}
	return out
}

// EffectiveFilter is the filter the grid applies for q: its filter and,
// when the search box has text, a search of every text column, both
// written in the filter language.
func EffectiveFilter(t workbooks.Table, q GridQuery) string {
	return filter.And(q.Filter, filter.Search(SearchColumns(t), q.Search))
}

// RowHeightClass is the grid's class for a table's row height.
func RowHeightClass(t workbooks.Table) string {
	switch t.Layout.RowHeight {
	case workbooks.RowMedium, workbooks.RowTall:
		return "rows-" + t.Layout.RowHeight
	}
	return "rows-short"
}

// rowHeights are the choices of the row height control.
var rowHeights = []struct{ Value, Label string }{
	{workbooks.RowShort, "Short"}, {workbooks.RowMedium, "Medium"}, {workbooks.RowTall, "Tall"},
}

// cssColumnID is what a column id must look like to be written into the
// layout's stylesheet (ids are generated so; anything else is skipped).
var cssColumnID = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// LayoutCSS is the stylesheet of a table's column widths: each sized
// column's header and cells take exactly its width.
func LayoutCSS(t workbooks.Table) string {
	var b strings.Builder
	for _, c := range t.Columns {
		w, ok := t.Layout.Widths[c.ID]
		if !ok || !cssColumnID.MatchString(c.ID) {
			continue
		}
		px := strconv.Itoa(w) + "px"
		b.WriteString(`table.grid [data-column-id="` + c.ID + `"]{width:` + px + `;min-width:` + px + `;max-width:` + px + "}\n")
	}
	return b.String()
}

// LayoutCSSURL is the address of t's width stylesheet, or "" when no column
// has a width. It changes with the widths, so browsers may keep it.
func LayoutCSSURL(t workbooks.Table) string {
	css := LayoutCSS(t)
	if css == "" {
		return ""
	}
	return TableURL(t.WorkbookID, t.ID) + "/layout.css?v=" + strconv.FormatUint(xxhash.Sum64String(css), 36)
}

// columnNamesJSON lists the table's column names for the filter input's
// autocomplete.
func columnNamesJSON(t workbooks.Table) string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	b, _ := json.Marshal(names) //nolint:errchkjson // strings always encode
	return string(b)
}
