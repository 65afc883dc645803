package csvimport

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/values"
)

func TestConvertCell(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ          values.Type
		format, cell string
		want         any
		err          string
	}{
		{typ: values.Text, format: values.FormatPlain, cell: "", want: nil},
		{typ: values.Text, format: values.FormatPlain, cell: "  keep  spaces ", want: "  keep  spaces "},
		{typ: values.Text, format: values.FormatMarkdown, cell: "# Hi\n", want: "# Hi\n"},
		{typ: values.Text, format: values.FormatURL, cell: " https://example.com/x ", want: "https://example.com/x"},
		{typ: values.Text, format: values.FormatURL, cell: "example.com", err: `not a web address (http:// or https://): "example.com"`},
		{typ: values.Text, format: values.FormatEmail, cell: "ada@example.com", want: "ada@example.com"},
		{typ: values.Text, format: values.FormatEmail, cell: "ada at example", err: `not an email address: "ada at example"`},
		{typ: values.Number, cell: "12", want: json.Number("12")},
		{typ: values.Number, cell: " -12.50 ", want: json.Number("-12.50")},
		{typ: values.Number, cell: "+007", want: json.Number("7")},
		{typ: values.Number, cell: ".5", want: json.Number("0.5")},
		{typ: values.Number, cell: "5.", want: json.Number("5")},
		{typ: values.Number, cell: "-0.0", want: json.Number("0.0")},
		{typ: values.Number, cell: "12345678901234567890.123456789", want: json.Number("12345678901234567890.123456789")},
		{typ: values.Number, cell: "   ", want: nil},
		{typ: values.Number, cell: "12a", err: `not a number: "12a"`},
		{typ: values.Number, cell: "1,234", err: `not a number: "1,234"`},
		{typ: values.Number, cell: "1e3", err: `not a number: "1e3"`},
		{typ: values.Number, cell: "-", err: `not a number: "-"`},
		{typ: values.Number, cell: ".", err: `not a number: "."`},
		{typ: values.Number, cell: strings.Repeat("9", 101), err: `not a number: "99999999999999999999999999999999"…`},
		{typ: values.Boolean, cell: "TRUE", want: true},
		{typ: values.Boolean, cell: "yes", want: true},
		{typ: values.Boolean, cell: "1", want: true},
		{typ: values.Boolean, cell: "No", want: false},
		{typ: values.Boolean, cell: "0", want: false},
		{typ: values.Boolean, cell: "maybe", err: `not true or false: "maybe"`},
		{typ: values.Date, cell: "2024-05-01", want: "2024-05-01"},
		{typ: values.Date, cell: "2024-02-30", err: `not a date (YYYY-MM-DD): "2024-02-30"`},
		{typ: values.Date, cell: "01/05/2024", err: `not a date (YYYY-MM-DD): "01/05/2024"`},
		{typ: values.Datetime, cell: "2024-05-01T13:45:00+02:00", want: "2024-05-01T11:45:00Z"},
		// Stored datetimes have whole seconds, as the record store keeps them.
		{typ: values.Datetime, cell: "2024-05-01T13:45:00.250Z", want: "2024-05-01T13:45:00Z"},
		{typ: values.Datetime, cell: "2024-05-01 13:45", want: "2024-05-01T13:45:00Z"},
		{typ: values.Datetime, cell: "2024-05-01 13:45:07", want: "2024-05-01T13:45:07Z"},
		{typ: values.Datetime, cell: "2024-05-01", want: "2024-05-01T00:00:00Z"},
		{typ: values.Datetime, cell: "yesterday", err: `not a date and time (such as 2024-05-01T13:45:00Z): "yesterday"`},
		{typ: values.Select, cell: " Draft ", want: "Draft"},
		{typ: values.MultiSelect, cell: "red, blue,,red , green", want: []string{"red", "blue", "green"}},
		{typ: values.JSON, cell: `{"a": 1}`, want: json.RawMessage(`{"a": 1}`)},
		{typ: values.JSON, cell: `{a}`, err: `not valid JSON: "{a}"`},
		{typ: "colour", cell: "x", err: `unknown column type "colour": "x"`},
		{typ: values.Number, cell: "\xff\n<script>", err: `not a number: "\xff\n<script>"`},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ)+"/"+tt.cell, func(t *testing.T) {
			t.Parallel()
			got, err := ConvertCell(values.Spec{Type: tt.typ, Format: tt.format}, tt.cell)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Errorf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ConvertCell = %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestConvertCellNumbersAreValidJSON checks that every number ConvertCell
// accepts marshals as JSON.
func TestConvertCellNumbersAreValidJSON(t *testing.T) {
	t.Parallel()
	for _, cell := range []string{"0", "-0", "+0.0", "000", "00.100", "-.5", "7.", "+12"} {
		v, err := ConvertCell(values.Spec{Type: values.Number}, cell)
		if err != nil {
			t.Errorf("%q: %v", cell, err)
			continue
		}
		if _, err := json.Marshal(v); err != nil {
			t.Errorf("%q → %v does not marshal: %v", cell, v, err)
		}
	}
}
