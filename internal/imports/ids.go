package imports

import (
	"crypto/rand"
	"encoding/binary"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// recordIDs hands out the ids of imported records: UUIDv7 (RFC 9562), the
// millisecond clock followed by a counter that starts at a random value each
// millisecond, so the ids of one import only grow.
//
// The import names its records itself for speed. A table default that
// calls a volatile function (gen_random_uuid) makes PostgreSQL's COPY insert
// row by row; with every column given it inserts a page of rows at a time,
// and ids that grow land on the rightmost page of the primary key instead
// of all over it.
type recordIDs struct {
	now func() time.Time
	ms  uint64
	// ctr fills the 74 bits after the timestamp and version: 12 of rand_a,
	// then 62 of rand_b.
	hi, lo uint64
}

func newRecordIDs() *recordIDs { return &recordIDs{now: time.Now} }

// next returns the next id.
func (g *recordIDs) next() pgtype.UUID {
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
func (g *recordIDs) seed() {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	g.hi = binary.BigEndian.Uint64(b[0:8]) & 0x7ff
	g.lo = binary.BigEndian.Uint64(b[8:16]) & (1<<62 - 1)
}
