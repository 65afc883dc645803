package csvimport

import (
	"strings"
	"unicode"

	"github.com/scratchpad/scratchpad/internal/values"
)

// Thresholds of Infer.
const (
	// selectMinValues is how many non-empty cells a column needs before
	// Infer considers it a select or multi_select: fewer say too little.
	selectMinValues = 20
	// selectMaxOptions is the most distinct values (or options) a select
	// (or multi_select) column may have whatever its sample's size.
	selectMaxOptions = 12
	// selectMaxLowCardinality is the most distinct values a select may
	// have when they repeat: each used three times on average or more.
	selectMaxLowCardinality = 50
	// optionMaxLen is the longest value that can be a select option.
	optionMaxLen = 64
	// longText is the length from which a single-line cell counts as long
	// text, which markdown needs.
	longText = 80
)

// ColumnGuess is the type Infer guesses for a column.
type ColumnGuess struct {
	// Name is the column's header name.
	Name string
	Type values.Type
	// Format is one of plain, markdown, url or email for text, else "".
	Format string
}

// Infer guesses a type for each column of header from sample rows (cells
// indexed as in header; short rows are fine). Empty cells are ignored, and a
// column with no values is plain text. A column is, in this order of
// preference:
//   - boolean when every value is true, false, yes or no (any case);
//   - number when every value is a plain decimal number without leading
//     zeros (so codes such as "00123" stay text);
//   - date when every value is YYYY-MM-DD, datetime when every value is a
//     date or an RFC 3339 or "YYYY-MM-DD HH:MM[:SS]" date and time;
//   - text with format url or email when every value is one;
//   - multi_select when at least 20 cells are comma-separated lists, some of
//     several items, of at most 12 distinct short options with letters;
//   - select when at least 20 cells hold at most 12 distinct short values,
//     or at most 50 that each come back three times on average;
//   - text with format markdown when the text is long (a line break or 80
//     characters somewhere) and at least a tenth of the values use Markdown
//     (headings, lists, quotes, fences, links or bold);
//   - plain text otherwise.
func Infer(header []string, sample [][]string) []ColumnGuess {
	guesses := make([]ColumnGuess, len(header))
	for i, name := range header {
		var vals []string
		for _, row := range sample {
			if i < len(row) {
				if v := strings.TrimSpace(row[i]); v != "" {
					vals = append(vals, v)
				}
			}
		}
		typ, format := inferColumn(vals)
		guesses[i] = ColumnGuess{Name: name, Type: typ, Format: format}
	}
	return guesses
}

func inferColumn(vals []string) (typ values.Type, format string) {
	switch {
	case len(vals) == 0:
		return values.Text, values.FormatPlain
	case every(vals, isBooleanWord):
		return values.Boolean, ""
	case every(vals, isStrictNumber):
		return values.Number, ""
	case every(vals, isDate):
		return values.Date, ""
	case every(vals, isDateOrDatetime):
		return values.Datetime, ""
	case every(vals, isURL):
		return values.Text, values.FormatURL
	case every(vals, isEmail):
		return values.Text, values.FormatEmail
	case isMultiSelect(vals):
		return values.MultiSelect, ""
	case isSelect(vals):
		return values.Select, ""
	case isMarkdown(vals):
		return values.Text, values.FormatMarkdown
	}
	return values.Text, values.FormatPlain
}

func every(vals []string, ok func(string) bool) bool {
	for _, v := range vals {
		if !ok(v) {
			return false
		}
	}
	return true
}

func isBooleanWord(v string) bool {
	switch strings.ToLower(v) {
	case "true", "false", "yes", "no":
		return true
	}
	return false
}

// isStrictNumber accepts an optional sign, digits without a leading zero
// (other than "0" itself), and an optional decimal point followed by digits.
func isStrictNumber(v string) bool {
	if v != "" && (v[0] == '-' || v[0] == '+') {
		v = v[1:]
	}
	intPart, frac, hasPoint := strings.Cut(v, ".")
	switch {
	case intPart == "" || !allDigits(intPart) || !allDigits(frac):
		return false
	case len(intPart) > 1 && intPart[0] == '0':
		return false
	case hasPoint && frac == "":
		return false
	}
	return len(v) <= values.MaxNumberLen
}

func isDate(v string) bool {
	_, ok := values.ParseDate(v)
	return ok
}

func isDateOrDatetime(v string) bool {
	_, ok := values.ParseDatetime(v)
	return ok
}

func isURL(v string) bool {
	_, err := values.Parse(values.Spec{Type: values.Text, Format: values.FormatURL}, v)
	return err == nil
}

func isEmail(v string) bool {
	_, err := values.Parse(values.Spec{Type: values.Text, Format: values.FormatEmail}, v)
	return err == nil
}

// isOption reports whether v is short and on one line, as options are.
func isOption(v string) bool {
	return len(v) <= optionMaxLen && !strings.ContainsAny(v, "\r\n")
}

func isSelect(vals []string) bool {
	if len(vals) < selectMinValues {
		return false
	}
	distinct := make(map[string]bool)
	for _, v := range vals {
		if !isOption(v) {
			return false
		}
		distinct[v] = true
		if len(distinct) > selectMaxLowCardinality {
			return false
		}
	}
	return len(distinct) <= selectMaxOptions || 3*len(distinct) <= len(vals)
}

func isMultiSelect(vals []string) bool {
	if len(vals) < selectMinValues {
		return false
	}
	distinct := make(map[string]bool)
	lists := 0
	for _, v := range vals {
		parts := strings.Split(v, ",")
		if len(parts) > 1 {
			lists++
		}
		for _, opt := range parts {
			opt = strings.TrimSpace(opt)
			if opt == "" || !isOption(opt) || !strings.ContainsFunc(opt, unicode.IsLetter) {
				return false
			}
			distinct[opt] = true
			if len(distinct) > selectMaxOptions {
				return false
			}
		}
	}
	return lists >= 2
}

func isMarkdown(vals []string) bool {
	long, marked := false, 0
	for _, v := range vals {
		if len(v) >= longText || strings.Contains(v, "\n") {
			long = true
		}
		if hasMarkdown(v) {
			marked++
		}
	}
	return long && marked > 0 && marked*10 >= len(vals)
}

// hasMarkdown reports whether v uses Markdown block or inline markers.
func hasMarkdown(v string) bool {
	if strings.Contains(v, "](") && strings.Contains(v, "[") || strings.Contains(v, "**") {
		return true
	}
	for line := range strings.Lines(v) {
		if isMarkdownLine(strings.TrimLeft(line, " ")) {
			return true
		}
	}
	return false
}

func isMarkdownLine(line string) bool {
	for _, prefix := range []string{"# ", "## ", "### ", "#### ", "##### ", "###### ", "- ", "* ", "+ ", "> ", "```"} {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	// An ordered list item: digits, a period and a space.
	digits := strings.IndexFunc(line, func(r rune) bool { return r < '0' || r > '9' })
	return digits > 0 && strings.HasPrefix(line[digits:], ". ")
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
