package csvimport

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestSniff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		input  string
		delim  rune
		header []string
		bom    bool
	}{
		{name: "comma", input: "name,price\nPen,1\nInk,2\n", delim: ',', header: []string{"name", "price"}},
		{name: "semicolon with decimal commas", input: "name;price;qty\nPen;1,5;2\nInk;2,25;10,5\n", delim: ';', header: []string{"name", "price", "qty"}},
		{name: "tab with commas in text", input: "name\tnote\nPen\ta, b\nInk\tc, d, e\n", delim: '\t', header: []string{"name", "note"}},
		{name: "semicolons inside quoted comma cells", input: "a,b\n\"x;y;z\",1\n\"p;q\",2\n", delim: ',', header: []string{"a", "b"}},
		{name: "commas inside quoted semicolon cells", input: "a;b;c\n\"1,2,3,4\";x;y\n\"5,6\";z;w\n", delim: ';', header: []string{"a", "b", "c"}},
		{name: "quoted line breaks", input: "a;b\n\"x\n1,2,3\";y\n", delim: ';', header: []string{"a", "b"}},
		{name: "single column", input: "name\nPen\nInk\n", delim: ',', header: []string{"name"}},
		{name: "header only", input: "a;b;c", delim: ';', header: []string{"a", "b", "c"}},
		{name: "ragged rows still favour the consistent delimiter", input: "a;b;c\n1;2;3\n4;5\n6;7;8\n9,1;2;3\n", delim: ';', header: []string{"a", "b", "c"}},
		{name: "BOM is stripped", input: "\uFEFFid,name\n1,x\n", delim: ',', header: []string{"id", "name"}, bom: true},
		{name: "header names normalized", input: "a,,a\n1,2,3\n", delim: ',', header: []string{"a", "Column 2", "a (2)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, replay, err := Sniff(strings.NewReader(tt.input))
			if err != nil {
				t.Fatalf("Sniff: %v", err)
			}
			if s.Delimiter != tt.delim {
				t.Errorf("Delimiter = %q, want %q", s.Delimiter, tt.delim)
			}
			if !reflect.DeepEqual(s.Header, tt.header) {
				t.Errorf("Header = %q, want %q", s.Header, tt.header)
			}
			if s.BOM != tt.bom {
				t.Errorf("BOM = %v, want %v", s.BOM, tt.bom)
			}
			rest, err := io.ReadAll(replay)
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.TrimPrefix(tt.input, "\uFEFF"); string(rest) != want {
				t.Errorf("replay = %q, want %q", rest, want)
			}
		})
	}
}

func TestSniffErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		want  error
	}{
		{name: "empty", input: "", want: ErrEmpty},
		{name: "blank", input: "\n\n", want: ErrEmpty},
		{name: "UTF-16 LE with BOM", input: "\xFF\xFEa\x00,\x00b\x00\n\x00", want: ErrUTF16},
		{name: "UTF-16 BE with BOM", input: "\xFE\xFF\x00a\x00,\x00b", want: ErrUTF16},
		{name: "UTF-32 BE with BOM", input: "\x00\x00\xFE\xFF\x00\x00\x00a", want: ErrUTF16},
		{name: "UTF-16 LE without BOM", input: "a\x00,\x00b\x00\n\x001\x00,\x002\x00\n\x00", want: ErrUTF16},
		{name: "xlsx", input: zipOf(t, "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml"), want: ErrSpreadsheet},
		{name: "xlsx written by another program", input: zipOf(t, "docProps/app.xml", "xl/worksheets/sheet1.xml"), want: ErrSpreadsheet},
		{name: "ods", input: zipOf(t, "mimetype"), want: ErrSpreadsheet},
		{name: "xls", input: "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00", want: ErrSpreadsheet},
		{name: "binary", input: "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", want: ErrNotText},
		{name: "header longer than the prefix", input: strings.Repeat("col,", SniffBytes/4+10) + "\n1\n", want: ErrHeaderTooLong},
		{name: "quoted header cell cut off by the prefix", input: "a,\"" + strings.Repeat("x\n", SniffBytes) + "\"\n", want: ErrHeaderTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := Sniff(strings.NewReader(tt.input))
			if !errors.Is(err, tt.want) {
				t.Errorf("Sniff error = %v, want %v", err, tt.want)
			}
		})
	}
}

// zipOf returns a ZIP file holding the named entries; an entry named
// mimetype holds an OpenDocument spreadsheet's type, as an .ods does, the
// others a CSV line.
func zipOf(t testing.TB, names ...string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range names {
		// OpenDocument stores its mimetype uncompressed, first.
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		if name == "mimetype" {
			h.Method = zip.Store
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		content := "name,price\nPen,1\n"
		if name == "mimetype" {
			content = "application/vnd.oasis.opendocument.spreadsheet"
		}
		io.WriteString(w, content) //nolint:errcheck // a bytes.Buffer
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// gzipOf returns content compressed with gzip, as gzip(1) writes it: with
// the original file name in the header.
func gzipOf(t testing.TB, content string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Name = "export.csv"
	io.WriteString(zw, content) //nolint:errcheck // a bytes.Buffer
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestSniffNamesCompressedFiles checks that compressed files, archives and
// PDFs are reported as what they are, with what to do, rather than as
// UTF-16 or unreadable text: gzip and ZIP files are made here, the other
// formats start with their published signatures.
func TestSniffNamesCompressedFiles(t *testing.T) {
	t.Parallel()
	var rows strings.Builder
	rows.WriteString("id,name,price\n")
	for i := range 2000 {
		fmt.Fprintf(&rows, "%d,item %d,%d.%02d\n", i, i, i%100, i%97)
	}
	tests := []struct {
		name, input, format string
		kind                error
	}{
		{"gzip of a small CSV", gzipOf(t, "name,price\nPen,1\nInk,2\n"), "compressed with gzip", ErrCompressed},
		{"gzip of a large CSV", gzipOf(t, rows.String()), "compressed with gzip", ErrCompressed},
		{"ZIP archive of a CSV", zipOf(t, "export.csv"), "a ZIP archive", ErrCompressed},
		{"bzip2", "BZh91AY&SY\x8b\x1e\x7f\x99\x00\x00", "compressed with bzip2", ErrCompressed},
		{"xz", "\xFD7zXZ\x00\x00\x04\xE6\xD6\xB4\x46", "compressed with xz", ErrCompressed},
		{"Zstandard", "\x28\xB5\x2F\xFD\x24\x13\x99\x00", "compressed with Zstandard", ErrCompressed},
		{"7-Zip", "7z\xBC\xAF\x27\x1C\x00\x04", "a 7-Zip archive", ErrCompressed},
		{"PDF", "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n", "a PDF document", ErrNotText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := Sniff(strings.NewReader(tt.input))
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Format != tt.format || !errors.Is(err, tt.kind) {
				t.Fatalf("Sniff error = %v, want a FormatError for %s", err, tt.format)
			}
			if errors.Is(err, ErrUTF16) || !strings.Contains(err.Error(), "not CSV") {
				t.Errorf("message %q", err)
			}
		})
	}
	// Text that merely starts like a signature is still CSV.
	for _, text := range []string{"BZh,x\n1,2\n", "PDF,x\n1,2\n", "7z,x\n1,2\n"} {
		if _, _, err := Sniff(strings.NewReader(text)); err != nil {
			t.Errorf("Sniff(%q): %v", text, err)
		}
	}
}

func TestSniffUTF16Message(t *testing.T) {
	t.Parallel()
	_, _, err := Sniff(bytes.NewReader([]byte{0xFF, 0xFE, 'a', 0}))
	if err == nil || err.Error() != "the file is UTF-16; save it as UTF-8" {
		t.Errorf("error = %v", err)
	}
}

// TestSniffReplaysLargeFiles checks that a file longer than the sniffed
// prefix comes back whole, and reads as it should, through the replay.
func TestSniffReplaysLargeFiles(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("\uFEFFid;text\n")
	for i := range 20000 {
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(";\"a;b\nc\"\n")
	}
	input := b.String()
	s, replay, err := Sniff(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if s.Delimiter != ';' || !s.BOM {
		t.Fatalf("Sniffed = %+v", s)
	}
	rd, err := NewReader(replay, Options{Delimiter: s.Delimiter})
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if row.Cells[1] != "a;b\nc" {
			t.Fatalf("row %d: %q", row.Number, row.Cells)
		}
		rows++
	}
	if rows != 20000 {
		t.Errorf("rows = %d, want 20000", rows)
	}
	if got, want := rd.Offset(), int64(len(input)-3); got != want {
		t.Errorf("Offset = %d, want %d", got, want)
	}
}
