package csvimport

import (
	"bytes"
	"io"
)

// problemKind is a syntax or limit problem found while splitting a record.
// The parser keeps reading to the end of the record after a problem, so that
// the next record starts where a person would expect, but stops keeping the
// record's bytes, so that memory stays bounded whatever the input.
type problemKind int

const (
	probNone         problemKind = iota
	probBareQuote                // a quote inside an unquoted cell
	probAfterQuote               // text after the closing quote of a quoted cell
	probUnterminated             // the file ends inside a quoted cell
	probCellTooLarge             // a cell over maxCell bytes
	probRowTooLarge              // a record over maxRow bytes
	probTooManyCells             // a record with more than maxCols cells
)

// problem is the first problem of a record and the 1-based cell it is in.
type problem struct {
	kind   problemKind
	column int
}

// rawRecord is one record as split by the parser.
type rawRecord struct {
	line   int      // 1-based physical line on which the record starts
	blank  bool     // an empty line, with no cells at all
	fields int      // how many cells the record has, counting dropped ones
	cells  []string // the cells; nil when prob is set
	prob   problem
}

// parser splits CSV records (RFC 4180 plus lone CR line ends) from a stream
// with its own buffer. Everything it reads is copied into the current record
// before the buffer is refilled, so a refill never moves unread data.
type parser struct {
	src   io.Reader
	buf   []byte
	pos   int
	end   int
	eof   bool  // src has returned io.EOF
	err   error // sticky read error other than io.EOF
	read  int64 // bytes read from src so far
	line  int   // physical line of buf[pos]
	delim byte

	maxCell int
	maxRow  int
	maxCols int

	// The record being read.
	data    []byte // the kept bytes of all cells, back to back
	ends    []int  // the end of each cell in data
	cellLen int    // bytes in the current cell, kept or not
	rowLen  int    // bytes in the current record, kept or not
	nCells  int    // cells in the current record, kept or not
	prob    problem

	// stopUnquoted marks the bytes that end a run of plain content in an
	// unquoted cell.
	stopUnquoted [256]bool
}

const bufferSize = 64 << 10

func newParser(src io.Reader, delim byte, maxCell, maxRow, maxCols int) *parser {
	p := &parser{
		src:     src,
		buf:     make([]byte, bufferSize),
		line:    1,
		delim:   delim,
		maxCell: maxCell,
		maxRow:  maxRow,
		maxCols: maxCols,
	}
	for _, b := range []byte{delim, '"', '\n', '\r'} {
		p.stopUnquoted[b] = true
	}
	return p
}

// offset is how many bytes of src the parser has consumed.
func (p *parser) offset() int64 { return p.read - int64(p.end-p.pos) }

// fill makes sure buf[pos] is readable, reading from src when the buffer is
// used up; it reports false at the end of the input or on a read error.
func (p *parser) fill() bool {
	if p.pos < p.end {
		return true
	}
	if p.eof || p.err != nil {
		return false
	}
	p.pos, p.end = 0, 0
	for range 100 {
		n, err := p.src.Read(p.buf)
		p.end = n
		p.read += int64(n)
		if err == io.EOF {
			p.eof = true
		} else if err != nil {
			p.err = err
		}
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
	p.err = io.ErrNoProgress
	return false
}

// skipLF consumes a '\n' that directly follows a '\r' just consumed.
func (p *parser) skipLF() {
	if p.fill() && p.buf[p.pos] == '\n' {
		p.pos++
	}
}

// readRecord returns the next record, io.EOF at the end of the input, or a
// read error. Syntax and limit problems are reported in the record itself.
func (p *parser) readRecord() (rawRecord, error) {
	if !p.fill() {
		if p.err != nil {
			return rawRecord{}, p.err
		}
		return rawRecord{}, io.EOF
	}
	rec := rawRecord{line: p.line}
	switch p.buf[p.pos] {
	case '\n':
		p.pos++
		p.line++
		rec.blank = true
		return rec, nil
	case '\r':
		p.pos++
		p.skipLF()
		p.line++
		rec.blank = true
		return rec, nil
	}
	p.data, p.ends = p.data[:0], p.ends[:0]
	p.rowLen, p.nCells, p.prob = 0, 0, problem{}
	for {
		last, err := p.readCell()
		if err != nil {
			return rawRecord{}, err
		}
		if last {
			break
		}
	}
	rec.fields = p.nCells
	rec.prob = p.prob
	if p.prob.kind == probNone {
		rec.cells = p.cells()
	}
	return rec, nil
}

// cells turns the kept bytes into strings with one allocation for the text.
func (p *parser) cells() []string {
	text := string(p.data)
	cells := make([]string, len(p.ends))
	start := 0
	for i, end := range p.ends {
		cells[i] = text[start:end]
		start = end
	}
	return cells
}

func (p *parser) setProblem(kind problemKind, column int) {
	if p.prob.kind == probNone {
		p.prob = problem{kind: kind, column: column}
	}
}

// keep appends b to the current cell, checking the size limits. Once the
// record has a problem nothing more is kept: the record will be rejected, and
// this is what bounds memory on hostile input.
func (p *parser) keep(b []byte) {
	p.cellLen += len(b)
	p.rowLen += len(b)
	switch {
	case p.cellLen > p.maxCell:
		p.setProblem(probCellTooLarge, p.nCells)
	case p.rowLen > p.maxRow:
		p.setProblem(probRowTooLarge, p.nCells)
	}
	if p.prob.kind == probNone {
		p.data = append(p.data, b...)
	}
}

func (p *parser) endCell() {
	if p.prob.kind == probNone {
		p.ends = append(p.ends, len(p.data))
	}
}

// readCell reads one cell and the delimiter or line end after it, and
// reports whether that was the last cell of the record.
func (p *parser) readCell() (last bool, err error) {
	p.nCells++
	p.cellLen = 0
	if p.nCells > p.maxCols {
		p.setProblem(probTooManyCells, p.nCells)
	}
	if !p.fill() {
		// The input ends right after a delimiter: an empty last cell.
		p.endCell()
		return true, p.err
	}
	if p.buf[p.pos] == '"' {
		p.pos++
		return p.readQuoted()
	}
	return p.readUnquoted()
}

var (
	quoteByte   = []byte{'"'}
	newlineByte = []byte{'\n'}
)

func (p *parser) readUnquoted() (last bool, err error) {
	for {
		if !p.fill() {
			p.endCell()
			return true, p.err
		}
		chunk := p.buf[p.pos:p.end]
		i := 0
		for i < len(chunk) && !p.stopUnquoted[chunk[i]] {
			i++
		}
		p.keep(chunk[:i])
		p.pos += i
		if i == len(chunk) {
			continue
		}
		p.pos++
		switch chunk[i] {
		case p.delim:
			p.endCell()
			return false, nil
		case '\n':
			p.line++
			p.endCell()
			return true, nil
		case '\r':
			p.skipLF()
			p.line++
			p.endCell()
			return true, nil
		default: // '"': report it, and read on as if it were any character
			p.setProblem(probBareQuote, p.nCells)
			p.keep(quoteByte)
		}
	}
}

// indexQuotedStop returns the index of the first quote or line break in b, or
// len(b). Quoted cells tend to be long, so it uses the vectorized
// bytes.IndexByte rather than a byte loop.
func indexQuotedStop(b []byte) int {
	i := bytes.IndexByte(b, '"')
	if i < 0 {
		i = len(b)
	}
	if j := bytes.IndexByte(b[:i], '\n'); j >= 0 {
		i = j
	}
	if j := bytes.IndexByte(b[:i], '\r'); j >= 0 {
		i = j
	}
	return i
}

func (p *parser) readQuoted() (last bool, err error) {
	for {
		if !p.fill() {
			if p.err != nil {
				return true, p.err
			}
			p.setProblem(probUnterminated, p.nCells)
			p.endCell()
			return true, nil
		}
		chunk := p.buf[p.pos:p.end]
		i := indexQuotedStop(chunk)
		p.keep(chunk[:i])
		p.pos += i
		if i == len(chunk) {
			continue
		}
		p.pos++
		switch chunk[i] {
		case '\n':
			p.line++
			p.keep(newlineByte)
		case '\r':
			// CRLF and a lone CR inside a cell are both stored as "\n".
			p.skipLF()
			p.line++
			p.keep(newlineByte)
		default: // '"': a doubled quote or the end of the cell
			if last, done, err := p.afterClosingQuote(); done {
				return last, err
			}
		}
	}
}

// afterClosingQuote handles what follows a quote inside a quoted cell. done
// reports whether the cell has ended.
func (p *parser) afterClosingQuote() (last, done bool, err error) {
	if !p.fill() {
		p.endCell()
		return true, true, p.err
	}
	c := p.buf[p.pos]
	switch {
	case c == '"':
		p.pos++
		p.keep(quoteByte)
		return false, false, nil
	case c == p.delim:
		p.pos++
		p.endCell()
		return false, true, nil
	case c == '\n':
		p.pos++
		p.line++
		p.endCell()
		return true, true, nil
	case c == '\r':
		p.pos++
		p.skipLF()
		p.line++
		p.endCell()
		return true, true, nil
	}
	// Text after the closing quote: report it, and read the rest of the cell
	// as unquoted so that the next record starts at the right place.
	p.setProblem(probAfterQuote, p.nCells)
	last, err = p.readUnquoted()
	return last, true, err
}
