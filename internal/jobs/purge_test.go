package jobs_test

import (
	"context"
	"strings"
	"testing"

	"github.com/riverqueue/river"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/imports"
	"github.com/scratchpad/scratchpad/internal/jobs"
	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// TestPurgeRemovesAbandonedUploads checks that the periodic purge removes
// uploads nobody imported within a day, and keeps a fresh one.
func TestPurgeRemovesAbandonedUploads(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	acc := accounts.NewService(pool)
	u, err := acc.SignUp(ctx, accounts.SignUpInput{Email: "purge-uploads@example.com", Name: "Purger", Password: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	wbs := workbooks.NewService(pool)
	wb, err := wbs.CreateWorkbook(ctx, u.ID, "Uploads")
	if err != nil {
		t.Fatal(err)
	}
	imp, err := imports.NewService(pool, wbs, imports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	old, err := imp.CreateUpload(ctx, u.ID, wb.ID, "old.csv", strings.NewReader("a\n1\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := imp.CreateUpload(ctx, u.ID, wb.ID, "fresh.csv", strings.NewReader("a\n1\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "UPDATE uploads SET updated_at = now() - interval '25 hours' WHERE id = $1", old.ID); err != nil {
		t.Fatal(err)
	}

	w := &jobs.PurgeExpiredWorker{Accounts: acc, Imports: imp}
	if err := w.Work(ctx, &river.Job[jobs.PurgeExpiredArgs]{}); err != nil {
		t.Fatal(err)
	}
	var left []string
	rows, err := pool.Query(ctx, "SELECT filename FROM uploads ORDER BY filename")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		left = append(left, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(left, " ") != fresh.Filename {
		t.Fatalf("uploads left %v, want only %s", left, fresh.Filename)
	}
}
