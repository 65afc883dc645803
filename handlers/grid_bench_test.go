package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/recordindex"
	"github.com/scratchpad/scratchpad/internal/seed"
)

// These benchmarks measure the grid as people use it, over real HTTP against
// a whole instance on a seeded table. Latencies are taken around each
// request on the client side of a loopback connection, so they include the
// handler, the database and the HTML render (and a little HTTP overhead);
// they are reported as p50/p95 metrics next to a baseline measured in the
// same run. See the README's Benchmarks section for figures.

// benchRecordsEnv overrides the size of the grid benchmark's table, so a
// laptop can run `make bench` with, say, 100000.
const benchRecordsEnv = "SCRATCHPAD_BENCH_RECORDS"

func benchRecords(b *testing.B, def int) int {
	b.Helper()
	s := os.Getenv(benchRecordsEnv)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number of records", benchRecordsEnv, s)
	}
	return n
}

// benchInstance is an instance with a signed-in browser and a seeded table.
type benchInstance struct {
	inst    *apptest.Instance
	client  *http.Client
	csrf    string
	owner   string
	tblPath string
	seeded  seed.Result
}

func mustBenchInstance(b *testing.B, records int) *benchInstance {
	b.Helper()
	if testing.Short() {
		b.Skip("seeds a big table: run without -short, e.g. go test -run '^$' -bench GridPage ./handlers")
	}
	inst := apptest.MustStart(b, apptest.Options{})
	br := inst.NewBrowser(b)
	const email = "bench@example.com"
	br.MustSignUp(email, "correct horse battery staple")
	res, err := seed.Run(context.Background(), inst.Pool, seed.Options{Email: email, Records: records, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d records × %d fields in %s", records, len(seed.Columns), res.Elapsed.Round(time.Millisecond))
	// The first load of a page without its index sorts every record, which
	// can outlast the browser's 30 s timeout on a busy 2-core machine; it
	// is measured, not failed.
	client := *br.Client
	client.Timeout = 5 * time.Minute
	return &benchInstance{inst: inst, client: &client, csrf: br.CSRF(), owner: res.OwnerID,
		tblPath: fmt.Sprintf("/workbooks/%s/tables/%s", res.WorkbookID, res.TableID), seeded: res}
}

// get fetches path and returns the body, failing on any status but 200.
func (bi *benchInstance) get(b *testing.B, path string) string {
	resp, err := bi.client.Get(bi.inst.URL + path)
	if err != nil {
		b.Error(err)
		return ""
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Errorf("GET %s: status %d, %v", path, resp.StatusCode, err)
	}
	return string(body)
}

// latencies collects request durations from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// quantile returns the q-quantile in milliseconds (nearest rank).
func (l *latencies) quantile(q float64) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	i := min(len(s)-1, int(q*float64(len(s))+0.5)-1)
	return float64(s[max(i, 0)]) / float64(time.Millisecond)
}

// gridCase is one grid page: a sort and a filter in the filter language.
type gridCase struct {
	name, sort, filter string
}

func (c gridCase) path(tblPath string) string {
	q := url.Values{}
	if c.sort != "" {
		q.Set("sort", c.sort)
	}
	if c.filter != "" {
		q.Set("filter", c.filter)
	}
	if len(q) == 0 {
		return tblPath
	}
	return tblPath + "?" + q.Encode()
}

// Concurrency and volume of one benchmark operation of BenchmarkGridPage:
// gridWorkers concurrent clients each loading gridRequestsPerWorker pages.
const (
	gridWorkers           = 8
	gridRequestsPerWorker = 25
)

// BenchmarkGridPage loads the grid page (100 rows × 20 columns of HTML) of a
// 1,000,000-record table (SCRATCHPAD_BENCH_RECORDS overrides), filtered and
// sorted by text, number, date and datetime columns, from 8 concurrent
// clients, after the on-demand indexes those pages ask for are built. One
// operation is a round of 200 page loads; p50/p95 are per page. The
// baseline is the unfiltered page in the table's own order, and
// noindex-ms is one load of the same page before its index existed (the
// naive JSONB sort).
func BenchmarkGridPage(b *testing.B) {
	bi := mustBenchInstance(b, benchRecords(b, 1_000_000))
	cases := []gridCase{
		{name: "baseline_seq"},
		{name: "title_asc_category_eq", sort: "Title", filter: "Category = 'Science'"},
		{name: "price_desc_published_rating", sort: "-Price", filter: "Published = true AND Rating >= 3"},
		{name: "published_on_asc_country_in", sort: "Published on", filter: "Country IN ('France', 'Japan')"},
		{name: "updated_at_desc_title_contains", sort: "-Updated at", filter: "contains(Title, 'harbor')"},
		{name: "sku_eq", sort: "Title", filter: "SKU = 'SKU-00000042'"},
	}

	// The first load of each page finds no index: it sorts every record and
	// asks for the indexes, which the app's River worker then builds.
	noIndex := map[string]float64{}
	for _, c := range cases[1:] {
		start := time.Now()
		bi.get(b, c.path(bi.tblPath))
		noIndex[c.name] = float64(time.Since(start)) / float64(time.Millisecond)
		b.Logf("%s: first load without index %.0f ms", c.name, noIndex[c.name])
	}
	start := time.Now()
	mustIndexesReady(b, bi)
	b.Logf("indexes built in %s", time.Since(start).Round(time.Second))

	var baselineP95 float64
	for _, c := range cases {
		path := c.path(bi.tblPath)
		if rows := strings.Count(bi.get(b, path), `data-testid="record-row"`); rows == 0 && c.name != "sku_eq" {
			b.Fatalf("%s: no rows", c.name)
		}
		b.Run(c.name, func(b *testing.B) {
			lat := &latencies{}
			b.ResetTimer()
			for range b.N {
				var wg sync.WaitGroup
				for range gridWorkers {
					wg.Go(func() {
						for range gridRequestsPerWorker {
							t0 := time.Now()
							bi.get(b, path)
							lat.add(time.Since(t0))
						}
					})
				}
				wg.Wait()
			}
			b.StopTimer()
			p95 := lat.quantile(0.95)
			if c.name == "baseline_seq" {
				baselineP95 = p95
			}
			b.ReportMetric(lat.quantile(0.50), "p50-ms")
			b.ReportMetric(p95, "p95-ms")
			if baselineP95 > 0 {
				b.ReportMetric(p95/baselineP95, "p95/baseline")
			}
			if ms, ok := noIndex[c.name]; ok {
				b.ReportMetric(ms, "noindex-ms")
			}
		})
	}

	// A cell edit on the big table pays for its indexes.
	b.Run("cell_edit_on_big_table", func(b *testing.B) { benchCellEdits(b, bi) })
}

// mustIndexesReady waits until every on-demand index of the seeded table is
// built.
func mustIndexesReady(b *testing.B, bi *benchInstance) {
	b.Helper()
	if bi.seeded.Records < recordindex.DefaultThreshold {
		b.Logf("%d records: below the index threshold, no indexes to wait for", bi.seeded.Records)
		return
	}
	deadline := time.Now().Add(60 * time.Minute)
	for {
		list, err := bi.inst.App.Workbooks.Indexes().Find(context.Background(), bi.seeded.WorkbookID, bi.seeded.TableID)
		if err != nil {
			b.Fatal(err)
		}
		ready := 0
		for _, ri := range list {
			switch ri.Status {
			case "ready":
				ready++
			case "failed":
				b.Fatalf("index %+v failed", ri)
			}
		}
		if len(list) > 0 && ready == len(list) {
			b.Logf("%d indexes ready", ready)
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("indexes not ready: %+v", list)
		}
		time.Sleep(time.Second)
	}
}

// cellEditsPerOp is how many cells one operation of the cell edit
// benchmarks saves, one after another as a person would.
const cellEditsPerOp = 100

// BenchmarkCellEdit saves grid cells over HTTP (PUT …/cells/:col, as the
// grid's inline editor does) on a table of 10,000 records, one edit at a
// time, and reports the p50/p95 request-to-response time. The baseline is a
// GET of the same row fragment: the same session, lookup and render without
// the write.
func BenchmarkCellEdit(b *testing.B) {
	bi := mustBenchInstance(b, 10_000)
	b.Run("baseline_get_row", func(b *testing.B) {
		ids := mustRecordIDs(b, bi, (b.N+1)*cellEditsPerOp)
		lat := &latencies{}
		b.ResetTimer()
		for i := range b.N * cellEditsPerOp {
			t0 := time.Now()
			bi.get(b, bi.tblPath+"/records/"+ids[i]+"/row")
			lat.add(time.Since(t0))
		}
		b.StopTimer()
		b.ReportMetric(lat.quantile(0.50), "p50-ms")
		b.ReportMetric(lat.quantile(0.95), "p95-ms")
	})
	b.Run("put_cell", func(b *testing.B) { benchCellEdits(b, bi) })
}

// benchCellEdits edits the Title of b.N×cellEditsPerOp records not edited
// before, so each edit carries the version it was opened on.
func benchCellEdits(b *testing.B, bi *benchInstance) {
	col, ok := bi.seeded.Table.Columns.Lookup("Title")
	if !ok {
		b.Fatal("no Title column")
	}
	n := b.N * cellEditsPerOp
	ids := mustRecordIDs(b, bi, n)
	lat := &latencies{}
	b.ResetTimer()
	for i := range n {
		form := url.Values{"value": {fmt.Sprintf("Edited title %d", i)}, "version": {"1"}}
		req, err := http.NewRequest(http.MethodPut, bi.inst.URL+bi.tblPath+"/records/"+ids[i]+"/cells/"+col.ID,
			strings.NewReader(form.Encode()))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		req.Header.Set("X-CSRF-Token", bi.csrf)
		t0 := time.Now()
		resp, err := bi.client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat.add(time.Since(t0))
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("PUT cell: status %d", resp.StatusCode)
		}
	}
	b.StopTimer()
	b.ReportMetric(lat.quantile(0.50), "p50-ms")
	b.ReportMetric(lat.quantile(0.95), "p95-ms")
}

// mustRecordIDs returns n ids of clean (never edited) records of the seeded
// table, spread over it.
func mustRecordIDs(b *testing.B, bi *benchInstance, n int) []string {
	b.Helper()
	rows, err := bi.inst.Pool.Query(context.Background(), `SELECT id FROM records
		WHERE workbook_id = $1 AND table_id = $2 AND state = 'clean' AND version = 1
		ORDER BY md5(id::text) LIMIT $3`, bi.seeded.WorkbookID, bi.seeded.TableID, n)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	if len(ids) < n {
		b.Fatalf("only %d clean records, want %d", len(ids), n)
	}
	return ids
}
