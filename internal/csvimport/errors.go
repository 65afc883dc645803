package csvimport

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Errors about the file as a whole. Their messages are fit to show to the
// person who uploaded the file.
var (
	// ErrEmpty means the file has no header row: it is empty or blank.
	ErrEmpty = errors.New("the file is empty")
	// ErrUTF16 means the file is encoded as UTF-16 (or UTF-32), which is what
	// some spreadsheet programs write for "Unicode text".
	ErrUTF16 = errors.New("the file is UTF-16; save it as UTF-8")
	// ErrSpreadsheet means the file is an Excel workbook rather than CSV.
	ErrSpreadsheet = errors.New("the file is a spreadsheet workbook, not CSV; save it as CSV UTF-8")
	// ErrNotText means the file holds binary data rather than text.
	ErrNotText = errors.New("the file is not a text file")
	// ErrCompressed means the file is compressed or an archive (gzip, ZIP,
	// bzip2, xz, Zstandard, 7-Zip); Sniff returns it inside a *FormatError
	// that names the format.
	ErrCompressed = errors.New("the file is compressed, not CSV; decompress it and upload the CSV file")
	// ErrHeaderTooLong means Sniff could not find the end of the header row
	// within the prefix it reads.
	ErrHeaderTooLong = errors.New("the first row is longer than 64 KiB; is this a CSV file?")
)

// FormatError is a file in a binary format Sniff recognizes by its first
// bytes: a compressed file or archive (it unwraps to ErrCompressed) or a
// document such as a PDF (ErrNotText). Its message names the format and
// says what to do, so that a gzip file is not reported as, say, UTF-16.
type FormatError struct {
	// Format names the format as a sentence would: "compressed with
	// gzip", "a ZIP archive", "a PDF document".
	Format string
	// Advice says what to upload instead.
	Advice string
	// Kind is ErrCompressed or ErrNotText.
	Kind error
}

// Error formats the error as "the file is compressed with gzip, not CSV;
// <Advice>".
func (e *FormatError) Error() string {
	return "the file is " + e.Format + ", not CSV; " + e.Advice
}

// Unwrap returns the error's kind, for errors.Is.
func (e *FormatError) Unwrap() error { return e.Kind }

// CellError is a problem with one cell: invalid UTF-8, a cell over the size
// limit or a misplaced quote. Row and Column are 1-based and count as a
// spreadsheet does (the header is row 1), so the person who uploaded the file
// can find the cell. The message never contains the cell's content.
type CellError struct {
	// Row is the 1-based row number, counting the header as row 1.
	Row int
	// Column is the 1-based column number.
	Column int
	// ColumnName is the header name of the column, or "" for a cell beyond
	// the header.
	ColumnName string
	// Msg says what is wrong, in words fit to show to the user.
	Msg string
}

// Error formats the error as `row 12, column 3 ("title"): not valid UTF-8`.
func (e *CellError) Error() string {
	if e.ColumnName == "" {
		return fmt.Sprintf("row %d, column %d: %s", e.Row, e.Column, e.Msg)
	}
	return fmt.Sprintf("row %d, column %d (%s): %s", e.Row, e.Column, excerpt(e.ColumnName), e.Msg)
}

// RowError is a problem with a whole row, such as more cells than the header
// has columns or more columns than the limit allows.
type RowError struct {
	// Row is the 1-based row number, counting the header as row 1.
	Row int
	// Msg says what is wrong, in words fit to show to the user.
	Msg string
}

// Error formats the error as "row 12: <Msg>".
func (e *RowError) Error() string { return fmt.Sprintf("row %d: %s", e.Row, e.Msg) }

// excerptBytes is how much of a value an error message may quote.
const excerptBytes = 32

// excerpt returns s quoted and escaped for an error message, cut to a short
// prefix so that error messages never carry more than a glimpse of the data.
func excerpt(s string) string {
	if len(s) <= excerptBytes {
		return strconv.Quote(s)
	}
	cut := excerptBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}

// sizeString formats a byte count for messages: "1 MiB", "512 KiB", "100 bytes".
func sizeString(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KiB"
	default:
		return strconv.Itoa(n) + " bytes"
	}
}
