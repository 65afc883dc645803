package imports

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// exportPageSize is how many records an export reads per page.
const exportPageSize = workbooks.MaxPageSize

// ExportValues says how an export writes cells that a spreadsheet program
// would run as formulas when it opens the file.
type ExportValues string

const (
	// ExportSafe, the default, neutralizes such cells as OWASP's rule for
	// CSV injection says: a cell starting with =, +, -, @, a tab or a
	// carriage return gets a leading single quote, so Excel, LibreOffice
	// and Google Sheets show it as text instead of running it. A cell that
	// is a plain number (-2, +1.5, 1e3) is left alone: a spreadsheet reads
	// it as that number, and a number column's negative values stay numbers.
	ExportSafe ExportValues = "safe"
	// ExportExact writes every value as stored, for programs and for round
	// trips such as importing the file back as suggestions; opened in a
	// spreadsheet, its formula-like cells run.
	ExportExact ExportValues = "exact"
)

// Export is a CSV export whose query has been checked, ready to stream.
type Export struct {
	Table workbooks.Table
	// Filename is the download's file name: the table's name, made safe
	// (no path separators, quotes or control characters; at most 100
	// bytes), ending in .csv once.
	Filename string
	// Values says whether formula-like cells are neutralized.
	Values ExportValues

	s       *Service
	ownerID string
	query   workbooks.RecordQuery
	first   workbooks.RecordPage
}

// PrepareExport checks an export of the owner's table (all records, or
// those matching q's filter, sort and quick filter) and reads its first
// page, so that errors surface before any CSV is written. values is
// ExportSafe when empty. Errors: NotFound, Invalid (a bad filter, sort,
// quick filter or values).
func (s *Service) PrepareExport(ctx context.Context, ownerID, workbookID, tableID string, q workbooks.RecordQuery, values ExportValues) (*Export, error) {
	switch values {
	case "":
		values = ExportSafe
	case ExportSafe, ExportExact:
	default:
		return nil, apperr.InvalidFields(`Choose how to write values: "safe" or "exact".`,
			apperr.FieldError{Field: "values", Message: `must be "safe" or "exact"`})
	}
	t, err := s.workbooks.FindTable(ctx, ownerID, workbookID, tableID)
	if err != nil {
		return nil, err
	}
	q.Cursor, q.Limit = "", exportPageSize
	first, err := s.workbooks.FindRecords(ctx, ownerID, workbookID, tableID, q)
	if err != nil {
		return nil, err
	}
	return &Export{Table: t, Filename: ExportFilename(t.Name), Values: values, s: s, ownerID: ownerID, query: q, first: first}, nil
}

// WriteTo writes the header (the column names) and every record, page by
// page, calling flush after each page so the download streams. Deleted
// records and proposed (not yet accepted) records are left out; values are
// written in their canonical text form, workbooks.Column.Text, as the grid
// shows them, and with ExportSafe neutralized (see NeutralizeFormula); the
// header's column names too.
func (e *Export) WriteTo(ctx context.Context, w io.Writer, flush func()) error {
	cw := csv.NewWriter(w)
	text := func(s string) string { return s }
	if e.Values != ExportExact {
		text = NeutralizeFormula
	}
	header := make([]string, len(e.Table.Columns))
	for i, c := range e.Table.Columns {
		header[i] = text(c.Name)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	page := e.first
	cells := make([]string, len(e.Table.Columns))
	for {
		for _, r := range page.Records {
			if r.State == workbooks.StateDeleted || r.SuggestedAction == "create" {
				continue
			}
			for i, c := range e.Table.Columns {
				cells[i] = text(c.Text(r.Fields[c.ID]))
			}
			if err := cw.Write(cells); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if flush != nil {
			flush()
		}
		if page.NextCursor == "" {
			return nil
		}
		q := e.query
		q.Cursor = page.NextCursor
		var err error
		if page, err = e.s.workbooks.FindRecords(ctx, e.ownerID, e.Table.WorkbookID, e.Table.ID, q); err != nil {
			return fmt.Errorf("imports: export page: %w", err)
		}
	}
}

// plainNumber matches the text a spreadsheet reads as a number and nothing
// else: an optional sign, digits with an optional decimal point, an
// optional exponent. Such text cannot hold a formula.
var plainNumber = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)

// NeutralizeFormula returns s as a spreadsheet should show it rather than
// run it: text starting with =, +, -, @, a tab or a carriage return (the
// characters OWASP lists for CSV injection) gets a leading single quote,
// unless it is a plain number such as -2, which a spreadsheet reads as the
// number it is. Other text is returned unchanged.
func NeutralizeFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
	default:
		return s
	}
	if plainNumber.MatchString(s) {
		return s
	}
	return "'" + s
}

// maxFilenameBytes bounds a download's file name, extension included.
const maxFilenameBytes = 100

// ExportFilename turns a table name into the file name of its export: letters
// (of any script), digits, spaces and - _ . ( ) are kept, everything else
// (path separators, quotes, control characters) becomes _, the name is cut
// to at most 100 bytes and ends in .csv exactly once, whatever case (and
// however often) the table's name ended in it (a table imported from "sales.csv.gz" is named
// "sales.csv").
func ExportFilename(name string) string {
	const ext = ".csv"
	var b strings.Builder
	for _, r := range name {
		if b.Len()+utf8.RuneLen(r) > maxFilenameBytes-len(ext) {
			break
		}
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == ' ', r == '-', r == '_', r == '.', r == '(', r == ')':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	base := strings.TrimRight(b.String(), " ._")
	for len(base) >= len(ext) && strings.EqualFold(base[len(base)-len(ext):], ext) {
		base = strings.TrimRight(base[:len(base)-len(ext)], " ._")
	}
	base = strings.TrimLeft(base, " ._")
	if base == "" {
		base = "table"
	}
	return base + ext
}
