package workbooks

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/scratchpad/scratchpad/internal/apperr"
)

// The bounds of one find & replace. RE2 matching takes time linear in the
// text, so what a request can blow up is its output: a long replacement
// repeated over many matches, or a template such as $1$1$1… that copies a
// group many times per match. So the replacement's size is capped, each
// cell's result is measured from its matches before it is built (and never
// built past MaxCellBytes), and the new values of one request are capped in
// total.
const (
	// maxFindLength bounds the find text, in characters.
	maxFindLength = 1000
	// maxReplaceBytes bounds the replacement: far more than any snippet
	// a toolbar input is for, a quarter of a cell.
	maxReplaceBytes = 64 << 10
	// maxReplaceOutputBytes bounds the new values one find & replace
	// may propose (or, previewing, count) in total: a table of long
	// bodies is changed a filtered part at a time.
	maxReplaceOutputBytes = 64 << 20
	// matchBudgetBytes bounds the memory the match positions of one cell
	// take; a pattern that matches more often than that in one value is
	// refused.
	matchBudgetBytes = 16 << 20
	// maxReplaceMatches bounds the matches of one find & replace, changed
	// or not: each costs a few hundred nanoseconds, so this is a couple
	// of seconds of work.
	maxReplaceMatches = 5_000_000
)

// groupRefs is how many times a replacement template inserts one group.
type groupRefs struct {
	group, times int
}

// replacer applies one find & replace to cell text within the bounds above.
type replacer struct {
	re       *regexp.Regexp
	template string
	// literal means template is inserted as it is; otherwise $1, ${name}
	// and $$ are expanded as regexp.Regexp.Expand does.
	literal bool
	// keepCase makes each replacement follow its match's case (matchCase).
	keepCase bool
	// fixed is how many bytes the template inserts per match besides its
	// groups, and refs the groups it inserts; a match's replacement is
	// fixed plus, for each ref, times × the group's length.
	fixed int
	refs  []groupRefs
	// maxMatches bounds the matches of one cell (matchBudgetBytes).
	maxMatches int
	// matched counts the matches replaced so far.
	matched int
}

// newReplacer checks fr's find text and replacement and prepares them.
// Errors: Invalid.
func newReplacer(fr FindReplace) (*replacer, error) {
	if len(fr.Replace) > maxReplaceBytes {
		return nil, apperr.InvalidFields("The replacement is too long.",
			apperr.FieldError{Field: "replace", Message: fmt.Sprintf("must be at most %d KiB", maxReplaceBytes>>10)})
	}
	re, err := compileFind(fr)
	if err != nil {
		return nil, err
	}
	r := &replacer{re: re, template: fr.Replace, literal: !fr.Regex, fixed: len(fr.Replace), keepCase: fr.KeepCase}
	if fr.Regex {
		if err := r.measureTemplate(); err != nil {
			return nil, err
		}
	}
	// Each match's positions take a slice of every group's bounds (even
	// FindAllStringIndex allocates them) and its header.
	r.maxMatches = matchBudgetBytes / (2*(re.NumSubexp()+1)*8 + 24)
	return r, nil
}

// measureTemplate works out what the template inserts per match by
// expanding it with regexp's own Expand: once with no group set (its fixed
// text), then once per group it may name with that group one byte long.
// Groups sharing a name are refused, as which of them ${name} inserts
// depends on the match. Errors: Invalid.
func (r *replacer) measureTemplate() error {
	names := r.re.SubexpNames()
	seen := map[string]bool{}
	for _, n := range names {
		if n != "" && seen[n] {
			return apperr.InvalidFields("Two groups of the regular expression have the same name.",
				apperr.FieldError{Field: "find", Message: fmt.Sprintf("names two groups %q; give each its own name", n)})
		}
		seen[n] = true
	}
	match := make([]int, 2*len(names))
	unset := func() {
		for i := range match {
			match[i] = -1
		}
	}
	unset()
	var buf []byte
	buf = r.re.ExpandString(buf[:0], r.template, "x", match)
	r.fixed = len(buf)
	if !strings.Contains(r.template, "$") {
		return nil
	}
	for g := range names {
		// Only a group whose number or name follows a $ can be inserted.
		if !strings.Contains(r.template, "$"+strconv.Itoa(g)) && !strings.Contains(r.template, "${"+strconv.Itoa(g)) &&
			(names[g] == "" || !strings.Contains(r.template, names[g])) {
			continue
		}
		unset()
		match[2*g], match[2*g+1] = 0, 1
		buf = r.re.ExpandString(buf[:0], r.template, "x", match)
		if times := len(buf) - r.fixed; times > 0 {
			r.refs = append(r.refs, groupRefs{group: g, times: times})
		}
	}
	return nil
}

// errTooManyMatches and errResultTooLarge are why one cell cannot be
// replaced; FindReplace names the record.
var (
	errTooManyMatches = errors.New("workbooks: too many matches in one value")
	errResultTooLarge = errors.New("workbooks: replaced value too large")
)

// replace returns s with every match replaced and whether anything
// changed. The result's size is worked out from the matches first, so a
// result over MaxCellBytes is refused (errResultTooLarge) without being
// built, as is a value with more than maxMatches matches
// (errTooManyMatches). It counts the matches in r.matched.
func (r *replacer) replace(s string) (string, bool, error) {
	// The first few matches are often all there are, and otherwise show
	// most results that are far too large before all of them are found.
	matches := r.find(s, firstMatches)
	if len(matches) == firstMatches {
		if _, err := r.measure(s, matches, false); err != nil {
			return "", false, err
		}
		matches = r.find(s, r.maxMatches+1)
	}
	if len(matches) == 0 {
		return s, false, nil
	}
	if len(matches) > r.maxMatches {
		return "", false, errTooManyMatches
	}
	r.matched += len(matches)
	size, err := r.measure(s, matches, true)
	if err != nil {
		return "", false, err
	}
	out := make([]byte, 0, size)
	last := 0
	for _, m := range matches {
		out = append(out, s[last:m[0]]...)
		start := len(out)
		if r.literal {
			out = append(out, r.template...)
		} else {
			out = r.re.ExpandString(out, r.template, s, m)
		}
		if r.keepCase {
			out = append(out[:start], matchCase(s[m[0]:m[1]], string(out[start:]))...)
		}
		last = m[1]
	}
	out = append(out, s[last:]...)
	result := string(out)
	return result, result != s, nil
}

// firstMatches is how many matches replace measures before it finds all.
const firstMatches = 64

// find returns the positions of the first n matches in s, with the groups'
// when the template inserts any.
func (r *replacer) find(s string, n int) [][]int {
	if len(r.refs) > 0 {
		return r.re.FindAllStringSubmatchIndex(s, n)
	}
	return r.re.FindAllStringIndex(s, n)
}

// measure returns the size of s with matches replaced, or
// errResultTooLarge as soon as the result is bound to pass MaxCellBytes
// whatever the matches after them. all says whether matches are all the
// matches in s (the size is then the result's) or only the first ones.
func (r *replacer) measure(s string, matches [][]int, all bool) (int, error) {
	size := len(s)
	for _, m := range matches {
		size += r.fixed - (m[1] - m[0])
		for _, ref := range r.refs {
			if start := m[2*ref.group]; start >= 0 {
				size += ref.times * (m[2*ref.group+1] - start)
			}
		}
		// Later matches can shrink the result by at most the text
		// left after this one.
		if size-(len(s)-m[1]) > MaxCellBytes {
			return 0, errResultTooLarge
		}
	}
	if all && size > MaxCellBytes {
		return 0, errResultTooLarge
	}
	return size, nil
}

// compileFind turns the find text into a regular expression. Errors: Invalid.
func compileFind(fr FindReplace) (*regexp.Regexp, error) {
	if fr.Find == "" {
		return nil, apperr.InvalidFields("Enter the text to find.", apperr.FieldError{Field: "find", Message: "is required"})
	}
	if utf8.RuneCountInString(fr.Find) > maxFindLength {
		return nil, apperr.InvalidFields("The text to find is too long.",
			apperr.FieldError{Field: "find", Message: fmt.Sprintf("must be at most %d characters", maxFindLength)})
	}
	pattern := fr.Find
	if !fr.Regex {
		pattern = regexp.QuoteMeta(pattern)
	}
	if !fr.CaseSensitive {
		pattern = "(?i)" + pattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		var se *syntax.Error
		msg := "is not a valid regular expression"
		if errors.As(err, &se) {
			msg += ": " + string(se.Code)
		}
		return nil, apperr.InvalidFields("The regular expression is not valid.", apperr.FieldError{Field: "find", Message: msg})
	}
	return re, nil
}

// matchCase returns rep in the case of matched: all capitals when matched
// has two letters or more and no lower-case one, a capital first letter
// when matched starts with one, lower case when matched has letters and
// all are lower case, and rep as written otherwise.
func matchCase(matched, rep string) string {
	upper, lower := 0, 0
	for _, c := range matched {
		switch {
		case unicode.IsUpper(c):
			upper++
		case unicode.IsLower(c):
			lower++
		}
	}
	first, _ := utf8.DecodeRuneInString(strings.TrimLeftFunc(matched, func(c rune) bool { return !unicode.IsLetter(c) }))
	switch {
	case upper >= 2 && lower == 0:
		return strings.ToUpper(rep)
	case unicode.IsUpper(first):
		i := strings.IndexFunc(rep, unicode.IsLetter)
		if i < 0 {
			return rep
		}
		c, n := utf8.DecodeRuneInString(rep[i:])
		return rep[:i] + string(unicode.ToUpper(c)) + rep[i+n:]
	case lower > 0 && upper == 0:
		return strings.ToLower(rep)
	}
	return rep
}
