package filter

import (
	"strings"
)

// Parse parses a filter into its syntax tree. It checks syntax only; column
// names, functions and types are checked by Compile. An empty or
// whitespace-only src is no filter at all: Parse returns a nil Expr and a nil
// error. Every error is an *Error.
func Parse(src string) (Expr, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	if toks[0].kind == tokEOF {
		return nil, nil
	}
	p := &parser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.expected("AND, OR or end of input")
	}
	return e, nil
}

type parser struct {
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(n int) token {
	if p.i+n >= len(p.toks) {
		return p.toks[len(p.toks)-1]
	}
	return p.toks[p.i+n]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// expected reports the current token as unexpected.
func (p *parser) expected(what string) *Error {
	t := p.peek()
	return errAt(t.span, "expected %s, found %s", what, t.describe())
}

// enter guards recursion at the token that opens a level: nesting deeper
// than MaxDepth is an error rather than a deep stack.
func (p *parser) enter(at token) error {
	p.depth++
	if p.depth > MaxDepth {
		return errAt(at.span, "filter is nested too deeply (over %d levels)", MaxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) or() (Expr, error) { return p.logical("OR", p.and) }

func (p *parser) and() (Expr, error) { return p.logical("AND", p.not) }

func (p *parser) logical(op string, term func() (Expr, error)) (Expr, error) {
	first, err := term()
	if err != nil {
		return nil, err
	}
	if !p.peek().is(op) {
		return first, nil
	}
	terms := []Expr{first}
	for p.peek().is(op) {
		p.next()
		t, err := term()
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
	}
	return &Logical{Op: op, Terms: terms, Span: Span{first.Pos().Start, terms[len(terms)-1].Pos().End}}, nil
}

func (p *parser) not() (Expr, error) {
	if !p.peek().is("NOT") {
		return p.predicate()
	}
	t := p.next()
	start := t.span.Start
	if err := p.enter(t); err != nil {
		return nil, err
	}
	defer p.leave()
	x, err := p.not()
	if err != nil {
		return nil, err
	}
	return &Not{X: x, Span: Span{start, x.Pos().End}}, nil
}

func (p *parser) predicate() (Expr, error) {
	x, err := p.operand()
	if err != nil {
		return nil, err
	}
	start := x.Pos().Start
	t := p.peek()
	switch {
	case t.kind == tokOp:
		p.next()
		y, err := p.operand()
		if err != nil {
			return nil, err
		}
		op := t.text
		if op == "!=" {
			op = "<>"
		}
		return &Compare{Op: op, Left: x, Right: y, Span: Span{start, y.Pos().End}}, nil
	case t.is("IS"):
		p.next()
		neg := p.peek().is("NOT")
		if neg {
			p.next()
		}
		if !p.peek().is("NULL") {
			return nil, p.expected("NULL")
		}
		end := p.next().span.End
		return &IsNull{Not: neg, X: x, Span: Span{start, end}}, nil
	}
	neg := false
	if t.is("NOT") {
		p.next()
		neg = true
		if nt := p.peek(); !nt.is("LIKE") && !nt.is("ILIKE") && !nt.is("IN") && !nt.is("BETWEEN") {
			return nil, p.expected("LIKE, ILIKE, IN or BETWEEN after NOT")
		}
	}
	t = p.peek()
	switch {
	case t.is("LIKE"), t.is("ILIKE"):
		p.next()
		pat, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &Like{Not: neg, Insensitive: t.is("ILIKE"), X: x, Pattern: pat, Span: Span{start, pat.Pos().End}}, nil
	case t.is("IN"):
		p.next()
		list, end, err := p.list(false)
		if err != nil {
			return nil, err
		}
		return &In{Not: neg, X: x, List: list, Span: Span{start, end}}, nil
	case t.is("BETWEEN"):
		p.next()
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		if !p.peek().is("AND") {
			return nil, p.expected("AND")
		}
		p.next()
		hi, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &Between{Not: neg, X: x, Low: lo, High: hi, Span: Span{start, hi.Pos().End}}, nil
	}
	return x, nil
}

// list parses "(" operand {"," operand} ")", or, for a function call whose
// arguments may be absent, "(" [operand {"," operand}] ")". It returns the
// end of the closing parenthesis.
func (p *parser) list(allowEmpty bool) ([]Expr, int, error) {
	if p.peek().kind != tokLParen {
		return nil, 0, p.expected(`"("`)
	}
	if err := p.enter(p.next()); err != nil {
		return nil, 0, err
	}
	defer p.leave()
	var list []Expr
	if allowEmpty && p.peek().kind == tokRParen {
		return list, p.next().span.End, nil
	}
	for {
		e, err := p.operand()
		if err != nil {
			return nil, 0, err
		}
		list = append(list, e)
		if p.peek().kind != tokComma {
			break
		}
		p.next()
	}
	if p.peek().kind != tokRParen {
		return nil, 0, p.expected(`"," or ")"`)
	}
	return list, p.next().span.End, nil
}

// operand parses a literal, a column, a function call or a parenthesized
// condition.
func (p *parser) operand() (Expr, error) {
	t := p.peek()
	switch t.kind {
	case tokString:
		p.next()
		return &StringLit{Value: t.text, Span: t.span}, nil
	case tokNumber:
		p.next()
		return &NumberLit{Text: t.text, Span: t.span}, nil
	case tokQuotedIdent:
		p.next()
		return &ColumnRef{Name: t.text, Quoted: true, Span: t.span}, nil
	case tokLParen:
		if err := p.enter(p.next()); err != nil {
			return nil, err
		}
		defer p.leave()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tokRParen {
			return nil, p.expected(`")"`)
		}
		p.next()
		return e, nil
	case tokIdent:
		switch {
		case t.is("TRUE"), t.is("FALSE"):
			p.next()
			return &BoolLit{Value: t.is("TRUE"), Span: t.span}, nil
		case t.is("NULL"):
			p.next()
			return &NullLit{Span: t.span}, nil
		case t.isKeyword():
			return nil, p.expected(`a column, a value or "("`)
		case p.peekAt(1).kind == tokLParen:
			p.next()
			args, end, err := p.list(true)
			if err != nil {
				return nil, err
			}
			return &Call{Name: strings.ToLower(t.text), Args: args, NameSpan: t.span, Span: Span{t.span.Start, end}}, nil
		}
		p.next()
		return &ColumnRef{Name: t.text, Span: t.span}, nil
	}
	return nil, p.expected(`a column, a value or "("`)
}
