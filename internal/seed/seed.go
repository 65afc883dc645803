// Package seed fills the record store with a table of realistic records for
// benchmarks and demos: twenty columns of every type, with titles, slugs,
// bodies of a few hundred words, prices, dates and selects, generated
// deterministically from a seed so every run measures the same data.
//
// Records are written with COPY in batches, as a pull or a CSV import leaves
// them: clean, in the canonical form workbooks.NormalizeValue produces, and
// with no original, since nothing changed since the pull (see sp_original).
package seed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// Options says what to seed.
type Options struct {
	// Email of the owner; the user is created (password Password) unless it
	// exists.
	Email string
	// Password of a created owner; a fixed demo password when empty.
	Password string
	// Workbook is the workbook's name; an existing one of the owner's is
	// reused. "Seeded" when empty.
	Workbook string
	// Table is the table's name; an existing one in the workbook is reused
	// and the records are appended. "Articles" when empty.
	Table string
	// Records is how many records to add.
	Records int
	// Seed makes the content; the same seed gives the same records.
	Seed uint64
	// BatchSize is how many records one COPY writes (default 10,000).
	BatchSize int
	// Parallel is how many COPY streams run at once (default 2): PostgreSQL
	// parsing and compressing the JSON is the bottleneck, one core each.
	Parallel int
	// Progress, when set, is called after each batch with the records
	// written so far.
	Progress func(done int)
}

// Result is what was seeded.
type Result struct {
	OwnerID    string
	WorkbookID string
	TableID    string
	// Table holds the column specs, for building queries.
	Table   workbooks.Table
	Records int
	Elapsed time.Duration
}

// DefaultPassword is the password of a seeded owner unless Options say
// otherwise: seeded databases are for benchmarks and demos only.
const DefaultPassword = "seeded password, not for production"

// Columns are the seeded table's columns, in order.
var Columns = []workbooks.ColumnInput{
	{Name: "Title", Type: values.Text, Required: true},
	{Name: "Slug", Type: values.Text},
	{Name: "Body", Type: values.Text, Format: values.FormatMarkdown},
	{Name: "Author", Type: values.Text},
	{Name: "Category", Type: values.Select, Options: categories},
	{Name: "Tags", Type: values.MultiSelect, Options: tags},
	{Name: "Price", Type: values.Number},
	{Name: "Rating", Type: values.Number},
	{Name: "Stock", Type: values.Number},
	{Name: "Published", Type: values.Boolean},
	{Name: "Published on", Type: values.Date},
	{Name: "Updated at", Type: values.Datetime},
	{Name: "URL", Type: values.Text, Format: values.FormatURL},
	{Name: "Email", Type: values.Text, Format: values.FormatEmail},
	{Name: "Status", Type: values.Select, Options: statuses},
	{Name: "SKU", Type: values.Text},
	{Name: "Country", Type: values.Select, Options: countries},
	{Name: "Summary", Type: values.Text},
	{Name: "Notes", Type: values.Text, Format: values.FormatMarkdown},
	{Name: "Word count", Type: values.Number},
}

var (
	categories = []string{"Science", "Travel", "Food", "Technology", "History", "Design", "Health", "Finance"}
	tags       = []string{"featured", "long-read", "guide", "opinion", "news", "interview", "review", "series", "archive", "video", "data", "local"}
	statuses   = []string{"draft", "in review", "published", "archived"}
	countries  = []string{"France", "Germany", "Japan", "Brazil", "Canada", "India", "Kenya", "Mexico", "Norway", "Spain", "Vietnam", "Australia"}
	firstNames = []string{"Ada", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kira", "Luis", "Maya", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq"}
	lastNames  = []string{"Almeida", "Becker", "Chen", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ivanova", "Johansson", "Kato", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi", "Silva", "Tanaka", "Weber"}
)

// words is the vocabulary of the generated prose: lorem-like, with common
// short words so sentences have a natural rhythm and trigram searches find
// realistic numbers of matches.
var words = strings.Fields(`lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor
incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris
nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat
nulla pariatur excepteur sint occaecat cupidatat non proident sunt culpa qui officia deserunt mollit anim id
est laborum curabitur pretium tincidunt lacus nunc pulvinar sapien ligula condimentum vel porta nec
fermentum gravida mauris augue tristique risus varius vitae faucibus morbi accumsan felis ornare
pellentesque habitant senectus netus malesuada fames turpis egestas viverra orci sagittis eu volutpat odio
facilisis arcu cursus euismod quam blandit massa placerat vestibulum rhoncus dignissim convallis aenean
the of and to a in is it for on with as by at from river harbor lantern meadow copper orbit signal garden
market bridge window summer winter compass archive journey season harvest thunder silver canyon`)

// generator makes the fields of records, keyed by column id.
type generator struct {
	ids  []string // column ids in Columns order
	seed uint64
}

// fields returns record i's fields as a JSON object.
func (g generator) fields(i int) []byte {
	r := rand.New(rand.NewPCG(g.seed, uint64(i)))
	b := make([]byte, 0, 4096)
	b = append(b, '{')
	first := true
	field := func(col int, value func([]byte) []byte) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = workbooks.AppendJSONString(b, g.ids[col])
		b = append(b, ':')
		b = value(b)
	}
	str := func(col int, s string) { field(col, func(b []byte) []byte { return workbooks.AppendJSONString(b, s) }) }
	num := func(col int, s string) { field(col, func(b []byte) []byte { return append(b, s...) }) }

	title := sentence(r, 3+r.IntN(7), false)
	slug := strings.ReplaceAll(strings.ToLower(title), " ", "-") + "-" + strconv.Itoa(i)
	bodyWords := 150 + r.IntN(250)
	str(0, title)
	str(1, slug)
	str(2, prose(r, bodyWords))
	str(3, firstNames[r.IntN(len(firstNames))]+" "+lastNames[r.IntN(len(lastNames))])
	str(4, categories[r.IntN(len(categories))])
	field(5, func(b []byte) []byte {
		n := r.IntN(4)
		picked := r.Perm(len(tags))[:n]
		b = append(b, '[')
		for k, p := range picked {
			if k > 0 {
				b = append(b, ',')
			}
			b = workbooks.AppendJSONString(b, tags[p])
		}
		return append(b, ']')
	})
	cents := 99 + r.IntN(99900)
	num(6, strconv.Itoa(cents/100)+"."+twoDigits(cents%100))
	if r.IntN(10) > 0 { // one in ten is not rated yet
		num(7, strconv.Itoa(1+r.IntN(4))+"."+strconv.Itoa(r.IntN(10)))
	}
	num(8, strconv.Itoa(r.IntN(5000)))
	field(9, func(b []byte) []byte { return strconv.AppendBool(b, r.IntN(3) > 0) })
	day := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(26*365))
	str(10, day.Format(time.DateOnly))
	str(11, day.Add(time.Duration(r.IntN(3*365*24*3600))*time.Second).Format(time.RFC3339))
	str(12, "https://example.com/articles/"+slug)
	str(13, strings.ToLower(firstNames[r.IntN(len(firstNames))])+"."+strconv.Itoa(i)+"@example.com")
	str(14, statuses[r.IntN(len(statuses))])
	str(15, fmt.Sprintf("SKU-%08d", i))
	str(16, countries[r.IntN(len(countries))])
	str(17, sentence(r, 15+r.IntN(20), true))
	if r.IntN(4) > 0 { // notes are optional
		str(18, notes(r))
	}
	num(19, strconv.Itoa(bodyWords))
	return append(b, '}')
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// sentence returns n words, capitalized, with a full stop when period.
func sentence(r *rand.Rand, n int, period bool) string {
	var sb strings.Builder
	for k := range n {
		w := words[r.IntN(len(words))]
		if k == 0 {
			sb.WriteString(strings.ToUpper(w[:1]) + w[1:])
			continue
		}
		sb.WriteByte(' ')
		sb.WriteString(w)
	}
	if period {
		sb.WriteByte('.')
	}
	return sb.String()
}

// prose returns about n words as sentences in paragraphs.
func prose(r *rand.Rand, n int) string {
	var sb strings.Builder
	inParagraph := 0
	for n > 0 {
		k := min(n, 6+r.IntN(14))
		if sb.Len() > 0 {
			if inParagraph >= 4+r.IntN(3) {
				sb.WriteString("\n\n")
				inParagraph = 0
			} else {
				sb.WriteByte(' ')
			}
		}
		sb.WriteString(sentence(r, k, true))
		inParagraph++
		n -= k
	}
	return sb.String()
}

// notes returns a short markdown note with emphasis and a list.
func notes(r *rand.Rand) string {
	var sb strings.Builder
	sb.WriteString("**" + sentence(r, 2+r.IntN(3), false) + "**: " + sentence(r, 8+r.IntN(12), true) + "\n")
	for range 1 + r.IntN(3) {
		sb.WriteString("\n- " + sentence(r, 3+r.IntN(6), false))
	}
	return sb.String()
}

// Fields returns the fields of record i of a table seeded with seed, keyed
// by column id as cols (in Columns order) name them. Tests use it to check
// the canonical form.
func Fields(cols workbooks.Columns, seed uint64, i int) (json.RawMessage, error) {
	g, err := newGenerator(cols, seed)
	if err != nil {
		return nil, err
	}
	return g.fields(i), nil
}

func newGenerator(cols workbooks.Columns, seed uint64) (generator, error) {
	if len(cols) < len(Columns) {
		return generator{}, fmt.Errorf("seed: table has %d columns, want %d", len(cols), len(Columns))
	}
	g := generator{seed: seed}
	for _, in := range Columns {
		c, ok := cols.Lookup(in.Name)
		if !ok || c.Type != in.Type {
			return generator{}, fmt.Errorf("seed: table lacks column %q (%s)", in.Name, in.Type)
		}
		g.ids = append(g.ids, c.ID)
	}
	return g, nil
}

// Run seeds the records opts describes.
func Run(ctx context.Context, pool *pgxpool.Pool, opts Options) (Result, error) {
	start := time.Now()
	if opts.Records < 0 {
		return Result{}, errors.New("seed: negative record count")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 10_000
	}
	owner, err := ensureUser(ctx, pool, opts)
	if err != nil {
		return Result{}, err
	}
	svc := workbooks.NewService(pool)
	wb, err := ensureWorkbook(ctx, svc, owner, cmpOr(opts.Workbook, "Seeded"))
	if err != nil {
		return Result{}, err
	}
	t, err := ensureTable(ctx, svc, owner, wb, cmpOr(opts.Table, "Articles"))
	if err != nil {
		return Result{}, err
	}
	g, err := newGenerator(t.Columns, opts.Seed)
	if err != nil {
		return Result{}, err
	}
	var offset int
	// Appending to a reused table continues the numbering, so slugs and
	// SKUs stay unique.
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM records WHERE workbook_id = $1 AND table_id = $2`, wb.ID, t.ID).Scan(&offset); err != nil {
		return Result{}, fmt.Errorf("seed: count records: %w", err)
	}
	if err := copyRecords(ctx, pool, svc, g, t, offset, opts); err != nil {
		return Result{}, err
	}
	if _, err := pool.Exec(ctx, "ANALYZE records"); err != nil {
		return Result{}, fmt.Errorf("seed: analyze: %w", err)
	}
	return Result{OwnerID: owner, WorkbookID: wb.ID, TableID: t.ID, Table: t, Records: opts.Records, Elapsed: time.Since(start)}, nil
}

// copyBatch adds one batch of records through the record store's bulk
// path, which holds the table's row meanwhile: a table deleted while seeding
// stops the seed instead of leaving records without a table.
func copyBatch(ctx context.Context, pool *pgxpool.Pool, svc *workbooks.Service, t workbooks.Table, ids *workbooks.RecordIDs, rows []workbooks.NewRecordRow) error {
	return db.InTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := svc.CopyRecordsTx(ctx, tx, t, ids, workbooks.RowsFrom(rows))
		if apperr.Is(err, apperr.NotFound) {
			return errors.New("seed: the table was deleted while seeding")
		}
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		return nil
	})
}

// copyRecords writes opts.Records records numbered from offset in batches,
// opts.Parallel batches at a time.
func copyRecords(ctx context.Context, pool *pgxpool.Pool, svc *workbooks.Service, g generator, t workbooks.Table, offset int, opts Options) error {
	if opts.Parallel <= 0 {
		opts.Parallel = 2
	}
	var (
		mu   sync.Mutex
		next int // the first record of the next batch to hand out
		done int
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, opts.Parallel)
	for range opts.Parallel {
		go func() {
			ids := workbooks.NewRecordIDs()
			for {
				mu.Lock()
				from := next
				n := min(opts.BatchSize, opts.Records-from)
				next += max(n, 0)
				mu.Unlock()
				if n <= 0 {
					errs <- nil
					return
				}
				rows := make([]workbooks.NewRecordRow, n)
				for k := range rows {
					rows[k] = workbooks.NewRecordRow{Fields: g.fields(offset + from + k)}
				}
				if err := copyBatch(ctx, pool, svc, t, ids, rows); err != nil {
					cancel()
					errs <- err
					return
				}
				mu.Lock()
				done += n
				if opts.Progress != nil {
					opts.Progress(done)
				}
				mu.Unlock()
			}
		}()
	}
	var first error
	for range opts.Parallel {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func ensureUser(ctx context.Context, pool *pgxpool.Pool, opts Options) (string, error) {
	acc := accounts.NewService(pool)
	u, err := acc.FindUserByEmail(ctx, opts.Email)
	if err == nil {
		return u.ID, nil
	}
	if !apperr.Is(err, apperr.NotFound) {
		return "", fmt.Errorf("seed: find user: %w", err)
	}
	u, err = acc.SignUp(ctx, accounts.SignUpInput{Email: opts.Email, Name: "Seeded user", Password: cmpOr(opts.Password, DefaultPassword)})
	if err != nil {
		return "", fmt.Errorf("seed: sign up %s: %w", opts.Email, err)
	}
	return u.ID, nil
}

func ensureWorkbook(ctx context.Context, svc *workbooks.Service, owner, name string) (workbooks.Workbook, error) {
	list, err := svc.FindWorkbooks(ctx, owner, workbooks.SortByName)
	if err != nil {
		return workbooks.Workbook{}, err
	}
	for _, wb := range list {
		if wb.Name == name {
			return wb, nil
		}
	}
	return svc.CreateWorkbook(ctx, owner, name)
}

func ensureTable(ctx context.Context, svc *workbooks.Service, owner string, wb workbooks.Workbook, name string) (workbooks.Table, error) {
	full, err := svc.FindWorkbook(ctx, owner, wb.ID)
	if err != nil {
		return workbooks.Table{}, err
	}
	for _, t := range full.Tables {
		if t.Name == name {
			return t, nil
		}
	}
	return svc.CreateTable(ctx, owner, wb.ID, workbooks.TableInput{Name: name, Columns: Columns})
}
