// Command seed fills a Scratchpad database with a table of realistic records
// for benchmarks and demos:
//
//	go run ./cmd/seed --database-url postgres://… --email demo@example.com --records 1000000
//
// It creates (or reuses) the user, a workbook and a table of twenty columns,
// and appends the records with COPY; see package internal/seed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/seed"
)

func main() {
	os.Exit(run())
}

func run() int {
	var (
		url      = flag.String("database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL of a migrated Scratchpad database (default $DATABASE_URL)")
		email    = flag.String("email", "seed@example.com", "owner's email; the user is created unless it exists")
		password = flag.String("password", "", "password of a created owner (default: a fixed demo password)")
		records  = flag.Int("records", 100_000, "how many records to add")
		workbook = flag.String("workbook", "Seeded", "workbook name; reused when the owner has one by that name")
		table    = flag.String("table", "Articles", "table name; reused (records appended) when the workbook has one")
		seedFlag = flag.Uint64("seed", 1, "content seed: the same seed gives the same records")
		batch    = flag.Int("batch", 10_000, "records per COPY batch")
		parallel = flag.Int("parallel", 2, "COPY streams at once")
	)
	flag.Parse()
	if *url == "" {
		fmt.Fprintln(os.Stderr, "seed: --database-url (or DATABASE_URL) is required")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	pool, err := db.Connect(ctx, *url, 4)
	if err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		return 1
	}
	defer pool.Close()
	start := time.Now()
	res, err := seed.Run(ctx, pool, seed.Options{
		Email: *email, Password: *password, Workbook: *workbook, Table: *table,
		Records: *records, Seed: *seedFlag, BatchSize: *batch, Parallel: *parallel,
		Progress: func(done int) {
			if done%100_000 == 0 || done == *records {
				fmt.Fprintf(os.Stderr, "seed: %d records (%s)\n", done, time.Since(start).Round(time.Millisecond))
			}
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		return 1
	}
	fmt.Printf("seeded %d records in %s\nowner %s\nworkbook %s\ntable %s\n",
		res.Records, res.Elapsed.Round(time.Millisecond), res.OwnerID, res.WorkbookID, res.TableID)
	return 0
}
