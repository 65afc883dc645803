package csvimport

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/values"
)

// column returns a one-column sample holding values.
func column(cells ...string) [][]string {
	rows := make([][]string, len(cells))
	for i, v := range cells {
		rows[i] = []string{v}
	}
	return rows
}

// repeat returns n values cycling through options.
func repeat(n int, options ...string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = options[i%len(options)]
	}
	return out
}

// numberPairs returns n distinct lists such as "1,2" drawn from six numbers.
func numberPairs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%d,%d", i%6, i%5)
	}
	return out
}

func TestInfer(t *testing.T) {
	t.Parallel()
	long := "This paragraph is long enough to count as long text for the markdown check, surely."
	tests := []struct {
		name   string
		cells  []string
		typ    values.Type
		format string
	}{
		{"no values", []string{"", " ", ""}, values.Text, values.FormatPlain},
		{"numbers", []string{"1", "-2.5", "+3", "0", "0.25", "", "1234567890123456789012"}, values.Number, ""},
		{"leading zeros stay text", []string{"00123", "00456"}, values.Text, values.FormatPlain},
		{"grouped numbers are text", []string{"1,234.5", "12"}, values.Text, values.FormatPlain},
		{"exponents are text", []string{"1e5", "2"}, values.Text, values.FormatPlain},
		{"trailing point is text", []string{"3.", "2"}, values.Text, values.FormatPlain},
		{"booleans", []string{"true", "FALSE", "Yes", "no"}, values.Boolean, ""},
		{"zero and one are numbers", []string{"0", "1", "1"}, values.Number, ""},
		{"dates", []string{"2024-05-01", "1999-12-31"}, values.Date, ""},
		{"impossible dates are text", []string{"2024-02-30"}, values.Text, values.FormatPlain},
		{"datetimes", []string{"2024-05-01T13:45:00Z", "2024-05-01 13:45", "2024-05-01 13:45:10", "2024-05-01T13:45:00.5+02:00"}, values.Datetime, ""},
		{"dates mixed with datetimes", []string{"2024-05-01", "2024-05-02 08:00"}, values.Datetime, ""},
		{"urls", []string{"https://example.com/a?b=c", "HTTP://example.org"}, values.Text, values.FormatURL},
		{"not all urls", []string{"https://example.com", "example.com"}, values.Text, values.FormatPlain},
		{"emails", []string{"ada@example.com", "grace.hopper+navy@mail.example.org"}, values.Text, values.FormatEmail},
		{"not emails", []string{"ada@example.com", "Ada <ada@example.com>"}, values.Text, values.FormatPlain},
		{"select", repeat(20, "Draft", "Published", "Archived"), values.Select, ""},
		{"too few values for select", repeat(19, "Draft", "Published"), values.Text, values.FormatPlain},
		{"too many options for select", repeat(30, strings.Split("a b c d e f g h i j k l m", " ")...), values.Text, values.FormatPlain},
		{"many options that repeat make a select", repeat(60, options(20)...), values.Select, ""},
		{"more than 50 options are text", repeat(200, options(51)...), values.Text, values.FormatPlain},
		{"long values are not options", repeat(20, strings.Repeat("x", 65), "y"), values.Text, values.FormatPlain},
		{"multi_select", repeat(20, "red, blue", "blue", "green,red", "red"), values.MultiSelect, ""},
		{"lists of numbers are not multi_select", numberPairs(20), values.Text, values.FormatPlain},
		{"markdown", []string{"# Title\n\nSome text", long, "- item\n- item"}, values.Text, values.FormatMarkdown},
		{"markdown links in long text", []string{long + " See [docs](https://example.com)."}, values.Text, values.FormatMarkdown},
		{"short text with a dash is plain", []string{"- n/a", "none"}, values.Text, values.FormatPlain},
		{"long text without markers is plain", []string{long, long + "\nmore"}, values.Text, values.FormatPlain},
		{"numbers with blanks around", []string{" 12 ", "3"}, values.Number, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Infer([]string{"col"}, column(tt.cells...))
			want := []ColumnGuess{{Name: "col", Type: tt.typ, Format: tt.format}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Infer = %+v, want %+v", got, want)
			}
		})
	}
}

func TestInferSeveralColumnsAndShortRows(t *testing.T) {
	t.Parallel()
	header := []string{"id", "title", "published", "url"}
	var sample [][]string
	for i := range 5 {
		sample = append(sample, []string{fmt.Sprint(i + 1), fmt.Sprintf("Post %d", i), "2024-01-0" + fmt.Sprint(i+1)})
	}
	got := Infer(header, sample)
	want := []ColumnGuess{
		{Name: "id", Type: values.Number},
		{Name: "title", Type: values.Text, Format: values.FormatPlain},
		{Name: "published", Type: values.Date},
		{Name: "url", Type: values.Text, Format: values.FormatPlain},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Infer = %+v, want %+v", got, want)
	}
}

// options returns n distinct option names.
func options(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("Option %d", i+1))
	}
	return out
}
