package csvimport

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestConvertCell(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ, format, cell string
		want              any
		err               string
	}{
		{typ: TypeText, format: FormatPlain, cell: "", want: nil},
		{typ: TypeText, format: FormatPlain, cell: "  keep  spaces ", want: "  keep  spaces "},
		{typ: TypeText, format: FormatMarkdown, cell: "# Hi\n", want: "# Hi\n"},
		{typ: TypeText, format: FormatURL, cell: " https://example.com/x ", want: "https://example.com/x"},
		{typ: TypeText, format: FormatURL, cell: "example.com", err: `not a web address (http:// or https://): "example.com"`},
		{typ: TypeText, format: FormatEmail, cell: "ada@example.com", want: "ada@example.com"},
		{typ: TypeText, format: FormatEmail, cell: "ada at example", err: `not an email address: "ada at example"`},
		{typ: TypeNumber, cell: "12", want: json.Number("12")},
		{typ: TypeNumber, cell: " -12.50 ", want: json.Number("-12.50")},
		{typ: TypeNumber, cell: "+007", want: json.Number("7")},
		{typ: TypeNumber, cell: ".5", want: json.Number("0.5")},
		{typ: TypeNumber, cell: "5.", want: json.Number("5")},
		{typ: TypeNumber, cell: "-0.0", want: json.Number("0.0")},
		{typ: TypeNumber, cell: "12345678901234567890.123456789", want: json.Number("12345678901234567890.123456789")},
		{typ: TypeNumber, cell: "   ", want: nil},
		{typ: TypeNumber, cell: "12a", err: `not a number: "12a"`},
		{typ: TypeNumber, cell: "1,234", err: `not a number: "1,234"`},
		{typ: TypeNumber, cell: "1e3", err: `not a number: "1e3"`},
		{typ: TypeNumber, cell: "-", err: `not a number: "-"`},
		{typ: TypeNumber, cell: ".", err: `not a number: "."`},
		{typ: TypeNumber, cell: strings.Repeat("9", 101), err: `not a number: "99999999999999999999999999999999"…`},
		{typ: TypeBoolean, cell: "TRUE", want: true},
		{typ: TypeBoolean, cell: "yes", want: true},
		{typ: TypeBoolean, cell: "1", want: true},
		{typ: TypeBoolean, cell: "No", want: false},
		{typ: TypeBoolean, cell: "0", want: false},
		{typ: TypeBoolean, cell: "maybe", err: `not true or false: "maybe"`},
		{typ: TypeDate, cell: "2024-05-01", want: "2024-05-01"},
		{typ: TypeDate, cell: "2024-02-30", err: `not a date (YYYY-MM-DD): "2024-02-30"`},
		{typ: TypeDate, cell: "01/05/2024", err: `not a date (YYYY-MM-DD): "01/05/2024"`},
		{typ: TypeDatetime, cell: "2024-05-01T13:45:00+02:00", want: "2024-05-01T11:45:00Z"},
		{typ: TypeDatetime, cell: "2024-05-01T13:45:00.250Z", want: "2024-05-01T13:45:00.25Z"},
		{typ: TypeDatetime, cell: "2024-05-01 13:45", want: "2024-05-01T13:45:00Z"},
		{typ: TypeDatetime, cell: "2024-05-01 13:45:07", want: "2024-05-01T13:45:07Z"},
		{typ: TypeDatetime, cell: "2024-05-01", want: "2024-05-01T00:00:00Z"},
		{typ: TypeDatetime, cell: "yesterday", err: `not a date and time (such as 2024-05-01T13:45:00Z): "yesterday"`},
		{typ: TypeSelect, cell: " Draft ", want: "Draft"},
		{typ: TypeMultiSelect, cell: "red, blue,,red , green", want: []string{"red", "blue", "green"}},
		{typ: TypeJSON, cell: `{"a": 1}`, want: json.RawMessage(`{"a": 1}`)},
		{typ: TypeJSON, cell: `{a}`, err: `not valid JSON: "{a}"`},
		{typ: "colour", cell: "x", err: `unknown column type "colour"`},
		{typ: TypeNumber, cell: "\xff\n<script>", err: `not a number: "\xff\n<script>"`},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"/"+tt.cell, func(t *testing.T) {
			t.Parallel()
			got, err := ConvertCell(tt.typ, tt.format, tt.cell)
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
		v, err := ConvertCell(TypeNumber, "", cell)
		if err != nil {
			t.Errorf("%q: %v", cell, err)
			continue
		}
		if _, err := json.Marshal(v); err != nil {
			t.Errorf("%q → %v does not marshal: %v", cell, v, err)
		}
	}
}
