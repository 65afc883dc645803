package imports

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"strings"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/csvimport"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// The file is read, converted and encoded by its own goroutine, a little
// ahead of the COPY that writes the rows: the two then run on separate cores,
// and reading goes on while the database ends a batch (its commit), where a COPY pulling rows itself would leave both
// sides waiting for each other in turn.
const (
	// blockRows is how many rows a block carries from the reader to COPY.
	blockRows = 256
	// blocksAhead is how many blocks the reader may have waiting: a few MB
	// of JSON whatever the file's size.
	blocksAhead = 8
)

// A block is a run of consecutive rows of one batch, each converted to its
// record's fields, with what reading them found.
type block struct {
	// data holds the rows' fields objects back to back; ends[i] is where
	// row i's ends.
	data      []byte
	ends      []int
	errs      []json.RawMessage // each row's errors object
	remoteIDs []*string

	problems   []Problem
	rejected   int64
	cellErrors int64
	lastRow    int64 // the file row of the last row read, imported or rejected (0: none)
	offset     int64 // how many bytes of the file are read, BOM included
	endOfBatch bool  // the block ends its batch
	eof        bool  // and the file
	err        error // reading stopped on it
}

func (b *block) rows() int { return len(b.ends) }

// fields returns row i's fields object.
func (b *block) fields(i int) json.RawMessage {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.data[start:b.ends[i]]
}

func (b *block) reset() {
	*b = block{data: b.data[:0], ends: b.ends[:0], errs: b.errs[:0], remoteIDs: b.remoteIDs[:0], problems: b.problems[:0]}
}

// emptyErrors is the errors object of a row whose cells all converted.
var emptyErrors = json.RawMessage(`{}`)

// fileRows reads the rows of a file past the checkpoint and turns them into
// blocks of records' values.
type fileRows struct {
	rd     *csvimport.Reader
	bom    int64
	header []string
	// cols are the columns to fill, in the order PostgreSQL keeps a JSON
	// object's keys (workbooks.JSONBKeyOrder), so each row's object is written in
	// that order and jsonb need not sort it.
	cols      []column
	skip      int64 // rows up to this file row are committed already
	batchRows int
	// problemsLeft is how many more problems the upload keeps.
	problemsLeft int

	keyIndex  int
	keyColumn string // the column id the key's errors are filed under
	keys      map[uint64]struct{}
	seed      maphash.Seed

	inBatch int // rows in the current batch so far
	errs    map[string]string
	// cellProblems are the current row's conversion problems, filed in
	// the file's column order once the row is read.
	cellProblems []Problem
}

// run sends blocks to out until the file ends, reading fails or ctx is
// done, then closes out. Blocks come from free when there are any.
func (r *fileRows) run(ctx context.Context, out chan<- *block, free <-chan *block) {
	defer close(out)
	for {
		var b *block
		select {
		case b = <-free:
			b.reset()
		default:
			b = &block{}
		}
		r.fill(b)
		select {
		case out <- b:
		case <-ctx.Done():
			return
		}
		if b.eof || b.err != nil {
			return
		}
	}
}

// fill reads rows into b until it is full, its batch is, or the file ends.
func (r *fileRows) fill(b *block) {
	defer func() { b.offset = r.rd.Offset() + r.bom }()
	for b.rows() < blockRows {
		row, err := r.rd.Next()
		if errors.Is(err, io.EOF) {
			b.eof, b.endOfBatch = true, true
			return
		}
		if prob, ok := problemOf(err); ok {
			if int64(prob.Row) > r.skip {
				b.rejected++
				b.lastRow = int64(prob.Row)
				r.problem(b, prob)
			}
			continue
		}
		if err != nil {
			b.err = fmt.Errorf("imports: read file: %w", err)
			return
		}
		if int64(row.Number) <= r.skip {
			continue // committed by an earlier attempt
		}
		r.add(b, row)
		if r.inBatch++; r.inBatch == r.batchRows {
			r.inBatch = 0
			b.endOfBatch = true
			return
		}
	}
}

func (r *fileRows) problem(b *block, p Problem) {
	if r.problemsLeft > 0 {
		r.problemsLeft--
		b.problems = append(b.problems, p)
	}
}

// cellError files a cell's problem on the row's errors and returns it for
// the upload's.
func (r *fileRows) cellError(b *block, row csvimport.Row, index int, columnID, msg string) Problem {
	if r.errs == nil {
		r.errs = map[string]string{}
	}
	r.errs[columnID] = msg
	b.cellErrors++
	return Problem{Row: row.Number, Column: index + 1, Name: r.header[index], Message: msg}
}

// add converts one row into a record's values and appends them to b.
func (r *fileRows) add(b *block, row csvimport.Row) {
	b.lastRow = int64(row.Number)
	clear(r.errs)
	d := append(b.data, '{')
	first := true
	for _, c := range r.cols {
		v, msg := convert(c, row.Cells[c.index])
		if msg != "" {
			r.cellProblems = append(r.cellProblems, r.cellError(b, row, c.index, c.col.ID, msg))
			continue
		}
		if v == nil {
			continue
		}
		if !first {
			d = append(d, ',')
		}
		first = false
		d = append(d, '"')
		d = append(d, c.col.ID...) // ids are [a-z0-9_]: nothing to escape
		d = append(d, '"', ':')
		d = workbooks.AppendJSONValue(d, v)
	}
	b.data = append(d, '}')
	b.ends = append(b.ends, len(b.data))
	if len(r.cellProblems) > 0 {
		slices.SortFunc(r.cellProblems, func(a, b Problem) int { return cmp.Compare(a.Column, b.Column) })
		for _, p := range r.cellProblems {
			r.problem(b, p)
		}
		r.cellProblems = r.cellProblems[:0]
	}

	var remoteID *string
	if r.keyIndex >= 0 {
		if key := strings.TrimSpace(row.Cells[r.keyIndex]); key != "" {
			h := maphash.String(r.seed, key)
			if _, dup := r.keys[h]; dup {
				r.problem(b, r.cellError(b, row, r.keyIndex, r.keyColumn, "the key is used by an earlier row"))
			} else {
				r.keys[h] = struct{}{}
				remoteID = &key
			}
		}
	}
	b.remoteIDs = append(b.remoteIDs, remoteID)
	errs := emptyErrors
	if len(r.errs) > 0 {
		errs, _ = json.Marshal(r.errs) //nolint:errchkjson // a map of strings
	}
	b.errs = append(b.errs, errs)
}

// convert turns a cell into its column's canonical value, or says why not.
// values.Parse (through ConvertCell) gives every type's canonical form, so
// the record store's normalization has nothing left to do but its cell size
// cap.
func convert(c column, cell string) (any, string) {
	v, err := csvimport.ConvertCell(c.col.Spec(), cell)
	if err != nil {
		return nil, err.Error()
	}
	if v == nil {
		return nil, ""
	}
	if msg := fieldMessage(workbooks.CheckCellSize(c.col, v)); msg != "" {
		return nil, msg
	}
	return v, ""
}

// fieldMessage is the message of the record store's refusal of one value,
// or "" for nil.
func fieldMessage(err error) string {
	if err == nil {
		return ""
	}
	if fe := apperr.FieldsOf(err); len(fe) > 0 {
		return fe[0].Message
	}
	return apperr.MessageOf(err)
}
