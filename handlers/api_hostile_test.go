package handlers_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/accounts"
)

// The tests in this file pin down what TestAPIWalkRefusesHostileRequests
// found, each where it is easy to read and to debug.

// TestAPIRecordBodiesNeedTheirRequiredFields checks that a record change
// without the values it changes is refused rather than applied as an edit
// of nothing: encoding/json cannot tell a missing "fields" from an empty one.
func TestAPIRecordBodiesNeedTheirRequiredFields(t *testing.T) {
	t.Parallel()
	f := MustWorkbookFixture(t, "required@example.com")
	lamp := f.MustCreateRecord(`{"Title": "Lamp"}`)
	tests := []struct {
		name, method, path, body, field string
	}{
		{"batch update without fields", http.MethodPost, f.tablePath() + "/records/batch",
			`{"creates": [{"fields": {"Title": "Desk"}}], "updates": [{"record_id": "` + lamp.ID + `", "version": 1}]}`, "updates[0].fields"},
		{"batch create without fields", http.MethodPost, f.tablePath() + "/records/batch",
			`{"creates": [{}], "deletes": ["` + lamp.ID + `"]}`, "creates[0].fields"},
		{"edit without fields", http.MethodPatch, f.tablePath() + "/records/" + lamp.ID, `{"version": 1}`, "fields"},
		{"proposal without fields", http.MethodPost, f.tablePath() + "/suggestions",
			`{"updates": [{"record_id": "` + lamp.ID + `"}], "creates": [{"fields": {"Title": "Desk"}}]}`, "updates[0].fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.s.api.Do(t, apiCall{method: tt.method, path: tt.path, token: f.s.token, body: tt.body, offSpec: true})
			if p := MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input"); fieldNames(p) != tt.field {
				t.Errorf("errors %+v, want %s", p.Errors, tt.field)
			}
		})
	}
	var list recordListBody
	f.s.MustJSON(http.MethodGet, f.tablePath()+"/records", "", http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].Version != 1 || len(list.Items[0].Suggestions) != 0 {
		t.Errorf("refused requests changed the records: %+v", list.Items)
	}
}

// TestQueryTextMustBeStorable checks that query parameters PostgreSQL
// cannot compare (NUL characters, invalid UTF-8) are invalid input, in the
// API and on pages, rather than a failed query.
func TestQueryTextMustBeStorable(t *testing.T) {
	t.Parallel()
	inst, browser, _ := mustAdminInstance(t)
	api := newAPIClient(t, inst)
	_, token := MustUserWithToken(t, inst, "search@example.com", true, accounts.ScopeAdmin)
	for _, q := range []string{"%00", "a%FFb"} {
		p := MustProblem(t, api.Do(t, apiCall{method: http.MethodGet, path: "/api/v1/admin/users?q=" + q, token: token}),
			http.StatusUnprocessableEntity, "invalid_input")
		if fieldNames(p) != "q" {
			t.Errorf("q=%s: errors %+v", q, p.Errors)
		}
		if r := browser.Get("/admin/users?q=" + q); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("admin page with q=%s: status %d", q, r.Status)
		}
	}
}

// TestAPIOversizedBodyWithIdempotencyKey checks that a body past the limit,
// sent without a length, is 413 on idempotent routes too: the middleware
// that buffers it for the key used to pass the limit's error on unclassified,
// as a 500.
func TestAPIOversizedBodyWithIdempotencyKey(t *testing.T) {
	t.Parallel()
	f := MustWorkbookFixture(t, "oversized@example.com")
	body := `{"name": "` + strings.Repeat("x", 2<<20) + `"}`
	r := f.s.api.Do(t, apiCall{method: http.MethodPost, path: "/api/v1/workbooks", token: f.s.token, body: body, chunked: true,
		header: http.Header{"Idempotency-Key": {"big-1"}}, offSpec: true})
	MustProblem(t, r, http.StatusRequestEntityTooLarge, "too_large")
}

// TestAPIWorkbookCursorMustNameAWorkbook checks that a workbook cursor whose
// position names no workbook id is refused like any other forged cursor.
func TestAPIWorkbookCursorMustNameAWorkbook(t *testing.T) {
	t.Parallel()
	f := MustWorkbookFixture(t, "cursor@example.com")
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"s":"name","k":"","i":"x"}`))
	p := MustProblem(t, f.s.call(http.MethodGet, "/api/v1/workbooks?cursor="+forged, ""), http.StatusUnprocessableEntity, "invalid_input")
	if fieldNames(p) != "cursor" {
		t.Errorf("errors %+v", p.Errors)
	}
}

// TestCSVAPIHostileUploads checks the refusals of the upload routes that
// used to succeed: a body cut off inside the file (taken for the whole
// file, as io.ReadFull reports both the same way), a create_unmatched that
// is no boolean (taken for false), and the data-source form naming a
// workbook that is not the caller's (which answered 422, not 404). None of
// them may leave an upload, a table or a suggestion behind.
func TestCSVAPIHostileUploads(t *testing.T) {
	t.Parallel()
	f := MustWorkbookFixture(t, "hostile-csv@example.com")
	lamp := f.MustCreateRecord(`{"Title": "Lamp", "Price": 1}`)
	tablesPath := "/api/v1/workbooks/" + f.wb.ID + "/tables"
	cutOff := func(fields [][2]string) (string, string) {
		body, ct := multipartBody(t, fields, "cut.csv", "Title,Price\nLamp,99\nDesk,5\n")
		return body[:strings.LastIndex(body, "Desk")], ct
	}

	body, ct := cutOff([][2]string{{"name", "Cut"}})
	r := f.s.api.Do(t, apiCall{method: http.MethodPost, path: tablesPath, token: f.s.token, body: body, contentType: ct, offSpec: true})
	if p := MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input"); !strings.Contains(p.Detail, "cut off") {
		t.Errorf("detail %q", p.Detail)
	}
	body, ct = cutOff([][2]string{{"key_column", "Title"}})
	r = f.s.api.Do(t, apiCall{method: http.MethodPost, path: f.tablePath() + "/import-suggestions", token: f.s.token, body: body, contentType: ct, offSpec: true})
	MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input")

	body, ct = multipartBody(t, [][2]string{{"key_column", "Title"}, {"create_unmatched", "maybe"}}, "s.csv", "Title,Price\nLamp,99\n")
	r = f.s.api.Do(t, apiCall{method: http.MethodPost, path: f.tablePath() + "/import-suggestions", token: f.s.token, body: body, contentType: ct, offSpec: true})
	if p := MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input"); fieldNames(p) != "create_unmatched" {
		t.Errorf("errors %+v", p.Errors)
	}

	_, otherToken := MustUserWithToken(t, f.inst, "hostile-csv-2@example.com", false, accounts.ScopeRead, accounts.ScopeWrite)
	r = f.s.api.Do(t, apiCall{method: http.MethodPost, path: tablesPath, token: otherToken, body: `{"data_source_id": "x", "remote_table_id": "y"}`})
	MustProblem(t, r, http.StatusNotFound, "not_found")

	if got := f.MustRecord(lamp.ID); len(got.Suggestions) != 0 {
		t.Errorf("refused imports stored suggestions: %+v", got.Suggestions)
	}
	var uploads, tables int
	ctx := context.Background()
	if err := f.inst.Pool.QueryRow(ctx, `SELECT count(*) FROM uploads`).Scan(&uploads); err != nil {
		t.Fatal(err)
	}
	if err := f.inst.Pool.QueryRow(ctx, `SELECT count(*) FROM workbook_tables`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if uploads != 0 || tables != 1 {
		t.Errorf("refused uploads left %d uploads and %d tables", uploads, tables)
	}
}
