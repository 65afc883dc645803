package workbooks

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MaxCellBytes is the most one cell may hold, 256 KiB: room for a long
// article body (about 100 KB) with its markup, small enough that no single
// value can make a record, a suggestion, a grid page or an export huge.
// normalize, the one place values are read into their stored form, refuses
// anything larger, so every path that writes cells (the grid and record
// panel, the API, fill, find & replace, suggestions) is held to it; the CSV
// import, which skips normalizing values that are canonical already, calls
// CheckCellSize.
const MaxCellBytes = 256 << 10

// cellTooLarge is the field message for a value over MaxCellBytes.
var cellTooLarge = fmt.Sprintf("is larger than %d KiB, the most a cell can hold", MaxCellBytes>>10)

// cellSize is the size of a canonical value as MaxCellBytes counts it: the
// UTF-8 bytes of text, of a number or of JSON without insignificant space,
// the options of a multi select with the ", " that separates them as text.
func cellSize(v any) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case json.Number:
		return len(v)
	case json.RawMessage:
		if len(v) <= MaxCellBytes {
			return len(v)
		}
		// Only JSON too large as given is compacted: indentation does not
		// count against the cap.
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			return len(v)
		}
		return b.Len()
	case []string:
		n := 0
		for i, s := range v {
			if i > 0 {
				n += len(", ")
			}
			n += len(s)
		}
		return n
	}
	return 0 // booleans and empty values
}

// CheckCellSize returns the error NormalizeValue gives for v, a value
// already in col's canonical form, when it is larger than MaxCellBytes. It
// is for paths that skip NormalizeValue because their values are canonical
// already (the CSV import's plain text and numbers), so that they are held
// to the same cap. Errors: Invalid with a FieldError naming the column.
func CheckCellSize(col Column, v any) error {
	if cellSize(v) <= MaxCellBytes {
		return nil
	}
	return invalidValue(col, cellTooLarge)
}
