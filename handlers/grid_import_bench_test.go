package handlers_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/imports"
)

// writeImportCSV writes rows of a product catalogue: a title, a category
// of 20, a price and a note.
func writeImportCSV(w io.Writer, rows int) error {
	r := rand.New(rand.NewPCG(3, 4))
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"Title", "Category", "Price", "Note"}); err != nil {
		return err
	}
	for i := range rows {
		if err := cw.Write([]string{
			fmt.Sprintf("Product %06d %s", i, benchWords(r, 3)),
			fmt.Sprintf("Category %02d", r.IntN(20)),
			fmt.Sprintf("%d.%02d", r.IntN(1000), r.IntN(100)),
			benchWords(r, 12),
		}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

var benchWordList = []string{"harbor", "kettle", "lantern", "meadow", "copper", "violet", "granite", "willow", "ember", "saddle", "quartz", "linen"}

func benchWords(r *rand.Rand, n int) string {
	s := ""
	for i := range n {
		if i > 0 {
			s += " "
		}
		s += benchWordList[r.IntN(len(benchWordList))]
	}
	return s
}

// BenchmarkGridAfterImport imports 100,000 rows through the CSV import job
// (BENCH_IMPORT_ROWS overrides) with autovacuum off for the records table,
// then loads the first grid page sorted by -Price and filtered on Category
// at once, and the same page again after a minute (BENCH_IMPORT_SETTLE
// overrides), as the median of five loads. Target: the first within 2× of
// the later one.
func BenchmarkGridAfterImport(b *testing.B) {
	if testing.Short() {
		b.Skip("imports 100,000 rows: run with -bench")
	}
	rows := 100000
	if n, err := fmt.Sscan(os.Getenv("BENCH_IMPORT_ROWS"), &rows); n != 1 || err != nil {
		rows = 100000
	}
	settle := time.Minute
	if d, err := time.ParseDuration(os.Getenv("BENCH_IMPORT_SETTLE")); err == nil {
		settle = d
	}
	ctx := context.Background()
	inst := apptest.MustStart(b, apptest.Options{})
	br := inst.NewBrowser(b)
	const email = "after-import@example.com"
	br.MustSignUp(email, "correct horse battery staple")
	u := mustFindUser(b, inst, email)
	// The test database is this instance's own, so its records table is
	// this benchmark's alone.
	// records is partitioned (migration 00021): the setting goes on each
	// partition, the tables autovacuum visits.
	if _, err := inst.Pool.Exec(ctx, `DO $$
		DECLARE p regclass;
		BEGIN
			FOR p IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'records'::regclass LOOP
				EXECUTE format('ALTER TABLE %s SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)', p);
			END LOOP;
		END $$`); err != nil {
		b.Fatalf("autovacuum off for records: %v", err)
	}
	client := *br.Client
	client.Timeout = 5 * time.Minute
	var first, later []float64
	for i := range b.N {
		wb, err := inst.App.Workbooks.CreateWorkbook(ctx, u.ID, fmt.Sprintf("Import %d", i))
		if err != nil {
			b.Fatal(err)
		}
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(writeImportCSV(pw, rows)) }()
		up, err := inst.App.Imports.CreateUpload(ctx, u.ID, wb.ID, "catalogue.csv", pr, 0)
		if err != nil {
			b.Fatal(err)
		}
		p, err := inst.App.Imports.Preview(ctx, u.ID, wb.ID, up.ID)
		if err != nil {
			b.Fatal(err)
		}
		up, tbl, err := inst.App.Imports.StartImport(ctx, u.ID, wb.ID, up.ID, imports.ImportInput{TableName: "Catalogue", Columns: imports.DefaultChoices(p)})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for {
			up, err = inst.App.Imports.FindUpload(ctx, u.ID, wb.ID, up.ID)
			if err != nil {
				b.Fatal(err)
			}
			if up.Status == imports.StatusDone {
				break
			}
			if up.Status != imports.StatusImporting && up.Status != imports.StatusUploaded {
				b.Fatalf("the import ended %s: %s", up.Status, up.Error)
			}
			time.Sleep(20 * time.Millisecond)
		}
		b.Logf("imported %d rows in %s", rows, time.Since(start).Round(time.Millisecond))
		path := fmt.Sprintf("%s/workbooks/%s/tables/%s?sort=-Price&filter=%s", inst.URL, wb.ID, tbl.ID, url.QueryEscape("Category = 'Category 07'"))
		load := func() float64 {
			t0 := time.Now()
			resp, err := client.Get(path)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("GET %s: %d", path, resp.StatusCode)
			}
			return float64(time.Since(t0).Microseconds()) / 1000
		}
		first = append(first, load())
		b.StopTimer()
		time.Sleep(settle)
		var again []float64
		for range 5 {
			again = append(again, load())
		}
		later = append(later, median(again))
		b.StartTimer()
		b.Logf("first sorted, filtered page %.1f ms; %s later %.1f ms (median of 5)", first[len(first)-1], settle, later[len(later)-1])
	}
	b.ReportMetric(median(first), "first-page-ms")
	b.ReportMetric(median(later), "later-page-ms")
	b.ReportMetric(median(first)/median(later), "ratio")
}
