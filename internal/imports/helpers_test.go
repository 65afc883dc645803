package imports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/recordindex"
	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// fixture is a fresh database with the services and one user owning a
// workbook.
type fixture struct {
	pool  *pgxpool.Pool
	wb    *workbooks.Service
	svc   *Service
	owner string
	wbID  string
}

var userCounter atomic.Int64

func MustUser(tb testing.TB, pool *pgxpool.Pool) string {
	tb.Helper()
	n := userCounter.Add(1)
	u, err := accounts.NewService(pool).SignUp(context.Background(), accounts.SignUpInput{
		Email: fmt.Sprintf("importer%d@example.com", n), Name: fmt.Sprintf("Importer %d", n), Password: "correct horse battery staple",
	})
	if err != nil {
		tb.Fatalf("sign up: %v", err)
	}
	return u.ID
}

func MustFixture(tb testing.TB, opts Options) *fixture {
	tb.Helper()
	pool := testdb.New(tb)
	f := &fixture{pool: pool, wb: workbooks.NewService(pool), owner: MustUser(tb, pool)}
	svc, err := NewService(pool, f.wb, opts)
	if err != nil {
		tb.Fatal(err)
	}
	f.svc = svc
	w, err := f.wb.CreateWorkbook(context.Background(), f.owner, "Imports")
	if err != nil {
		tb.Fatal(err)
	}
	f.wbID = w.ID
	return f
}

// MustUpload stores content as an upload.
func (f *fixture) MustUpload(tb testing.TB, name, content string) Upload {
	tb.Helper()
	u, err := f.svc.CreateUpload(context.Background(), f.owner, f.wbID, name, strings.NewReader(content), 0)
	if err != nil {
		tb.Fatalf("upload: %v", err)
	}
	return u
}

// MustStart starts the import of an upload with the given choices.
func (f *fixture) MustStart(tb testing.TB, uploadID string, in ImportInput) (Upload, workbooks.Table) {
	tb.Helper()
	u, t, err := f.svc.StartImport(context.Background(), f.owner, f.wbID, uploadID, in)
	if err != nil {
		tb.Fatalf("start import: %v", err)
	}
	return u, t
}

// jobArgs reads the args of the upload's job as River stored them.
func (f *fixture) jobArgs(tb testing.TB, u Upload) ImportCSVArgs {
	tb.Helper()
	job, err := f.svc.river.JobGet(context.Background(), u.JobID)
	if err != nil {
		tb.Fatal(err)
	}
	var args ImportCSVArgs
	if err := json.Unmarshal(job.EncodedArgs, &args); err != nil {
		tb.Fatal(err)
	}
	if job.Queue != QueueImports {
		tb.Fatalf("job queue %q, want %q", job.Queue, QueueImports)
	}
	return args
}

// MustRun runs the import job's body as the worker does.
func (f *fixture) MustRun(tb testing.TB, u Upload) Upload {
	tb.Helper()
	if err := f.svc.RunImport(context.Background(), f.jobArgs(tb, u), false); err != nil {
		tb.Fatalf("run import: %v", err)
	}
	out, err := f.svc.FindUpload(context.Background(), f.owner, f.wbID, u.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// records lists a table's records in order.
func (f *fixture) records(tb testing.TB, tableID string) []workbooks.Record {
	tb.Helper()
	var out []workbooks.Record
	q := workbooks.RecordQuery{Limit: workbooks.MaxPageSize}
	for {
		p, err := f.wb.FindRecords(context.Background(), f.owner, f.wbID, tableID, q)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, p.Records...)
		if p.NextCursor == "" {
			return out
		}
		q.Cursor = p.NextCursor
	}
}

// export returns the CSV export of a table, formula-like cells neutralized.
func (f *fixture) export(tb testing.TB, tableID string, q workbooks.RecordQuery) string {
	tb.Helper()
	return f.exportValues(tb, tableID, q, ExportSafe)
}

// exportValues returns the CSV export of a table written as values says.
func (f *fixture) exportValues(tb testing.TB, tableID string, q workbooks.RecordQuery, values ExportValues) string {
	tb.Helper()
	e, err := f.svc.PrepareExport(context.Background(), f.owner, f.wbID, tableID, q, values)
	if err != nil {
		tb.Fatalf("export: %v", err)
	}
	var b bytes.Buffer
	if err := e.WriteTo(context.Background(), &b, nil); err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

func colID(tb testing.TB, t workbooks.Table, name string) string {
	tb.Helper()
	c, ok := t.Columns.Lookup(name)
	if !ok {
		tb.Fatalf("no column %q in %v", name, t.Columns)
	}
	return c.ID
}

// workIndexes builds the pending on-demand indexes of a table as the index
// queue's River worker would (these tests run no River workers), until the
// returned stop is called.
func (f *fixture) workIndexes(tb testing.TB, tableID string) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			list, err := f.wb.Indexes().Find(ctx, f.wbID, tableID)
			if err != nil {
				return
			}
			for _, ri := range list {
				if ri.Status != "pending" {
					continue
				}
				args := recordindex.BuildArgs{WorkbookID: f.wbID, TableID: tableID, ColumnID: ri.ColumnID, IndexKind: ri.Kind}
				if err := f.wb.Indexes().Build(ctx, args); err != nil && ctx.Err() == nil {
					tb.Errorf("build index %+v: %v", ri, err)
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}
