package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

// dataSourceBody is a data source as the API answers it.
type dataSourceBody struct {
	ID          string  `json:"id"`
	Service     string  `json:"service"`
	Name        string  `json:"name"`
	Health      string  `json:"health"`
	HealthError *string `json:"health_error"`
	CheckedAt   *string `json:"checked_at"`
	UsedBy      *[]struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"used_by"`
}

// dataSourceJSON is the body that creates a PostgreSQL data source.
func dataSourceJSON(name, connString string) string {
	b, _ := json.Marshal(map[string]any{"service": "postgres", "name": name, "credentials": map[string]string{"connection_string": connString}})
	return string(b)
}

// lockedBuffer is a log sink tests read while the instance writes to it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// mustSourceDatabase returns the URL of a fresh PostgreSQL database (the
// test databases come migrated) with a schema "shop" of a products and a
// product_orders table, with password in the URL: the test
// server trusts local connections, so the password only marks where the
// credentials go.
func mustSourceDatabase(t testing.TB, password string) string {
	t.Helper()
	raw := testdb.NewURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `
		CREATE SCHEMA shop;
		CREATE TABLE shop.products (id serial PRIMARY KEY, title text NOT NULL, price numeric);
		INSERT INTO shop.products (title, price) VALUES ('Lamp', 12.5), ('Desk', 120);
		CREATE TABLE shop.product_orders (id serial PRIMARY KEY, product_id int, quantity int);`); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	return u.String()
}

// TestAPIDataSources goes through a data source's life over the API
// against a real PostgreSQL database, and checks that its credentials
// appear nowhere outside the sealed column: not in a response, a log line
// or a job's arguments.
func TestAPIDataSources(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	inst := apptest.MustStart(t, apptest.Options{Log: logs})
	api := newAPIClient(t, inst)
	_, token := MustUserWithToken(t, inst, "ds-owner@example.com", false, accounts.ScopeRead, accounts.ScopeWrite)
	_, otherToken := MustUserWithToken(t, inst, "ds-other@example.com", false, accounts.ScopeRead, accounts.ScopeWrite)
	me := wbSession{t: t, api: api, token: token}
	them := wbSession{t: t, api: api, token: otherToken}

	const password, badPassword = "pw-Wm4QzX9secret", "pw-Bad7Kq2secret"
	srcURL := mustSourceDatabase(t, password)
	var bodies []string
	call := func(s wbSession, method, path, body string, status int, v any) {
		t.Helper()
		r := s.call(method, path, body)
		bodies = append(bodies, string(r.Body))
		if v == nil {
			if r.Status != status {
				t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, status, r.Body)
			}
			return
		}
		MustDecode(t, r, status, v)
	}

	// The services, with their credential fields.
	var services struct {
		Items []struct {
			ID     string `json:"id"`
			Fields []struct {
				Key    string `json:"key"`
				Secret bool   `json:"secret"`
			} `json:"fields"`
		} `json:"items"`
	}
	call(me, http.MethodGet, "/api/v1/services", "", http.StatusOK, &services)
	var pg bool
	for _, s := range services.Items {
		if s.ID == "postgres" {
			pg = len(s.Fields) == 1 && s.Fields[0].Key == "connection_string" && s.Fields[0].Secret
		}
	}
	if !pg {
		t.Fatalf("services do not offer postgres with a secret connection_string: %+v", services.Items)
	}

	// Credentials of another service, or missing, are refused by field.
	r := me.call(http.MethodPost, "/api/v1/data-sources", `{"service": "postgres", "name": "X", "credentials": {"token": "x"}}`)
	if p := MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input"); !hasFieldError(p, "credentials.token") || !hasFieldError(p, "credentials.connection_string") {
		t.Fatalf("errors %+v, want credentials.token and credentials.connection_string", p.Errors)
	}

	var ds dataSourceBody
	call(me, http.MethodPost, "/api/v1/data-sources", dataSourceJSON("Shop", srcURL), http.StatusCreated, &ds)
	if ds.Service != "postgres" || ds.Name != "Shop" || ds.Health != "unknown" || ds.CheckedAt != nil || ds.UsedBy == nil || len(*ds.UsedBy) != 0 {
		t.Fatalf("created %+v", ds)
	}
	path := "/api/v1/data-sources/" + ds.ID

	var list struct {
		Items []dataSourceBody `json:"items"`
	}
	call(me, http.MethodGet, "/api/v1/data-sources", "", http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].ID != ds.ID || list.Items[0].UsedBy != nil {
		t.Fatalf("list %+v", list.Items)
	}
	call(them, http.MethodGet, "/api/v1/data-sources", "", http.StatusOK, &list)
	if len(list.Items) != 0 {
		t.Fatalf("the other user lists %+v", list.Items)
	}

	call(me, http.MethodPost, path+"/test", "", http.StatusOK, &ds)
	if ds.Health != "ok" || ds.HealthError != nil || ds.CheckedAt == nil {
		t.Fatalf("after a test of good credentials: %+v", ds)
	}

	var tables struct {
		Items []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	call(me, http.MethodGet, path+"/tables?search=PRODUCT", "", http.StatusOK, &tables)
	if len(tables.Items) != 2 || tables.Items[0].Name != "shop.product_orders" || tables.Items[1].Name != "shop.products" {
		t.Fatalf("tables matching PRODUCT: %+v, want product_orders and products", tables.Items)
	}
	call(me, http.MethodGet, path+"/tables?search=product&limit=1", "", http.StatusOK, &tables)
	if len(tables.Items) != 1 {
		t.Fatalf("limit=1 gave %d tables", len(tables.Items))
	}
	call(me, http.MethodGet, path+"/tables?search=products", "", http.StatusOK, &tables)
	if len(tables.Items) != 1 || tables.Items[0].Name != "shop.products" {
		t.Fatalf("tables matching products: %+v", tables.Items)
	}
	productsID := tables.Items[0].ID

	// A table pulled from it makes its workbook one that uses it; the pull
	// job's arguments are checked for credentials below.
	var wb workbookBody
	call(me, http.MethodPost, "/api/v1/workbooks", `{"name": "Catalogue"}`, http.StatusCreated, &wb)
	var added struct {
		Job struct {
			ID string `json:"id"`
		} `json:"job"`
	}
	call(me, http.MethodPost, "/api/v1/workbooks/"+wb.ID+"/tables", `{"data_source_id": "`+ds.ID+`", "remote_table_id": `+strconv.Quote(productsID)+`}`, http.StatusAccepted, &added)
	if j := me.MustFinishedJob("/api/v1/jobs/" + added.Job.ID); j.State != "completed" {
		t.Fatalf("pull ended %s", j.State)
	}
	call(me, http.MethodGet, path, "", http.StatusOK, &ds)
	if ds.UsedBy == nil || len(*ds.UsedBy) != 1 || (*ds.UsedBy)[0].ID != wb.ID || (*ds.UsedBy)[0].Name != "Catalogue" {
		t.Fatalf("used_by %+v, want the Catalogue workbook", ds.UsedBy)
	}

	call(me, http.MethodPatch, path, `{"name": "Shop DB"}`, http.StatusOK, &ds)
	if ds.Name != "Shop DB" || ds.Health != "ok" {
		t.Fatalf("after rename: %+v", ds)
	}
	// A bad name with new credentials changes neither.
	r = me.call(http.MethodPatch, path, `{"name": " ", "credentials": {"connection_string": "postgres://x@127.0.0.1:1/x"}}`)
	MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input")
	call(me, http.MethodGet, path, "", http.StatusOK, &ds)
	if ds.Name != "Shop DB" || ds.Health != "ok" {
		t.Fatalf("a refused change changed %+v", ds)
	}

	// Credentials for a server that is not there: the check fails, saying so.
	unreachable := "postgres://postgres:" + badPassword + "@127.0.0.1:1/nowhere?connect_timeout=5"
	call(me, http.MethodPatch, path, `{"credentials": {"connection_string": "`+unreachable+`"}}`, http.StatusOK, &ds)
	if ds.Health != "unknown" || ds.CheckedAt != nil {
		t.Fatalf("new credentials must leave health unknown: %+v", ds)
	}
	call(me, http.MethodPost, path+"/test", "", http.StatusOK, &ds)
	if ds.Health != "failing" || ds.HealthError == nil || ds.CheckedAt == nil {
		t.Fatalf("after a test of an unreachable server: %+v", ds)
	}
	if msg := *ds.HealthError; len(msg) < 10 || strings.Contains(msg, "127.0.0.1") || strings.Contains(msg, "dial") {
		t.Fatalf("health_error %q: want a readable reason without driver detail", msg)
	}
	t.Logf("health_error of an unreachable server: %q", *ds.HealthError)
	r = me.call(http.MethodGet, path+"/tables", "")
	bodies = append(bodies, string(r.Body))
	MustProblem(t, r, http.StatusServiceUnavailable, "unavailable")

	// Another user's data source is not found, whatever is asked of it.
	for _, op := range []struct{ method, path, body string }{
		{http.MethodGet, path, ""},
		{http.MethodPatch, path, `{"name": "Mine now"}`},
		{http.MethodPatch, path, `{"credentials": {"connection_string": "postgres://x@127.0.0.1/x"}}`},
		{http.MethodPost, path + "/test", ""},
		{http.MethodGet, path + "/tables", ""},
		{http.MethodDelete, path, ""},
	} {
		r := them.call(op.method, op.path, op.body)
		bodies = append(bodies, string(r.Body))
		MustProblem(t, r, http.StatusNotFound, "not_found")
	}

	call(me, http.MethodDelete, path, "", http.StatusNoContent, nil)
	r = me.call(http.MethodGet, path, "")
	MustProblem(t, r, http.StatusNotFound, "not_found")
	// The pulled table stays, without its source.
	var tbl struct {
		DataSourceID *string `json:"data_source_id"`
	}
	var wbFull struct {
		Tables []json.RawMessage `json:"tables"`
	}
	call(me, http.MethodGet, "/api/v1/workbooks/"+wb.ID, "", http.StatusOK, &wbFull)
	if len(wbFull.Tables) != 1 {
		t.Fatalf("workbook has %d tables after the delete, want 1", len(wbFull.Tables))
	}
	if err := json.Unmarshal(wbFull.Tables[0], &tbl); err != nil || tbl.DataSourceID != nil {
		t.Fatalf("table's data_source_id after the delete: %v %v", tbl.DataSourceID, err)
	}

	// The credentials are nowhere to be read.
	for _, secret := range []string{password, badPassword} {
		for _, b := range bodies {
			if strings.Contains(b, secret) {
				t.Fatalf("a response contains a password: %s", b)
			}
		}
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("the logs contain a password")
		}
		var n int
		if err := inst.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM river_job WHERE args::text LIKE '%' || $1 || '%' OR metadata::text LIKE '%' || $1 || '%'`, secret).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d jobs carry a password in their args", n)
		}
	}
	var jobs int
	if err := inst.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job`).Scan(&jobs); err != nil || jobs == 0 {
		t.Fatalf("river_job has %d rows (%v); the pull job should be there to check", jobs, err)
	}
	if !strings.Contains(logs.String(), "/api/v1/data-sources") {
		t.Fatal("the captured logs have no request lines: the log check looked at nothing")
	}
}

// hasFieldError reports whether a problem names field.
func hasFieldError(p problemBody, field string) bool {
	for _, e := range p.Errors {
		if e.Field == field {
			return true
		}
	}
	return false
}
