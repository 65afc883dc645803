// Package csvimport reads uploaded CSV files, which are hostile input of any
// size, into rows of a table, and guesses and converts the columns' types.
//
// A typical import sniffs the file, reads its rows, infers types from the
// first rows and converts every cell:
//
//	sniffed, replay, err := csvimport.Sniff(upload)
//	rd, err := csvimport.NewReader(replay, csvimport.Options{Delimiter: sniffed.Delimiter})
//	for {
//		row, err := rd.Next()
//		if errors.Is(err, io.EOF) {
//			break
//		}
//		var cellErr *csvimport.CellError
//		...
//	}
//	guesses := csvimport.Infer(rd.Header(), firstRows)
//	value, err := csvimport.ConvertCell(guess.Type, guess.Format, row.Cells[i])
//
// # Files it accepts
//
// Sniff reads a bounded prefix (SniffBytes) to strip a UTF-8 byte order mark,
// reject UTF-16 files and spreadsheet workbooks with a message saying what to
// do, and choose the delimiter (comma, semicolon or tab) that splits the rows
// most consistently. The Reader follows RFC 4180: a cell may be quoted, and a
// quoted cell may hold delimiters, line breaks and doubled quotes. Lines may
// end in LF, CRLF or a lone CR. Quotes are strict: a quote inside an
// unquoted cell, or text after a closing quote, is an error naming the row
// and column, not something guessed at.
//
// Rows are numbered as a spreadsheet shows them, the header being row 1, so
// every *CellError and *RowError points at a place the person can find.
// Ragged rows are repaired when nothing is lost: a short row is padded with
// empty cells (and carries a warning); a long row is cut back when its extra
// cells are empty, and is an error otherwise. Cells must be valid UTF-8
// without NUL characters. An error message never contains more of the data
// than a short escaped excerpt.
//
// # Bounded memory
//
// The Reader keeps one 64 KiB buffer and the current row. A cell is limited
// to Options.MaxCellBytes, a row to Options.MaxRowBytes and to
// Options.MaxColumns cells; past a limit the Reader stops keeping the row's
// bytes and reads on to its end, so memory stays bounded whatever the file
// holds, and after a rejected row the next call to Next reads the following
// row.
package csvimport
