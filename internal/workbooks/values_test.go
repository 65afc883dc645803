package workbooks_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

func TestNormalizeValue(t *testing.T) {
	t.Parallel()
	text := workbooks.Column{Name: "Title", Type: values.Text}
	url := workbooks.Column{Name: "Link", Type: values.Text, Format: values.FormatURL}
	email := workbooks.Column{Name: "Email", Type: values.Text, Format: values.FormatEmail}
	num := workbooks.Column{Name: "Price", Type: values.Number}
	boolean := workbooks.Column{Name: "Active", Type: values.Boolean}
	date := workbooks.Column{Name: "Day", Type: values.Date}
	dt := workbooks.Column{Name: "At", Type: values.Datetime}
	sel := workbooks.Column{Name: "Status", Type: values.Select, Options: []string{"Draft", "Published"}}
	freeSel := workbooks.Column{Name: "Tag", Type: values.Select}
	multi := workbooks.Column{Name: "Tags", Type: values.MultiSelect, Options: []string{"a", "b", "c"}}
	js := workbooks.Column{Name: "Meta", Type: values.JSON}

	tests := []struct {
		name    string
		col     workbooks.Column
		raw     any
		want    any
		wantErr string
	}{
		{"text", text, "hello", "hello", ""},
		{"text keeps spaces", text, " hi ", " hi ", ""},
		{"text empty is no value", text, "", nil, ""},
		{"text from number", text, json.Number("12"), "12", ""},
		{"text rejects objects", text, map[string]any{"a": 1}, nil, "must be text"},
		{"url ok", url, "https://example.com/x", "https://example.com/x", ""},
		{"url bad", url, "example.com", nil, "must be a web address starting with http:// or https://"},
		{"email ok", email, "ann@example.com", "ann@example.com", ""},
		{"email bad", email, "ann at example", nil, "must be an email address such as name@example.com"},
		{"number float", num, 12.5, json.Number("12.5"), ""},
		{"number int", num, 7, json.Number("7"), ""},
		{"number string", num, "12.5", json.Number("12.5"), ""},
		{"number string with spaces", num, " 3 ", json.Number("3"), ""},
		// Numbers typed as text are written back digit for digit, never through
		// a float64 (which would round long ones).
		{"number leading plus", num, "+4.0", json.Number("4.0"), ""},
		{"number long decimal kept exact", num, "0.10000000000000000000001", json.Number("0.10000000000000000000001"), ""},
		{"number json.Number", num, json.Number("1e3"), json.Number("1e3"), ""},
		{"number comma decimal", num, "12,5", nil, "must be a number such as 12 or 12.5"},
		{"number word", num, "abc", nil, "must be a number such as 12 or 12.5"},
		{"number empty string", num, "", nil, ""},
		{"number bool", num, true, nil, "must be a number such as 12 or 12.5"},
		{"boolean true", boolean, true, true, ""},
		{"boolean yes", boolean, "Yes", true, ""},
		{"boolean 0", boolean, "0", false, ""},
		{"boolean number 1", boolean, json.Number("1"), true, ""},
		{"boolean bad", boolean, "maybe", nil, "must be true or false"},
		{"date", date, "2024-05-01", "2024-05-01", ""},
		{"date bad", date, "01/05/2024", nil, "must be a date written YYYY-MM-DD"},
		{"date impossible", date, "2024-02-30", nil, "must be a date written YYYY-MM-DD"},
		{"datetime utc", dt, "2024-05-01T13:45:00Z", "2024-05-01T13:45:00Z", ""},
		{"datetime offset", dt, "2024-05-01T15:45:00+02:00", "2024-05-01T13:45:00Z", ""},
		{"datetime fraction truncated", dt, "2024-05-01T13:45:00.999Z", "2024-05-01T13:45:00Z", ""},
		{"datetime no zone is utc", dt, "2024-05-01T13:45", "2024-05-01T13:45:00Z", ""},
		{"datetime date only", dt, "2024-05-01", "2024-05-01T00:00:00Z", ""},
		{"datetime bad", dt, "yesterday", nil, "must be a date and time such as 2024-05-01T13:45:00Z"},
		{"select option", sel, "Draft", "Draft", ""},
		{"select ignores case", sel, "published", "Published", ""},
		{"select unknown", sel, "Gone", nil, "must be one of Draft, Published"},
		{"select without options", freeSel, "anything", "anything", ""},
		{"multi list", multi, []any{"a", "c", "a"}, []string{"a", "c"}, ""},
		{"multi comma string", multi, "b, a", []string{"b", "a"}, ""},
		{"multi unknown", multi, []string{"a", "z"}, nil, `has "z", which is not one of a, b, c`},
		{"multi not strings", multi, []any{1}, nil, "must be a list of options"},
		{"multi empty", multi, []any{}, nil, ""},
		{"json object", js, map[string]any{"a": 1}, json.RawMessage(`{"a":1}`), ""},
		{"json raw", js, json.RawMessage(`[1, 2]`), json.RawMessage(`[1, 2]`), ""},
		{"json raw invalid", js, json.RawMessage(`{`), nil, "is not valid JSON"},
		{"nil is no value", num, nil, nil, ""},
		{"raw number for number", num, json.RawMessage(`12.50`), json.Number("12.50"), ""},
		// PostgreSQL stores no NUL character, in text or in jsonb.
		{"text with a NUL", text, "a\x00b", nil, "must not contain NUL characters"},
		{"json with a NUL", js, map[string]any{"k": "a\x00b"}, nil, "must not contain NUL characters"},
		{"raw json with a NUL", js, json.RawMessage(`{"k\u0000": 1}`), nil, "must not contain NUL characters"},
		{"json 64 levels deep", js, json.RawMessage(strings.Repeat("[", 64) + strings.Repeat("]", 64)),
			json.RawMessage(strings.Repeat("[", 64) + strings.Repeat("]", 64)), ""},
		{"json too deep", js, json.RawMessage(strings.Repeat("[", 65) + strings.Repeat("]", 65)), nil, "must be nested at most 64 levels deep"},
		{"json with a backslash before u0000", js, json.RawMessage(`"\\u0000"`), json.RawMessage(`"\\u0000"`), ""},
		{"json brackets in strings are not depth", js, json.RawMessage(`"` + strings.Repeat("[", 100) + `"`),
			json.RawMessage(`"` + strings.Repeat("[", 100) + `"`), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := workbooks.NormalizeValue(tt.col, tt.raw)
			if tt.wantErr != "" {
				fields := apperr.FieldsOf(err)
				if !apperr.Is(err, apperr.Invalid) || len(fields) != 1 || fields[0].Field != tt.col.Name || fields[0].Message != tt.wantErr {
					t.Fatalf("NormalizeValue(%v) error = %v (fields %v), want field %q: %q", tt.raw, err, fields, tt.col.Name, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NormalizeValue(%v): %v", tt.raw, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("NormalizeValue(%#v) = %#v, want %#v", tt.raw, got, tt.want)
			}
		})
	}
}

// TestParseForm checks the one reading of editors' forms the grid and the
// record panel share: a json column's text is JSON, a multi select of
// options takes its checked boxes, any other column its last value.
func TestParseForm(t *testing.T) {
	t.Parallel()
	js := workbooks.Column{Name: "Meta", Type: values.JSON}
	multi := workbooks.Column{Name: "Tags", Type: values.MultiSelect, Options: []string{"a", "b"}}
	num := workbooks.Column{Name: "Price", Type: values.Number}
	tests := []struct {
		name string
		col  workbooks.Column
		vals []string
		want any
	}{
		{"json object", js, []string{` {"a": 1} `}, json.RawMessage(`{"a": 1}`)},
		{"json empty", js, []string{"  "}, nil},
		{"json not JSON is passed on to be refused", js, []string{"{a"}, json.RawMessage(`{a`)},
		{"multi boxes", multi, []string{"", "a", "b"}, []string{"a", "b"}},
		{"multi none", multi, nil, nil},
		{"other takes the last value", num, []string{"1", "2"}, "2"},
		{"other none", num, nil, ""},
	}
	for _, tt := range tests {
		if got := workbooks.ParseForm(tt.col, tt.vals); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: ParseForm(%q) = %#v, want %#v", tt.name, tt.vals, got, tt.want)
		}
	}
	// Through the record store, the json text becomes the object.
	v, err := workbooks.NormalizeValue(js, workbooks.ParseForm(js, []string{`{"a": [1]}`}))
	if err != nil || string(v.(json.RawMessage)) != `{"a": [1]}` {
		t.Fatalf("normalized %#v, %v", v, err)
	}
}
