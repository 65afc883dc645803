package workbooks_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// fixture is a database with a service and one user owning a workbook with
// a products table.
type fixture struct {
	pool  *pgxpool.Pool
	svc   *workbooks.Service
	owner string
	wb    workbooks.Workbook
	table workbooks.Table
}

var userCounter atomic.Int64

// MustUser signs up a fresh user and returns their id.
func MustUser(tb testing.TB, pool *pgxpool.Pool) string {
	tb.Helper()
	n := userCounter.Add(1)
	u, err := accounts.NewService(pool).SignUp(context.Background(), accounts.SignUpInput{
		Email: fmt.Sprintf("user%d@example.com", n), Name: fmt.Sprintf("User %d", n), Password: "correct horse battery staple",
	})
	if err != nil {
		tb.Fatalf("sign up: %v", err)
	}
	return u.ID
}

// productColumns are the columns of the fixture's table.
var productColumns = []workbooks.ColumnInput{
	{Name: "Title", Type: values.Text, Required: true},
	{Name: "Price", Type: values.Number},
	{Name: "In stock", Type: values.Boolean},
	{Name: "Status", Type: values.Select, Options: []string{"Draft", "Published"}},
	{Name: "SKU", Type: values.Text, ReadOnly: true},
}

// MustFixture returns a fresh database with one user, workbook and table.
func MustFixture(tb testing.TB) *fixture {
	tb.Helper()
	pool := testdb.New(tb)
	f := &fixture{pool: pool, svc: workbooks.NewService(pool), owner: MustUser(tb, pool)}
	ctx := context.Background()
	var err error
	if f.wb, err = f.svc.CreateWorkbook(ctx, f.owner, "Shop"); err != nil {
		tb.Fatalf("create workbook: %v", err)
	}
	if f.table, err = f.svc.CreateTable(ctx, f.owner, f.wb.ID, workbooks.TableInput{Name: "Products", Columns: productColumns}); err != nil {
		tb.Fatalf("create table: %v", err)
	}
	return f
}

// col returns the id of the fixture table's column name.
func (f *fixture) col(tb testing.TB, name string) string {
	tb.Helper()
	c, ok := f.table.Columns.Lookup(name)
	if !ok {
		tb.Fatalf("no column %q", name)
	}
	return c.ID
}

// MustRecord creates a record in the fixture's table.
func (f *fixture) MustRecord(tb testing.TB, fields map[string]any) workbooks.Record {
	tb.Helper()
	r, err := f.svc.CreateRecord(context.Background(), f.owner, f.wb.ID, f.table.ID, fields)
	if err != nil {
		tb.Fatalf("create record: %v", err)
	}
	return r
}

// MustPulled inserts a clean record as a pull would (no original: nothing
// changed since the pull), with fields by column name, and returns it.
func (f *fixture) MustPulled(tb testing.TB, remoteID string, fields map[string]any) workbooks.Record {
	tb.Helper()
	byID := map[string]any{}
	for k, v := range fields {
		byID[f.col(tb, k)] = v
	}
	var id string
	err := f.pool.QueryRow(context.Background(),
		`INSERT INTO records (workbook_id, table_id, remote_id, fields)
		 VALUES ($1, $2, $3, $4) RETURNING id`, f.wb.ID, f.table.ID, remoteID, byID).Scan(&id)
	if err != nil {
		tb.Fatalf("insert pulled record: %v", err)
	}
	r, err := f.svc.FindRecord(context.Background(), f.owner, f.wb.ID, f.table.ID, id)
	if err != nil {
		tb.Fatalf("find pulled record: %v", err)
	}
	return r
}

// MustFind reloads a record.
func (f *fixture) MustFind(tb testing.TB, id string) workbooks.Record {
	tb.Helper()
	r, err := f.svc.FindRecord(context.Background(), f.owner, f.wb.ID, f.table.ID, id)
	if err != nil {
		tb.Fatalf("find record %s: %v", id, err)
	}
	return r
}

// wantKind fails unless err is of kind.
func wantKind(tb testing.TB, err error, kind apperr.Kind) {
	tb.Helper()
	if !apperr.Is(err, kind) {
		tb.Fatalf("error = %v, want kind %s", err, kind)
	}
}

// MustOriginal returns a record's original values.
func MustOriginal(tb testing.TB, rec workbooks.Record) map[string]any {
	tb.Helper()
	orig, err := rec.Original()
	if err != nil {
		tb.Fatalf("original of %s: %v", rec.ID, err)
	}
	return orig
}
