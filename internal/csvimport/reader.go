package csvimport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Default limits; see Options.
const (
	DefaultMaxCellBytes = 1 << 20
	DefaultMaxRowBytes  = 16 << 20
	DefaultMaxColumns   = 500
)

// Options configures a Reader. The zero value reads comma-separated files
// with the default limits.
type Options struct {
	// Delimiter separates cells: ',' (the default when zero), ';', '\t' or
	// another ASCII character that is not a quote or a line break.
	Delimiter rune
	// MaxCellBytes limits the size of one cell; 0 means DefaultMaxCellBytes.
	MaxCellBytes int
	// MaxRowBytes limits the size of one row; 0 means DefaultMaxRowBytes.
	// Together with MaxCellBytes it bounds the memory a Reader uses.
	MaxRowBytes int
	// MaxColumns limits how many cells a row, the header included, may have;
	// 0 means DefaultMaxColumns.
	MaxColumns int
	// KeepEmptyRows makes Next return rows whose cells are all empty, which
	// it otherwise skips (spreadsheets export them for formatted but unused
	// rows). Blank lines are always skipped.
	KeepEmptyRows bool
}

// Row is one data row of a file.
type Row struct {
	// Number is the 1-based row number as a spreadsheet would show it: the
	// header is row 1, and blank lines and skipped rows count.
	Number int
	// Line is the 1-based line of the file on which the row starts; it
	// differs from Number when cells hold line breaks.
	Line int
	// Cells has exactly one cell per header column. Line breaks inside cells
	// are "\n" whatever the file used.
	Cells []string
	// Warnings describes what was repaired in the row, such as missing cells
	// filled with "", in words fit to show to the user.
	Warnings []string
}

// Reader reads the rows of a CSV file one at a time, in memory bounded by
// its limits whatever the size of the file.
//
// Next returns a *CellError or *RowError for a row it rejects; that row has
// been read to its end, and the next call returns the row after it. Any other
// error (from the underlying reader) is final.
type Reader struct {
	p      *parser
	opts   Options
	header []string
	row    int // the number of the last row read
}

// NewReader reads the header row of r and returns a Reader for the rows
// after it. Header names are trimmed; an empty name becomes "Column N" and a
// repeated name (compared case-insensitively) gets a " (2)", " (3)"… suffix.
// A UTF-8 byte order mark is skipped. It returns ErrEmpty for a file with no
// header, ErrUTF16 for a UTF-16 file, and a *CellError or *RowError for a
// malformed header.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	br := &bomSkipper{r: r}
	rd := &Reader{
		p:    newParser(br, byte(opts.Delimiter), opts.MaxCellBytes, opts.MaxRowBytes, opts.MaxColumns),
		opts: opts,
	}
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	return rd, nil
}

func (o Options) withDefaults() (Options, error) {
	if o.Delimiter == 0 {
		o.Delimiter = ','
	}
	if o.Delimiter >= utf8.RuneSelf || o.Delimiter == '"' || o.Delimiter == '\n' || o.Delimiter == '\r' {
		return o, fmt.Errorf("csvimport: invalid delimiter %q", o.Delimiter)
	}
	if o.MaxCellBytes <= 0 {
		o.MaxCellBytes = DefaultMaxCellBytes
	}
	if o.MaxRowBytes <= 0 {
		o.MaxRowBytes = DefaultMaxRowBytes
	}
	if o.MaxColumns <= 0 {
		o.MaxColumns = DefaultMaxColumns
	}
	return o, nil
}

// Header returns the column names, one per column, unique and non-empty.
func (r *Reader) Header() []string { return append([]string(nil), r.header...) }

// Offset returns how many bytes of the input the Reader has consumed, for
// reporting progress.
func (r *Reader) Offset() int64 { return r.p.offset() }

func (r *Reader) readHeader() error {
	for {
		rec, err := r.p.readRecord()
		if errors.Is(err, io.EOF) {
			return ErrEmpty
		}
		if err != nil {
			return err
		}
		r.row++
		if rec.blank {
			continue
		}
		if rec.prob.kind != probNone {
			return r.problemError(rec)
		}
		if err := r.checkCells(rec.cells); err != nil {
			return err
		}
		r.header = headerNames(rec.cells)
		return nil
	}
}

// Next returns the next data row, or io.EOF after the last one. Rows with
// fewer cells than the header are padded with "" and carry a warning; rows
// with more are an error unless the extra cells are all empty.
func (r *Reader) Next() (Row, error) {
	for {
		rec, err := r.p.readRecord()
		if err != nil {
			return Row{}, err
		}
		r.row++
		if rec.blank {
			continue
		}
		if rec.prob.kind != probNone {
			return Row{}, r.problemError(rec)
		}
		if err := r.checkCells(rec.cells); err != nil {
			return Row{}, err
		}
		cells, warning, err := r.fitToHeader(rec.cells)
		if err != nil {
			return Row{}, err
		}
		if !r.opts.KeepEmptyRows && allEmpty(cells) {
			continue
		}
		row := Row{Number: r.row, Line: rec.line, Cells: cells}
		if warning != "" {
			row.Warnings = []string{warning}
		}
		return row, nil
	}
}

// checkCells rejects cells that are not valid UTF-8 or hold a NUL character
// (which no text column in PostgreSQL can store).
func (r *Reader) checkCells(cells []string) error {
	for i, c := range cells {
		if !utf8.ValidString(c) {
			return r.cellError(i+1, "not valid UTF-8 (save the file as CSV UTF-8)")
		}
		if strings.IndexByte(c, 0) >= 0 {
			return r.cellError(i+1, "contains a NUL character")
		}
	}
	return nil
}

func (r *Reader) fitToHeader(cells []string) ([]string, string, error) {
	n := len(r.header)
	switch {
	case len(cells) == n:
		return cells, "", nil
	case len(cells) < n:
		padded := make([]string, n)
		copy(padded, cells)
		return padded, fmt.Sprintf("row %d has %d of the %d columns; the missing cells were left empty",
			r.row, len(cells), n), nil
	}
	var extra []int
	for i := n; i < len(cells); i++ {
		if cells[i] != "" {
			extra = append(extra, i+1)
		}
	}
	if len(extra) == 0 {
		return cells[:n:n], "", nil
	}
	return nil, "", &RowError{Row: r.row, Msg: fmt.Sprintf(
		"%d cells but the header has %s; %s beyond the header %s not empty",
		len(cells), columnCount(n), columnList(extra), pluralVerb(len(extra)))}
}

// columnList names columns for a message: "column 6", "columns 6, 7 and 9",
// or the first few followed by "and N more".
func columnList(cols []int) string {
	const shown = 5
	if len(cols) == 1 {
		return "column " + strconv.Itoa(cols[0])
	}
	var b strings.Builder
	b.WriteString("columns ")
	for i, c := range cols[:min(len(cols), shown)] {
		switch {
		case i == 0:
		case i == len(cols)-1:
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(c))
	}
	if len(cols) > shown {
		fmt.Fprintf(&b, " and %d more", len(cols)-shown)
	}
	return b.String()
}

// columnCount is "1 column" or "N columns".
func columnCount(n int) string {
	if n == 1 {
		return "1 column"
	}
	return strconv.Itoa(n) + " columns"
}

func pluralVerb(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func allEmpty(cells []string) bool {
	for _, c := range cells {
		if c != "" {
			return false
		}
	}
	return true
}

func (r *Reader) cellError(column int, msg string) *CellError {
	e := &CellError{Row: r.row, Column: column, Msg: msg}
	if column <= len(r.header) {
		e.ColumnName = r.header[column-1]
	}
	return e
}

func (r *Reader) problemError(rec rawRecord) error {
	col := rec.prob.column
	switch rec.prob.kind {
	case probBareQuote:
		return r.cellError(col, `a quote (") inside a cell that does not start with one; `+
			`quote the whole cell and double the quotes inside it ("")`)
	case probAfterQuote:
		return r.cellError(col, "text after the closing quote of a quoted cell")
	case probUnterminated:
		return r.cellError(col, "a quoted cell is never closed (the file ends inside it)")
	case probCellTooLarge:
		return r.cellError(col, "the cell is larger than "+sizeString(r.opts.MaxCellBytes))
	case probRowTooLarge:
		return &RowError{Row: r.row, Msg: "the row is larger than " + sizeString(r.opts.MaxRowBytes)}
	case probTooManyCells:
		return &RowError{Row: r.row, Msg: fmt.Sprintf("%d cells; at most %d columns are allowed",
			rec.fields, r.opts.MaxColumns)}
	}
	return &RowError{Row: r.row, Msg: "malformed row"}
}

// headerNames trims the header cells and makes every name non-empty and
// unique, case-insensitively.
func headerNames(cells []string) []string {
	names := make([]string, len(cells))
	taken := make(map[string]bool, len(cells))
	for i, c := range cells {
		name := strings.TrimSpace(c)
		if name == "" {
			name = "Column " + strconv.Itoa(i+1)
		}
		unique := name
		for n := 2; taken[strings.ToLower(unique)]; n++ {
			unique = name + " (" + strconv.Itoa(n) + ")"
		}
		taken[strings.ToLower(unique)] = true
		names[i] = unique
	}
	return names
}

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16BE = []byte{0xFE, 0xFF}
	bomUTF16LE = []byte{0xFF, 0xFE} // also the start of the UTF-32LE mark
	bomUTF32BE = []byte{0x00, 0x00, 0xFE, 0xFF}
)

// bomSkipper skips a UTF-8 byte order mark at the start of a stream and
// rejects UTF-16 and UTF-32 ones.
type bomSkipper struct {
	r       io.Reader
	checked bool
	head    []byte
}

func (s *bomSkipper) Read(p []byte) (int, error) {
	if !s.checked {
		s.checked = true
		head := make([]byte, 4)
		n, err := io.ReadFull(s.r, head)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return 0, err
		}
		head = head[:n]
		if hasUTF16BOM(head) {
			return 0, ErrUTF16
		}
		s.head = bytes.TrimPrefix(head, bomUTF8)
	}
	if len(s.head) > 0 {
		n := copy(p, s.head)
		s.head = s.head[n:]
		return n, nil
	}
	return s.r.Read(p)
}

func hasUTF16BOM(b []byte) bool {
	return bytes.HasPrefix(b, bomUTF16BE) || bytes.HasPrefix(b, bomUTF16LE) || bytes.HasPrefix(b, bomUTF32BE)
}
