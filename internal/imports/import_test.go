package imports

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river/rivertype"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/csvimport"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// messyCSV has a BOM, semicolons, a quoted cell with a line break and
// quotes, a cell that is not a number, a row with a stray quote and a short
// row.
const messyCSV = "\ufeffTitle;Price;Notes;Internal;Launch\r\n" +
	"Lamp;12.50;\"Bright\nand \"\"warm\"\"\";x;2024-05-01\r\n" +
	"Desk;abc;plain;y;2024-06-02\r\n" +
	"Chair;7;bad \"quote;z;2024-07-03\r\n" +
	"<script>alert(1)</script>;0;\"a;b\";w\r\n"

func TestImportUploadPreviewImport(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	ctx := context.Background()
	up := f.MustUpload(t, "../evil/products.csv", messyCSV)
	if up.Filename != "products.csv" || up.Status != StatusUploaded || up.SizeBytes != int64(len(messyCSV)) {
		t.Fatalf("upload = %+v", up)
	}

	p, err := f.svc.Preview(ctx, f.owner, f.wbID, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.FileError != "" || p.Delimiter != ';' || !p.BOM {
		t.Fatalf("preview: error %q delimiter %q bom %v", p.FileError, p.Delimiter, p.BOM)
	}
	var names, types []string
	for _, c := range p.Columns {
		names, types = append(names, c.Name), append(types, string(c.Type))
	}
	if got := strings.Join(names, ","); got != "Title,Price,Notes,Internal,Launch" {
		t.Fatalf("columns %s", got)
	}
	if got := strings.Join(types, ","); got != "text,text,text,text,date" {
		t.Fatalf("types %s (Price has a non-number, so text)", got)
	}
	if len(p.Rows) != 3 || p.Rows[0][2] != "Bright\nand \"warm\"" {
		t.Fatalf("rows %q", p.Rows)
	}
	wantProblems := []string{
		`row 4, column 3 (Notes): a quote (") inside a cell`,
		"row 5 has 4 of the 5 columns",
	}
	if len(p.Problems) != len(wantProblems) {
		t.Fatalf("problems %v", p.Problems)
	}
	for i, w := range wantProblems {
		if !strings.HasPrefix(p.Problems[i].String(), w) {
			t.Errorf("problem %d = %q, want prefix %q", i, p.Problems[i].String(), w)
		}
	}

	// Rename Title, make Price a number, skip Internal.
	choices := DefaultChoices(p)
	choices[0].Name = "Product"
	choices[1].Type = values.Number
	choices[3].Skip = true
	u, table := f.MustStart(t, up.ID, ImportInput{TableName: "Products", Columns: choices})
	if u.Status != StatusImporting || table.Name != "Products" {
		t.Fatalf("started %+v / %+v", u, table)
	}
	var got []string
	for _, c := range table.Columns {
		got = append(got, c.Name+":"+string(c.Type))
	}
	if strings.Join(got, " ") != "Product:text Price:number Notes:text Launch:date" {
		t.Fatalf("table columns %v", got)
	}
	if _, _, err := f.svc.StartImport(ctx, f.owner, f.wbID, up.ID, ImportInput{Columns: choices}); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("second start: %v, want conflict", err)
	}

	u = f.MustRun(t, u)
	if u.Status != StatusDone || u.RowsImported != 3 || u.RowsRejected != 1 || u.CellErrors != 1 || u.LastRow != 5 {
		t.Fatalf("finished upload %+v", u)
	}
	if u.BytesDone != u.SizeBytes {
		t.Fatalf("bytes done %d of %d", u.BytesDone, u.SizeBytes)
	}
	if len(u.Problems) != 2 || u.Problems[0].Row != 3 || u.Problems[0].Column != 2 || u.Problems[1].Row != 4 {
		t.Fatalf("problems %+v", u.Problems)
	}
	recs := f.records(t, table.ID)
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	title, price, notes, launch := colID(t, table, "Product"), colID(t, table, "Price"), colID(t, table, "Notes"), colID(t, table, "Launch")
	if recs[0].Fields[title] != "Lamp" || recs[0].Fields[price] != json.Number("12.50") ||
		recs[0].Fields[notes] != "Bright\nand \"warm\"" || recs[0].Fields[launch] != "2024-05-01" {
		t.Fatalf("record 1 %v", recs[0].Fields)
	}
	if _, ok := recs[1].Fields[price]; ok || !strings.Contains(recs[1].Problems[price], "not a number") {
		t.Fatalf("record 2 fields %v errors %v: the bad price is empty and explained", recs[1].Fields, recs[1].Problems)
	}
	if recs[2].Fields[title] != "<script>alert(1)</script>" || recs[2].State != workbooks.StateClean {
		t.Fatalf("record 3 %+v", recs[2])
	}
	var chunks int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM upload_chunks WHERE upload_id = $1", u.ID).Scan(&chunks); err != nil || chunks != 0 {
		t.Fatalf("chunks left: %d (%v)", chunks, err)
	}
}

func TestImportResumesFromCheckpointWithoutDuplicates(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{BatchRows: 2})
	var b strings.Builder
	b.WriteString("n,label\n")
	for i := 1; i <= 7; i++ {
		fmt.Fprintf(&b, "%d,row %d\n", i, i)
	}
	b.WriteString("8,\"broken\"x\n9,row 9\n")
	up := f.MustUpload(t, "n.csv", b.String())
	p, err := f.svc.Preview(context.Background(), f.owner, f.wbID, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	u, table := f.MustStart(t, up.ID, ImportInput{TableName: "Numbers", Columns: DefaultChoices(p), KeyColumn: "n"})

	crash := errors.New("killed")
	f.svc.afterBatch = func(n int) error {
		if n == 2 {
			return crash
		}
		return nil
	}
	if err := f.svc.RunImport(context.Background(), f.jobArgs(t, u), false); !errors.Is(err, crash) {
		t.Fatalf("first attempt: %v, want the crash", err)
	}
	mid, _ := f.svc.FindUpload(context.Background(), f.owner, f.wbID, u.ID)
	if mid.Status != StatusImporting || mid.RowsImported != 4 || mid.LastRow != 5 {
		t.Fatalf("after the crash: %+v", mid)
	}
	if n := len(f.records(t, table.ID)); n != 4 {
		t.Fatalf("%d records after two batches, want 4", n)
	}

	f.svc.afterBatch = nil
	u = f.MustRun(t, u)
	if u.Status != StatusDone || u.RowsImported != 8 || u.RowsRejected != 1 {
		t.Fatalf("resumed upload %+v", u)
	}
	recs := f.records(t, table.ID)
	var got []string
	for _, r := range recs {
		got = append(got, r.RemoteID+"="+fmt.Sprint(r.Fields[colID(t, table, "n")]))
	}
	if want := "1=1 2=2 3=3 4=4 5=5 6=6 7=7 9=9"; strings.Join(got, " ") != want {
		t.Fatalf("records %s, want %s", strings.Join(got, " "), want)
	}
	// A finished import ignores a late retry.
	if err := f.svc.RunImport(context.Background(), f.jobArgs(t, u), false); err != nil {
		t.Fatal(err)
	}
	if n := len(f.records(t, table.ID)); n != 8 {
		t.Fatalf("%d records after a late retry", n)
	}
}

// A job cancelled as its attempt starts (River cancels the attempt's
// context at once) still records the cancellation on its upload, which
// would otherwise stay "importing" for good.
func TestImportCancelledAsItStartsIsRecorded(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	up := f.MustUpload(t, "n.csv", "n\n1\n2\n")
	p, err := f.svc.Preview(context.Background(), f.owner, f.wbID, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := f.MustStart(t, up.ID, ImportInput{TableName: "Numbers", Columns: DefaultChoices(p)})
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(rivertype.ErrJobCancelledRemotely)
	_ = f.svc.RunImport(ctx, f.jobArgs(t, u), false) // returns the cause, which River expects
	got, err := f.svc.FindUpload(context.Background(), f.owner, f.wbID, u.ID)
	if err != nil || got.Status != StatusCancelled {
		t.Fatalf("upload of a job cancelled at its start: %+v %v", got, err)
	}
}

// Records have no foreign key to their table: each batch holds the table's
// row instead, so a table deleted between batches ends the import, and
// leaves no records behind.
func TestImportStopsWhenItsTableIsDeleted(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{BatchRows: 2})
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("n\n")
	for i := 1; i <= 7; i++ {
		fmt.Fprintf(&b, "%d\n", i)
	}
	up := f.MustUpload(t, "n.csv", b.String())
	p, err := f.svc.Preview(ctx, f.owner, f.wbID, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	u, table := f.MustStart(t, up.ID, ImportInput{TableName: "Numbers", Columns: DefaultChoices(p)})
	f.svc.afterBatch = func(n int) error {
		if n == 1 {
			return f.wb.DeleteTable(ctx, f.owner, f.wbID, table.ID)
		}
		return nil
	}
	if err := f.svc.RunImport(ctx, f.jobArgs(t, u), false); err != nil {
		t.Fatalf("run: %v, want the import ended as failed", err)
	}
	got, err := f.svc.FindUpload(ctx, f.owner, f.wbID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusFailed || !strings.Contains(got.Error, "deleted") || got.RowsImported != 2 {
		t.Errorf("upload after its table was deleted: %+v", got)
	}
	var left int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM records WHERE table_id = $1", table.ID).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d records of the deleted table left (%v)", left, err)
	}
}

// The row lock the record store's bulk path takes before each batch's COPY
// (workbooks.CopyRecordsTx) holds off a deletion of the table until the
// batch commits, so no batch adds records to a table deleted under it.
func TestImportBatchLockHoldsOffTableDeletion(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	ctx := context.Background()
	tbl, err := f.wb.CreateTable(ctx, f.owner, f.wbID, workbooks.TableInput{Name: "Locked", Columns: []workbooks.ColumnInput{{Name: "n", Type: values.Text}}})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer batch.Rollback(ctx) //nolint:errcheck // ended below
	if _, err := f.wb.CopyRecordsTx(ctx, batch, tbl, workbooks.NewRecordIDs(), workbooks.RowsFrom(nil)); err != nil {
		t.Fatal(err)
	}
	deleteTable := func() error {
		conn, err := f.pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		if _, err := conn.Exec(ctx, "SET lock_timeout = '200ms'"); err != nil {
			t.Fatal(err)
		}
		defer conn.Exec(ctx, "RESET lock_timeout") //nolint:errcheck // back to the pool either way
		_, err = conn.Exec(ctx, "DELETE FROM workbook_tables WHERE workbook_id = $1 AND id = $2", f.wbID, tbl.ID)
		return err
	}
	var pgErr *pgconn.PgError
	if err := deleteTable(); !errors.As(err, &pgErr) || pgErr.Code != "55P03" {
		t.Fatalf("deleting the table during a batch: %v, want it to wait for the batch (lock_not_available)", err)
	}
	if err := batch.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := deleteTable(); err != nil {
		t.Fatalf("deleting the table after the batch: %v", err)
	}
}

func TestHostileFilesAreExplained(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	utf16 := "\xff\xfeT\x00i\x00t\x00l\x00e\x00\n\x00"
	cases := map[string]struct {
		content string
		want    string
	}{
		"utf16":       {utf16, "UTF-16"},
		"spreadsheet": {mustZip(t, "[Content_Types].xml", "xl/workbook.xml"), "spreadsheet"},
		"gzip":        {mustGzip(t, "Title,Price\nLamp,12\n"), "The file is compressed with gzip, not CSV; decompress it"},
		"zip":         {mustZip(t, "products.csv"), "The file is a ZIP archive, not CSV; extract it"},
		"binary":      {"\x00\x01\x02\x03abc\x00\x00\x10\x11\x12zzzzzzzzzzzzzzzzzzzzzzzzz", "not a text file"},
		"bad header":  {"a,\"b\"c\n1,2\n", "header row"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			up := f.MustUpload(t, name+".csv", tc.content)
			p, err := f.svc.Preview(context.Background(), f.owner, f.wbID, up.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(p.FileError, tc.want) {
				t.Fatalf("file error %q, want it to mention %q", p.FileError, tc.want)
			}
			_, _, err = f.svc.StartImport(context.Background(), f.owner, f.wbID, up.ID, ImportInput{Columns: []ColumnChoice{{Index: 0, Name: "x", Type: "text"}}})
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("start: %v, want invalid", err)
			}
		})
	}
	_, err := f.svc.CreateUpload(context.Background(), f.owner, f.wbID, "empty.csv", strings.NewReader(""), 0)
	if !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("empty upload: %v", err)
	}
	_, err = f.svc.CreateUpload(context.Background(), f.owner, f.wbID, "big.csv", strings.NewReader(strings.Repeat("a", 3<<20)), 2<<20)
	if !apperr.Is(err, apperr.TooLarge) {
		t.Fatalf("oversized upload: %v", err)
	}
}

// mustGzip compresses content with gzip.
func mustGzip(tb testing.TB, content string) string {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	io.WriteString(zw, content) //nolint:errcheck // a bytes.Buffer
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.String()
}

// mustZip returns a ZIP archive of the named entries, each holding a line.
func mustZip(tb testing.TB, names ...string) string {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range names {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		io.WriteString(w, "a,b\n1,2\n") //nolint:errcheck // a bytes.Buffer
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.String()
}

func TestAnotherUsersUploadIsNotFound(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	up := f.MustUpload(t, "a.csv", "a\n1\n")
	other := MustUser(t, f.pool)
	ctx := context.Background()
	if _, err := f.svc.Preview(ctx, other, f.wbID, up.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("preview by another user: %v", err)
	}
	if _, _, err := f.svc.StartImport(ctx, other, f.wbID, up.ID, ImportInput{}); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("start by another user: %v", err)
	}
	if _, err := f.svc.CreateUpload(ctx, other, f.wbID, "b.csv", strings.NewReader("a\n"), 0); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("upload to another user's workbook: %v", err)
	}
	if _, err := f.svc.Preview(ctx, f.owner, f.wbID, "not-a-uuid"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("bad id: %v", err)
	}
}

// mustImport uploads and imports content with the inferred types.
func (f *fixture) mustImport(t *testing.T, name, content string) workbooks.Table {
	t.Helper()
	up := f.MustUpload(t, name, content)
	p, err := f.svc.Preview(context.Background(), f.owner, f.wbID, up.ID)
	if err != nil || p.FileError != "" {
		t.Fatalf("preview: %v %s", err, p.FileError)
	}
	u, table := f.MustStart(t, up.ID, ImportInput{TableName: name, Columns: DefaultChoices(p)})
	if u = f.MustRun(t, u); u.Status != StatusDone {
		t.Fatalf("import: %+v", u)
	}
	return table
}

func TestExportEqualsTheValues(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	const in = "title,price,active,tags,meta\n" +
		"\"<script>alert(\"\"x\"\")</script>\",12.50,true,\"a, b\",\"{\"\"k\"\": \"\"<v>&\"\"}\"\n" +
		"\"\"\"><img src=x onerror=alert(1)>\",3,false,b,[1]\n" +
		"\"multi\nline\",,,,\n"
	table := f.mustImport(t, "Export me", in)
	types := map[string]string{}
	for _, c := range table.Columns {
		types[c.Name] = string(c.Type)
	}
	// Type inference needs 20 values for selects; tags stays text here.
	if types["price"] != "number" || types["active"] != "boolean" {
		t.Fatalf("types %v", types)
	}
	got := f.export(t, table.ID, workbooks.RecordQuery{})
	want := "title,price,active,tags,meta\n" +
		"\"<script>alert(\"\"x\"\")</script>\",12.50,true,\"a, b\",\"{\"\"k\"\": \"\"<v>&\"\"}\"\n" +
		"\"\"\"><img src=x onerror=alert(1)>\",3,false,b,[1]\n" +
		"\"multi\nline\",,,,\n"
	// The json column is text here too (inference does not guess json), so
	// the export is the file, byte for byte.
	if got != want {
		t.Fatalf("export:\n%s\nwant:\n%s", got, want)
	}
	filtered := f.export(t, table.ID, workbooks.RecordQuery{Filter: "price > 5"})
	if filtered != "title,price,active,tags,meta\n\"<script>alert(\"\"x\"\")</script>\",12.50,true,\"a, b\",\"{\"\"k\"\": \"\"<v>&\"\"}\"\n" {
		t.Fatalf("filtered export:\n%s", filtered)
	}
	sorted := f.export(t, table.ID, workbooks.RecordQuery{Sort: "-price"})
	if !strings.HasPrefix(sorted, "title,price,active,tags,meta\n\"<script>") {
		t.Fatalf("sorted export:\n%s", sorted)
	}
	if _, err := f.svc.PrepareExport(context.Background(), f.owner, f.wbID, table.ID, workbooks.RecordQuery{Filter: "price >"}, ""); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("bad filter: %v", err)
	}
}

// TestExportCanonicalText checks that an export writes each stored value as
// workbooks.Column.Text does, which is also what the grid shows: a json
// string stays quoted, so it reads back as the same JSON value.
func TestExportCanonicalText(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	ctx := context.Background()
	table, err := f.wb.CreateTable(ctx, f.owner, f.wbID, workbooks.TableInput{Name: "Kinds", Columns: []workbooks.ColumnInput{
		{Name: "tags", Type: values.MultiSelect, Options: []string{"a", "b c"}},
		{Name: "ok", Type: values.Boolean},
		{Name: "price", Type: values.Number},
		{Name: "meta", Type: values.JSON},
		{Name: "label", Type: values.JSON},
		{Name: "note", Type: values.Text},
	}})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := f.wb.CreateRecord(ctx, f.owner, f.wbID, table.ID, map[string]any{
		"tags": []string{"a", "b c"}, "ok": false, "price": "1.50",
		"meta": json.RawMessage(`{"b": [1], "a": "<x>"}`), "label": json.RawMessage(`"s"`),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := f.export(t, table.ID, workbooks.RecordQuery{})
	want := "tags,ok,price,meta,label,note\n" + `"a, b c",false,1.50,"{""a"":""<x>"",""b"":[1]}","""s""",` + "\n"
	if got != want {
		t.Fatalf("export:\n%s\nwant:\n%s", got, want)
	}
	for _, c := range table.Columns {
		if !strings.Contains(got, csvField(c.Text(rec.Fields[c.ID]))) {
			t.Errorf("export lacks %s as Column.Text writes it: %q", c.Name, c.Text(rec.Fields[c.ID]))
		}
	}
}

// csvField is s as encoding/csv writes a field.
func csvField(s string) string {
	if s == "" || !strings.ContainsAny(s, `",`+"\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func TestImportSuggestions(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	table := f.mustImport(t, "Catalog", "sku,title,price\nA1,Lamp,10\nA2,Desk,20\nA3,Chair,30\n")
	const update = "sku,title,price,unknown\n" +
		"A1,Lamp,11,x\n" + // price differs
		"A2,Desk <b>,20,y\n" + // title differs
		"A3,,30,\n" + // nothing differs (empty cells are no suggestion)
		"Z9,Sofa,99,\n" + // unmatched
		"A1,Lamp,abc,\n" // price does not convert
	ctx := context.Background()
	rep, err := f.svc.ImportSuggestions(ctx, f.owner, f.wbID, table.ID, strings.NewReader(update), "sku", false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 5 || rep.Matched != 4 || rep.Cells != 2 || rep.Records != 2 || rep.Unmatched != 1 ||
		strings.Join(rep.UnmatchedKeys, ",") != "Z9" || rep.Created != 0 || strings.Join(rep.IgnoredColumns, ",") != "unknown" {
		t.Fatalf("report %+v", rep)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Row != 6 || rep.Problems[0].Name != "price" {
		t.Fatalf("problems %+v", rep.Problems)
	}
	recs := f.records(t, table.ID)
	price, title := colID(t, table, "price"), colID(t, table, "title")
	if recs[0].Suggestions[price] != json.Number("11") || recs[0].Fields[price] != json.Number("10") {
		t.Fatalf("record A1: fields %v suggestions %v", recs[0].Fields, recs[0].Suggestions)
	}
	if recs[1].Suggestions[title] != "Desk <b>" || len(recs[2].Suggestions) != 0 {
		t.Fatalf("suggestions %v / %v", recs[1].Suggestions, recs[2].Suggestions)
	}

	rep, err = f.svc.ImportSuggestions(ctx, f.owner, f.wbID, table.ID, strings.NewReader("SKU;title\nZ9;Sofa\n"), "SKU", true)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 1 || rep.Unmatched != 1 {
		t.Fatalf("create report %+v", rep)
	}
	recs = f.records(t, table.ID)
	if last := recs[len(recs)-1]; last.SuggestedAction != "create" || last.Fields[title] != "Sofa" {
		t.Fatalf("draft %+v", last)
	}

	if _, err := f.svc.ImportSuggestions(ctx, f.owner, f.wbID, table.ID, strings.NewReader(update), "nope", false); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("unknown key column: %v", err)
	}
	if _, err := f.svc.ImportSuggestions(ctx, f.owner, f.wbID, table.ID, strings.NewReader("title\nx\n"), "sku", false); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("key column missing from the file: %v", err)
	}
	if _, err := f.svc.ImportSuggestions(ctx, MustUser(t, f.pool), f.wbID, table.ID, strings.NewReader(update), "sku", false); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("another user: %v", err)
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", "quote \" back \\ slash", "line\nbreak\r\ttab", "\x01\x1f ctl", "é ü 日本 <&>", "\u2028"} {
		var got any
		if err := json.Unmarshal(workbooks.AppendJSONString(nil, s), &got); err != nil || got != s {
			t.Errorf("AppendJSONString(%q) decodes to %q (%v)", s, got, err)
		}
	}
	if _, err := csvimport.ConvertCell(values.Spec{Type: values.Number}, "1"); err != nil {
		t.Fatal(err)
	}
}

// TestImportLeavesTheTableReady is issue 9's item 11: right after an
// import says done, with autovacuum off as on the test server, a table the
// import made big has its indexes built, and its first sorted and filtered
// pages use them.
func TestImportLeavesTheTableReady(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	ctx := context.Background()
	f.wb.SetIndexThreshold(15000)
	var b strings.Builder
	b.WriteString("Title,Price,Category\n")
	for i := range 20000 {
		fmt.Fprintf(&b, "Item %d,%d,Category %02d\n", i, i%997, i%20)
	}
	up := f.MustUpload(t, "big.csv", b.String())
	p, err := f.svc.Preview(ctx, f.owner, f.wbID, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	u, tbl := f.MustStart(t, up.ID, ImportInput{TableName: "Big", Columns: DefaultChoices(p)})
	stop := f.workIndexes(t, tbl.ID)
	done := f.MustRun(t, u)
	stop()
	if done.Status != StatusDone || done.RowsImported != 20000 {
		t.Fatalf("import ended %s with %d rows", done.Status, done.RowsImported)
	}
	idx, err := f.wb.Indexes().Find(ctx, f.wbID, tbl.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Title, Price and Category, each both ways.
	if len(idx) != 6 {
		t.Fatalf("%d indexes after the import, want 6: %+v", len(idx), idx)
	}
	for _, ri := range idx {
		if ri.Status != "ready" {
			t.Errorf("index %+v not ready when the import said done", ri)
		}
	}
	for _, q := range []workbooks.RecordQuery{
		{Sort: "-Price", Limit: 100},
		{Sort: "Title", Limit: 100},
		{Sort: "-Price", Filter: "Category = 'Category 07'", Limit: 100},
	} {
		plan, err := f.wb.ExplainFindRecords(ctx, f.owner, f.wbID, tbl.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, " ri_") {
			t.Errorf("the first page %+v after the import uses no index of the table:\n%s", q, plan)
		}
	}
}
