package imports

import (
	"context"
	"testing"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

// Starting an import takes its workbook's row before its upload's, as
// deleting the workbook does (the workbook, then by cascade its uploads):
// the two then wait for each other in turn, never in a deadlock that
// PostgreSQL would break by failing one. Here a transaction holding the
// workbook, as a deletion does first, finds the upload free to lock while
// StartImport waits, and the import then finds its upload gone.
func TestStartImportTakesTheWorkbookBeforeTheUpload(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	ctx := context.Background()
	up := f.MustUpload(t, "race.csv", "a,b\n1,2\n")

	deleting, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer deleting.Rollback(ctx) //nolint:errcheck // committed below
	if _, err := deleting.Exec(ctx, "SELECT 1 FROM workbooks WHERE id = $1 FOR UPDATE", f.wbID); err != nil {
		t.Fatal(err)
	}
	started := make(chan error, 1)
	go func() {
		_, _, err := f.svc.StartImport(ctx, f.owner, f.wbID, up.ID, ImportInput{Columns: []ColumnChoice{{Index: 0, Name: "a", Type: "text"}}})
		started <- err
	}()
	testdb.WaitForLockWaiter(t, f.pool)
	if _, err := deleting.Exec(ctx, "SELECT 1 FROM uploads WHERE id = $1 FOR UPDATE NOWAIT", up.ID); err != nil {
		t.Fatalf("the upload is locked while StartImport waits for the workbook: %v", err)
	}
	if _, err := deleting.Exec(ctx, "DELETE FROM workbooks WHERE id = $1", f.wbID); err != nil {
		t.Fatal(err)
	}
	if err := deleting.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-started; !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("start after the workbook's deletion: %v, want not found", err)
	}
}
