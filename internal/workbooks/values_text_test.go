package workbooks_test

import (
	"encoding/json"
	"testing"

	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

func TestColumnText(t *testing.T) {
	t.Parallel()
	text := workbooks.Column{Name: "Title", Type: values.Text}
	num := workbooks.Column{Name: "Price", Type: values.Number}
	boolean := workbooks.Column{Name: "Active", Type: values.Boolean}
	date := workbooks.Column{Name: "Day", Type: values.Date}
	dt := workbooks.Column{Name: "At", Type: values.Datetime}
	sel := workbooks.Column{Name: "Status", Type: values.Select}
	multi := workbooks.Column{Name: "Tags", Type: values.MultiSelect}
	js := workbooks.Column{Name: "Meta", Type: values.JSON}

	tests := []struct {
		name string
		col  workbooks.Column
		v    any
		want string
	}{
		{"no value", text, nil, ""},
		{"text as is", text, " <b>hi</b> & bye ", " <b>hi</b> & bye "},
		{"text keeps new lines", text, "a\nb", "a\nb"},
		{"number as stored", num, json.Number("12.50"), "12.50"},
		{"number exponent as stored", num, json.Number("1e3"), "1e3"},
		{"number from float", num, 12.5, "12.5"},
		{"boolean true", boolean, true, "true"},
		{"boolean false", boolean, false, "false"},
		{"date as stored", date, "2024-05-01", "2024-05-01"},
		{"datetime as stored", dt, "2024-05-01T13:45:00Z", "2024-05-01T13:45:00Z"},
		{"select", sel, "Draft", "Draft"},
		{"multi select stored", multi, []any{"a", "b c"}, "a, b c"},
		{"multi select normalized", multi, []string{"a", "b"}, "a, b"},
		{"multi select empty", multi, []any{}, ""},
		{"multi select odd items", multi, []any{"a", json.Number("2"), true}, "a, 2, true"},
		{"json string is quoted", js, "abc", `"abc"`},
		{"json number", js, json.Number("1.50"), "1.50"},
		{"json boolean", js, true, "true"},
		{"json object compact, keys sorted, html unescaped", js, map[string]any{"b": []any{json.Number("1"), "<x>"}, "a": nil}, `{"a":null,"b":[1,"<x>"]}`},
		{"json list is not joined", js, []any{"a", "b"}, `["a","b"]`},
		{"json raw message compacted", js, json.RawMessage(`{ "b": 1,  "a": "x&y" }`), `{"a":"x&y","b":1}`},
		{"json raw null is no value", js, json.RawMessage(`null`), ""},
		{"raw message in a text column", text, json.RawMessage(`"hi"`), "hi"},
		{"list in a text column", text, []any{"a", "b"}, `["a","b"]`},
		{"object in a text column", text, map[string]any{"k": "v"}, `{"k":"v"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.col.Text(tt.v); got != tt.want {
				t.Errorf("Text(%#v) = %q, want %q", tt.v, got, tt.want)
			}
		})
	}
}

func TestSameValue(t *testing.T) {
	t.Parallel()
	text := workbooks.Column{Name: "Title", Type: values.Text}
	num := workbooks.Column{Name: "Price", Type: values.Number}
	boolean := workbooks.Column{Name: "Active", Type: values.Boolean}
	multi := workbooks.Column{Name: "Tags", Type: values.MultiSelect, Options: []string{"a", "b", "c"}}
	js := workbooks.Column{Name: "Meta", Type: values.JSON}

	tests := []struct {
		name string
		col  workbooks.Column
		a, b any
		want bool
	}{
		{"both no value", text, nil, nil, true},
		{"no value and empty text", text, nil, "", false},
		{"no value and a value", text, nil, "x", false},
		{"equal text", text, "hello", "hello", true},
		{"text differs in case", text, "Hello", "hello", false},
		{"text differs in spaces", text, "hi", "hi ", false},
		{"text and number", text, "12", json.Number("12"), false},
		{"equal numbers", num, json.Number("12.5"), json.Number("12.5"), true},
		{"trailing zeros", num, json.Number("12.50"), json.Number("12.5"), true},
		{"exponent", num, json.Number("1.25e1"), json.Number("12.5"), true},
		{"integer and decimal", num, json.Number("4"), json.Number("4.0"), true},
		{"float and number", num, 12.5, json.Number("12.50"), true},
		{"int and number", num, 7, json.Number("7"), true},
		{"zeros", num, json.Number("0"), json.Number("-0.00"), true},
		{"different numbers", num, json.Number("12.5"), json.Number("12.05"), false},
		{"sign matters", num, json.Number("-1"), json.Number("1"), false},
		{"big integers are exact", num, json.Number("12345678901234567890"), json.Number("12345678901234567891"), false},
		{"huge exponents compare as text", num, json.Number("1e999999999999"), json.Number("1e999999999999"), true},
		{"booleans", boolean, true, true, true},
		{"booleans differ", boolean, true, false, false},
		{"multi select order ignored", multi, []any{"a", "b"}, []string{"b", "a"}, true},
		{"multi select differ", multi, []any{"a", "b"}, []string{"a"}, false},
		{"multi select raw", multi, json.RawMessage(`["c","a"]`), []any{"a", "c"}, true},
		{"multi select and no value", multi, []any{"a"}, nil, false},
		{"json key order and spacing", js, json.RawMessage(`{"b": 1, "a": [true, "x"]}`), map[string]any{"a": []any{true, "x"}, "b": json.Number("1.0")}, true},
		{"json list order matters", js, []any{"a", "b"}, []any{"b", "a"}, false},
		{"json extra key", js, map[string]any{"a": nil}, map[string]any{}, false},
		{"json string and number", js, "1", json.Number("1"), false},
		{"json null is no value", js, json.RawMessage(`null`), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := workbooks.SameValue(tt.col, tt.a, tt.b); got != tt.want {
				t.Errorf("SameValue(%#v, %#v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			if got := workbooks.SameValue(tt.col, tt.b, tt.a); got != tt.want {
				t.Errorf("SameValue(%#v, %#v) = %v, want %v (swapped)", tt.b, tt.a, got, tt.want)
			}
		})
	}
}
