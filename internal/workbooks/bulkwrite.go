package workbooks

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/scratchpad/scratchpad/internal/db"
)

// This file is the record store's bulk path: the one way records are added
// by the thousand (CSV imports, pulls, the seed tool). Callers hand rows of
// values already encoded as JSON objects whose keys are in jsonb's order
// (JSONBKeyOrder), so PostgreSQL neither re-sorts nor re-parses more than
// it must; CopyRecordsTx COPYs them in with every column given.

// NewRecordRow is one record for CopyRecordsTx.
type NewRecordRow struct {
	// RemoteID is the record's id at its source, or nil.
	RemoteID *string
	// Fields is the record's values: a JSON object by column id.
	Fields []byte
	// Problems is what could not be read of it, by column id (a JSON
	// object), or nil.
	Problems []byte
}

// NewRecordSource yields the rows of a bulk write. Row's slices may be
// reused once Next is called again: COPY encodes each row at once.
type NewRecordSource interface {
	Next() bool
	Row() NewRecordRow
	Err() error
}

// bulkColumns are the columns of records the bulk path writes; the others
// take their defaults: the next seq (COPY inserts in order), state clean,
// version 1, and no original, which for a clean record means "as pulled".
var bulkColumns = []string{"id", "workbook_id", "table_id", "fields", "errors", "remote_id"}

// CopyRecordsTx adds the rows of src to table t in tx and returns how many
// it added. It holds the table's row (as every writer of records does,
// migration 00012), so the table cannot be deleted meanwhile. ids names the
// records; give one RecordIDs to all the batches of one import or pull.
// Errors: NotFound (the table is gone), or the database's (a remote id the
// table already has breaks its unique key).
func (s *Service) CopyRecordsTx(ctx context.Context, tx pgx.Tx, t Table, ids *RecordIDs, src NewRecordSource) (int64, error) {
	q := db.New(tx)
	if _, err := q.LockTableForRecords(ctx, db.LockTableForRecordsParams{WorkbookID: t.WorkbookID, ID: t.ID}); err != nil {
		if db.IsNoRows(err) {
			return 0, errTableNotFound
		}
		return 0, fmt.Errorf("workbooks: lock table: %w", err)
	}
	rows := &copyRows{src: src, ids: ids, row: make([]any, len(bulkColumns))}
	if err := rows.workbookID.Scan(t.WorkbookID); err != nil {
		return 0, err
	}
	if err := rows.tableID.Scan(t.ID); err != nil {
		return 0, err
	}
	// Into the table's partition: COPY into the partitioned records
	// inserts one row at a time, because of the statement trigger that
	// counts its rows (migration 00021). The partition's own trigger
	// counts them, and its seq default draws from records' sequence.
	part, err := s.idx.PartitionVia(ctx, tx, t.WorkbookID, t.ID)
	if err != nil {
		return 0, err
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{part}, bulkColumns, rows)
	if err != nil {
		return n, fmt.Errorf("workbooks: copy records: %w", err)
	}
	return n, nil
}

// copyRows adapts a NewRecordSource to pgx's CopyFromSource.
type copyRows struct {
	src                 NewRecordSource
	ids                 *RecordIDs
	workbookID, tableID pgtype.UUID
	row                 []any
}

func (r *copyRows) Next() bool { return r.src.Next() }

func (r *copyRows) Values() ([]any, error) {
	nr := r.src.Row()
	problems := nr.Problems
	if problems == nil {
		problems = emptyObject
	}
	r.row[0], r.row[1], r.row[2] = r.ids.Next(), r.workbookID, r.tableID
	r.row[3], r.row[4], r.row[5] = json.RawMessage(nr.Fields), json.RawMessage(problems), nr.RemoteID
	return r.row, nil
}

func (r *copyRows) Err() error { return r.src.Err() }

var emptyObject = []byte("{}")

// JSONBKeyOrder sorts keys as PostgreSQL's jsonb stores an object's keys:
// shorter first, then bytewise. Objects written in this order are stored
// without sorting.
func JSONBKeyOrder(a, b string) int {
	if n := cmp.Compare(len(a), len(b)); n != 0 {
		return n
	}
	return strings.Compare(a, b)
}

// AppendJSONValue appends a canonical value as JSON. Imports and pulls write
// millions of values, so the common kinds are encoded by hand; anything else
// goes through encoding/json.
func AppendJSONValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return AppendJSONString(b, x)
	case json.Number:
		return append(b, x...)
	case bool:
		return strconv.AppendBool(b, x)
	case []string:
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, s)
		}
		return append(b, ']')
	case json.RawMessage:
		return append(b, x...)
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, enc...)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string. s must be valid UTF-8 without
// NUL (the CSV reader and the value parser guarantee both); other control
// characters are escaped.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf || (c >= 0x20 && c != '"' && c != '\\') {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// RecordIDs hands out the ids of records written in bulk (imports, pulls): UUIDv7 (RFC 9562), the
// millisecond clock followed by a counter that starts at a random value each
// millisecond, so the ids of one import only grow.
//
// The bulk path names its records itself for speed. A table default that
// calls a volatile function (gen_random_uuid) makes PostgreSQL's COPY insert
// row by row; with every column given it inserts a page of rows at a time,
// and ids that grow land on the rightmost page of the primary key instead
// of all over it.
type RecordIDs struct {
	now func() time.Time
	ms  uint64
	// ctr fills the 74 bits after the timestamp and version: 12 of rand_a,
	// then 62 of rand_b.
	hi, lo uint64
}

func NewRecordIDs() *RecordIDs { return &RecordIDs{now: time.Now} }

// Next returns the next id.
func (g *RecordIDs) Next() pgtype.UUID {
	ms := uint64(g.now().UnixMilli()) & (1<<48 - 1)
	if ms > g.ms {
		g.ms = ms
		g.seed()
	} else {
		// The same millisecond, or the clock went back: count on from the
		// last id. The seed leaves the counter's top bit clear, so it
		// cannot run out within a millisecond.
		g.lo++
		if g.lo == 1<<62 {
			g.lo = 0
			g.hi++
		}
	}
	var id pgtype.UUID
	binary.BigEndian.PutUint64(id.Bytes[0:8], g.ms<<16|0x7<<12|g.hi&0xfff)
	binary.BigEndian.PutUint64(id.Bytes[8:16], 0b10<<62|g.lo)
	id.Valid = true
	return id
}

// seed starts the counter of a new millisecond at a random value below half
// its range.
func (g *RecordIDs) seed() {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	g.hi = binary.BigEndian.Uint64(b[0:8]) & 0x7ff
	g.lo = binary.BigEndian.Uint64(b[8:16]) & (1<<62 - 1)
}

// RowsFrom returns a source of the given rows.
func RowsFrom(rows []NewRecordRow) NewRecordSource { return &sliceRows{rows: rows, i: -1} }

type sliceRows struct {
	rows []NewRecordRow
	i    int
}

func (s *sliceRows) Next() bool        { s.i++; return s.i < len(s.rows) }
func (s *sliceRows) Row() NewRecordRow { return s.rows[s.i] }
func (s *sliceRows) Err() error        { return nil }
