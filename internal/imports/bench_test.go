package imports

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Benchmarks of the import (issue 3 targets: 100,000 rows × 20 columns,
// about 100 MB, in ≤ 5 s and within 3× of a plain COPY of the same file;
// 1,000,000 rows with peak RSS under 300 MB). Run them one at a time:
//
//	TEST_DATABASE_URL=... go test ./internal/imports/ -run '^$' -bench 'BenchmarkImportCSV$' -benchtime 1x
//	TEST_DATABASE_URL=... go test ./internal/imports/ -run '^$' -bench 'BenchmarkImportCSVPeakRSS' -benchtime 1x
//
// BENCH_IMPORT_ROWS changes the row counts.

var benchWords = strings.Fields(`the of and to in is that for it as with was on be at by this had not are but from
or have an they which one you were her all she there would their we him been has when who will more no if out so
said what up its about into than them can only other new some could time these two may then do first any my now
such like our over man me even most made after also did many before must through back years where much your way
well down should because each just those people how too little state good very make world still own see men work
long get here between both life being under never day same another know while last might us great old year off
come since against go came right used take three lamp desk chair garden recipe travel review guide launch update`)

var (
	benchCategories = []string{"News", "Guides", "Reviews", "Recipes", "Travel", "Tech", "Design", "Culture"}
	benchTags       = []string{"featured", "evergreen", "seasonal", "video", "longread", "sponsored"}
	benchColors     = []string{"red", "green", "blue", "black", "white"}
	benchStatuses   = []string{"draft", "published", "archived"}
)

var benchHeader = []string{"title", "slug", "body", "summary", "author", "category", "tags", "price", "stock",
	"rating", "published_on", "updated_at", "active", "url", "email", "sku", "views", "color", "notes", "status"}

func benchSentence(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(benchWords[r.IntN(len(benchWords))])
	}
	return b.String()
}

// writeBenchCSV writes rows rows of realistic content: titles, slugs,
// bodies of one or two hundred words in paragraphs, numbers, dates, selects.
func writeBenchCSV(w io.Writer, rows int) error {
	r := rand.New(rand.NewPCG(1, 2))
	cw := csv.NewWriter(w)
	if err := cw.Write(benchHeader); err != nil {
		return err
	}
	rec := make([]string, len(benchHeader))
	for i := range rows {
		title := benchSentence(r, 4+r.IntN(6))
		paras := make([]string, 2+r.IntN(2))
		for p := range paras {
			paras[p] = benchSentence(r, 40+r.IntN(40)) + "."
		}
		day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(1500*24)) * time.Hour)
		rec[0] = title
		rec[1] = strings.ReplaceAll(title, " ", "-") + "-" + strconv.Itoa(i)
		rec[2] = strings.Join(paras, "\n\n")
		rec[3] = benchSentence(r, 15+r.IntN(10))
		rec[4] = "Author " + strconv.Itoa(r.IntN(200))
		rec[5] = benchCategories[r.IntN(len(benchCategories))]
		rec[6] = benchTags[r.IntN(len(benchTags))] + ", " + benchTags[r.IntN(len(benchTags))]
		rec[7] = strconv.Itoa(r.IntN(500)) + "." + strconv.Itoa(10+r.IntN(90))
		rec[8] = strconv.Itoa(r.IntN(10000))
		rec[9] = strconv.FormatFloat(float64(r.IntN(50))/10, 'f', 1, 64)
		rec[10] = day.Format(time.DateOnly)
		rec[11] = day.Add(time.Duration(r.IntN(86400)) * time.Second).Format(time.RFC3339)
		rec[12] = strconv.FormatBool(r.IntN(2) == 0)
		rec[13] = "https://example.com/posts/" + rec[1]
		rec[14] = "writer" + strconv.Itoa(r.IntN(500)) + "@example.com"
		rec[15] = fmt.Sprintf("SKU-%06d", i)
		rec[16] = strconv.Itoa(r.IntN(1_000_000))
		rec[17] = benchColors[r.IntN(len(benchColors))]
		rec[18] = benchSentence(r, 3+r.IntN(5))
		rec[19] = benchStatuses[r.IntN(len(benchStatuses))]
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func benchRows(def int) int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_IMPORT_ROWS")); err == nil && n > 0 {
		return n
	}
	return def
}

// benchImport uploads r, starts its import with the inferred types and
// returns the started upload.
func (f *fixture) benchStart(b *testing.B, r io.Reader) Upload {
	b.Helper()
	ctx := context.Background()
	up, err := f.svc.CreateUpload(ctx, f.owner, f.wbID, "bench.csv", r, 0)
	if err != nil {
		b.Fatal(err)
	}
	p, err := f.svc.Preview(ctx, f.owner, f.wbID, up.ID)
	if err != nil || p.FileError != "" {
		b.Fatalf("preview: %v %s", err, p.FileError)
	}
	u, _, err := f.svc.StartImport(ctx, f.owner, f.wbID, up.ID, ImportInput{TableName: "Bench", Columns: DefaultChoices(p)})
	if err != nil {
		b.Fatal(err)
	}
	return u
}

// quiesce lets PostgreSQL finish the previous operation's aftermath before
// the next timed one: its autovacuum of the rows just written (which
// otherwise takes one of the two cores in the middle of the next import)
// and its checkpoint (over 100 MB of WAL per operation, which otherwise
// lands in whichever operation comes next).
func (f *fixture) quiesce(b *testing.B) {
	b.Helper()
	ctx := context.Background()
	if _, err := f.pool.Exec(ctx, "VACUUM ANALYZE records, upload_chunks, uploads"); err != nil {
		b.Fatal(err)
	}
	// CHECKPOINT needs a superuser or pg_checkpoint, which the test
	// database's own role is not: the server's admin URL runs it.
	conn, err := pgx.Connect(ctx, os.Getenv("TEST_DATABASE_URL"))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
		b.Logf("no checkpoint between operations: %v", err)
	}
}

func (f *fixture) benchRun(b *testing.B, u Upload) Upload {
	b.Helper()
	ctx := context.Background()
	// A table the import makes big gets its indexes before the job ends
	// (afterRows): this fixture builds them as the index queue would.
	stop := f.workIndexes(b, u.TableID)
	err := f.svc.RunImport(ctx, f.jobArgs(b, u), true)
	stop()
	if err != nil {
		b.Fatal(err)
	}
	done, err := f.svc.FindUpload(ctx, f.owner, f.wbID, u.ID)
	if err != nil || done.Status != StatusDone {
		b.Fatalf("import: %v %+v", err, done)
	}
	return done
}

// BenchmarkImportCSV imports a generated file through the job's code path
// (chunks read from the database, parsed, converted, COPied in batches with
// checkpoints and events) and compares it with a plain COPY of the same
// file into a table of 20 text columns (x_copy): a table like records,
// written to the WAL. x_copy_temp compares with the same COPY into a
// temporary table, which skips the WAL as no durable import can. Each
// timed operation starts once PostgreSQL has vacuumed what the previous one
// left (quiesce), as it would on a machine not importing back to back.
func BenchmarkImportCSV(b *testing.B) {
	rows := benchRows(100_000)
	var file strings.Builder
	if err := writeBenchCSV(&file, rows); err != nil {
		b.Fatal(err)
	}
	data := file.String()
	b.Logf("file: %d rows × %d columns, %.1f MB", rows, len(benchHeader), float64(len(data))/1e6)
	f := MustFixture(b, Options{})
	ctx := context.Background()

	copyNs := map[string]float64{}
	for _, kind := range []string{"", "TEMP "} {
		name := "copy_baseline"
		if kind != "" {
			name += "_temp"
		}
		b.Run(name, func(b *testing.B) {
			cols := make([]string, len(benchHeader))
			for i := range cols {
				cols[i] = fmt.Sprintf("c%d text", i+1)
			}
			conn, err := f.pool.Acquire(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Release()
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS bench_copy; CREATE "+kind+"TABLE bench_copy ("+strings.Join(cols, ", ")+")"); err != nil {
					b.Fatal(err)
				}
				f.quiesce(b)
				b.StartTimer()
				tag, err := conn.Conn().PgConn().CopyFrom(ctx, strings.NewReader(data), "COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER)")
				if err != nil {
					b.Fatal(err)
				}
				if tag.RowsAffected() != int64(rows) {
					b.Fatalf("copied %d rows", tag.RowsAffected())
				}
			}
			b.StopTimer()
			if _, err := conn.Exec(ctx, "DROP TABLE bench_copy"); err != nil {
				b.Fatal(err)
			}
			copyNs[name] = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(float64(rows)/(copyNs[name]/1e9), "rows/s")
		})
	}

	b.Run("upload", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for i := 0; i < b.N; i++ {
			if _, err := f.svc.CreateUpload(ctx, f.owner, f.wbID, "bench.csv", strings.NewReader(data), 0); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("import_job", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			u := f.benchStart(b, strings.NewReader(data))
			f.quiesce(b)
			b.StartTimer()
			done := f.benchRun(b, u)
			if done.RowsImported != int64(rows) || done.CellErrors != 0 || done.RowsRejected != 0 {
				b.Fatalf("imported %+v", done)
			}
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(float64(rows)/(ns/1e9), "rows/s")
		if n := copyNs["copy_baseline"]; n > 0 {
			b.ReportMetric(ns/n, "x_copy")
		}
		if n := copyNs["copy_baseline_temp"]; n > 0 {
			b.ReportMetric(ns/n, "x_copy_temp")
		}
	})
}

// BenchmarkImportCSVPeakRSS uploads and imports a generated file streamed
// from a generator (never held in memory) and reports the process's peak
// resident set size (VmHWM). Run it alone, so nothing else raised the peak.
func BenchmarkImportCSVPeakRSS(b *testing.B) {
	rows := benchRows(1_000_000)
	f := MustFixture(b, Options{})
	for i := 0; i < b.N; i++ {
		pr, pw := io.Pipe()
		go func() {
			bw := bufio.NewWriterSize(pw, 64<<10)
			err := writeBenchCSV(bw, rows)
			if err == nil {
				err = bw.Flush()
			}
			pw.CloseWithError(err)
		}()
		start := time.Now()
		u := f.benchStart(b, pr)
		uploaded := time.Since(start)
		start = time.Now()
		done := f.benchRun(b, u)
		b.Logf("%d rows, %.1f MB: upload %v, import %v", done.RowsImported, float64(done.SizeBytes)/1e6, uploaded, time.Since(start))
		if done.RowsImported != int64(rows) {
			b.Fatalf("imported %d rows", done.RowsImported)
		}
	}
	b.ReportMetric(float64(vmHWM(b))/(1<<20), "peak_rss_MiB")
}

// vmHWM reads the peak resident set size of this process, in bytes.
func vmHWM(b *testing.B) int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	for line := range strings.Lines(string(raw)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM")
	return 0
}
