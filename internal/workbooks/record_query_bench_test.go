package workbooks_test

import (
	"context"
	"testing"

	"github.com/scratchpad/scratchpad/internal/seed"
	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// BenchmarkFindRecords lists the first page of 100 records (the grid's page)
// of a seeded table of 10,000 records × 20 fields, stored as a pull leaves
// them. The listing decodes only the current values; "with_original" also
// reads every record's values as pulled (Record.Original), which listings
// never need.
func BenchmarkFindRecords(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds a table of 10,000 records: run without -short")
	}
	ctx := context.Background()
	pool := testdb.New(b)
	res, err := seed.Run(ctx, pool, seed.Options{Email: "bench@example.com", Records: 10_000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	svc := workbooks.NewService(pool)
	q := workbooks.RecordQuery{Limit: 100}
	list := func(b *testing.B, decodeOriginal bool) {
		for b.Loop() {
			page, err := svc.FindRecords(ctx, res.OwnerID, res.WorkbookID, res.TableID, q)
			if err != nil {
				b.Fatal(err)
			}
			if len(page.Records) != q.Limit {
				b.Fatalf("listed %d records, want %d", len(page.Records), q.Limit)
			}
			if !decodeOriginal {
				continue
			}
			for _, r := range page.Records {
				if _, err := r.Original(); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("with_original", func(b *testing.B) { list(b, true) })
	b.Run("fields_only", func(b *testing.B) { list(b, false) })
}

// BenchmarkFindRecordsMultiSort lists the grid's page of 100 records of a
// seeded table of 10,000 records, sorted by one key and by two (Status,
// then Price descending): the first page, and the fifth through its
// cursor.
func BenchmarkFindRecordsMultiSort(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds a table of 10,000 records: run without -short")
	}
	ctx := context.Background()
	pool := testdb.New(b)
	res, err := seed.Run(ctx, pool, seed.Options{Email: "bench-sort@example.com", Records: 10_000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	svc := workbooks.NewService(pool)
	for _, sort := range []string{"Status", "Status,-Price"} {
		q := workbooks.RecordQuery{Limit: 100, Sort: sort, WithoutTotal: true}
		for range 4 {
			page, err := svc.FindRecords(ctx, res.OwnerID, res.WorkbookID, res.TableID, q)
			if err != nil {
				b.Fatal(err)
			}
			q.Cursor = page.NextCursor
		}
		for _, name := range []string{"first", "fifth"} {
			q := q
			if name == "first" {
				q.Cursor = ""
			}
			b.Run(sort+"/"+name, func(b *testing.B) {
				for b.Loop() {
					page, err := svc.FindRecords(ctx, res.OwnerID, res.WorkbookID, res.TableID, q)
					if err != nil || len(page.Records) != q.Limit {
						b.Fatalf("listed %d records: %v", len(page.Records), err)
					}
				}
			})
		}
	}
}
