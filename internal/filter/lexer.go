package filter

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits that keep parsing cheap and bounded whatever a user types.
const (
	// MaxLength is the longest filter source accepted, in bytes.
	MaxLength = 4096
	// MaxDepth is the deepest nesting of parentheses, NOT and function
	// calls accepted.
	MaxDepth = 64
	// maxExponent bounds a number literal's exponent so that every accepted
	// number is a valid PostgreSQL numeric.
	maxExponent = 1000
)

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokQuotedIdent
	tokString
	tokNumber
	tokOp
	tokLParen
	tokRParen
	tokComma
)

// token is one lexeme. For strings and quoted identifiers text holds the
// decoded value; for everything else it holds the source text.
type token struct {
	kind tokenKind
	text string
	span Span
}

// describe names the token for "expected …, found …" messages.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		return "string " + quoteString(truncate(t.text))
	case tokQuotedIdent:
		return quoteIdent(truncate(t.text))
	default:
		return strconv.Quote(truncate(t.text))
	}
}

func truncate(s string) string {
	const max = 24
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}

// is reports whether t is the keyword kw (given in upper case). Keywords
// match ASCII letters only, so no Unicode case folding can turn an
// identifier into a keyword.
func (t token) is(kw string) bool {
	if t.kind != tokIdent || len(t.text) != len(kw) {
		return false
	}
	for i := 0; i < len(kw); i++ {
		c := t.text[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != kw[i] {
			return false
		}
	}
	return true
}

// keywords may not be used as bare column names; quote them instead.
var keywords = []string{"AND", "OR", "NOT", "LIKE", "ILIKE", "IN", "IS", "NULL", "BETWEEN", "TRUE", "FALSE"}

func (t token) isKeyword() bool {
	for _, kw := range keywords {
		if t.is(kw) {
			return true
		}
	}
	return false
}

// lex splits src into tokens, ending with a tokEOF token.
func lex(src string) ([]token, error) {
	if len(src) > MaxLength {
		pos := utf8.RuneCountInString(src[:MaxLength])
		return nil, errorf(pos, 0, "filter is too long (over %d bytes)", MaxLength)
	}
	if err := checkText(src); err != nil {
		return nil, err
	}
	l := &lexer{src: src}
	var toks []token
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tokEOF {
			return toks, nil
		}
	}
}

// checkText rejects invalid UTF-8 and NUL, which PostgreSQL text cannot
// hold, so that no accepted literal can fail at execution time.
func checkText(src string) error {
	pos := 0
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRuneInString(src[i:])
		if r == utf8.RuneError && size <= 1 {
			return errorf(pos, 1, "invalid UTF-8")
		}
		if r == 0 {
			return errorf(pos, 1, "invalid character U+0000")
		}
		i += size
		pos++
	}
	return nil
}

type lexer struct {
	src string
	off int // byte offset
	pos int // rune offset of off
}

func (l *lexer) peek() rune {
	if l.off >= len(l.src) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	return r
}

func (l *lexer) peekAt(n int) rune {
	off := l.off
	for ; n > 0 && off < len(l.src); n-- {
		_, size := utf8.DecodeRuneInString(l.src[off:])
		off += size
	}
	if off >= len(l.src) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(l.src[off:])
	return r
}

func (l *lexer) advance() rune {
	r, size := utf8.DecodeRuneInString(l.src[l.off:])
	l.off += size
	l.pos++
	return r
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

func isIdentPart(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

func isDigit(r rune) bool { return '0' <= r && r <= '9' }

func (l *lexer) next() (token, error) {
	for unicode.IsSpace(l.peek()) {
		l.advance()
	}
	start, startOff := l.pos, l.off
	tok := func(kind tokenKind) token {
		return token{kind: kind, text: l.src[startOff:l.off], span: Span{start, l.pos}}
	}
	r := l.peek()
	switch {
	case r < 0:
		return tok(tokEOF), nil
	case isIdentStart(r):
		for isIdentPart(l.peek()) {
			l.advance()
		}
		return tok(tokIdent), nil
	case isDigit(r) || (r == '.' || r == '-') && (isDigit(l.peekAt(1)) || r == '-' && l.peekAt(1) == '.' && isDigit(l.peekAt(2))):
		return l.number()
	case r == '\'':
		return l.quoted('\'', tokString, "unterminated string")
	case r == '"':
		return l.quoted('"', tokQuotedIdent, "unterminated quoted column name")
	}
	l.advance()
	switch r {
	case '(':
		return tok(tokLParen), nil
	case ')':
		return tok(tokRParen), nil
	case ',':
		return tok(tokComma), nil
	case '=':
		return tok(tokOp), nil
	case '<':
		if p := l.peek(); p == '=' || p == '>' {
			l.advance()
		}
		return tok(tokOp), nil
	case '>':
		if l.peek() == '=' {
			l.advance()
		}
		return tok(tokOp), nil
	case '!':
		if l.peek() == '=' {
			l.advance()
			return tok(tokOp), nil
		}
	}
	return token{}, errorf(start, 1, "unexpected character %s", strconv.QuoteRune(r))
}

// number lexes -?(digits[.digits]|.digits)([eE][+-]?digits)?.
func (l *lexer) number() (token, error) {
	start, startOff := l.pos, l.off
	if l.peek() == '-' {
		l.advance()
	}
	for isDigit(l.peek()) {
		l.advance()
	}
	if l.peek() == '.' && isDigit(l.peekAt(1)) {
		l.advance()
		for isDigit(l.peek()) {
			l.advance()
		}
	}
	if p := l.peek(); p == 'e' || p == 'E' {
		n := 1
		if s := l.peekAt(1); s == '+' || s == '-' {
			n = 2
		}
		if isDigit(l.peekAt(n)) {
			for ; n > 0; n-- {
				l.advance()
			}
			expStart := l.off
			for isDigit(l.peek()) {
				l.advance()
			}
			exp := strings.TrimLeft(l.src[expStart:l.off], "0")
			if len(exp) > 4 || exp != "" && mustAtoi(exp) > maxExponent {
				return token{}, errorf(start, l.pos-start, "number out of range")
			}
		}
	}
	if p := l.peek(); isIdentPart(p) || p == '.' {
		for p := l.peek(); isIdentPart(p) || p == '.'; p = l.peek() {
			l.advance()
		}
		return token{}, errorf(start, l.pos-start, "invalid number %q", l.src[startOff:l.off])
	}
	return token{kind: tokNumber, text: l.src[startOff:l.off], span: Span{start, l.pos}}, nil
}

func mustAtoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

// quoted lexes a string or quoted identifier in which a doubled quote
// stands for one quote.
func (l *lexer) quoted(q rune, kind tokenKind, unterminated string) (token, error) {
	start := l.pos
	l.advance()
	var b strings.Builder
	for {
		r := l.peek()
		if r < 0 {
			return token{}, errorf(start, 1, "%s", unterminated)
		}
		l.advance()
		if r != q {
			b.WriteRune(r)
			continue
		}
		if l.peek() != q {
			return token{kind: kind, text: b.String(), span: Span{start, l.pos}}, nil
		}
		l.advance()
		b.WriteRune(q)
	}
}

// quoteString renders s as a filter-language string literal.
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// quoteIdent renders s as a filter-language quoted column name.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// QuoteIdent writes a column name as a quoted identifier of the filter
// language, for filters built for people to read and edit.
func QuoteIdent(name string) string { return quoteIdent(name) }
