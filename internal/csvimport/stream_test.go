package csvimport

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// writeRows writes a header and n generated rows of CSV to w, every 1000th
// with a quoted cell holding a line break, a delimiter and doubled quotes.
func writeRows(w io.Writer, n int) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("id,name,note,price,published\n")
	for i := range n {
		note := "plain note"
		if i%1000 == 0 {
			note = "\"line one\nline \"\"two\"\", with a comma\""
		}
		fmt.Fprintf(bw, "%d,Item %d,%s,%d.%02d,2024-05-%02d\n", i, i, note, i%1000, i%100, i%28+1)
	}
	return bw.Flush()
}

// TestStreamMillionRows streams a generated file of a million rows through
// an io.Pipe, so that it never exists whole anywhere, and checks that the
// Reader's memory stays bounded.
func TestStreamMillionRows(t *testing.T) {
	if testing.Short() {
		t.Skip("streams a million rows")
	}
	const rows = 1_000_000
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeRows(pw, rows)) }()

	s, replay, err := Sniff(pr)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := NewReader(replay, Options{Delimiter: s.Delimiter})
	if err != nil {
		t.Fatal(err)
	}
	var peak uint64
	var stats runtime.MemStats
	n := 0
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if row.Number != n+2 || row.Cells[0] != strconv.Itoa(n) || len(row.Cells) != 5 {
			t.Fatalf("row %d: number %d, cells %q", n, row.Number, row.Cells)
		}
		if n%1000 == 0 && row.Cells[2] != "line one\nline \"two\", with a comma" {
			t.Fatalf("row %d: note %q", row.Number, row.Cells[2])
		}
		if n%100_000 == 0 {
			runtime.ReadMemStats(&stats)
			peak = max(peak, stats.HeapInuse)
		}
		n++
	}
	if n != rows {
		t.Fatalf("read %d rows, want %d", n, rows)
	}
	runtime.GC()
	runtime.ReadMemStats(&stats)
	t.Logf("%d rows, %d MB read; heap in use: %.1f MB at the end, %.1f MB peak sampled",
		n, rd.Offset()>>20, float64(stats.HeapInuse)/(1<<20), float64(peak)/(1<<20))
	const limit = 50 << 20
	if stats.HeapInuse > limit || peak > limit {
		t.Errorf("heap in use %d (peak %d) exceeds %d", stats.HeapInuse, peak, limit)
	}
}

// benchFile is 100,000 rows of 20 columns, about 100 MB, built once.
var benchFile = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	for c := range 20 {
		if c > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "column %d", c)
	}
	b.WriteByte('\n')
	filler := bytes.Repeat([]byte("lorem ipsum dolor "), 3)
	for r := range 100_000 {
		for c := range 20 {
			if c > 0 {
				b.WriteByte(',')
			}
			switch c % 4 {
			case 0:
				fmt.Fprintf(&b, "%d", r*20+c)
			case 1:
				fmt.Fprintf(&b, "\"quoted, %s \"\"%d\"\"\"", filler, r)
			case 2:
				fmt.Fprintf(&b, "%s%d", filler, c)
			default:
				fmt.Fprintf(&b, "2024-05-%02d %s", r%28+1, filler)
			}
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
})

func BenchmarkReader(b *testing.B) {
	data := benchFile()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		rd, err := NewReader(bytes.NewReader(data), Options{})
		if err != nil {
			b.Fatal(err)
		}
		rows := 0
		for {
			_, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows++
		}
		if rows != 100_000 {
			b.Fatalf("rows = %d", rows)
		}
	}
}

// BenchmarkEncodingCSV reads the same file with encoding/csv, for comparison
// only: it checks neither UTF-8 nor limits.
func BenchmarkEncodingCSV(b *testing.B) {
	data := benchFile()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		cr := csv.NewReader(bytes.NewReader(data))
		for {
			_, err := cr.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
