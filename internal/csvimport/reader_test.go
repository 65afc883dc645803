package csvimport

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// result is everything a Reader made of a file.
type result struct {
	header []string
	rows   []Row
	errs   []string // the rows' errors, in order
}

// MustReadAll reads input with opts, collecting rejected rows' errors and
// going on after them as the Reader allows.
func MustReadAll(t testing.TB, input string, opts Options) result {
	t.Helper()
	rd, err := NewReader(strings.NewReader(input), opts)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	res := result{header: rd.Header()}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return res
		}
		var cellErr *CellError
		var rowErr *RowError
		switch {
		case errors.As(err, &cellErr), errors.As(err, &rowErr):
			res.errs = append(res.errs, err.Error())
		case err != nil:
			t.Fatalf("Next: %v", err)
		default:
			res.rows = append(res.rows, row)
		}
	}
}

// cells returns the cells of each row.
func (r result) cells() [][]string {
	var out [][]string
	for _, row := range r.rows {
		out = append(out, row.Cells)
	}
	return out
}

func TestReaderRows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		input  string
		opts   Options
		header []string
		cells  [][]string
		errs   []string
	}{
		{
			name:   "comma",
			input:  "name,price\nPen,1.5\nInk,12\n",
			header: []string{"name", "price"},
			cells:  [][]string{{"Pen", "1.5"}, {"Ink", "12"}},
		},
		{
			name:   "semicolon",
			input:  "name;price\nPen;1,5\n",
			opts:   Options{Delimiter: ';'},
			header: []string{"name", "price"},
			cells:  [][]string{{"Pen", "1,5"}},
		},
		{
			name:   "tab",
			input:  "name\tnote\nPen\ta, b; c\n",
			opts:   Options{Delimiter: '\t'},
			header: []string{"name", "note"},
			cells:  [][]string{{"Pen", "a, b; c"}},
		},
		{
			name:   "UTF-8 byte order mark is skipped",
			input:  "\uFEFFname,price\nPen,1\n",
			header: []string{"name", "price"},
			cells:  [][]string{{"Pen", "1"}},
		},
		{
			name:   "no final line break and an empty last cell",
			input:  "a,b\n1,",
			header: []string{"a", "b"},
			cells:  [][]string{{"1", ""}},
		},
		{
			name:   "quoted cells with delimiters, doubled quotes and line breaks",
			input:  "a,b\n\"x, y\",\"say \"\"hi\"\"\"\n\"line 1\nline 2\",\"\"\n",
			header: []string{"a", "b"},
			cells:  [][]string{{"x, y", `say "hi"`}, {"line 1\nline 2", ""}},
		},
		{
			name:   "CRLF and lone CR line ends; line breaks in cells become LF",
			input:  "a,b\r\n1,2\r\"x\r\ny\",3\r\n\"p\rq\",4",
			header: []string{"a", "b"},
			cells:  [][]string{{"1", "2"}, {"x\ny", "3"}, {"p\nq", "4"}},
		},
		{
			name:   "header names are trimmed, filled in and made unique",
			input:  " a ,,a,A,Column 2, \nx\n",
			header: []string{"a", "Column 2", "a (2)", "A (3)", "Column 2 (2)", "Column 6"},
			cells:  [][]string{{"x", "", "", "", "", ""}},
		},
		{
			name:   "leading blank lines before the header",
			input:  "\n\r\nname\nPen\n",
			header: []string{"name"},
			cells:  [][]string{{"Pen"}},
		},
		{
			name:   "blank lines and empty rows are skipped",
			input:  "a,b\n\n1,2\n,\n,,\n3,4\n",
			header: []string{"a", "b"},
			cells:  [][]string{{"1", "2"}, {"3", "4"}},
		},
		{
			name:   "empty rows are kept on request",
			input:  "a,b\n\n,\n",
			opts:   Options{KeepEmptyRows: true},
			header: []string{"a", "b"},
			cells:  [][]string{{"", ""}},
		},
		{
			name:   "short rows are padded",
			input:  "a,b,c\n1\n1,2\n",
			header: []string{"a", "b", "c"},
			cells:  [][]string{{"1", "", ""}, {"1", "2", ""}},
		},
		{
			name:   "long rows whose extra cells are empty are cut back",
			input:  "a,b\n1,2,,\n",
			header: []string{"a", "b"},
			cells:  [][]string{{"1", "2"}},
		},
		{
			name:   "long rows with extra values are errors naming the columns",
			input:  "a,b\n1,2,3\n1,2,,x,y\n5,6\n",
			header: []string{"a", "b"},
			cells:  [][]string{{"5", "6"}},
			errs: []string{
				"row 2: 3 cells but the header has 2 columns; column 3 beyond the header is not empty",
				"row 3: 5 cells but the header has 2 columns; columns 4 and 5 beyond the header are not empty",
			},
		},
		{
			name:   "many extra columns are summarized",
			input:  "a\n1,2,3,4,5,6,7,8\n",
			header: []string{"a"},
			errs:   []string{"row 2: 8 cells but the header has 1 column; columns 2, 3, 4, 5, 6 and 2 more beyond the header are not empty"},
		},
		{
			name:   "invalid UTF-8 names the row and column",
			input:  "id,name,title\n1,a,ok\n2,b,caf\xe9\n3,c,fine\n",
			header: []string{"id", "name", "title"},
			cells:  [][]string{{"1", "a", "ok"}, {"3", "c", "fine"}},
			errs:   []string{`row 3, column 3 ("title"): not valid UTF-8 (save the file as CSV UTF-8)`},
		},
		{
			name:   "invalid UTF-8 after a cell with line breaks counts rows, not lines",
			input:  "a,b\n\"1\n2\n3\",x\n\n4,\xff\n",
			header: []string{"a", "b"},
			cells:  [][]string{{"1\n2\n3", "x"}},
			errs:   []string{`row 4, column 2 ("b"): not valid UTF-8 (save the file as CSV UTF-8)`},
		},
		{
			name:   "NUL characters are rejected",
			input:  "a,b\n1,x\x00y\n",
			header: []string{"a", "b"},
			errs:   []string{`row 2, column 2 ("b"): contains a NUL character`},
		},
		{
			name:   "a bare quote is an error and reading goes on at the next row",
			input:  "a,b\n1,2\n3,4 \"inch\" secret\n5,6\n",
			header: []string{"a", "b"},
			cells:  [][]string{{"1", "2"}, {"5", "6"}},
			errs: []string{`row 3, column 2 ("b"): a quote (") inside a cell that does not start with one; ` +
				`quote the whole cell and double the quotes inside it ("")`},
		},
		{
			name:   "text after a closing quote",
			input:  "a,b\n\"x\"y,2\n3,4\n",
			header: []string{"a", "b"},
			cells:  [][]string{{"3", "4"}},
			errs:   []string{`row 2, column 1 ("a"): text after the closing quote of a quoted cell`},
		},
		{
			name:   "a quoted cell that is never closed",
			input:  "a,b\n1,\"open\n2,3\n",
			header: []string{"a", "b"},
			errs:   []string{`row 2, column 2 ("b"): a quoted cell is never closed (the file ends inside it)`},
		},
		{
			name:   "a cell over the size limit, then reading goes on",
			input:  "a,b\n1,0123456789x\n2,\"0123456789\"\n3,\"01234\n56789\"\"\"\n",
			opts:   Options{MaxCellBytes: 10},
			header: []string{"a", "b"},
			cells:  [][]string{{"2", "0123456789"}},
			errs: []string{
				`row 2, column 2 ("b"): the cell is larger than 10 bytes`,
				`row 4, column 2 ("b"): the cell is larger than 10 bytes`,
			},
		},
		{
			name:   "a row over the size limit",
			input:  "a,b,c\n1234,5678,9\n1,2,3\n",
			opts:   Options{MaxRowBytes: 8},
			header: []string{"a", "b", "c"},
			cells:  [][]string{{"1", "2", "3"}},
			errs:   []string{"row 2: the row is larger than 8 bytes"},
		},
		{
			name:   "a row over the column limit",
			input:  "a,b\n1,2,3,4\n1,2\n",
			opts:   Options{MaxColumns: 3},
			header: []string{"a", "b"},
			cells:  [][]string{{"1", "2"}},
			errs:   []string{"row 2: 4 cells; at most 3 columns are allowed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := MustReadAll(t, tt.input, tt.opts)
			if !reflect.DeepEqual(got.header, tt.header) {
				t.Errorf("header = %q, want %q", got.header, tt.header)
			}
			if cells := got.cells(); !reflect.DeepEqual(cells, tt.cells) {
				t.Errorf("cells = %q, want %q", cells, tt.cells)
			}
			if !reflect.DeepEqual(got.errs, tt.errs) {
				t.Errorf("errors =\n%q\nwant\n%q", got.errs, tt.errs)
			}
		})
	}
}

func TestReaderRowNumbersAndWarnings(t *testing.T) {
	t.Parallel()
	input := "a,b\n1,2\n\"x\ny\",3\n\n4\n,\n5,6\n"
	got := MustReadAll(t, input, Options{})
	type pos struct{ number, line int }
	var positions []pos
	for _, row := range got.rows {
		positions = append(positions, pos{row.Number, row.Line})
	}
	want := []pos{{2, 2}, {3, 3}, {5, 6}, {7, 8}}
	if !reflect.DeepEqual(positions, want) {
		t.Errorf("(number, line) = %v, want %v", positions, want)
	}
	if w := got.rows[2].Warnings; !reflect.DeepEqual(w, []string{"row 5 has 1 of the 2 columns; the missing cells were left empty"}) {
		t.Errorf("warnings of the short row = %q", w)
	}
	for _, i := range []int{0, 1, 3} {
		if got.rows[i].Warnings != nil {
			t.Errorf("row %d has warnings %q", got.rows[i].Number, got.rows[i].Warnings)
		}
	}
}

func TestNewReaderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		opts  Options
		want  string
		is    error
	}{
		{name: "empty file", input: "", is: ErrEmpty},
		{name: "only blank lines", input: "\n\r\n\n", is: ErrEmpty},
		{name: "only a byte order mark", input: "\uFEFF", is: ErrEmpty},
		{name: "UTF-16 little endian", input: "\xFF\xFEa\x00,\x00b\x00", is: ErrUTF16},
		{name: "UTF-16 big endian", input: "\xFE\xFF\x00a\x00,\x00b", is: ErrUTF16},
		{name: "invalid UTF-8 in the header", input: "a,b\xff\n", want: `row 1, column 2: not valid UTF-8 (save the file as CSV UTF-8)`},
		{name: "too many header columns", input: "a,b,c,d\n", opts: Options{MaxColumns: 3}, want: "row 1: 4 cells; at most 3 columns are allowed"},
		{name: "bare quote in the header", input: "a,b\"\n", want: `row 1, column 2: a quote (") inside a cell that does not start with one; quote the whole cell and double the quotes inside it ("")`},
		{name: "bad delimiter", input: "a\n", opts: Options{Delimiter: '"'}, want: `csvimport: invalid delimiter '"'`},
		{name: "non-ASCII delimiter", input: "a\n", opts: Options{Delimiter: '§'}, want: `csvimport: invalid delimiter '§'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewReader(strings.NewReader(tt.input), tt.opts)
			switch {
			case err == nil:
				t.Fatal("NewReader succeeded")
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Errorf("error = %v, want %v", err, tt.is)
			case tt.want != "" && err.Error() != tt.want:
				t.Errorf("error = %q, want %q", err, tt.want)
			}
		})
	}
}

func TestUTF16ErrorMessage(t *testing.T) {
	t.Parallel()
	_, err := NewReader(strings.NewReader("\xFF\xFEa\x00"), Options{})
	if err == nil || err.Error() != "the file is UTF-16; save it as UTF-8" {
		t.Errorf("error = %v", err)
	}
}

func TestDefaultCellLimit(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", DefaultMaxCellBytes)
	input := "a,b\n1," + big + "\n2," + big + "y\n3,z\n"
	got := MustReadAll(t, input, Options{})
	if len(got.rows) != 2 || got.rows[0].Cells[1] != big || got.rows[1].Cells[1] != "z" {
		t.Errorf("rows: %d", len(got.rows))
	}
	want := []string{`row 3, column 2 ("b"): the cell is larger than 1 MiB`}
	if !reflect.DeepEqual(got.errs, want) {
		t.Errorf("errors = %q, want %q", got.errs, want)
	}
}

func TestErrorsHideCellContent(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-secret"
	inputs := []string{
		"a,b\n1,x\"" + secret + "\n",
		"a,b\n1,\"x\"" + secret + "\n",
		"a,b\n1,\"" + secret + "\xff\"\n",
		"a,b\n1,2," + secret + "\n",
		"a,b\n1,\"" + secret,
		"a,b\n1," + secret + strings.Repeat("x", 100) + "\n",
	}
	for _, input := range inputs {
		got := MustReadAll(t, input, Options{MaxCellBytes: 64})
		if len(got.errs) != 1 {
			t.Errorf("%q: errors %q, want one", input, got.errs)
			continue
		}
		if strings.Contains(got.errs[0], secret) {
			t.Errorf("%q: error %q shows the cell", input, got.errs[0])
		}
	}
}

// failingReader returns data and then a read error.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestReadErrorsAreFinal(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	rd, err := NewReader(&failingReader{data: "a,b\n1,2\n3,", err: boom}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if row, err := rd.Next(); err != nil || row.Cells[1] != "2" {
		t.Fatalf("first row = %v, %v", row, err)
	}
	for range 2 {
		if _, err := rd.Next(); !errors.Is(err, boom) {
			t.Errorf("Next error = %v, want %v", err, boom)
		}
	}
}

func TestOffset(t *testing.T) {
	t.Parallel()
	input := "\uFEFFa,b\n1,2\n"
	rd, err := NewReader(strings.NewReader(input), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rd.Offset(); got != 4 {
		t.Errorf("Offset after header = %d, want 4", got)
	}
	for {
		if _, err := rd.Next(); err != nil {
			break
		}
	}
	if got := rd.Offset(); got != int64(len(input)-3) {
		t.Errorf("Offset at the end = %d, want %d", got, len(input)-3)
	}
}
