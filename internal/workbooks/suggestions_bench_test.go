package workbooks_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/scratchpad/scratchpad/internal/seed"
	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// BenchmarkAcceptSuggestions accepts all of a table's pending suggestions,
// one per record (a new Title), on seeded tables of 10,000 and 100,000
// records stored as an import leaves them (no original until the first edit,
// which records only the values it replaces, see sp_original): one
// set-based statement applying the values, deriving
// edited fields and state, bumping versions, writing the audit trail and
// removing the suggestions. The baseline is a plain UPDATE writing a new Title into
// the same records, measured in the same run. Between operations (not
// timed) the suggestions are stored again and records vacuumed.
func BenchmarkAcceptSuggestions(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("suggestions=%d", n), func(b *testing.B) {
			if testing.Short() {
				b.Skip("seeds tables of up to 100,000 records: run without -short")
			}
			ctx := context.Background()
			pool := testdb.New(b)
			res, err := seed.Run(ctx, pool, seed.Options{Email: "bench@example.com", Records: n, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			svc := workbooks.NewService(pool)
			title, _ := res.Table.Columns.Lookup("Title")
			vacuum := func(b *testing.B) {
				if _, err := pool.Exec(ctx, `VACUUM ANALYZE records`); err != nil {
					b.Fatal(err)
				}
			}
			var baseline float64
			b.Run("baseline_plain_update", func(b *testing.B) {
				for i := range b.N {
					b.StopTimer()
					vacuum(b)
					b.StartTimer()
					_, err := pool.Exec(ctx, `UPDATE records SET fields = fields || jsonb_build_object($3::text, 'Plain ' || $4::int || ' ' || seq)
						WHERE workbook_id = $1 AND table_id = $2`, res.WorkbookID, res.TableID, title.ID, i)
					if err != nil {
						b.Fatal(err)
					}
				}
				baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			})
			b.Run("accept_all", func(b *testing.B) {
				for i := range b.N {
					b.StopTimer()
					vacuum(b)
					// Stored as ProposeSuggestions stores them, in one statement
					// instead of batches of 50,000.
					_, err := pool.Exec(ctx, `INSERT INTO suggestions (workbook_id, table_id, record_id, action, field, value, source, created_by)
						SELECT workbook_id, table_id, id, 'update', $3, to_jsonb('Suggested ' || $4::int || ' ' || seq), 'api', $5
						FROM records WHERE workbook_id = $1 AND table_id = $2`, res.WorkbookID, res.TableID, title.ID, i, res.OwnerID)
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					counts, err := svc.AcceptSuggestions(ctx, res.OwnerID, res.WorkbookID, res.TableID, workbooks.Selector{All: true})
					if err != nil {
						b.Fatal(err)
					}
					if counts.Updates != n {
						b.Fatalf("accepted %d, want %d", counts.Updates, n)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/accept-all")
				if baseline > 0 {
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseline, "x-baseline")
				}
			})
		})
	}
}
