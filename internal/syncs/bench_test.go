package syncs_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/syncs"
	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// benchRows is the size of the benchmarks' source table (BENCH_PULL_ROWS,
// default 100,000 as issue 8's targets say).
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_PULL_ROWS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// articlesDDL is a source table of 20 columns of the kinds a CMS holds.
const articlesDDL = `CREATE TABLE articles (
	id bigint PRIMARY KEY,
	title text NOT NULL,
	slug text,
	body text,
	author text,
	category text,
	tags text[],
	price numeric(10, 2),
	rating double precision,
	stock int,
	published boolean,
	published_on date,
	updated_at timestamptz,
	url text,
	email text,
	country text,
	sku text,
	meta jsonb,
	notes text,
	status text)`

// articlesFill makes n articles with the values a pull must carry.
const articlesFill = `INSERT INTO articles
SELECT i, 'Article ' || i, 'article-' || i,
	repeat('A paragraph of the article body, with words enough to weigh like real content. ', 8) || i,
	'Author ' || (i % 97), (ARRAY['news', 'guide', 'review'])[1 + i % 3], ARRAY['tag' || (i % 7), 'tag' || (i % 11)],
	(i % 1000) + 0.99, (i % 50) / 10.0, i % 500, i % 2 = 0, date '2020-01-01' + (i % 1500),
	timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute', 'https://example.com/a/' || i, 'writer' || (i % 300) || '@example.com',
	(ARRAY['France', 'Japan', 'Brazil', 'Kenya'])[1 + i % 4], 'SKU-' || lpad(i::text, 8, '0'),
	jsonb_build_object('views', i % 10000, 'featured', i % 13 = 0), 'Note ' || i, 'live'
FROM generate_series(1, $1) i`

// benchSource is a fixture whose source holds n articles.
func benchSource(b *testing.B, n int) *fixture {
	b.Helper()
	f := mustFixture(b, 0)
	f.mustSource(b, articlesDDL)
	f.mustSource(b, articlesFill, n)
	f.mustSource(b, `ANALYZE articles`)
	return f
}

// copyBaseline times COPY (SELECT …) TO STDOUT piped into COPY … FROM STDIN
// of the source's articles into a table of the same columns: PostgreSQL's
// own cost of moving the rows.
func copyBaseline(b *testing.B, src *pgxpool.Pool) time.Duration {
	b.Helper()
	ctx := context.Background()
	if _, err := src.Exec(ctx, `DROP TABLE IF EXISTS articles_copy; CREATE TABLE articles_copy (LIKE articles)`); err != nil {
		b.Fatal(err)
	}
	from, err := src.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer from.Release()
	to, err := src.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer to.Release()
	start := time.Now()
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := to.Conn().PgConn().CopyFrom(ctx, r, "COPY articles_copy FROM STDIN")
		done <- err
	}()
	_, err = from.Conn().PgConn().CopyTo(ctx, w, "COPY (SELECT * FROM articles ORDER BY id) TO STDOUT")
	w.CloseWithError(err)
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// checkpoint keeps one step's WAL from landing in the next's timing. CHECKPOINT
// needs a superuser (or pg_checkpoint), which the test databases' owner is
// not: it runs on an admin connection of TEST_DATABASE_URL, the whole
// server's checkpoint.
func checkpoint(b *testing.B) {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, os.Getenv(testdb.EnvURL))
	if err == nil {
		_, err = conn.Exec(ctx, "CHECKPOINT")
		_ = conn.Close(ctx)
	}
	if err != nil {
		b.Logf("checkpoint: %v (set %s to a superuser's URL to checkpoint between steps)", err, testdb.EnvURL)
	}
}

// BenchmarkPull measures a first pull and a re-pull of an unchanged source
// of BENCH_PULL_ROWS × 20 columns, against a COPY of the same rows.
func BenchmarkPull(b *testing.B) {
	n := benchRows()
	f := benchSource(b, n)
	ctx := context.Background()
	for b.Loop() {
		checkpoint(b)
		baseline := copyBaseline(b, f.src)
		checkpoint(b)

		start := time.Now()
		tbl, sy, err := f.syncs.AddTable(ctx, f.owner, f.wb, syncs.AddTableInput{DataSourceID: f.dsID, RemoteTableID: `"public"."articles"`})
		if err != nil {
			b.Fatal(err)
		}
		if sy = f.mustFinish(b, sy.ID); sy.Status != syncs.StatusDone || sy.Tables[0].Created != n {
			b.Fatalf("pull ended %s with %+v", sy.Status, sy.Tables)
		}
		pull := time.Since(start)
		checkpoint(b)

		var versions int64
		if err := f.pool.QueryRow(ctx, `SELECT sum(version) FROM records WHERE table_id = $1`, tbl.ID).Scan(&versions); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if sy, err = f.syncs.StartPull(ctx, f.owner, f.wb, []string{tbl.ID}); err != nil {
			b.Fatal(err)
		}
		if sy = f.mustFinish(b, sy.ID); sy.Status != syncs.StatusDone {
			b.Fatalf("re-pull ended %s", sy.Status)
		}
		repull := time.Since(start)
		var after int64
		if err := f.pool.QueryRow(ctx, `SELECT sum(version) FROM records WHERE table_id = $1`, tbl.ID).Scan(&after); err != nil {
			b.Fatal(err)
		}
		if after != versions {
			b.Fatalf("a re-pull of an unchanged source moved versions: %d to %d", versions, after)
		}
		b.ReportMetric(pull.Seconds(), "s/pull")
		b.ReportMetric(baseline.Seconds(), "s/copy")
		b.ReportMetric(pull.Seconds()/baseline.Seconds(), "pull/copy")
		b.ReportMetric(repull.Seconds(), "s/repull")
		b.Logf("%d rows: pull %s, COPY baseline %s (%.2f×), re-pull %s", n, pull.Round(time.Millisecond), baseline.Round(time.Millisecond),
			pull.Seconds()/baseline.Seconds(), repull.Round(time.Millisecond))
		// The next round starts from a source-only workbook.
		if err := f.store.DeleteTable(ctx, f.owner, f.wb, tbl.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPublish measures a publish of BENCH_PUBLISH_ROWS (default 10,000)
// edited records, against one set-based UPDATE … FROM (VALUES …) of the same
// rows at the source.
func BenchmarkPublish(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_PUBLISH_ROWS")); err == nil && v > 0 {
		n = v
	}
	f := benchSource(b, n)
	ctx := context.Background()
	tbl, sy, err := f.syncs.AddTable(ctx, f.owner, f.wb, syncs.AddTableInput{DataSourceID: f.dsID, RemoteTableID: `"public"."articles"`})
	if err != nil {
		b.Fatal(err)
	}
	f.mustFinish(b, sy.ID)
	title := col(b, tbl, "title")
	round := 0
	for b.Loop() {
		round++
		// Edit every record's title, as accepting n suggestions does.
		ids, err := recordIDs(ctx, f.pool, tbl.ID)
		if err != nil {
			b.Fatal(err)
		}
		p := workbooks.Proposal{Source: workbooks.SourceAPI}
		for i, id := range ids {
			p.Updates = append(p.Updates, workbooks.RecordUpdate{RecordID: id, Fields: map[string]any{title: fmt.Sprintf("Edited %d.%d", round, i)}})
		}
		if _, err := f.store.ProposeSuggestions(ctx, f.owner, f.wb, tbl.ID, p); err != nil {
			b.Fatal(err)
		}
		if _, err := f.store.AcceptSuggestions(ctx, f.owner, f.wb, tbl.ID, workbooks.Selector{All: true}); err != nil {
			b.Fatal(err)
		}
		checkpoint(b)
		baseline := updateBaseline(b, f.src, n, round)
		checkpoint(b)

		start := time.Now()
		sy, err := f.syncs.StartPublish(ctx, f.owner, f.wb, []string{tbl.ID})
		if err != nil {
			b.Fatal(err)
		}
		if sy = f.mustFinish(b, sy.ID); sy.Status != syncs.StatusDone || sy.Tables[0].Updated != n {
			b.Fatalf("publish ended %s with %+v", sy.Status, sy.Tables)
		}
		// Until the publish recorded its end, not until mustFinish's
		// poll (every 20 ms) next looked: the server's clock is this
		// machine's.
		took := sy.FinishedAt.Sub(start)
		b.ReportMetric(took.Seconds(), "s/publish")
		b.ReportMetric(baseline.Seconds(), "s/update")
		b.ReportMetric(took.Seconds()/baseline.Seconds(), "publish/update")
		b.Logf("%d records: publish %s, set-based UPDATE %s (%.2f×)", n, took.Round(time.Millisecond), baseline.Round(time.Millisecond),
			took.Seconds()/baseline.Seconds())
	}
}

func recordIDs(ctx context.Context, pool *pgxpool.Pool, tableID string) ([]string, error) {
	rows, err := pool.Query(ctx, `SELECT id::text FROM records WHERE table_id = $1 ORDER BY seq`, tableID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// updateBaseline times one UPDATE … FROM (VALUES …) that sets a text column
// of n articles at the source, as the publish will. It sets notes, not the
// title the publish writes: a title changed at the source since the pull
// would make every record of the publish a conflict.
func updateBaseline(b *testing.B, src *pgxpool.Pool, n, round int) time.Duration {
	b.Helper()
	args := make([]any, 0, 2*n)
	values := make([]byte, 0, n*24)
	for i := 1; i <= n; i++ {
		if i > 1 {
			values = append(values, ',')
		}
		values = fmt.Appendf(values, "($%d::bigint, $%d::text)", 2*i-1, 2*i)
		args = append(args, i, fmt.Sprintf("Baseline %d.%d", round, i))
	}
	start := time.Now()
	tag, err := src.Exec(context.Background(), "UPDATE articles a SET notes = v.notes FROM (VALUES "+string(values)+") v(id, notes) WHERE a.id = v.id", args...)
	took := time.Since(start)
	if err != nil || tag.RowsAffected() != int64(n) {
		b.Fatalf("baseline update: %v, %d rows", err, tag.RowsAffected())
	}
	return took
}
