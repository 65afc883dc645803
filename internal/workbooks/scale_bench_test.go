package workbooks_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/recordindex"
	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// The scale benchmark (make bench-scale, issue 11): K big tables in one
// database, each with the four on-demand indexes its grid asks for, against
// a database that holds only one such table. Both are measured in the same
// run, on the same table shape, with the index threshold lowered to the
// tables' size so that K = 200 fits the disk.

// scaleEnv reads a positive integer setting of the benchmark.
func scaleEnv(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// scaleQueries are the grid listings whose indexes every big table gets:
// ascending and descending sorts on two columns' worth (asc and desc on
// Title, asc on Price) and a trigram search on Title.
var scaleQueries = []workbooks.RecordQuery{
	{Sort: "Title", Limit: 1},
	{Sort: "-Title", Limit: 1},
	{Sort: "Price", Limit: 1},
	{Filter: "contains(Title, 'r1')", Limit: 1},
}

// scaleDB is one database of the benchmark and the table it measures.
type scaleDB struct {
	pool  *pgxpool.Pool
	svc   *workbooks.Service
	owner string
	wb    workbooks.Workbook
	// target is the measured table.
	target workbooks.Table
	url    string
}

// addScaleTable creates a table of n records in wb and, with build, builds
// the indexes of scaleQueries on it at once (not concurrently, no ANALYZE).
func (d *scaleDB) addScaleTable(tb testing.TB, name string, n int, build bool) workbooks.Table {
	tb.Helper()
	ctx := context.Background()
	tbl, err := d.svc.CreateTable(ctx, d.owner, d.wb.ID, workbooks.TableInput{Name: name, Columns: productColumns})
	if err != nil {
		tb.Fatal(err)
	}
	title, _ := tbl.Columns.Lookup("Title")
	price, _ := tbl.Columns.Lookup("Price")
	if _, err := d.pool.Exec(ctx, `INSERT INTO records (workbook_id, table_id, fields)
		SELECT $1, $2, jsonb_strip_nulls(jsonb_build_object($3::text, 'r' || g, $4::text, CASE WHEN g % 10 <> 0 THEN g % 997 END))
		FROM generate_series(1, $5::int) g`, d.wb.ID, tbl.ID, title.ID, price.ID, n); err != nil {
		tb.Fatal(err)
	}
	if build {
		d.request(tb, tbl)
		if err := d.svc.Indexes().BuildAtOnce(ctx, d.wb.ID, tbl.ID); err != nil {
			tb.Fatal(err)
		}
	}
	return tbl
}

// request lists the table's pages of scaleQueries, which registers their
// indexes.
func (d *scaleDB) request(tb testing.TB, tbl workbooks.Table) {
	tb.Helper()
	for _, q := range scaleQueries {
		if _, err := d.svc.FindRecords(context.Background(), d.owner, d.wb.ID, tbl.ID, q); err != nil {
			tb.Fatal(err)
		}
	}
}

func newScaleDB(tb testing.TB, tables, records int) *scaleDB {
	tb.Helper()
	ctx := context.Background()
	url := testdb.NewURL(tb)
	// Sessions as the app opens them (db.Connect).
	pool, err := db.Connect(ctx, url, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	d := &scaleDB{pool: pool, svc: workbooks.NewService(pool), owner: MustUser(tb, pool), url: url}
	d.svc.SetIndexThreshold(int64(records))
	if d.wb, err = d.svc.CreateWorkbook(ctx, d.owner, "Scale"); err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	for i := range tables {
		t := d.addScaleTable(tb, fmt.Sprintf("T%d", i), records, true)
		if i == tables/2 {
			d.target = t
		}
	}
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("%d tables of %d records with 4 indexes each set up in %s", tables, records, time.Since(start).Round(time.Millisecond))
	return d
}

// scaleFigures are one database's measurements.
type scaleFigures struct {
	gridP95, gridPlan, updatePlan, firstQuery, prepared, build time.Duration
}

var planningTime = regexp.MustCompile(`Planning Time: ([0-9.]+) ms`)

// planning returns the median planning time EXPLAIN (ANALYZE, SUMMARY)
// reports for sql over 15 runs, in a transaction rolled back.
func planning(tb testing.TB, pool *pgxpool.Pool, sql string, args ...any) time.Duration {
	tb.Helper()
	ctx := context.Background()
	var times []time.Duration
	for range 15 {
		tx, err := pool.Begin(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, SUMMARY) "+sql, args...)
		if err != nil {
			tb.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			tb.Fatal(err)
		}
		_ = tx.Rollback(ctx)
		for _, l := range lines {
			if m := planningTime.FindStringSubmatch(l); m != nil {
				ms, _ := strconv.ParseFloat(m[1], 64)
				times = append(times, time.Duration(ms*float64(time.Millisecond)))
			}
		}
	}
	return median(times)
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// connect opens a connection to d with the app's session settings.
func (d *scaleDB) connect(tb testing.TB) *pgx.Conn {
	tb.Helper()
	cfg, err := pgx.ParseConfig(d.url)
	if err != nil {
		tb.Fatal(err)
	}
	db.SessionDefaults(cfg.RuntimeParams)
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return conn
}

// measure takes d's figures on its target table.
func (d *scaleDB) measure(tb testing.TB, records int) scaleFigures {
	tb.Helper()
	ctx := context.Background()
	var f scaleFigures
	t := d.target
	grid := workbooks.RecordQuery{Sort: "Title", Limit: 100}

	// Grid pages: 8 clients, each paging forward from the first page.
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			q := grid
			for i := range 40 {
				if i%10 == 0 {
					q.Cursor = ""
				}
				start := time.Now()
				page, err := d.svc.FindRecords(ctx, d.owner, d.wb.ID, t.ID, q)
				if err != nil {
					tb.Error(err)
					return
				}
				el := time.Since(start)
				mu.Lock()
				lat = append(lat, el)
				mu.Unlock()
				q.Cursor = page.NextCursor
			}
		})
	}
	wg.Wait()
	slices.Sort(lat)
	f.gridP95 = lat[len(lat)*95/100]

	sql, args, err := d.svc.PageSQL(ctx, d.owner, d.wb.ID, t.ID, grid)
	if err != nil {
		tb.Fatal(err)
	}
	f.gridPlan = planning(tb, d.pool, sql, args...)
	var id string
	if err := d.pool.QueryRow(ctx, `SELECT id FROM records WHERE workbook_id = $1 AND table_id = $2 LIMIT 1`, d.wb.ID, t.ID).Scan(&id); err != nil {
		tb.Fatal(err)
	}
	f.updatePlan = planning(tb, d.pool, `UPDATE records SET version = version + 1, updated_at = now()
		WHERE workbook_id = $1 AND table_id = $2 AND id = $3`, d.wb.ID, t.ID, id)

	// The first query on a new connection: the grid's page query, which
	// loads the catalog entries of records and of the indexes it looks at.
	var firsts []time.Duration
	for range 9 {
		conn := d.connect(tb)
		start := time.Now()
		rows, err := conn.Query(ctx, sql, args...)
		if err == nil {
			for rows.Next() {
			}
			rows.Close()
			err = rows.Err()
		}
		firsts = append(firsts, time.Since(start))
		_ = conn.Close(ctx)
		if err != nil {
			tb.Fatal(err)
		}
	}
	f.firstQuery = median(firsts)

	// A one-record UPDATE as sqlc's queries run: prepared once on a new
	// connection (pgx caches statements) and executed 10 times. Without
	// the app's plan_cache_mode (db.SessionDefaults) the sixth run would
	// build a generic plan over every partition.
	conn := d.connect(tb)
	// In one transaction, rolled back: commits would wait for the disk.
	tx, err := conn.Begin(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	for range 10 {
		if _, err := tx.Exec(ctx, `UPDATE records SET updated_at = updated_at
			WHERE workbook_id = $1 AND table_id = $2 AND id = $3`, d.wb.ID, t.ID, id); err != nil {
			tb.Fatal(err)
		}
	}
	f.prepared = time.Since(start)
	_ = tx.Rollback(ctx)
	_ = conn.Close(ctx)

	// One more big table, its four indexes built as the River job does
	// (concurrently, with its statistics and ANALYZE).
	extra := d.addScaleTable(tb, "Extra", records, false)
	d.request(tb, extra)
	list, err := d.svc.Indexes().Find(ctx, d.wb.ID, extra.ID)
	if err != nil {
		tb.Fatal(err)
	}
	start = time.Now()
	for _, ri := range list {
		if err := d.svc.Indexes().Build(ctx, recordindex.BuildArgs{WorkbookID: d.wb.ID, TableID: extra.ID, ColumnID: ri.ColumnID, IndexKind: ri.Kind}); err != nil {
			tb.Fatal(err)
		}
	}
	f.build = time.Since(start)
	if len(list) != 4 {
		tb.Fatalf("the extra table asked for %d indexes, want 4", len(list))
	}
	return f
}

// BenchmarkScale runs make bench-scale: BENCH_SCALE_TABLES big tables
// (default 50) of BENCH_SCALE_RECORDS records (default 5,000, also the
// index threshold) in one database against one such table alone.
func BenchmarkScale(b *testing.B) {
	if os.Getenv("BENCH_SCALE_TABLES") == "" {
		b.Skip("set BENCH_SCALE_TABLES (make bench-scale)")
	}
	k := scaleEnv("BENCH_SCALE_TABLES", 50)
	records := scaleEnv("BENCH_SCALE_RECORDS", 5000)
	for b.Loop() {
		one := newScaleDB(b, 1, records)
		many := newScaleDB(b, k, records)
		fo, fm := one.measure(b, records), many.measure(b, records)
		report := fmt.Sprintf("K = %d big tables of %d records, 4 indexes each\n%-34s %10s %10s %7s\n", k, records, "", "1 table", fmt.Sprintf("%d tables", k), "ratio")
		row := func(name string, o, m time.Duration) {
			report += fmt.Sprintf("%-34s %10s %10s %6.2f×\n", name, o.Round(time.Microsecond), m.Round(time.Microsecond), float64(m)/float64(o))
		}
		row("grid page p95, 8 clients", fo.gridP95, fm.gridP95)
		row("grid query planning", fo.gridPlan, fm.gridPlan)
		row("one-record UPDATE planning", fo.updatePlan, fm.updatePlan)
		row("first query on a new connection", fo.firstQuery, fm.firstQuery)
		row("prepared UPDATE ×10, new connection", fo.prepared, fm.prepared)
		row("building one more table's indexes", fo.build, fm.build)
		// Printed, not logged: a benchmark's log is cut at ten lines.
		fmt.Print(report)
		b.ReportMetric(float64(fm.gridP95)/float64(fo.gridP95), "p95/one")
		b.ReportMetric(float64(fm.gridPlan.Microseconds())/1000, "plan_ms")
		b.ReportMetric(float64(fm.updatePlan.Microseconds())/1000, "update_plan_ms")
		b.ReportMetric(float64(fm.firstQuery.Microseconds())/1000, "first_ms")
		b.ReportMetric(float64(fm.build)/float64(fo.build), "build/one")
		b.ReportMetric(float64(fm.prepared.Microseconds())/1000, "prepared10_ms")
	}
}
