package csvimport

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReader checks, for any input, that reading ends, that every row has
// one valid UTF-8 cell per header column, that row numbers increase and that
// errors never quote more than an excerpt of the input.
func FuzzReader(f *testing.F) {
	for _, seed := range []string{
		"a,b\n1,2\n", "a;b\r\n\"x\"\"y\";2\r", "\uFEFFa\tb\n\"1\n2\"\t3\n", "a,b\n1,\"2\n", "a\n\"x\"y\n",
		"a,b\n1,2,3\n\n,,\n4\n", "\xff\xfea\x00", "a,b\nx\xffy,\x00\n", "\"\"\"\",\"\n\"\"\"",
	} {
		f.Add([]byte(seed), byte(','))
	}
	f.Fuzz(func(t *testing.T, input []byte, delim byte) {
		delims := []rune{',', ';', '\t', '|'}
		opts := Options{Delimiter: delims[int(delim)%len(delims)], MaxCellBytes: 64, MaxRowBytes: 256, MaxColumns: 8}
		if _, replay, err := Sniff(bytes.NewReader(input)); err == nil {
			if rest, _ := io.ReadAll(replay); !bytes.Equal(rest, bytes.TrimPrefix(input, bomUTF8)) {
				t.Fatalf("replay differs from the input")
			}
		}
		rd, err := NewReader(bytes.NewReader(input), opts)
		if err != nil {
			checkErrorText(t, err)
			return
		}
		header := rd.Header()
		if len(header) == 0 || len(header) > opts.MaxColumns {
			t.Fatalf("header %q", header)
		}
		last := 1
		for range len(input) + 1 {
			row, err := rd.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var cellErr *CellError
				var rowErr *RowError
				if !errors.As(err, &cellErr) && !errors.As(err, &rowErr) {
					t.Fatalf("unexpected error %v", err)
				}
				checkErrorText(t, err)
				continue
			}
			if row.Number <= last {
				t.Fatalf("row number %d after %d", row.Number, last)
			}
			last = row.Number
			if len(row.Cells) != len(header) {
				t.Fatalf("row %d has %d cells, header %d", row.Number, len(row.Cells), len(header))
			}
			for _, c := range row.Cells {
				if !utf8.ValidString(c) || len(c) > opts.MaxCellBytes || strings.ContainsRune(c, 0) {
					t.Fatalf("row %d: bad cell %q", row.Number, c)
				}
			}
		}
		t.Fatalf("more rows than bytes of input")
	})
}

func checkErrorText(t *testing.T, err error) {
	t.Helper()
	if msg := err.Error(); len(msg) > 400 {
		t.Fatalf("error message of %d bytes: %.100q", len(msg), msg)
	}
}
