package crashtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

// answers sends API requests and keeps every answer's body.
type answers struct {
	t      testing.TB
	token  string
	bodies []string
}

// do sends one request to base and decodes a 2xx answer into out (when not
// nil); it returns the status.
func (r *answers) do(base, method, path string, body, out any) int {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			r.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+"/api/v1"+path, rd)
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var hdr strings.Builder
	_ = resp.Header.Write(&hdr)
	r.bodies = append(r.bodies, method+" "+path+"\n"+hdr.String()+"\n"+string(raw))
	if resp.StatusCode < 300 && out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			r.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

// mustDo is do for a request that must succeed with status.
func (r *answers) mustDo(base, method, path string, body any, status int, out any) {
	r.t.Helper()
	if got := r.do(base, method, path, body, out); got != status {
		r.t.Fatalf("%s %s: status %d, want %d: %s", method, path, got, status, r.bodies[len(r.bodies)-1])
	}
}

// jobBody is GET /jobs/{job} as this test reads it.
type jobBody struct {
	State string `json:"state"`
	Sync  *struct {
		Status string `json:"status"`
	} `json:"sync"`
}

// waitJob polls a sync's job through the API until River finalized it.
func (r *answers) waitJob(base, id string) jobBody {
	r.t.Helper()
	var j jobBody
	waitFor(r.t, 120*time.Second, "job "+id, func() bool {
		time.Sleep(150 * time.Millisecond) // well under the API's rate limit
		r.mustDo(base, http.MethodGet, "/jobs/"+id, nil, http.StatusOK, &j)
		return j.State == "completed" || j.State == "cancelled" || j.State == "discarded"
	})
	return j
}

// A data source's password, once stored, appears nowhere the app writes or
// answers: not in the logs of the instances that pulled and published
// (one of them killed mid-pull), not in River's job rows, not in the syncs,
// not in any API answer, and not in the clear in the sealed credentials.
func TestCredentialsStayOutOfLogsJobsAndAnswers(t *testing.T) {
	t.Parallel()
	secret := make([]byte, 12)
	_, _ = rand.Read(secret)
	marker := "pw" + hex.EncodeToString(secret)
	srcURL, src := mustSourceProducts(t, 12_000)
	withPassword := func(raw, path string) string {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(u.User.Username(), marker)
		if path != "" {
			u.Path = path
		}
		return u.String()
	}
	dbURL := testdb.NewURL(t)
	pool := mustPool(t, dbURL)
	o := mustOwner(t, pool)
	dsID := mustDataSource(t, pool, o.ID, "postgres", withPassword(srcURL, ""))
	// A data source naming a database that does not exist: its errors
	// carry the driver's words about the connection.
	badID := mustDataSource(t, pool, o.ID, "postgres", withPassword(srcURL, "/no_such_database_"+marker[:6]))
	debug := map[string]string{"LOG_LEVEL": "debug"}
	a := mustStartChild(t, dbURL, debug)
	b := mustStartChild(t, dbURL, debug)
	r := &answers{t: t, token: o.Token}

	var wb struct{ ID string }
	r.mustDo(a.URL, http.MethodPost, "/workbooks", map[string]string{"name": "Secrets"}, http.StatusCreated, &wb)
	tables := "/workbooks/" + wb.ID + "/tables"
	if st := r.do(a.URL, http.MethodPost, tables, map[string]string{"data_source_id": badID, "remote_table_id": productsTable}, nil); st < 400 {
		t.Fatalf("adding a table from a database that does not exist answered %d", st)
	}
	var added syncStarted
	r.mustDo(a.URL, http.MethodPost, tables, map[string]string{"data_source_id": dsID, "remote_table_id": productsTable}, http.StatusAccepted, &added)
	worker := runningOn(t, pool, added.Job.ID, a, b)
	survivor := survivorOf(worker, a, b)
	waitFor(t, 60*time.Second, "the first page", func() bool { return mustSync(t, pool, added.Sync.ID).Done > 0 })
	worker.kill()
	if j := r.waitJob(survivor.URL, added.Job.ID); j.State != "completed" || j.Sync == nil || j.Sync.Status != "done" {
		t.Fatalf("pull ended %+v", j)
	}

	// A pull that fails: the source table is gone for a moment.
	ctx := context.Background()
	if _, err := src.Exec(ctx, `ALTER TABLE products RENAME TO products_away`); err != nil {
		t.Fatal(err)
	}
	var pull syncStarted
	r.mustDo(survivor.URL, http.MethodPost, "/workbooks/"+wb.ID+"/pull", map[string]any{}, http.StatusAccepted, &pull)
	if j := r.waitJob(survivor.URL, pull.Job.ID); j.Sync == nil || j.Sync.Status != "failed" {
		t.Fatalf("the pull of a missing table ended %+v, want its sync failed", j)
	}
	if _, err := src.Exec(ctx, `ALTER TABLE products_away RENAME TO products`); err != nil {
		t.Fatal(err)
	}

	// Edits, a preview, a publish and its listing.
	tablePath := tables + "/" + added.Table.ID
	var page struct {
		Items []struct {
			ID      string `json:"id"`
			Version int    `json:"version"`
		} `json:"items"`
	}
	r.mustDo(survivor.URL, http.MethodGet, tablePath+"/records?limit=3", nil, http.StatusOK, &page)
	if len(page.Items) < 2 {
		t.Fatalf("%d records listed", len(page.Items))
	}
	r.mustDo(survivor.URL, http.MethodPatch, tablePath+"/records/"+page.Items[0].ID,
		map[string]any{"fields": map[string]any{"title": "Renamed"}, "version": page.Items[0].Version}, http.StatusOK, nil)
	r.mustDo(survivor.URL, http.MethodPost, tablePath+"/records", map[string]any{"fields": map[string]any{"title": "Brand new"}}, http.StatusCreated, nil)
	r.mustDo(survivor.URL, http.MethodDelete, tablePath+"/records/"+page.Items[1].ID, nil, http.StatusNoContent, nil)
	r.mustDo(survivor.URL, http.MethodGet, "/workbooks/"+wb.ID+"/publish-preview", nil, http.StatusOK, nil)
	var pub syncStarted
	r.mustDo(survivor.URL, http.MethodPost, "/workbooks/"+wb.ID+"/publish", map[string]any{}, http.StatusAccepted, &pub)
	if j := r.waitJob(survivor.URL, pub.Job.ID); j.State != "completed" || j.Sync == nil || j.Sync.Status != "done" {
		t.Fatalf("publish ended %+v", j)
	}
	r.mustDo(survivor.URL, http.MethodGet, "/workbooks/"+wb.ID+"/publishes", nil, http.StatusOK, nil)
	r.mustDo(survivor.URL, http.MethodGet, "/jobs", nil, http.StatusOK, nil)
	r.mustDo(survivor.URL, http.MethodGet, "/workbooks/"+wb.ID, nil, http.StatusOK, nil)
	if n := count1(t, src, `SELECT count(*) FROM products WHERE title IN ('Renamed', 'Brand new')`); n != 2 {
		t.Fatalf("the source holds %d of the 2 published values", n)
	}

	// A pull that fails and is retried: the source cannot be reached, then
	// can again.
	sources := dataSources(t, pool)
	setURL := func(raw string) {
		if _, err := sources.ReplaceCredentials(ctx, o.ID, dsID, connectors.Credentials{"connection_string": raw}); err != nil {
			t.Fatal(err)
		}
	}
	setURL("postgres://postgres:" + marker + "@127.0.0.1:1/nowhere?sslmode=disable")
	var retried syncStarted
	r.mustDo(survivor.URL, http.MethodPost, "/workbooks/"+wb.ID+"/pull", map[string]any{}, http.StatusAccepted, &retried)
	waitFor(t, 60*time.Second, "a failed attempt", func() bool {
		return count1(t, pool, `SELECT coalesce(array_length(errors, 1), 0) FROM river_job WHERE id = $1`, retried.Job.ID) > 0
	})
	setURL(withPassword(srcURL, ""))
	if j := r.waitJob(survivor.URL, retried.Job.ID); j.State != "completed" || j.Sync == nil || j.Sync.Status != "done" {
		t.Fatalf("the retried pull ended %+v", j)
	}

	// The logs: both instances', the killed one's too.
	for _, c := range []*child{a, b} {
		logs := c.logs.String()
		if !strings.Contains(logs, "msg=http") {
			t.Fatalf("child %s logged no request: the logs are not captured\n%s", c.RiverID, logs)
		}
		if strings.Contains(logs, marker) {
			t.Errorf("child %s logged the password:\n%s", c.RiverID, logs)
		}
	}
	for _, body := range r.bodies {
		if strings.Contains(body, marker) {
			t.Errorf("an API answer holds the password:\n%s", body)
		}
	}
	if n := count1(t, pool, `SELECT count(*) FROM river_job WHERE strpos(args::text || coalesce(errors::text, '') || metadata::text, $1) > 0`, marker); n != 0 {
		t.Errorf("%d River jobs hold the password in their args, errors or metadata", n)
	}
	if n := count1(t, pool, `SELECT count(*) FROM river_job WHERE errors IS NOT NULL`); n == 0 {
		t.Error("no job recorded an error: the kill and the failed pull should have left some to search")
	}
	// Every row of every table of the app's database, as text: syncs,
	// sync_tables, publish_changes, records, audit entries and the rest.
	for _, table := range strings1(t, pool, `SELECT quote_ident(table_name) FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`) {
		if n := count1(t, pool, `SELECT count(*) FROM `+table+` x WHERE strpos(x::text, $1) > 0`, marker); n != 0 {
			t.Errorf("%d rows of %s hold the password", n, table)
		}
	}
	rows, err := pool.Query(ctx, `SELECT credentials FROM data_sources`)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != 2 {
		t.Fatalf("%d data sources", len(sealed))
	}
	for _, c := range sealed {
		if bytes.Contains(c, []byte(marker)) || bytes.Contains(c, []byte("postgres://")) {
			t.Errorf("a data source's credentials are stored in the clear: %q", c)
		}
	}
	t.Logf("searched %d API answers, %d and %d bytes of logs, every table of the app's database", len(r.bodies), len(a.logs.String()), len(b.logs.String()))
}
