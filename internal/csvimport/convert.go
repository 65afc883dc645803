package csvimport

import (
	"errors"
	"fmt"
	"strings"

	"github.com/scratchpad/scratchpad/internal/values"
)

// ConvertCell turns a CSV cell into the value stored for a column s
// describes, as values.Parse reads it: a string for text and select, a
// json.Number for number (never rounded), a bool for boolean, "YYYY-MM-DD"
// for date, an RFC 3339 UTC timestamp with whole seconds ending in Z for
// datetime, a []string for multi_select and a json.RawMessage for json. An
// empty cell, or for types other than text a cell of only spaces, is nil.
//
// Errors are short messages fit to show to the user, quoting at most an
// escaped excerpt of the cell, such as `not a number: "12a"`.
func ConvertCell(s values.Spec, cell string) (any, error) {
	v, err := values.Parse(s, cell)
	if err != nil {
		short := err.Error()
		var ve *values.Error
		if errors.As(err, &ve) {
			short = ve.Short
		}
		return nil, fmt.Errorf("%s: %s", short, excerpt(strings.TrimSpace(cell)))
	}
	return v, nil
}
