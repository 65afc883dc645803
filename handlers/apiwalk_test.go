package handlers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// TestAPIWalkRefusesHostileRequests walks every operation of openapi.json
// and sends each one requests built to be refused: path parameters that are
// garbage, too long, unknown or another user's; query parameters of the
// wrong type or out of range; header values the document forbids; bodies
// that are not JSON, of the wrong content type, with missing, unknown or
// wrongly typed fields, nested too deep, or larger than MAX_BODY_BYTES; and
// uploads without their parts. Every answer must be a documented 4xx
// problem+json with a documented code, and the database must be the same
// after each request as before it.
//
// The requests are generated from the document, so a route is covered as
// soon as it is documented (TestOpenAPIMatchesRoutes makes sure it is). An
// operation the walk cannot build requests for (an unknown parameter
// location, body media type or path parameter) fails the test instead of
// being skipped: teach the walk about it. An operation that takes no input
// at all (GET /me) has nothing to send it. All requests go to one instance
// with one pair of users, and nothing is reset between them: nothing should
// have changed.
func TestAPIWalkRefusesHostileRequests(t *testing.T) {
	t.Parallel()
	w := mustWalkFixture(t)
	spec := w.api.spec
	base := spec.doc.Servers[0].URL

	paths := spec.doc.Paths.InMatchingOrder()
	slices.Sort(paths)
	start, sent := time.Now(), 0
	before := w.mustFingerprint(t)
	for _, path := range paths {
		item := spec.doc.Paths.Value(path)
		methods := make([]string, 0, len(item.Operations()))
		for m := range item.Operations() {
			methods = append(methods, m)
		}
		slices.Sort(methods)
		for _, method := range methods {
			op := walkOperation{method: method, template: base + path, item: item, op: item.GetOperation(method)}
			t.Run(method+" "+path, func(t *testing.T) {
				cases, err := w.hostileCases(op)
				if err != nil {
					t.Fatalf("cannot build hostile requests for %s %s: %v", method, path, err)
				}
				for _, c := range cases {
					before = w.mustRefuse(t, op, c, before)
					sent++
				}
			})
		}
	}
	t.Logf("%d hostile requests in %s", sent, time.Since(start).Round(time.Millisecond))
}

// walkOperation is one operation of the document.
type walkOperation struct {
	method, template string
	item             *openapi3.PathItem
	op               *openapi3.Operation
}

func (o walkOperation) String() string { return o.method + " " + o.template }

// walkCase is one hostile request.
type walkCase struct {
	name string
	call apiCall
	// want lists the statuses the request may get; empty means any 4xx the
	// document lists for the operation.
	want []int
	// docRejects marks requests the document itself forbids (a wrong type,
	// a missing required field), as opposed to ones only the server can
	// tell are wrong (an id that does not exist, a filter syntax error):
	// the document must refuse them too, so that it stays as strict as the
	// server.
	docRejects bool
	// mayChooseNothing marks record ids in the body of an operation that
	// walkIDsChooseNothing lists: a 200 is right for them too.
	mayChooseNothing bool
}

// walkIDsChooseNothing are operations whose bodies select records by id and
// where a well-formed id of no record of the table (an unknown one, or
// another user's) is documented to choose nothing rather than to be an
// error: a selector naming a record whose suggestions were decided
// meanwhile must not fail the rest. For them the walk accepts a 200, and
// still checks that nothing changed.
var walkIDsChooseNothing = map[string]bool{
	"acceptSuggestions": true,
	"rejectSuggestions": true,
}

// walkTarget names one user's objects by the path parameter that names
// each, and the record's version (edits must name it).
type walkTarget struct {
	ids     map[string]string
	version int
}

// walkFixture is one instance with two users. The walker is an admin whose
// token has every scope, so no request is refused for want of a scope
// before its input is looked at; the other user owns a workbook, a table, a
// record and a finished job that the walker must not see.
type walkFixture struct {
	inst  *apptest.Instance
	api   *apiClient
	token string
	own   walkTarget
	other walkTarget
	// tables are the tables the fingerprint covers, with the columns it
	// leaves out of each.
	tables []walkTable
	keys   int
}

// walkUnownedParams are path parameters that name objects no user owns,
// with the reason the walk sends no "another user's id" for them.
var walkUnownedParams = map[string]string{
	"id": "it names a user in the admin API, where admins may read and change every user",
}

// walkCSV is the file of the walk's uploads: its row matches the walker's
// record by Title, so an import of it as suggestions would store one.
const walkCSV = "Title,Price\nLamp,99\n"

func mustWalkFixture(t *testing.T) *walkFixture {
	t.Helper()
	// One token sends every request: its bucket must not run dry.
	inst := apptest.MustStart(t, apptest.Options{Env: map[string]string{"API_RATE_LIMIT": "1000000", "API_RATE_BURST": "1000000"}})
	api := newAPIClient(t, inst)
	api.http.Timeout = 15 * time.Second
	walker, token := MustUserWithToken(t, inst, "walker@example.com", true,
		accounts.ScopeRead, accounts.ScopeWrite, accounts.ScopePublish, accounts.ScopeAdmin)
	other, otherToken := MustUserWithToken(t, inst, "other@example.com", false, accounts.ScopeRead, accounts.ScopeWrite)
	w := &walkFixture{inst: inst, api: api, token: token}
	me := wbSession{t: t, api: api, token: token}
	them := wbSession{t: t, api: api, token: otherToken}

	// The walker's workbook holds a typed table with a record that has a
	// pending suggestion, and a table imported from a CSV (its job).
	var wb workbookBody
	me.MustJSON(http.MethodPost, "/api/v1/workbooks", `{"name": "Walk"}`, http.StatusCreated, &wb)
	tbl, err := inst.App.Workbooks.CreateTable(context.Background(), walker.ID, wb.ID, workbooks.TableInput{
		Name: "Products",
		Columns: []workbooks.ColumnInput{
			{Name: "Title", Type: values.Text, Required: true},
			{Name: "Price", Type: values.Number},
			{Name: "Status", Type: values.Select, Options: []string{"Draft", "Published"}},
			{Name: "Data", Type: values.JSON},
		},
	})
	if err != nil {
		t.Fatalf("create table: %v", err)
	}
	tablePath := "/api/v1/workbooks/" + wb.ID + "/tables/" + tbl.ID
	var rec recordBody
	me.MustJSON(http.MethodPost, tablePath+"/records", `{"fields": {"Title": "Lamp", "Price": 12.5, "Status": "Draft"}}`, http.StatusCreated, &rec)
	me.MustJSON(http.MethodPost, tablePath+"/suggestions", `{"updates": [{"record_id": "`+rec.ID+`", "fields": {"Price": 13}}]}`, http.StatusCreated, nil)
	rec = (&wbFixture{s: me, wb: wb, table: tbl}).MustRecord(rec.ID)
	ownJob := me.MustStartCSVImport(wb.ID, [][2]string{{"name", "Imported"}}, "walk.csv", walkCSV)

	// The other user's workbook, table, record, suggestion and job all come
	// from one CSV import.
	var theirWB workbookBody
	them.MustJSON(http.MethodPost, "/api/v1/workbooks", `{"name": "Theirs"}`, http.StatusCreated, &theirWB)
	theirJob := them.MustStartCSVImport(theirWB.ID, [][2]string{{"name", "Products"}}, "theirs.csv", walkCSV)
	if j := me.MustFinishedJob(ownJob.jobPath()); j.State != "completed" {
		t.Fatalf("walker's import ended %s", j.State)
	}
	if j := them.MustFinishedJob(theirJob.jobPath()); j.State != "completed" {
		t.Fatalf("other user's import ended %s", j.State)
	}
	theirTablePath := "/api/v1/workbooks/" + theirWB.ID + "/tables/" + theirJob.Table.ID
	var theirs recordListBody
	them.MustJSON(http.MethodGet, theirTablePath+"/records", "", http.StatusOK, &theirs)
	if len(theirs.Items) != 1 {
		t.Fatalf("other user's table has %d records", len(theirs.Items))
	}
	theirRec := theirs.Items[0]
	them.MustJSON(http.MethodPost, theirTablePath+"/suggestions", `{"updates": [{"record_id": "`+theirRec.ID+`", "fields": {"Price": 100}}]}`, http.StatusCreated, nil)

	// Each user has a data source; both point at the instance's own
	// database, so a listing of tables wrongly let through would work.
	var ownDS, theirDS dataSourceBody
	me.MustJSON(http.MethodPost, "/api/v1/data-sources", dataSourceJSON("Walk DB", inst.DatabaseURL), http.StatusCreated, &ownDS)
	them.MustJSON(http.MethodPost, "/api/v1/data-sources", dataSourceJSON("Their DB", inst.DatabaseURL), http.StatusCreated, &theirDS)

	// Each user has a prompt asset.
	var ownAsset, theirAsset struct {
		ID string `json:"id"`
	}
	me.MustJSON(http.MethodPost, "/api/v1/assets", `{"name": "Walk guide", "body": "# Tone"}`, http.StatusCreated, &ownAsset)
	them.MustJSON(http.MethodPost, "/api/v1/assets", `{"name": "Their guide", "body": "secret"}`, http.StatusCreated, &theirAsset)

	// Each user has a finished publish of their workbook: only its id
	// matters to the walk, which never gets as far as reverting it.
	publishOf := func(ownerID, workbookID string) string {
		var id string
		if err := inst.Pool.QueryRow(context.Background(), `INSERT INTO syncs (workbook_id, owner_id, kind, status, started_at, finished_at)
			VALUES ($1, $2, 'publish', 'done', now(), now()) RETURNING id`, workbookID, ownerID).Scan(&id); err != nil {
			t.Fatalf("publish fixture: %v", err)
		}
		return id
	}

	// Each user has an agent session of their workbook.
	sessionOf := func(ownerID, workbookID string) string {
		se, err := inst.App.Agent.CreateSession(context.Background(), ownerID, workbookID, "Walk")
		if err != nil {
			t.Fatalf("agent session fixture: %v", err)
		}
		return se.ID
	}

	w.own = walkTarget{version: rec.Version, ids: map[string]string{
		"wb": wb.ID, "t": tbl.ID, "r": rec.ID, "job": ownJob.Job.ID, "id": other.ID, "p": publishOf(walker.ID, wb.ID), "ds": ownDS.ID,
		"s": sessionOf(walker.ID, wb.ID), "asset": ownAsset.ID,
	}}
	w.other = walkTarget{version: theirRec.Version, ids: map[string]string{
		"wb": theirWB.ID, "t": theirJob.Table.ID, "r": theirRec.ID, "job": theirJob.Job.ID, "p": publishOf(other.ID, theirWB.ID), "ds": theirDS.ID,
		"s": sessionOf(other.ID, theirWB.ID), "asset": theirAsset.ID,
	}}
	w.tables = mustWalkTables(t, inst.Pool)
	return w
}

// walkStillTables are tables whose rows change with no request at all;
// the fingerprint leaves them out. (An idle instance, fingerprinted every
// 5 s for 40 s, changed nothing else.)
var walkStillTables = map[string]string{
	"river_leader": "River's leader election rewrites its row every few seconds",
}

// walkTouchedColumns are columns that change without any request changing
// data; the fingerprint leaves them out of their tables.
//
// Everything else is in, bookkeeping included: rate limits are kept in
// memory, not in a table, and a refused request's idempotency key is
// claimed and released again, so a key left in idempotency_keys is a bug
// (the client's retry would be refused as still running).
var walkTouchedColumns = map[string][]string{
	// Authenticating a request stamps its token's last use, at most once a
	// minute: bookkeeping of the request, not data it changed.
	"api_tokens": {"last_used_at"},
	// River's producers report their queue every 10 minutes.
	"river_queue": {"updated_at"},
}

// walkTable is one table of the database and the columns the fingerprint
// leaves out of it.
type walkTable struct {
	name string
	skip []string
}

// mustWalkTables lists every table of the database, so that a table added
// by a later migration is in the fingerprint without anyone listing it.
func mustWalkTables(t testing.TB, pool *pgxpool.Pool) []walkTable {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relname
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		  AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []walkTable
	for rows.Next() {
		var qualified, name string
		if err := rows.Scan(&qualified, &name); err != nil {
			t.Fatal(err)
		}
		if _, still := walkStillTables[name]; still {
			continue
		}
		out = append(out, walkTable{name: qualified, skip: walkTouchedColumns[name]})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("the fingerprint would cover only %d tables", len(out))
	}
	return out
}

// walkFingerprint is a hash of every row of each table, by table.
type walkFingerprint map[string]string

// mustFingerprint hashes every row of every table (less the columns and
// tables that change by themselves) in one query.
func (w *walkFixture) mustFingerprint(t testing.TB) walkFingerprint {
	t.Helper()
	parts := make([]string, 0, len(w.tables))
	for _, tbl := range w.tables {
		row := "to_jsonb(x)"
		for _, col := range tbl.skip {
			row += " - '" + col + "'"
		}
		parts = append(parts, fmt.Sprintf(
			"SELECT %s, md5(coalesce(string_agg((%s)::text, E'\\n' ORDER BY (%s)::text), '')) FROM %s x",
			quoteLiteral(tbl.name), row, row, tbl.name))
	}
	rows, err := w.inst.Pool.Query(context.Background(), strings.Join(parts, " UNION ALL "))
	if err != nil {
		t.Fatalf("fingerprint: %v", err)
	}
	defer rows.Close()
	out := walkFingerprint{}
	for rows.Next() {
		var name, hash string
		if err := rows.Scan(&name, &hash); err != nil {
			t.Fatal(err)
		}
		out[name] = hash
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// mustSettle waits until no job is waiting or running.
func (w *walkFixture) mustSettle(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var busy int
		err := w.inst.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable', 'scheduled', 'pending')`).Scan(&busy)
		if err != nil {
			t.Fatal(err)
		}
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs still busy after 20 s", busy)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// changedTables names the tables whose rows differ between two fingerprints.
func changedTables(before, after walkFingerprint) []string {
	var out []string
	for name, h := range after {
		if before[name] != h {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// mustRefuse sends one hostile request and checks its answer and that the
// database is as it was. It returns the database's fingerprint after the
// request, the next request's "before".
func (w *walkFixture) mustRefuse(t *testing.T, op walkOperation, c walkCase, before walkFingerprint) walkFingerprint {
	t.Helper()
	label := c.name + ": " + c.call.method + " " + shorten(c.call.path, 160)
	r, reqErr, err := w.api.send(t, c.call)
	after := w.mustFingerprint(t)
	if changed := changedTables(before, after); len(changed) > 0 {
		t.Errorf("%s changed data in %v", label, changed)
		// A request wrongly accepted may have started a job; let it finish,
		// so its writes are not blamed on the requests that follow.
		w.mustSettle(t)
		after = w.mustFingerprint(t)
	}
	if err != nil {
		t.Errorf("%s: no response: %v", label, err)
		return after
	}
	if c.docRejects && reqErr == nil {
		t.Errorf("%s: openapi.json accepts this request; it should say what makes it wrong", label)
	}
	if c.mayChooseNothing && r.Status == http.StatusOK {
		// Documented: the ids choose nothing. The unchanged database above
		// is what matters: nothing of another user's was decided.
		return after
	}
	if r.Status < 400 || r.Status > 499 || len(c.want) > 0 && !slices.Contains(c.want, r.Status) {
		want := "a 4xx"
		if len(c.want) > 0 {
			want = fmt.Sprint(c.want)
		}
		t.Errorf("%s: status %d, want %s: %.300s", label, r.Status, want, r.Body)
		return after
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: Content-Type %q, want application/problem+json", label, ct)
		return after
	}
	var p problemBody
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Errorf("%s: problem body: %v: %.300s", label, err, r.Body)
		return after
	}
	codes, err := documentedCodes(op.op, r.Status)
	if err != nil {
		t.Errorf("%s: %v", label, err)
	} else if !slices.Contains(codes, p.Code) {
		t.Errorf("%s: code %q is not one of the documented %q", label, p.Code, codes)
	}
	if p.Status != r.Status {
		t.Errorf("%s: problem status %d on a %d response", label, p.Status, r.Status)
	}
	return after
}

// documentedCodes returns the problem codes the document lists for the
// operation's response with status.
func documentedCodes(op *openapi3.Operation, status int) ([]string, error) {
	resp := op.Responses.Status(status)
	if resp == nil || resp.Value == nil {
		return nil, fmt.Errorf("status %d is not documented", status)
	}
	mt := resp.Value.Content.Get("application/problem+json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil, fmt.Errorf("the %d response has no application/problem+json schema", status)
	}
	code := mt.Schema.Value.Properties["code"]
	if code == nil || code.Value == nil || len(code.Value.Enum) == 0 {
		return nil, fmt.Errorf("the %d response's problem schema lists no codes (an enum of code)", status)
	}
	out := make([]string, 0, len(code.Value.Enum))
	for _, v := range code.Value.Enum {
		out = append(out, fmt.Sprint(v))
	}
	return out, nil
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("…(%d bytes)", len(s))
}

// hostileCases builds the hostile requests for one operation, or says why
// it cannot.
func (w *walkFixture) hostileCases(o walkOperation) ([]walkCase, error) {
	params, err := operationParams(o)
	if err != nil {
		return nil, err
	}
	b := &requestBuilder{w: w, o: o, params: params}
	for _, p := range params {
		if p.In == openapi3.ParameterInPath {
			if _, ok := w.own.ids[p.Name]; !ok {
				return nil, fmt.Errorf("path parameter {%s} names nothing the walk fixture has: give both users one", p.Name)
			}
			if _, ok := w.other.ids[p.Name]; !ok && walkUnownedParams[p.Name] == "" {
				return nil, fmt.Errorf("path parameter {%s}: the other user has no object for it, and walkUnownedParams does not say why", p.Name)
			}
		}
	}
	if _, err := b.request(b.ownIDs(), nil); err != nil {
		return nil, err
	}
	var cases []walkCase
	for _, p := range params {
		var more []walkCase
		switch p.In {
		case openapi3.ParameterInPath:
			more = b.pathCases(p)
		case openapi3.ParameterInQuery:
			more, err = b.queryCases(p)
		case openapi3.ParameterInHeader:
			more, err = b.headerCases(p)
		default:
			err = fmt.Errorf("parameter %q is in %q, which the walk cannot send", p.Name, p.In)
		}
		if err != nil {
			return nil, err
		}
		cases = append(cases, more...)
	}
	if len(b.pathParams()) > 1 {
		cases = append(cases, b.allForeignCase())
	}
	if o.op.RequestBody != nil {
		more, err := b.bodyCases()
		if err != nil {
			return nil, err
		}
		cases = append(cases, more...)
	}
	return cases, b.err
}

// operationParams returns the operation's parameters, the path item's
// included, in the document's order.
func operationParams(o walkOperation) ([]*openapi3.Parameter, error) {
	var out []*openapi3.Parameter
	seen := map[string]int{}
	for _, refs := range []openapi3.Parameters{o.item.Parameters, o.op.Parameters} {
		for _, ref := range refs {
			if ref == nil || ref.Value == nil {
				return nil, fmt.Errorf("unresolved parameter")
			}
			p := ref.Value
			if p.Schema == nil || p.Schema.Value == nil {
				return nil, fmt.Errorf("parameter %q has no schema", p.Name)
			}
			key := p.In + " " + p.Name
			if i, ok := seen[key]; ok {
				out[i] = p // the operation's own overrides the path item's
				continue
			}
			seen[key] = len(out)
			out = append(out, p)
		}
	}
	return out, nil
}

// requestBuilder makes requests for one operation: by default every path
// parameter names the walker's own object, required query parameters and
// every header parameter are valid, and the body is valid; each case
// breaks one thing.
type requestBuilder struct {
	w      *walkFixture
	o      walkOperation
	params []*openapi3.Parameter
	// err is the first request that could not be built.
	err error
}

func (b *requestBuilder) pathParams() []*openapi3.Parameter {
	var out []*openapi3.Parameter
	for _, p := range b.params {
		if p.In == openapi3.ParameterInPath {
			out = append(out, p)
		}
	}
	return out
}

// request is the operation's valid request with path parameters from ids
// (escaped as given), query parameters query, and the valid body when the
// operation takes one.
func (b *requestBuilder) request(ids map[string]string, query url.Values) (apiCall, error) {
	path := b.o.template
	for name, v := range ids {
		path = strings.ReplaceAll(path, "{"+name+"}", url.PathEscape(v))
	}
	if query == nil {
		query = url.Values{}
	}
	header := http.Header{}
	for _, p := range b.params {
		switch {
		case p.In == openapi3.ParameterInQuery && p.Required && !query.Has(p.Name):
			v, err := b.validScalar(p.Name, p.Schema)
			if err != nil {
				return apiCall{}, err
			}
			query.Set(p.Name, v)
		case p.In == openapi3.ParameterInHeader:
			v, err := b.validScalar(p.Name, p.Schema)
			if err != nil {
				return apiCall{}, err
			}
			header.Set(p.Name, v)
		}
	}
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	call := apiCall{method: b.o.method, path: path, token: b.w.token, header: header}
	if b.o.op.RequestBody != nil {
		target := b.w.own
		if !sameIDs(ids, b.w.own.ids) {
			target = b.w.other
		}
		mediaType, body, contentType, err := b.validBody(target)
		if err != nil {
			return apiCall{}, fmt.Errorf("%s body: %w", mediaType, err)
		}
		call.body, call.contentType = body, contentType
	}
	return call, nil
}

func sameIDs(a, b map[string]string) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// ownIDs returns the walker's ids for the operation's path parameters.
func (b *requestBuilder) ownIDs() map[string]string {
	out := map[string]string{}
	for _, p := range b.pathParams() {
		out[p.Name] = b.w.own.ids[p.Name]
	}
	return out
}

// validScalar is a valid value of a parameter. Idempotency keys are new
// for every request, so that no request replays or collides with another.
func (b *requestBuilder) validScalar(name string, ref *openapi3.SchemaRef) (string, error) {
	if name == "Idempotency-Key" {
		b.w.keys++
		return "walk-" + strconv.Itoa(b.w.keys), nil
	}
	v, err := b.valid(name, ref, b.w.own)
	if err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case int, float64, bool:
		return fmt.Sprint(v), nil
	}
	return "", fmt.Errorf("parameter %q: only scalar parameters can be sent", name)
}

// newCase is a case of the request built with err; the first such error
// is kept for hostileCases to report.
func (b *requestBuilder) newCase(name string, call apiCall, err error, want []int, docRejects bool) walkCase {
	if err != nil && b.err == nil {
		b.err = fmt.Errorf("%s: %w", name, err)
	}
	return walkCase{name: name, call: call, want: want, docRejects: docRejects}
}

// walkBadIDs are path parameter values that name nothing: garbage of
// several kinds and a value far too long for any id.
var walkBadIDs = map[string]string{
	"garbage id":           "not-an-id",
	"SQL in id":            "' OR '1'='1",
	"NUL in id":            "\x00",
	"invalid UTF-8 in id":  "\xff\xfe",
	"emoji id":             "🙂",
	"negative id":          "-1",
	"zero id":              "0",
	"id of 10,000 bytes":   strings.Repeat("a", 10000),
	"UUID with braces":     "{00000000-0000-4000-8000-000000000000}",
	"UUID without hyphens": "000000000000400080000000000000ab",
}

// pathCases replace one path parameter with ids that name nothing, a
// well-formed id of nothing, and another user's id: each is 404.
func (b *requestBuilder) pathCases(p *openapi3.Parameter) []walkCase {
	notFound := []int{http.StatusNotFound}
	var out []walkCase
	with := func(v string) map[string]string {
		ids := b.ownIDs()
		ids[p.Name] = v
		return ids
	}
	names := make([]string, 0, len(walkBadIDs))
	for name := range walkBadIDs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		call, err := b.request(with(walkBadIDs[name]), nil)
		out = append(out, b.newCase("{"+p.Name+"}: "+name, call, err, notFound, false))
	}
	for _, v := range unknownIDsLike(b.w.own.ids[p.Name]) {
		call, err := b.request(with(v), nil)
		out = append(out, b.newCase("{"+p.Name+"}: unknown id "+shorten(v, 40), call, err, notFound, false))
	}
	if theirs, ok := b.w.other.ids[p.Name]; ok {
		call, err := b.request(with(theirs), nil)
		out = append(out, b.newCase("{"+p.Name+"}: another user's", call, err, notFound, false))
	}
	return out
}

// allForeignCase names another user's objects in every path parameter.
func (b *requestBuilder) allForeignCase() walkCase {
	ids := b.ownIDs()
	for name := range ids {
		if theirs, ok := b.w.other.ids[name]; ok {
			ids[name] = theirs
		}
	}
	call, err := b.request(ids, nil)
	return b.newCase("all another user's", call, err, []int{http.StatusNotFound}, false)
}

// unknownIDsLike returns well-formed ids of nothing, shaped like own.
func unknownIDsLike(own string) []string {
	if _, err := strconv.ParseInt(own, 10, 64); err == nil {
		return []string{"9223372036854775807", "99999999999999999999999"}
	}
	if len(own) == 36 && strings.Count(own, "-") == 4 {
		return []string{"00000000-0000-4000-8000-000000000000", strings.ToUpper("ffffffff-ffff-4fff-bfff-ffffffffffff")}
	}
	return []string{own + "x"}
}

// walkQueryValues are hostile values of the query parameters whose schema
// is a plain string, by name: the schema cannot say what is wrong with
// them, so the walk must be told. A new parameter of this kind fails the
// walk until it is listed here (with no values when any text is valid).
var walkQueryValues = map[string][]string{
	"cursor": {
		"garbage", "!!!",
		base64.RawURLEncoding.EncodeToString([]byte(`{}`)),
		base64.RawURLEncoding.EncodeToString([]byte(`null`)),
		base64.RawURLEncoding.EncodeToString([]byte(`{"s":1,"k":[],"i":{}}`)),
		base64.RawURLEncoding.EncodeToString([]byte(`{"s":"name","k":"","i":"x"}`)),
		strings.Repeat("A", 10000),
	},
	"filter": {
		"(((", "Price >", "Title = 'unterminated", "no_such_column = 1", "Price = = 1", "Price > 'abc'",
		"contains(Title)", "no_such_function(Title)",
		strings.Repeat("(", 5000) + "Price > 1" + strings.Repeat(")", 5000),
		strings.Repeat("NOT ", 20000) + "Price > 1",
		"Price IN (" + strings.Repeat("1,", 70000) + "1)",
	},
	"sort": {"no_such_column", "-no_such_column", "--Title", "Title,Price,Status,Data", "Title,Nope", "Title,-Title", "-", strings.Repeat("x", 10000)},
	// Any text is a valid search; only the bytes every string parameter is
	// sent (NUL, invalid UTF-8) are hostile.
	"q": nil,
	// Table ids separated by commas: an empty one, or too many.
	"table_ids": {",", "a,,b", "a,", strings.Repeat("x,", 100) + "x"},
}

// queryCases give one query parameter values its schema forbids, and the
// hostile values walkQueryValues lists for its name. Each is 422.
func (b *requestBuilder) queryCases(p *openapi3.Parameter) ([]walkCase, error) {
	s := p.Schema.Value
	var out []walkCase
	add := func(name, v string, docRejects bool) {
		call, err := b.request(b.ownIDs(), url.Values{p.Name: {v}})
		out = append(out, b.newCase(p.Name+"="+shorten(v, 40)+" ("+name+")", call, err, []int{http.StatusUnprocessableEntity}, docRejects))
	}
	for _, v := range schemaViolations(s) {
		add("against the schema", v, true)
	}
	switch {
	case s.Type.Is(openapi3.TypeString):
		values, listed := walkQueryValues[p.Name]
		if !listed && len(s.Enum) == 0 && s.Pattern == "" && s.MaxLength == nil {
			return nil, fmt.Errorf("query parameter %q is any string: list its hostile values in walkQueryValues", p.Name)
		}
		for _, v := range values {
			add("hostile", v, len(s.Enum) > 0 && !slices.Contains(s.Enum, any(v)))
		}
		add("NUL", "a\x00b", false)
		add("invalid UTF-8", "a\xffb", false)
	case s.Type.Is(openapi3.TypeInteger), s.Type.Is(openapi3.TypeNumber), s.Type.Is(openapi3.TypeBoolean):
	default:
		return nil, fmt.Errorf("query parameter %q has type %v, which the walk cannot send", p.Name, s.Type)
	}
	return out, nil
}

// schemaViolations are values of a scalar parameter that its schema
// forbids: the wrong type, out of range, not in its enum, too long.
func schemaViolations(s *openapi3.Schema) []string {
	var out []string
	switch {
	case s.Type.Is(openapi3.TypeInteger):
		out = append(out, "abc", "1.5", "1e3", "99999999999999999999")
		if s.Min != nil {
			out = append(out, strconv.FormatFloat(*s.Min-1, 'f', -1, 64), "-1")
		}
		if s.Max != nil {
			out = append(out, strconv.FormatFloat(*s.Max+1, 'f', -1, 64), "999999")
		}
	case s.Type.Is(openapi3.TypeNumber):
		out = append(out, "abc", "NaN")
	case s.Type.Is(openapi3.TypeBoolean):
		out = append(out, "maybe", "2")
	case s.Type.Is(openapi3.TypeString):
		if len(s.Enum) > 0 {
			out = append(out, "bogus", strings.ToUpper(fmt.Sprint(s.Enum[0])))
		}
		if s.MaxLength != nil {
			out = append(out, strings.Repeat("k", int(*s.MaxLength)+1))
		}
	}
	return slices.DeleteFunc(out, func(v string) bool { return slices.Contains(s.Enum, any(v)) })
}

// walkHeaderValues are hostile values of header parameters that the
// schema cannot express.
var walkHeaderValues = map[string][]string{
	"Idempotency-Key": {"has space", "ключ", "tab\there"},
}

// headerCases send one header parameter with values its schema forbids or
// walkHeaderValues lists; each is 422.
func (b *requestBuilder) headerCases(p *openapi3.Parameter) ([]walkCase, error) {
	s := p.Schema.Value
	if !s.Type.Is(openapi3.TypeString) {
		return nil, fmt.Errorf("header parameter %q has type %v, which the walk cannot send", p.Name, s.Type)
	}
	violations := schemaViolations(s)
	hostile := walkHeaderValues[p.Name]
	if len(violations) == 0 && len(hostile) == 0 {
		return nil, fmt.Errorf("header parameter %q accepts any text: list its hostile values in walkHeaderValues", p.Name)
	}
	var out []walkCase
	add := func(v string, docRejects bool) {
		call, err := b.request(b.ownIDs(), nil)
		if err == nil {
			call.header.Set(p.Name, v)
		}
		out = append(out, b.newCase(p.Name+": "+shorten(v, 40), call, err, []int{http.StatusUnprocessableEntity}, docRejects))
	}
	for _, v := range violations {
		add(v, true)
	}
	for _, v := range hostile {
		add(v, false)
	}
	return out, nil
}

// bodyMediaTypes returns the operation's body media types, JSON first.
func (b *requestBuilder) bodyMediaTypes() []string {
	content := b.o.op.RequestBody.Value.Content
	out := make([]string, 0, len(content))
	for mt := range content {
		out = append(out, mt)
	}
	slices.SortFunc(out, func(a, c string) int {
		if isJSONMediaType(a) != isJSONMediaType(c) {
			if isJSONMediaType(a) {
				return -1
			}
			return 1
		}
		return strings.Compare(a, c)
	})
	return out
}

func isJSONMediaType(mt string) bool {
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// validBody is the operation's valid body for target, in its first media
// type (JSON when it takes JSON): the body every case that breaks
// something else sends.
func (b *requestBuilder) validBody(target walkTarget) (mediaType, body, contentType string, err error) {
	types := b.bodyMediaTypes()
	if len(types) == 0 {
		return "", "", "", fmt.Errorf("the request body has no media type")
	}
	mt := types[0]
	schema := b.o.op.RequestBody.Value.Content[mt].Schema
	switch {
	case isJSONMediaType(mt):
		v, err := b.valid("", schema, target)
		if err != nil {
			return mt, "", "", err
		}
		raw, err := json.Marshal(v)
		return mt, string(raw), mt, err
	case mt == "multipart/form-data":
		parts, err := b.validParts(schema, target)
		if err != nil {
			return mt, "", "", err
		}
		body, ct := encodeParts(parts, true)
		return mt, body, ct, nil
	}
	return mt, "", "", fmt.Errorf("media type %q: the walk can build JSON and multipart/form-data bodies only", mt)
}

// valid builds a valid value of a schema. Values that must name the
// fixture's objects (record ids, column names, a record's version) come
// from target, by property name; the rest follow the schema. Every
// property is filled and every array has an item, so a request that is
// wrongly accepted has something to change.
func (b *requestBuilder) valid(name string, ref *openapi3.SchemaRef, target walkTarget) (any, error) {
	if ref == nil || ref.Value == nil {
		return nil, fmt.Errorf("%s: unresolved schema", name)
	}
	s := ref.Value
	switch name {
	case "record_id":
		return target.ids["r"], nil
	case "version":
		return target.version, nil
	case "field":
		// The column the fixture's suggestions are on, so that a selector
		// wrongly accepted would decide them.
		return "Price", nil
	}
	if isFieldValues(ref) {
		return map[string]any{"Title": "Walk"}, nil
	}
	if len(s.OneOf) > 0 || len(s.AnyOf) > 0 || s.Not != nil {
		return nil, fmt.Errorf("%s: oneOf, anyOf and not schemas are not supported by the walk yet", name)
	}
	if len(s.AllOf) == 1 && s.Type.IsEmpty() {
		return b.valid(name, s.AllOf[0], target)
	}
	if len(s.Enum) > 0 {
		return s.Enum[0], nil
	}
	switch {
	case s.Type.Is(openapi3.TypeObject):
		out := map[string]any{}
		for _, prop := range sortedKeys(s.Properties) {
			v, err := b.valid(prop, s.Properties[prop], target)
			if err != nil {
				return nil, err
			}
			out[prop] = v
		}
		return out, nil
	case s.Type.Is(openapi3.TypeArray):
		var item any
		var err error
		switch name {
		case "record_ids", "deletes":
			item = target.ids["r"]
		default:
			item, err = b.valid(name, s.Items, target)
		}
		return []any{item}, err
	case s.Type.Is(openapi3.TypeString):
		if s.Format == "date-time" {
			return time.Now().UTC().Format(time.RFC3339), nil
		}
		v := "Walk"
		for uint64(len(v)) < s.MinLength {
			v += "k"
		}
		if s.MaxLength != nil && uint64(len(v)) > *s.MaxLength {
			v = v[:*s.MaxLength]
		}
		return v, nil
	case s.Type.Is(openapi3.TypeInteger):
		if s.Min != nil {
			return int(*s.Min), nil
		}
		return 1, nil
	case s.Type.Is(openapi3.TypeNumber):
		return 1.5, nil
	case s.Type.Is(openapi3.TypeBoolean):
		return true, nil
	case s.Type.IsEmpty():
		return "Walk", nil
	}
	return nil, fmt.Errorf("%s: type %v is not supported by the walk", name, s.Type)
}

// isFieldValues reports whether ref is a record's values keyed by column,
// which only the fixture's columns make valid or invalid.
func isFieldValues(ref *openapi3.SchemaRef) bool {
	return strings.HasSuffix(ref.Ref, "/FieldValues")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// bodyCases are the hostile bodies of every media type the operation
// takes, plus bodies of types it does not take.
func (b *requestBuilder) bodyCases() ([]walkCase, error) {
	var out []walkCase
	types := b.bodyMediaTypes()
	for _, mt := range types {
		var more []walkCase
		var err error
		switch {
		case isJSONMediaType(mt):
			more, err = b.jsonCases(mt)
		case mt == "multipart/form-data":
			more, err = b.multipartCases(mt)
		default:
			err = fmt.Errorf("body media type %q: the walk can attack JSON and multipart/form-data bodies only", mt)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	// Bodies in types the operation does not take.
	invalid := []int{http.StatusUnprocessableEntity}
	call, err := b.request(b.ownIDs(), nil)
	if err != nil {
		return nil, err
	}
	for _, ct := range []string{"text/plain", "application/xml", "application/x-www-form-urlencoded", "application/json", "multipart/form-data; boundary=walk"} {
		mt, _, _ := strings.Cut(ct, ";")
		if slices.Contains(types, mt) {
			continue
		}
		c := call
		c.contentType = ct
		out = append(out, walkCase{name: "body as " + ct, call: c, want: invalid, docRejects: true})
	}
	c := call
	c.noContentType = true
	out = append(out, walkCase{name: "body without Content-Type", call: c, want: invalid, docRejects: true})
	if b.o.op.RequestBody.Value.Required {
		c = call
		c.body, c.contentType = "", ""
		out = append(out, walkCase{name: "no body", call: c, want: invalid, docRejects: true})
	}
	return out, nil
}

// walkNotJSON are bodies sent as application/json that are no JSON object.
var walkNotJSON = map[string]string{
	"empty JSON body":     " ",
	"truncated JSON":      `{"name": `,
	"not JSON":            `name=walk`,
	"JSON null":           `null`,
	"JSON array":          `[]`,
	"JSON string":         `"walk"`,
	"JSON number":         `42`,
	"JSON true":           `true`,
	"trailing data":       `{} {}`,
	"NUL byte":            "{\x00}",
	"invalid UTF-8":       "{\"\xff\": 1}",
	"nested 100,000 deep": strings.Repeat("[", 100000) + strings.Repeat("]", 100000),
}

// walkOversize is bigger than MAX_BODY_BYTES (1 MiB by default) several
// times over.
const walkOversize = 3 << 20

// walkOversizeName names the mutation that makes a string walkOversize long.
const walkOversizeName = "of 3 MiB"

// jsonCases are the hostile JSON bodies of an operation.
func (b *requestBuilder) jsonCases(mt string) ([]walkCase, error) {
	ref := b.o.op.RequestBody.Value.Content[mt].Schema
	validValue, err := b.valid("", ref, b.w.own)
	if err != nil {
		return nil, fmt.Errorf("%s body: %w", mt, err)
	}
	call, err := b.request(b.ownIDs(), nil)
	if err != nil {
		return nil, err
	}
	call.contentType = mt
	valid, err := json.Marshal(validValue)
	if err != nil {
		return nil, err
	}
	call.body = string(valid)

	invalid := []int{http.StatusUnprocessableEntity}
	var out []walkCase
	with := func(name, body string, want []int, docRejects bool, chunked bool) {
		c := call
		c.body, c.chunked = body, chunked
		out = append(out, walkCase{name: name, call: c, want: want, docRejects: docRejects})
	}
	for _, name := range sortedKeys(walkNotJSON) {
		// kin-openapi, like encoding/json, reads the first JSON value and
		// stops, so it cannot fault trailing data.
		with(name, walkNotJSON[name], invalid, name != "trailing data", false)
	}

	// Larger than MAX_BODY_BYTES, with Content-Length and without it: the
	// server must stop reading, not buffer it. Padding before a valid
	// body keeps it valid JSON, so only its size is wrong.
	tooLarge := []int{http.StatusRequestEntityTooLarge}
	padded := strings.Repeat(" ", walkOversize) + string(valid)
	with("3 MiB body", padded, tooLarge, false, false)
	with("3 MiB body, chunked", padded, tooLarge, false, true)

	oversized := false
	for _, m := range mutations(ref, validValue, "", b.w) {
		if strings.HasSuffix(m.name, " "+walkOversizeName) {
			// The limit is the body's, not a field's: one such body each.
			if oversized {
				continue
			}
			oversized = true
		}
		raw, err := json.Marshal(m.value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.name, err)
		}
		var want []int // any documented 4xx
		if len(raw) > walkOversize {
			want = tooLarge
		}
		with(m.name, string(raw), want, m.docRejects, false)
		out[len(out)-1].mayChooseNothing = m.unknownID && walkIDsChooseNothing[b.o.op.OperationID]
	}
	return out, nil
}

// mutation is a valid value with one thing wrong.
type mutation struct {
	name       string
	value      any
	docRejects bool
	// unknownID marks a well-formed id of no record of the table.
	unknownID bool
}

// mutations return the hostile variants of v, a valid value of ref: for
// objects a missing required property and an unknown one; for every value
// the wrong type, null where it may not be null, out of its range; and for
// values that name the fixture's objects, another user's and none.
func mutations(ref *openapi3.SchemaRef, v any, path string, w *walkFixture) []mutation {
	s := ref.Value
	var out []mutation
	add := func(name string, value any, docRejects bool) {
		out = append(out, mutation{name: strings.TrimPrefix(path+" "+name, " "), value: value, docRejects: docRejects})
	}
	addID := func(name string, value any) {
		out = append(out, mutation{name: strings.TrimPrefix(path+" "+name, " "), value: value, unknownID: true})
	}
	if len(s.AllOf) == 1 && s.Type.IsEmpty() {
		return mutations(s.AllOf[0], v, path, w)
	}
	if !s.Type.IsEmpty() {
		add("of the wrong type", wrongType(s), true)
		if !s.Nullable {
			add("null", nil, true)
		}
	}
	leaf := path[strings.LastIndex(path, ".")+1:]
	switch leaf {
	case "record_id", "record_ids[0]", "deletes[0]":
		addID("another user's record", w.other.ids["r"])
		addID("unknown record", "00000000-0000-4000-8000-000000000000")
		add("garbage record id", "not-an-id", false)
	case "field":
		add("unknown column", "no_such_column", false)
	}
	if isFieldValues(ref) {
		bad := walkBadFields()
		for _, name := range sortedKeys(bad) {
			add(name, bad[name], false)
		}
		return out
	}
	switch {
	case s.Type.Is(openapi3.TypeObject):
		obj, _ := v.(map[string]any)
		for _, prop := range s.Required {
			add("without required "+prop, withoutField(obj, prop), true)
		}
		if s.MinProps > 0 && len(s.Required) == 0 {
			add("empty object", map[string]any{}, true)
		}
		if s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has {
			add("with an unknown field", withField(obj, "unexpected_field", 1), true)
		}
		for _, prop := range sortedKeys(obj) {
			child := s.Properties[prop]
			if child == nil {
				continue
			}
			for _, m := range mutations(child, obj[prop], strings.TrimPrefix(path+"."+prop, "."), w) {
				base := obj
				if m.unknownID {
					// The id alone must decide the answer: with the rest of
					// a valid body, an operation whose unknown ids choose
					// nothing would rightly change what the rest chooses.
					base = onlyFields(obj, s.Required)
				}
				m.value = withField(base, prop, m.value)
				out = append(out, m)
			}
		}
	case s.Type.Is(openapi3.TypeArray):
		arr, _ := v.([]any)
		if s.MinItems > 0 {
			add("empty", []any{}, true)
		}
		if len(arr) > 0 {
			for _, m := range mutations(s.Items, arr[0], path+"[0]", w) {
				m.value = append([]any{m.value}, arr[1:]...)
				out = append(out, m)
			}
		}
	case s.Type.Is(openapi3.TypeString):
		if len(s.Enum) > 0 {
			add("not in its enum", "bogus", true)
		}
		if s.MaxLength != nil {
			add("too long", strings.Repeat("k", int(*s.MaxLength)+1), true)
		}
		if s.MinLength > 0 {
			add("too short", "", true)
		}
		add("with a NUL", "Walk\x00", false)
		add(walkOversizeName, strings.Repeat("k", walkOversize), false)
	case s.Type.Is(openapi3.TypeInteger):
		add("a fraction", 1.5, true)
		add("beyond int64", json.Number("99999999999999999999999"), s.Max != nil)
		if s.Min != nil {
			add("below its minimum", *s.Min-1, true)
		}
		if s.Max != nil {
			add("above its maximum", *s.Max+1, true)
		}
	}
	return out
}

// walkBadFields are record values that the fixture's typed table refuses:
// a value of the wrong type for its column, an option a select lacks, a
// column that does not exist, JSON nested deeper than anyone needs, and
// NUL bytes, which PostgreSQL cannot store.
func walkBadFields() map[string]map[string]any {
	deep := json.RawMessage(strings.Repeat("[", 5000) + strings.Repeat("]", 5000))
	return map[string]map[string]any{
		"a number column given text":   {"Title": "Walk", "Price": "abc"},
		"a select given no option":     {"Title": "Walk", "Status": "Nope"},
		"an unknown column":            {"Title": "Walk", "no_such_column": "x"},
		"a json column nested deep":    {"Title": "Walk", "Data": deep},
		"a NUL in a text value":        {"Title": "Walk\x00"},
		"a NUL in a json value":        {"Title": "Walk", "Data": map[string]any{"k": "a\x00b"}},
		"a NUL in a json key":          {"Title": "Walk", "Data": map[string]any{"k\x00": 1}},
		"a required column emptied":    {"Title": nil},
		"a column named by a bad id":   {"Title": "Walk", "00000000-0000-4000-8000-000000000000": "x"},
		"a number column given a list": {"Title": "Walk", "Price": []any{1}},
	}
}

// wrongType returns a value of another JSON type than s allows.
func wrongType(s *openapi3.Schema) any {
	switch {
	case s.Type.Is(openapi3.TypeString):
		return 12345
	case s.Type.Is(openapi3.TypeInteger), s.Type.Is(openapi3.TypeNumber):
		return "1"
	case s.Type.Is(openapi3.TypeBoolean):
		return "true"
	case s.Type.Is(openapi3.TypeArray):
		return map[string]any{"a": 1}
	}
	return []any{"x"}
}

// onlyFields returns the given fields of m.
func onlyFields(m map[string]any, keys []string) map[string]any {
	out := make(map[string]any, len(keys))
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

func withoutField(m map[string]any, key string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

func withField(m map[string]any, key string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, x := range m {
		out[k] = x
	}
	out[key] = v
	return out
}

// formPart is one part of a multipart body.
type formPart struct {
	name, value string
	file        bool
}

// validParts are the parts of a valid multipart body: the small fields
// first (the server reads them before the file), then the file.
func (b *requestBuilder) validParts(ref *openapi3.SchemaRef, target walkTarget) ([]formPart, error) {
	s := ref.Value
	if s == nil || !s.Type.Is(openapi3.TypeObject) {
		return nil, fmt.Errorf("a multipart body's schema must be an object")
	}
	var fields, files []formPart
	for _, name := range sortedKeys(s.Properties) {
		p := s.Properties[name].Value
		switch {
		case p.Type.Is(openapi3.TypeString) && p.Format == "binary":
			files = append(files, formPart{name: name, value: walkCSV, file: true})
		case name == "key_column":
			fields = append(fields, formPart{name: name, value: "Title"})
		case p.Type.Is(openapi3.TypeString), p.Type.Is(openapi3.TypeInteger), p.Type.Is(openapi3.TypeBoolean):
			v, err := b.valid(name, s.Properties[name], target)
			if err != nil {
				return nil, err
			}
			fields = append(fields, formPart{name: name, value: fmt.Sprint(v)})
		default:
			return nil, fmt.Errorf("multipart field %q has type %v, which the walk cannot send", name, p.Type)
		}
	}
	return append(fields, files...), nil
}

const walkBoundary = "walkboundary"

// encodeParts writes a multipart body; closed false leaves out the final
// boundary, as a client that died mid-upload would.
func encodeParts(parts []formPart, closed bool) (body, contentType string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.SetBoundary(walkBoundary)
	for _, p := range parts {
		var pw interface{ Write([]byte) (int, error) }
		if p.file {
			pw, _ = mw.CreateFormFile(p.name, "walk.csv")
		} else {
			pw, _ = mw.CreateFormField(p.name)
		}
		_, _ = pw.Write([]byte(p.value))
	}
	if closed {
		_ = mw.Close()
	}
	return buf.String(), mw.FormDataContentType()
}

// multipartCases are the hostile uploads of an operation.
func (b *requestBuilder) multipartCases(mt string) ([]walkCase, error) {
	ref := b.o.op.RequestBody.Value.Content[mt].Schema
	valid, err := b.validParts(ref, b.w.own)
	if err != nil {
		return nil, fmt.Errorf("%s body: %w", mt, err)
	}
	call, err := b.request(b.ownIDs(), nil)
	if err != nil {
		return nil, err
	}
	s := ref.Value
	invalid := []int{http.StatusUnprocessableEntity}
	var out []walkCase
	send := func(name string, parts []formPart, want []int, docRejects bool) {
		c := call
		c.body, c.contentType = encodeParts(parts, true)
		out = append(out, walkCase{name: name, call: c, want: want, docRejects: docRejects})
	}
	raw := func(name, body, contentType string, docRejects bool) {
		c := call
		c.body, c.contentType = body, contentType
		out = append(out, walkCase{name: name, call: c, want: invalid, docRejects: docRejects})
	}
	_, ct := encodeParts(nil, true)
	raw("empty multipart", "--"+walkBoundary+"--\r\n", ct, true)
	raw("multipart without a boundary", call.body, "multipart/form-data", true)
	raw("not multipart", "walk", ct, true)
	body, _ := encodeParts(valid, false)
	raw("upload cut off mid-file", body[:len(body)-2], ct, true)

	for _, name := range s.Required {
		send("without required "+name, slices.DeleteFunc(slices.Clone(valid), func(p formPart) bool { return p.name == name }), invalid, true)
	}
	for i, p := range valid {
		set := func(v string) []formPart {
			parts := slices.Clone(valid)
			parts[i].value = v
			return parts
		}
		if p.file {
			send("an empty file", set(""), invalid, false)
			continue
		}
		prop := s.Properties[p.name].Value
		switch {
		case prop.Type.Is(openapi3.TypeBoolean):
			send(p.name+" not a boolean", set("maybe"), invalid, true)
		case prop.Type.Is(openapi3.TypeInteger):
			send(p.name+" not an integer", set("abc"), invalid, true)
		}
		send(p.name+" of 64 KiB", set(strings.Repeat("k", 64<<10)), invalid, prop.MaxLength != nil)
		send(p.name+" with a NUL", set("Walk\x00"), invalid, false)
		if p.name == "key_column" {
			send("key_column naming no column", set("no_such_column"), invalid, false)
		}
	}
	return out, nil
}

// TestAPIWalkFailsOnWhatItCannotAttack checks that the walk reports an
// operation it cannot build hostile requests for, instead of skipping it,
// so that a route added with a new kind of input is taught to the walk.
func TestAPIWalkFailsOnWhatItCannotAttack(t *testing.T) {
	t.Parallel()
	w := &walkFixture{
		own:   walkTarget{ids: map[string]string{"wb": "00000000-0000-4000-8000-0000000000aa"}},
		other: walkTarget{ids: map[string]string{"wb": "00000000-0000-4000-8000-0000000000bb"}},
	}
	str := openapi3.NewStringSchema()
	param := func(in, name string) *openapi3.ParameterRef {
		return &openapi3.ParameterRef{Value: &openapi3.Parameter{In: in, Name: name, Required: in == "path", Schema: str.NewRef()}}
	}
	body := func(mediaType string) *openapi3.RequestBodyRef {
		return &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).
			WithContent(openapi3.NewContentWithSchema(openapi3.NewObjectSchema(), []string{mediaType}))}
	}
	tests := []struct {
		name     string
		template string
		op       *openapi3.Operation
		want     string
	}{
		{"a cookie parameter", "/api/v1/x", &openapi3.Operation{Parameters: openapi3.Parameters{param("cookie", "session")}}, `is in "cookie"`},
		{"a path parameter the fixture lacks", "/api/v1/things/{thing}", &openapi3.Operation{Parameters: openapi3.Parameters{param("path", "thing")}}, "{thing} names nothing"},
		{"a plain-string query parameter not listed", "/api/v1/x", &openapi3.Operation{Parameters: openapi3.Parameters{param("query", "colour")}}, "walkQueryValues"},
		{"a plain-string header not listed", "/api/v1/x", &openapi3.Operation{Parameters: openapi3.Parameters{param("header", "X-Colour")}}, "walkHeaderValues"},
		{"a body media type it cannot build", "/api/v1/workbooks/{wb}", &openapi3.Operation{
			Parameters: openapi3.Parameters{param("path", "wb")}, RequestBody: body("text/csv")}, `"text/csv"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := w.hostileCases(walkOperation{method: http.MethodPost, template: tt.template, item: &openapi3.PathItem{}, op: tt.op})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("hostileCases error = %v, want one mentioning %s", err, tt.want)
			}
		})
	}
}
