package workbooks_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// BenchmarkEditCells saves a paste of the grid (EditCells) of rows × 2
// columns, Title and Price, into records of the fixture's table, each
// record's edit with its version check, in one transaction, on vacuumed
// records: 500, 1,000 and 5,000 rows (1,000 cells to the cap of 10,000).
func BenchmarkEditCells(b *testing.B) {
	for _, rows := range []int{500, 1_000, 5_000} {
		b.Run(fmt.Sprintf("cells=%d", rows*2), func(b *testing.B) {
			f := MustFixture(b)
			ctx := context.Background()
			var recs []workbooks.Record
			for start := 0; start < rows; start += workbooks.MaxBatchSize {
				var batch workbooks.Batch
				for i := start; i < min(rows, start+workbooks.MaxBatchSize); i++ {
					batch.Creates = append(batch.Creates, workbooks.RecordFields{Fields: map[string]any{"Title": fmt.Sprintf("Item %d", i), "Price": i}})
				}
				res, err := f.svc.BatchRecords(ctx, f.owner, f.wb.ID, f.table.ID, batch)
				if err != nil {
					b.Fatal(err)
				}
				recs = append(recs, res.Created...)
			}
			title, price := f.col(b, "Title"), f.col(b, "Price")
			versions := make([]int, len(recs))
			for i, r := range recs {
				versions[i] = r.Version
			}
			b.ResetTimer()
			for n := range b.N {
				// Each paste starts from vacuumed records, as the last one's
				// dead rows would otherwise slow the next.
				b.StopTimer()
				if _, err := f.pool.Exec(ctx, `VACUUM ANALYZE records`); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				edits := make([]workbooks.CellEdit, 0, 2*len(recs))
				for i, r := range recs {
					v := versions[i]
					edits = append(edits,
						workbooks.CellEdit{RecordID: r.ID, ColumnID: title, Value: fmt.Sprintf("Pasted %d %d", n, i), Version: &v},
						workbooks.CellEdit{RecordID: r.ID, ColumnID: price, Value: fmt.Sprint(n + i), Version: &v})
				}
				res, err := f.svc.EditCells(ctx, f.owner, f.wb.ID, f.table.ID, edits)
				if err != nil {
					b.Fatal(err)
				}
				for i, r := range res.Records {
					versions[i] = r.Version
				}
			}
		})
	}
}
