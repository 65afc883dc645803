package workbooks

import (
	"bytes"
	"testing"
	"time"
)

func TestRecordIDsAreVersion7AndOnlyGrow(t *testing.T) {
	t.Parallel()
	clock := time.UnixMilli(1_700_000_000_000)
	g := NewRecordIDs()
	g.now = func() time.Time { return clock }
	steps := []time.Duration{0, 0, 0, time.Millisecond, 0, -time.Second, 0, time.Hour}
	prev := g.Next()
	for i, step := range steps {
		clock = clock.Add(step)
		id := g.Next()
		if !id.Valid || id.Bytes[6]>>4 != 7 || id.Bytes[8]>>6 != 0b10 {
			t.Fatalf("id %d = %x: not a UUIDv7", i, id.Bytes)
		}
		if bytes.Compare(id.Bytes[:], prev.Bytes[:]) <= 0 {
			t.Fatalf("id %d = %x does not follow %x (clock step %v)", i, id.Bytes, prev.Bytes, step)
		}
		prev = id
	}
	if ms := int64(prev.Bytes[0])<<40 | int64(prev.Bytes[1])<<32 | int64(prev.Bytes[2])<<24 |
		int64(prev.Bytes[3])<<16 | int64(prev.Bytes[4])<<8 | int64(prev.Bytes[5]); ms != clock.UnixMilli() {
		t.Errorf("timestamp %d, want %d", ms, clock.UnixMilli())
	}
}
