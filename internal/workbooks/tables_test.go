package workbooks_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// TestCreateTableTxCommitsWithTheCallersTransaction checks that a table
// created inside another domain's transaction, and its event, exist only if
// that transaction commits.
func TestCreateTableTxCommitsWithTheCallersTransaction(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	conn := f.MustListen(t)
	in := workbooks.TableInput{Name: "Orders", Columns: []workbooks.ColumnInput{{Name: "Number", Type: values.Number}}}

	errLater := errors.New("a later step failed")
	err := db.InTx(ctx, f.pool, func(tx pgx.Tx) error {
		if _, err := f.svc.CreateTableTx(ctx, tx, f.owner, f.wb.ID, in); err != nil {
			t.Fatalf("create table: %v", err)
		}
		return errLater
	})
	if !errors.Is(err, errLater) {
		t.Fatalf("transaction: %v", err)
	}
	if ev, ok := nextEvent(t, conn, 300*time.Millisecond); ok {
		t.Fatalf("event of a rolled-back table: %+v", ev)
	}
	if wb := f.MustWorkbook(t); len(wb.Tables) != 1 {
		t.Fatalf("tables after rollback: %+v", wb.Tables)
	}

	var created workbooks.Table
	err = db.InTx(ctx, f.pool, func(tx pgx.Tx) error {
		created, err = f.svc.CreateTableTx(ctx, tx, f.owner, f.wb.ID, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ev, ok := nextEvent(t, conn, 5*time.Second)
	if !ok || ev.Type != "table.created" || ev.Data.TableID != created.ID {
		t.Fatalf("event after commit: %v %+v", ok, ev)
	}
	if wb := f.MustWorkbook(t); len(wb.Tables) != 2 || wb.Tables[1].ID != created.ID || wb.Tables[1].Position <= wb.Tables[0].Position {
		t.Fatalf("tables after commit: %+v", wb.Tables)
	}
}

func TestCreateTableTxRefusals(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	other := MustUser(t, f.pool)
	tests := []struct {
		name     string
		owner    string
		workbook string
		in       workbooks.TableInput
		want     apperr.Kind
	}{
		{"no name", f.owner, f.wb.ID, workbooks.TableInput{Name: " "}, apperr.Invalid},
		{"bad column type", f.owner, f.wb.ID, workbooks.TableInput{Name: "T", Columns: []workbooks.ColumnInput{{Name: "A", Type: "blob"}}}, apperr.Invalid},
		{"another user's workbook", other, f.wb.ID, workbooks.TableInput{Name: "T"}, apperr.NotFound},
		{"malformed workbook id", f.owner, "nope", workbooks.TableInput{Name: "T"}, apperr.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := db.InTx(ctx, f.pool, func(tx pgx.Tx) error {
				_, err := f.svc.CreateTableTx(ctx, tx, tt.owner, tt.workbook, tt.in)
				return err
			})
			if !apperr.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// MustWorkbook reads the fixture's workbook with its tables.
func (f *fixture) MustWorkbook(tb testing.TB) workbooks.Workbook {
	tb.Helper()
	wb, err := f.svc.FindWorkbook(context.Background(), f.owner, f.wb.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return wb
}

// TestAdoptSelectOptions checks what an import leaves its select columns:
// the sorted distinct values (items, for a multi select) as options, and
// none when there are more than MaxAdoptedOptions.
func TestAdoptSelectOptions(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	tbl, err := f.svc.CreateTable(ctx, f.owner, f.wb.ID, workbooks.TableInput{Name: "Choices", Columns: []workbooks.ColumnInput{
		{Name: "Status", Type: values.Select},
		{Name: "Tags", Type: values.MultiSelect},
		{Name: "Code", Type: values.Select},
		{Name: "Fixed", Type: values.Select, Options: []string{"one"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range workbooks.MaxAdoptedOptions + 1 {
		fields := map[string]any{"Code": fmt.Sprintf("C%02d", i), "Status": []string{"Draft", "Published"}[i%2]}
		if i < 3 {
			fields["Tags"] = []string{"red", "blue", "green"}[:i+1]
		}
		if _, err := f.svc.CreateRecord(ctx, f.owner, f.wb.ID, tbl.ID, fields); err != nil {
			t.Fatal(err)
		}
	}
	changed, err := f.svc.AdoptSelectOptions(ctx, f.owner, f.wb.ID, tbl.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.FindTable(ctx, f.owner, f.wb.ID, tbl.ID)
	if err != nil {
		t.Fatal(err)
	}
	options := map[string]string{}
	for _, c := range got.Columns {
		options[c.Name] = fmt.Sprint(c.Options)
	}
	want := map[string]string{"Status": "[Draft Published]", "Tags": "[blue green red]", "Code": "[]", "Fixed": "[one]"}
	if fmt.Sprint(options) != fmt.Sprint(want) || len(changed) != 2 {
		t.Fatalf("options %v (changed %v), want %v", options, changed, want)
	}
	// Nothing left to adopt: no change, no error.
	if again, err := f.svc.AdoptSelectOptions(ctx, f.owner, f.wb.ID, tbl.ID); err != nil || len(again) != 0 {
		t.Fatalf("second adopt: %v, %v", again, err)
	}
}
