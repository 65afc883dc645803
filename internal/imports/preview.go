package imports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/csvimport"
)

// Preview sizes: rows read to infer types and report problems, and rows shown.
const (
	PreviewSampleRows = 50
	PreviewShownRows  = 10
)

// Preview is what the first rows of an upload say about it.
type Preview struct {
	Upload Upload
	// FileError says why the file cannot be imported at all (UTF-16, a
	// spreadsheet, not text, a malformed header...), in words fit for the
	// user; the other fields are then empty.
	FileError string
	Delimiter rune
	BOM       bool
	// Columns are the file's columns with their inferred types, in order.
	Columns []csvimport.ColumnGuess
	// Rows are the first PreviewShownRows data rows.
	Rows [][]string
	// Problems are rows rejected and rows repaired among the first
	// PreviewSampleRows rows, with row and column.
	Problems []Problem
	// SampledRows is how many data rows the sample held.
	SampledRows int
}

// Preview reads the start of an upload: its delimiter, header, inferred
// column types, first rows and the problems among them. A file that cannot
// be read as CSV is no error: Preview.FileError says why.
// Errors: NotFound.
func (s *Service) Preview(ctx context.Context, ownerID, workbookID, uploadID string) (Preview, error) {
	u, err := s.FindUpload(ctx, ownerID, workbookID, uploadID)
	if err != nil {
		return Preview{}, err
	}
	p := Preview{Upload: u}
	sniffed, rd, err := s.openCSV(ctx, uploadID)
	if err != nil {
		if msg, ok := fileErrorMessage(err); ok {
			p.FileError = msg
			return p, nil
		}
		return Preview{}, err
	}
	p.Delimiter, p.BOM = sniffed.Delimiter, sniffed.BOM
	var sample [][]string
	for len(sample) < PreviewSampleRows {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if prob, ok := problemOf(err); ok {
			p.Problems = append(p.Problems, prob)
			continue
		}
		if err != nil {
			return Preview{}, fmt.Errorf("imports: preview: %w", err)
		}
		for _, w := range row.Warnings {
			p.Problems = append(p.Problems, Problem{Row: row.Number, Message: w})
		}
		sample = append(sample, row.Cells)
	}
	p.SampledRows = len(sample)
	p.Columns = csvimport.Infer(rd.Header(), sample)
	p.Rows = sample[:min(len(sample), PreviewShownRows)]
	return p, nil
}

// openCSV sniffs an upload's file and returns a reader positioned after its
// header.
func (s *Service) openCSV(ctx context.Context, uploadID string) (csvimport.Sniffed, *csvimport.Reader, error) {
	sniffed, replay, err := csvimport.Sniff(s.openFile(ctx, uploadID))
	if err != nil {
		return csvimport.Sniffed{}, nil, err
	}
	rd, err := csvimport.NewReader(replay, csvimport.Options{Delimiter: sniffed.Delimiter})
	if err != nil {
		return csvimport.Sniffed{}, nil, err
	}
	return sniffed, rd, nil
}

// fileErrorMessage returns the user-facing message of an error that makes a
// whole file unreadable as CSV.
func fileErrorMessage(err error) (string, bool) {
	var fe *csvimport.FormatError
	if errors.As(err, &fe) {
		return capitalize(fe.Error()) + ".", true
	}
	for _, e := range []error{csvimport.ErrEmpty, csvimport.ErrUTF16, csvimport.ErrSpreadsheet,
		csvimport.ErrNotText, csvimport.ErrHeaderTooLong} {
		if errors.Is(err, e) {
			return capitalize(e.Error()) + ".", true
		}
	}
	if prob, ok := problemOf(err); ok {
		return "The header row cannot be read: " + prob.String(), true
	}
	return "", false
}

// problemOf turns the reader's row and cell errors into a Problem.
func problemOf(err error) (Problem, bool) {
	var ce *csvimport.CellError
	if errors.As(err, &ce) {
		return Problem{Row: ce.Row, Column: ce.Column, Name: ce.ColumnName, Message: ce.Msg}, true
	}
	var re *csvimport.RowError
	if errors.As(err, &re) {
		return Problem{Row: re.Row, Message: re.Msg}, true
	}
	return Problem{}, false
}

// String formats the problem as "row 12, column 3 (title): message".
func (p Problem) String() string {
	switch {
	case p.Column == 0 && strings.HasPrefix(p.Message, fmt.Sprintf("row %d ", p.Row)):
		return p.Message // a reader's warning names its row already
	case p.Column > 0 && p.Name != "":
		return fmt.Sprintf("row %d, column %d (%s): %s", p.Row, p.Column, p.Name, p.Message)
	case p.Column > 0:
		return fmt.Sprintf("row %d, column %d: %s", p.Row, p.Column, p.Message)
	}
	return fmt.Sprintf("row %d: %s", p.Row, p.Message)
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// errFileUnreadable wraps a file-level CSV error as invalid input.
func errFileUnreadable(err error) error {
	if msg, ok := fileErrorMessage(err); ok {
		return apperr.Wrap(apperr.Invalid, err, "%s", msg)
	}
	return err
}
