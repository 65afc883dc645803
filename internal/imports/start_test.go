package imports

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/events"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

const peopleCSV = "email,name,age\nada@example.com,Ada,36\nbob@example.com,Bob,41\n"

// tableCount is how many tables the fixture's workbook has.
func (f *fixture) tableCount(tb testing.TB) int {
	tb.Helper()
	wb, err := f.wb.FindWorkbook(context.Background(), f.owner, f.wbID)
	if err != nil {
		tb.Fatal(err)
	}
	return len(wb.Tables)
}

// count runs a count(*) query.
func (f *fixture) count(tb testing.TB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// MustListen returns a connection listening for events.
func (f *fixture) MustListen(tb testing.TB) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.ConnectConfig(context.Background(), f.pool.Config().ConnConfig.Copy())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(context.Background(), "LISTEN "+events.Channel); err != nil {
		tb.Fatal(err)
	}
	return conn
}

// TestStartImportThatCannotEnqueueLeavesNoTable makes River refuse the job
// (an invalid priority) after the table is created in the same
// transaction: the table, its event and the upload's change all roll back,
// and the upload can still be started.
func TestStartImportThatCannotEnqueueLeavesNoTable(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	ctx := context.Background()
	up := f.MustUpload(t, "people.csv", peopleCSV)
	p, err := f.svc.Preview(ctx, f.owner, f.wbID, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	in := ImportInput{TableName: "People", Columns: DefaultChoices(p)}
	conn := f.MustListen(t)

	f.svc.insertOpts = &river.InsertOpts{Priority: 99}
	if _, _, err := f.svc.StartImport(ctx, f.owner, f.wbID, up.ID, in); err == nil {
		t.Fatal("start succeeded though the job was refused")
	}
	if n := f.tableCount(t); n != 0 {
		t.Fatalf("%d tables left by a failed start", n)
	}
	if n := f.count(t, "SELECT count(*) FROM river_job"); n != 0 {
		t.Fatalf("%d jobs left by a failed start", n)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if n, err := conn.WaitForNotification(waitCtx); err == nil {
		t.Fatalf("event of a rolled-back start: %s", n.Payload)
	}
	u, err := f.svc.FindUpload(ctx, f.owner, f.wbID, up.ID)
	if err != nil || u.Status != StatusUploaded || u.TableID != "" || u.JobID != 0 {
		t.Fatalf("upload after a failed start: %+v %v", u, err)
	}

	f.svc.insertOpts = nil
	u, table := f.MustStart(t, up.ID, in)
	if u.Status != StatusImporting || u.TableID != table.ID || u.JobID == 0 || f.tableCount(t) != 1 {
		t.Fatalf("retried start: %+v, %d tables", u, f.tableCount(t))
	}
}

// TestConcurrentStartsCreateOneTable starts one upload many times at once:
// one start wins, the others find it taken, and there is one table and one job.
func TestConcurrentStartsCreateOneTable(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	ctx := context.Background()
	up := f.MustUpload(t, "people.csv", peopleCSV)
	p, err := f.svc.Preview(ctx, f.owner, f.wbID, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	conn := f.MustListen(t)
	const starts = 6
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  []workbooks.Table
		errs []error
	)
	for range starts {
		wg.Go(func() {
			_, table, err := f.svc.StartImport(ctx, f.owner, f.wbID, up.ID, ImportInput{Columns: DefaultChoices(p)})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			won = append(won, table)
		})
	}
	wg.Wait()
	if len(won) != 1 {
		t.Fatalf("%d starts succeeded, want 1 (errors %v)", len(won), errs)
	}
	for _, err := range errs {
		if !apperr.Is(err, apperr.Conflict) {
			t.Errorf("losing start: %v, want conflict", err)
		}
	}
	if n := f.tableCount(t); n != 1 {
		t.Fatalf("%d tables, want 1", n)
	}
	if n := f.count(t, "SELECT count(*) FROM river_job"); n != 1 {
		t.Fatalf("%d jobs, want 1", n)
	}
	u, err := f.svc.FindUpload(ctx, f.owner, f.wbID, up.ID)
	if err != nil || u.TableID != won[0].ID {
		t.Fatalf("upload %+v %v, want table %s", u, err, won[0].ID)
	}
	// No table was created and then removed again: viewers heard of one.
	if got := eventTypes(t, conn); strings.Count(got, "table.created") != 1 || strings.Contains(got, "table.deleted") {
		t.Fatalf("events %s, want one table.created", got)
	}
}

// eventTypes lists the types of the events that arrive until none has for
// a moment.
func eventTypes(tb testing.TB, conn *pgx.Conn) string {
	tb.Helper()
	var types []string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		n, err := conn.WaitForNotification(ctx)
		cancel()
		if err != nil {
			return strings.Join(types, " ")
		}
		var ev struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal([]byte(n.Payload), &ev); err != nil {
			tb.Fatal(err)
		}
		types = append(types, ev.Type)
	}
}

func TestCreateTableFromCSV(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	ctx := context.Background()
	u, table, err := f.svc.CreateTableFromCSV(ctx, f.owner, f.wbID, "people.csv", strings.NewReader(peopleCSV), 0, ImportInput{KeyColumn: "email"})
	if err != nil {
		t.Fatal(err)
	}
	if table.Name != "people" || len(table.Columns) != 3 || u.Status != StatusImporting || u.TableID != table.ID || u.JobID == 0 {
		t.Fatalf("created %+v / %+v", table, u)
	}
	if got := f.jobArgs(t, u).Mapping.KeyIndex; got != 0 {
		t.Fatalf("key index %d, want 0", got)
	}
	u = f.MustRun(t, u)
	if u.Status != StatusDone || u.RowsImported != 2 {
		t.Fatalf("import %+v", u)
	}
	if ages := table.Columns[2]; ages.Type != values.Number {
		t.Fatalf("age column %+v: types are inferred", ages)
	}
}

// TestCreateTableFromCSVRemovesTheUploadOfAFailedStep checks that a file
// that stored fine but cannot become a table leaves nothing behind.
func TestCreateTableFromCSVRemovesTheUploadOfAFailedStep(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	tests := []struct {
		name    string
		content string
		in      ImportInput
		field   string
	}{
		{"unknown key column", peopleCSV, ImportInput{KeyColumn: "id"}, "key_column"},
		{"unreadable file", "\xff\xfee\x00m\x00a\x00i\x00l\x00\n\x00", ImportInput{}, "file"},
		{"bad table name", peopleCSV, ImportInput{TableName: strings.Repeat("x", 300)}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := f.svc.CreateTableFromCSV(context.Background(), f.owner, f.wbID, tt.name+".csv", strings.NewReader(tt.content), 0, tt.in)
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("err = %v, want invalid", err)
			}
			if fields := apperr.FieldsOf(err); len(fields) == 0 || fields[0].Field != tt.field {
				t.Errorf("fields %+v, want %s", fields, tt.field)
			}
			if n := f.count(t, "SELECT count(*) FROM uploads WHERE filename = $1", tt.name+".csv"); n != 0 {
				t.Errorf("%d uploads kept", n)
			}
		})
	}
	if n := f.count(t, "SELECT count(*) FROM upload_chunks"); n != 0 {
		t.Fatalf("%d chunks kept", n)
	}
	if n := f.tableCount(t); n != 0 {
		t.Fatalf("%d tables kept", n)
	}
}

// failingReader yields some bytes, then fails with err.
type failingReader struct {
	data string
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestCreateUploadReadErrors checks that a read error the caller classified
// (a handler's TooLarge for a body past its limit) keeps its kind and any
// other means an interrupted upload; either way nothing is kept.
func TestCreateUploadReadErrors(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	tests := []struct {
		name string
		err  error
		want apperr.Kind
	}{
		{"classified by the caller", apperr.New(apperr.TooLarge, "The file is larger than the limit of 1 KiB."), apperr.TooLarge},
		{"connection reset", errors.New("connection reset by peer"), apperr.Invalid},
		{"a message that says too large is no verdict", errors.New("http: request body too large"), apperr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.CreateUpload(context.Background(), f.owner, f.wbID, tt.name+".csv", &failingReader{data: peopleCSV, err: tt.err}, 0)
			if !apperr.Is(err, tt.want) {
				t.Fatalf("err = %v, want %s", err, tt.want)
			}
			if n := f.count(t, "SELECT count(*) FROM uploads WHERE filename = $1", tt.name+".csv"); n != 0 {
				t.Errorf("%d uploads kept", n)
			}
		})
	}
	if _, err := f.svc.CreateUpload(context.Background(), f.owner, f.wbID, "ok.csv", &failingReader{data: peopleCSV, err: io.EOF}, 0); err != nil {
		t.Fatalf("a reader ending in io.EOF: %v", err)
	}
}

// TestPurgeAbandonedUploads ages uploads in every status and purges those
// never imported.
func TestPurgeAbandonedUploads(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	ctx := context.Background()
	uploaded := f.MustUpload(t, "left-on-preview.csv", peopleCSV)
	importing := f.MustUpload(t, "importing.csv", peopleCSV)
	importing, _ = f.MustStart(t, importing.ID, ImportInput{Columns: []ColumnChoice{{Index: 0, Type: values.Text}}})
	done := f.MustUpload(t, "done.csv", peopleCSV)
	done, _ = f.MustStart(t, done.ID, ImportInput{Columns: []ColumnChoice{{Index: 0, Type: values.Text}}})
	done = f.MustRun(t, done)
	// An upload cut off by a crash stays "uploading" with its chunks.
	cutOff := f.MustUpload(t, "cut-off.csv", peopleCSV)
	if _, err := f.pool.Exec(ctx, "UPDATE uploads SET status = 'uploading' WHERE id = $1", cutOff.ID); err != nil {
		t.Fatal(err)
	}
	recent := f.MustUpload(t, "recent.csv", peopleCSV)

	if _, err := f.pool.Exec(ctx, "UPDATE uploads SET updated_at = now() - interval '25 hours' WHERE id <> $1", recent.ID); err != nil {
		t.Fatal(err)
	}
	n, err := f.svc.PurgeAbandoned(ctx, 24*time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("purged %d (%v), want 2", n, err)
	}
	for _, gone := range []Upload{uploaded, cutOff} {
		if _, err := f.svc.FindUpload(ctx, f.owner, f.wbID, gone.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("%s: %v, want purged", gone.Filename, err)
		}
		if n := f.count(t, "SELECT count(*) FROM upload_chunks WHERE upload_id = $1", gone.ID); n != 0 {
			t.Errorf("%s: %d chunks kept", gone.Filename, n)
		}
	}
	for _, kept := range []Upload{importing, done, recent} {
		if _, err := f.svc.FindUpload(ctx, f.owner, f.wbID, kept.ID); err != nil {
			t.Errorf("%s: %v, want kept", kept.Filename, err)
		}
	}
	if n, err := f.svc.PurgeAbandoned(ctx, 24*time.Hour); err != nil || n != 0 {
		t.Fatalf("second purge: %d %v", n, err)
	}
}
