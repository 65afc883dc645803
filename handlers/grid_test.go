package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/scratchpad/scratchpad/handlers"
	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/events"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
	"github.com/scratchpad/scratchpad/views"
)

const gridPassword = "correct horse battery"

// Hostile values that must only ever render as text.
const (
	gridHostileScript = `<script>alert(1)</script>`
	gridHostileImg    = `"><img src=x onerror=alert(1)>`
)

// gridFixture is a signed-in person with one workbook holding one table of
// every column type and three records.
type gridFixture struct {
	inst *apptest.Instance
	b    *apptest.Browser
	user accounts.User
	wb   workbooks.Workbook
	tbl  workbooks.Table
	// col maps column names to ids.
	col  map[string]string
	recs []workbooks.Record
}

func (f gridFixture) gridURL() string { return "/workbooks/" + f.wb.ID + "/tables/" + f.tbl.ID }
func (f gridFixture) recordURL(id string) string {
	return f.gridURL() + "/records/" + id
}
func (f gridFixture) cellURL(id, colName string) string {
	return f.recordURL(id) + "/cells/" + f.col[colName]
}

func mustGridFixture(t testing.TB) gridFixture {
	t.Helper()
	ctx := context.Background()
	inst := apptest.MustStart(t, apptest.Options{})
	b := inst.NewBrowser(t)
	b.MustSignUp("grid@example.com", gridPassword)
	u := mustFindUser(t, inst, "grid@example.com")
	wb, err := inst.App.Workbooks.CreateWorkbook(ctx, u.ID, "Campaign")
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := inst.App.Workbooks.CreateTable(ctx, u.ID, wb.ID, workbooks.TableInput{Name: "Posts", Columns: []workbooks.ColumnInput{
		{Name: "Title", Type: values.Text},
		{Name: "Body", Type: values.Text, Format: values.FormatMarkdown},
		{Name: "Price", Type: values.Number},
		{Name: "Published", Type: values.Boolean},
		{Name: "Day", Type: values.Date},
		{Name: "Status", Type: values.Select, Options: []string{"draft", "live"}},
		{Name: "Tags", Type: values.MultiSelect, Options: []string{"news", "promo", "tech"}},
		{Name: "Meta", Type: values.JSON},
		{Name: "Link", Type: values.Text, Format: values.FormatURL},
		{Name: "Contact", Type: values.Text, Format: values.FormatEmail},
		{Name: "Note", Type: values.Text},
	}})
	if err != nil {
		t.Fatal(err)
	}
	f := gridFixture{inst: inst, b: b, user: u, wb: wb, tbl: tbl, col: map[string]string{}}
	for _, c := range tbl.Columns {
		f.col[c.Name] = c.ID
	}
	for _, fields := range []map[string]any{
		{"Title": "Alpha launch", "Body": "# Heading\nsecond line", "Price": "12.5", "Published": true, "Day": "2024-05-01",
			"Status": "draft", "Tags": []string{"news", "tech"}, "Meta": map[string]any{"a": 1}, "Link": "https://example.com/a",
			"Contact": "ann@example.com", "Note": "javascript:alert(1)"},
		{"Title": gridHostileScript, "Price": "3", "Published": false, "Note": gridHostileImg},
		{"Title": "Gamma", "Price": "40"},
	} {
		rec, err := inst.App.Workbooks.CreateRecord(ctx, u.ID, wb.ID, tbl.ID, fields)
		if err != nil {
			t.Fatal(err)
		}
		f.recs = append(f.recs, rec)
	}
	// The records stand for pulled ones: clean, their values as pulled.
	if _, err := inst.Pool.Exec(ctx, `UPDATE records SET state = 'clean', original = NULL, edited_fields = '{}'
		WHERE workbook_id = $1`, wb.ID); err != nil {
		t.Fatal(err)
	}
	return f
}

// gridSend sends an htmx request like the grid's buttons and editors do.
func gridSend(b *apptest.Browser, method, path string, form url.Values) *apptest.Response {
	return b.Send(method, path, form, true)
}

// gridHTMXGet is a GET made by htmx.
func gridHTMXGet(t testing.TB, b *apptest.Browser, base, path string) *apptest.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("HX-Request", "true")
	return b.Do(req)
}

// gridCell finds the cell of column in the row of record id.
func gridCell(s *goquery.Selection, id, column string) *goquery.Selection {
	return s.Find(`tr[data-record-id="` + id + `"] td.cell[data-column="` + column + `"]`)
}

func rowTitles(s *goquery.Selection) []string {
	var out []string
	s.Find(`[data-testid="record-row"]`).Each(func(_ int, row *goquery.Selection) {
		out = append(out, strings.TrimSpace(row.Find(`[data-column="Title"]`).Text()))
	})
	return out
}

func TestGridWorkbooksListCreateRenameDelete(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	b := inst.NewBrowser(t)
	b.MustSignUp("lists@example.com", gridPassword)

	home := b.Get("/")
	if home.TestID("no-workbooks").Length() != 1 || home.TestID("create-workbook").Length() != 1 {
		t.Fatalf("a new account sees an empty list with the create form: %d", home.Status)
	}
	if r := b.PostForm("/workbooks", url.Values{"name": {"  "}}); r.Status != http.StatusUnprocessableEntity || r.TestID("error-name").Length() != 1 {
		t.Fatalf("empty name: status %d, error shown %d", r.Status, r.TestID("error-name").Length())
	}
	var ids []string
	for _, name := range []string{"Zeta", "Alpha"} {
		r := b.PostForm("/workbooks", url.Values{"name": {name}})
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/workbooks/") {
			t.Fatalf("create %s: status %d, location %q", name, r.Status, r.Header.Get("Location"))
		}
		ids = append(ids, strings.TrimPrefix(r.Header.Get("Location"), "/workbooks/"))
	}
	// A new workbook has no table: its page shows the empty state.
	if r := b.Get("/workbooks/" + ids[0]); r.Status != http.StatusOK || r.TestID("workbook-empty").Length() != 1 || r.TestID("import-csv").Length() != 1 {
		t.Fatalf("empty workbook page: status %d", r.Status)
	}

	names := func(r *apptest.Response) []string {
		var out []string
		r.TestID("workbook-row").Each(func(_ int, s *goquery.Selection) {
			out = append(out, s.Find(`[data-testid="workbook-link"]`).Text())
		})
		return out
	}
	if got := names(b.Get("/?sort=name")); strings.Join(got, ",") != "Alpha,Zeta" {
		t.Errorf("by name: %v", got)
	}
	if got := names(b.Get("/?sort=created")); strings.Join(got, ",") != "Alpha,Zeta" {
		t.Errorf("newest first: %v", got)
	}

	// Rename in place: the response is the row.
	r := gridSend(b, http.MethodPost, "/workbooks/"+ids[0]+"/rename", url.Values{"name": {"Omega"}})
	row := rowFragment(t, r)
	if r.Status != http.StatusOK || byTestID(row, "workbook-link").Text() != "Omega" {
		t.Fatalf("rename: status %d body %s", r.Status, r.Body)
	}
	r = gridSend(b, http.MethodPost, "/workbooks/"+ids[0]+"/rename", url.Values{"name": {""}})
	if r.Status != http.StatusUnprocessableEntity || byTestID(rowFragment(t, r), "row-error").Length() != 1 {
		t.Fatalf("empty rename: status %d body %s", r.Status, r.Body)
	}

	// Delete asks first (hx-confirm) and removes the row.
	del := b.Get("/").Doc.Find(`tr[data-workbook-id="` + ids[1] + `"] [data-testid="delete-workbook"]`)
	if c, _ := del.Attr("hx-confirm"); !strings.Contains(c, "Alpha") {
		t.Errorf("delete confirmation %q", c)
	}
	if r := gridSend(b, http.MethodDelete, "/workbooks/"+ids[1], nil); r.Status != http.StatusOK || strings.TrimSpace(r.Body) != "" {
		t.Fatalf("delete: status %d body %q", r.Status, r.Body)
	}
	if got := names(b.Get("/")); strings.Join(got, ",") != "Omega" {
		t.Errorf("after delete: %v", got)
	}
}

func TestGridRendersTypesAsEscapedText(t *testing.T) {
	t.Parallel()
	f := mustGridFixture(t)
	r := f.b.Get(f.gridURL())
	if r.Status != http.StatusOK {
		t.Fatalf("grid: %d", r.Status)
	}
	grid := r.TestID("grid")
	if n := grid.Find(`[data-testid="record-row"]`).Length(); n != 3 {
		t.Fatalf("rows: %d", n)
	}
	if got := r.TestID("record-total").Text(); got != "3 records" {
		t.Errorf("total %q", got)
	}
	headers := grid.Find(`[data-testid="column-header"]`)
	if headers.Length() != len(f.tbl.Columns) || !headers.First().HasClass("pin") {
		t.Errorf("headers: %d, first pinned %v", headers.Length(), headers.First().HasClass("pin"))
	}
	a := f.recs[0].ID
	cases := []struct{ column, sel, text string }{
		{"Title", "span.cell-value", "Alpha launch"},
		{"Body", "span.cell-value", "# Heading …"},
		{"Price", "span.cell-value", "12.5"},
		{"Published", `[data-value="true"]`, "✓"},
		{"Day", `time[datetime="2024-05-01"]`, "2024-05-01"},
		{"Status", "span.badge", "draft"},
		{"Meta", "code", `{"a":1}`},
		{"Link", `a[href="https://example.com/a"][rel="noopener noreferrer nofollow"]`, "https://example.com/a"},
		{"Contact", `a[href="mailto:ann@example.com"]`, "ann@example.com"},
	}
	for _, tc := range cases {
		cell := gridCell(grid, a, tc.column)
		if got := strings.TrimSpace(cell.Find(tc.sel).Text()); got != tc.text {
			t.Errorf("%s: %q in %q, want %q", tc.column, got, tc.sel, tc.text)
		}
	}
	if !gridCell(grid, a, "Price").HasClass("num") || !gridCell(grid, a, "Title").HasClass("pin") {
		t.Error("numbers align right and the title column is pinned")
	}
	if n := gridCell(grid, a, "Tags").Find("span.badge").Length(); n != 2 {
		t.Errorf("tags badges: %d", n)
	}
	if gridCell(grid, a, "Note").Find("a").Length() != 0 {
		t.Error("a javascript: text must not become a link")
	}
	if v, _ := grid.Find(`tr[data-record-id="` + a + `"] [data-testid="select-record"]`).Attr("form"); v != "bulk-form" {
		t.Errorf("selection checkbox form %q", v)
	}

	// Hostile values are text.
	h := f.recs[1].ID
	if grid.Find("script").Length() != 0 || grid.Find("img").Length() != 0 {
		t.Fatal("record values created elements in the grid")
	}
	if got := strings.TrimSpace(gridCell(grid, h, "Title").Text()); got != gridHostileScript {
		t.Errorf("script value shown as %q", got)
	}
	if got := strings.TrimSpace(gridCell(grid, h, "Note").Text()); got != gridHostileImg {
		t.Errorf("img value shown as %q", got)
	}
	if strings.Contains(r.Body, "<img src=x") || strings.Contains(r.Body, "<script>alert") {
		t.Error("the page holds unescaped values")
	}
	if r.Doc.Find(`#record-panel[hidden]`).Length() != 1 || r.Doc.Find(`[sse-connect="/workbooks/`+f.wb.ID+`/events"]`).Length() != 1 {
		t.Error("the grid page has a record panel and a live stream")
	}
	if id, _ := grid.Find(`tr[data-record-id="` + a + `"]`).Attr("sse-swap"); id != "rec-"+a {
		t.Errorf("row sse-swap %q", id)
	}
}

func TestGridSortFilterAndQuickFilters(t *testing.T) {
	t.Parallel()
	f := mustGridFixture(t)
	ctx := context.Background()
	cases := []struct {
		query string
		want  string
	}{
		{"?sort=Price", "" + gridHostileScript + ",Alpha launch,Gamma"},
		{"?sort=-Price", "Gamma,Alpha launch," + gridHostileScript},
		{"?filter=" + url.QueryEscape("Price > 10"), "Alpha launch,Gamma"},
		{"?filter=" + url.QueryEscape("Price > 10") + "&sort=-Price", "Gamma,Alpha launch"},
	}
	for _, tc := range cases {
		r := f.b.Get(f.gridURL() + tc.query)
		if got := strings.Join(rowTitles(r.TestID("grid")), ","); r.Status != http.StatusOK || got != tc.want {
			t.Errorf("%s: status %d rows %q, want %q", tc.query, r.Status, got, tc.want)
		}
	}
	// The header of the sorted column links to the opposite order.
	r := f.b.Get(f.gridURL() + "?sort=Price")
	price := r.Doc.Find(`[data-testid="column-header"][data-column="Price"]`)
	if s, _ := price.Attr("aria-sort"); s != "ascending" {
		t.Errorf("aria-sort %q", s)
	}
	if href, _ := price.Find("a").Attr("href"); !strings.Contains(href, "sort=-Price") {
		t.Errorf("next sort link %q", href)
	}

	// A filter error points at its position.
	r = f.b.Get(f.gridURL() + "?filter=" + url.QueryEscape("Price > AND"))
	fe := r.TestID("filter-error")
	if r.Status != http.StatusUnprocessableEntity || fe.Length() != 1 {
		t.Fatalf("bad filter: status %d", r.Status)
	}
	if pos, _ := fe.Attr("data-pos"); pos != "8" || fe.Find(`[data-testid="filter-caret"]`).Length() != 1 {
		t.Errorf("filter error position %q: %q", pos, fe.Text())
	}
	if r.TestID("record-row").Length() != 0 {
		t.Error("an invalid filter shows no rows")
	}

	// Quick filters.
	if _, err := f.inst.App.Workbooks.ProposeSuggestions(ctx, f.user.ID, f.wb.ID, f.tbl.ID, workbooks.Proposal{
		Source: workbooks.SourceAPI, Updates: []workbooks.RecordUpdate{{RecordID: f.recs[2].ID, Fields: map[string]any{"Title": "Gamma ray"}}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.inst.App.Workbooks.UpdateRecord(ctx, f.user.ID, f.wb.ID, f.tbl.ID, f.recs[0].ID, map[string]any{"Price": 13}, f.recs[0].Version); err != nil {
		t.Fatal(err)
	}
	if got := rowTitles(f.b.Get(f.gridURL() + "?has=edits").TestID("grid")); strings.Join(got, ",") != "Alpha launch" {
		t.Errorf("has edits: %v", got)
	}
	r = f.b.Get(f.gridURL() + "?has=suggestions")
	if id, _ := r.TestID("record-row").Attr("data-record-id"); id != f.recs[2].ID || r.TestID("record-row").Length() != 1 {
		t.Errorf("has suggestions: %d rows", r.TestID("record-row").Length())
	}
	if r.TestID("quick-filter-suggestions").Is("strong") == false {
		t.Error("the active quick filter is marked")
	}
	if got := r.TestID("counter-suggestions").Text(); got != "1" {
		t.Errorf("suggestion counter %q", got)
	}
	if got := r.TestID("counter-changes").Text(); got != "1" {
		t.Errorf("changes counter %q", got)
	}
}

func TestGridEditCell(t *testing.T) {
	t.Parallel()
	f := mustGridFixture(t)
	ctx := context.Background()
	rec := f.recs[0]

	// Opening the editor returns the row with the cell's editor.
	r := gridHTMXGet(t, f.b, f.inst.URL, f.cellURL(rec.ID, "Price"))
	row := rowFragment(t, r)
	editor := row.Find(`[data-column="Price"] [data-testid="cell-editor"]`)
	if r.Status != http.StatusOK || editor.Length() != 1 {
		t.Fatalf("editor: status %d body %s", r.Status, r.Body)
	}
	if v, _ := editor.Attr("value"); v != "12.5" {
		t.Errorf("editor value %q", v)
	}
	if v, _ := row.Find(`input[name="version"]`).Attr("value"); v != strconv.Itoa(rec.Version) {
		t.Errorf("editor version %q, want %d", v, rec.Version)
	}

	// Saving returns the row with the new value and bumps the version.
	r = gridSend(f.b, http.MethodPut, f.cellURL(rec.ID, "Price"), url.Values{"version": {strconv.Itoa(rec.Version)}, "value": {"99"}})
	row = rowFragment(t, r)
	if r.Status != http.StatusOK || strings.TrimSpace(gridCell(row, rec.ID, "Price").Text()) != "99" {
		t.Fatalf("save: status %d body %s", r.Status, r.Body)
	}
	// It tells the page the counters moved, and what the grid's undo needs.
	if trig := r.Header.Get("HX-Trigger"); !strings.Contains(trig, `"counters-changed":null`) ||
		!strings.Contains(trig, `"before":12.5,"after":99`) {
		t.Errorf("HX-Trigger %q", trig)
	}
	saved, err := f.inst.App.Workbooks.FindRecord(ctx, f.user.ID, f.wb.ID, f.tbl.ID, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Version != rec.Version+1 || fmt.Sprint(saved.Fields[f.col["Price"]]) != "99" {
		t.Fatalf("saved version %d value %v", saved.Version, saved.Fields[f.col["Price"]])
	}
	if v, _ := row.Find("tr").Attr("data-version"); v != strconv.Itoa(saved.Version) {
		t.Errorf("row version %q", v)
	}

	// An invalid value re-opens the editor with the reason in the cell.
	r = gridSend(f.b, http.MethodPut, f.cellURL(rec.ID, "Price"), url.Values{"version": {strconv.Itoa(saved.Version)}, "value": {"lots"}})
	row = rowFragment(t, r)
	if r.Status != http.StatusUnprocessableEntity || byTestID(row, "cell-error").Length() != 1 {
		t.Fatalf("invalid: status %d body %s", r.Status, r.Body)
	}
	if v, _ := byTestID(row, "cell-editor").Attr("value"); v != "lots" {
		t.Errorf("the editor keeps what was typed, got %q", v)
	}

	// A stale version is a conflict showing the current value; nothing is saved.
	r = gridSend(f.b, http.MethodPut, f.cellURL(rec.ID, "Price"), url.Values{"version": {strconv.Itoa(rec.Version)}, "value": {"1"}})
	row = rowFragment(t, r)
	cell := gridCell(row, rec.ID, "Price")
	if r.Status != http.StatusConflict || byTestID(cell, "conflict").Length() != 1 {
		t.Fatalf("stale: status %d body %s", r.Status, r.Body)
	}
	if got := strings.TrimSpace(cell.Find("span.cell-value").Text()); got != "99" {
		t.Errorf("conflict shows %q, want the current 99", got)
	}
	if again, _ := f.inst.App.Workbooks.FindRecord(ctx, f.user.ID, f.wb.ID, f.tbl.ID, rec.ID); again.Version != saved.Version {
		t.Error("a stale edit must not be saved")
	}

	// Other editors: a multi-select takes several values, a select its options.
	r = gridSend(f.b, http.MethodPut, f.cellURL(rec.ID, "Tags"), url.Values{"version": {strconv.Itoa(saved.Version)}, "value": {"promo", "tech"}})
	if r.Status != http.StatusOK || gridCell(rowFragment(t, r), rec.ID, "Tags").Find(".badge").Length() != 2 {
		t.Fatalf("multi-select: %d %s", r.Status, r.Body)
	}
	// A json cell's text is read as JSON, as the record panel reads it: an
	// object is stored as the object, not as a string holding its text.
	tagged, err := f.inst.App.Workbooks.FindRecord(ctx, f.user.ID, f.wb.ID, f.tbl.ID, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	r = gridSend(f.b, http.MethodPut, f.cellURL(rec.ID, "Meta"), url.Values{"version": {strconv.Itoa(tagged.Version)}, "value": {` {"a": [1, 2.50], "b": "x"} `}})
	if r.Status != http.StatusOK {
		t.Fatalf("json: %d %s", r.Status, r.Body)
	}
	withJSON, err := f.inst.App.Workbooks.FindRecord(ctx, f.user.ID, f.wb.ID, f.tbl.ID, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if obj, ok := withJSON.Fields[f.col["Meta"]].(map[string]any); !ok || obj["b"] != "x" || fmt.Sprint(obj["a"]) != "[1 2.50]" {
		t.Fatalf("json cell stored %#v, want the object", withJSON.Fields[f.col["Meta"]])
	}
	r = gridSend(f.b, http.MethodPut, f.cellURL(rec.ID, "Meta"), url.Values{"version": {strconv.Itoa(withJSON.Version)}, "value": {"{oops"}})
	if row := rowFragment(t, r); r.Status != http.StatusUnprocessableEntity || !strings.Contains(byTestID(row, "cell-error").Text(), "not valid JSON") {
		t.Fatalf("invalid json: status %d body %s", r.Status, r.Body)
	}
	r = gridHTMXGet(t, f.b, f.inst.URL, f.cellURL(rec.ID, "Status"))
	if rowFragment(t, r).Find(`select[data-testid="cell-editor"] option[value="live"]`).Length() != 1 {
		t.Errorf("select editor: %s", r.Body)
	}
	r = gridHTMXGet(t, f.b, f.inst.URL, f.cellURL(rec.ID, "Body"))
	if rowFragment(t, r).Find(`textarea[data-testid="cell-editor"]`).Length() != 1 {
		t.Errorf("markdown editor: %s", r.Body)
	}
	// Esc fetches the row back.
	if r := gridHTMXGet(t, f.b, f.inst.URL, f.recordURL(rec.ID)+"/row"); r.Status != http.StatusOK || byTestID(rowFragment(t, r), "cell-editor").Length() != 0 {
		t.Errorf("row: %d", r.Status)
	}
}

func TestGridOtherUsersIDsAreNotFound(t *testing.T) {
	t.Parallel()
	f := mustGridFixture(t)
	other := f.inst.NewBrowser(t)
	other.MustSignUp("other@example.com", gridPassword)
	rec := f.recs[0]
	paths := []struct{ method, path string }{
		{http.MethodGet, "/workbooks/" + f.wb.ID},
		{http.MethodGet, f.gridURL()},
		{http.MethodGet, f.gridURL() + "/rows"},
		{http.MethodGet, f.gridURL() + "/counters"},
		{http.MethodGet, f.recordURL(rec.ID) + "/row"},
		{http.MethodGet, f.cellURL(rec.ID, "Title")},
		{http.MethodGet, "/workbooks/" + f.wb.ID + "/events"},
	}
	for _, p := range paths {
		if r := other.Get(p.path); r.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d", p.path, r.Status)
		}
	}
	changes := []struct {
		method, path string
		form         url.Values
	}{
		{http.MethodPut, f.cellURL(rec.ID, "Title"), url.Values{"version": {strconv.Itoa(rec.Version)}, "value": {"x"}}},
		{http.MethodPost, "/workbooks/" + f.wb.ID + "/rename", url.Values{"name": {"Mine"}}},
		{http.MethodDelete, "/workbooks/" + f.wb.ID, nil},
		{http.MethodDelete, f.recordURL(rec.ID), nil},
		{http.MethodPost, f.cellURL(rec.ID, "Title") + "/accept", nil},
		{http.MethodPost, f.gridURL() + "/records", nil},
		{http.MethodPost, f.gridURL() + "/hidden", url.Values{"hidden": {"true"}}},
	}
	other.Get("/")
	for _, c := range changes {
		if r := gridSend(other, c.method, c.path, c.form); r.Status != http.StatusNotFound {
			t.Errorf("%s %s: %d", c.method, c.path, r.Status)
		}
	}
	// Nothing changed for the owner.
	if got, err := f.inst.App.Workbooks.FindRecord(context.Background(), f.user.ID, f.wb.ID, f.tbl.ID, rec.ID); err != nil || got.Version != rec.Version {
		t.Fatalf("owner's record after another user's requests: %v %v", got.Version, err)
	}
}

func TestGridInfiniteScroll(t *testing.T) {
	t.Parallel()
	f := mustGridFixture(t)
	ctx := context.Background()
	creates := make([]map[string]any, 0, 247)
	for i := range 247 {
		creates = append(creates, map[string]any{"Title": fmt.Sprintf("Row %03d", i), "Price": i})
	}
	for _, fields := range creates {
		if _, err := f.inst.App.Workbooks.CreateRecord(ctx, f.user.ID, f.wb.ID, f.tbl.ID, fields); err != nil {
			t.Fatal(err)
		}
	}
	r := f.b.Get(f.gridURL() + "?sort=Price")
	seen := map[string]bool{}
	collect := func(s *goquery.Selection) {
		s.Find(`[data-testid="record-row"]`).Each(func(_ int, row *goquery.Selection) {
			id, _ := row.Attr("data-record-id")
			if seen[id] {
				t.Errorf("record %s shown twice", id)
			}
			seen[id] = true
		})
	}
	collect(r.Doc.Selection)
	if len(seen) != 100 {
		t.Fatalf("first page: %d rows", len(seen))
	}
	next, _ := r.TestID("grid-sentinel").Attr("hx-get")
	pages := 1
	var sizes []int
	for next != "" {
		if !strings.Contains(next, "sort=Price") || !strings.Contains(next, "cursor=") {
			t.Fatalf("next page link %q keeps the view", next)
		}
		page := gridHTMXGet(t, f.b, f.inst.URL, next)
		if page.Status != http.StatusOK {
			t.Fatalf("page %d: %d", pages+1, page.Status)
		}
		frag := rowFragment(t, page)
		before := len(seen)
		collect(frag)
		sizes = append(sizes, len(seen)-before)
		next, _ = byTestID(frag, "grid-sentinel").Attr("hx-get")
		pages++
	}
	// 100 with the page, then pages of one size (about 500 cells:
	// TestGridScrollPageSize) as the grid scrolls, the last one shorter.
	if len(seen) != 250 || len(sizes) < 2 {
		t.Fatalf("rows %d in pages of 100 then %v, want 250", len(seen), sizes)
	}
	for _, n := range sizes[:len(sizes)-1] {
		if n != sizes[0] || n < 25 || n > 100 {
			t.Errorf("pages after the first hold %v rows, want one size between 25 and 100", sizes)
			break
		}
	}
}

func TestGridAcceptAndRejectCellSuggestions(t *testing.T) {
	t.Parallel()
	f := mustGridFixture(t)
	ctx := context.Background()
	a, b := f.recs[0], f.recs[2]
	if _, err := f.inst.App.Workbooks.ProposeSuggestions(ctx, f.user.ID, f.wb.ID, f.tbl.ID, workbooks.Proposal{
		Source: workbooks.SourceAgent,
		Updates: []workbooks.RecordUpdate{
			{RecordID: a.ID, Fields: map[string]any{"Title": "Alpha relaunch " + gridHostileImg}},
			{RecordID: b.ID, Fields: map[string]any{"Title": "Gamma two"}},
		},
		Deletes: []string{f.recs[1].ID},
	}); err != nil {
		t.Fatal(err)
	}
	r := f.b.Get(f.gridURL())
	grid := r.TestID("grid")
	cell := gridCell(grid, a.ID, "Title")
	if !cell.HasClass("has-suggestion") || cell.Find(`[data-testid="suggestion"] del.diff-del`).Text() != "launch" {
		t.Fatalf("suggestion diff: %q", cell.Text())
	}
	if cell.Find(`[data-testid="suggestion"] ins.diff-ins`).Length() == 0 || grid.Find("img").Length() != 0 {
		t.Error("the diff highlights the new words, as text")
	}
	if !grid.Find(`tr[data-record-id="` + f.recs[1].ID + `"]`).HasClass("suggested-delete") {
		t.Error("a suggested delete is marked on its row")
	}

	acc, _ := cell.Find(`[data-testid="accept-cell"]`).Attr("hx-post")
	r = gridSend(f.b, http.MethodPost, acc, nil)
	row := rowFragment(t, r)
	if r.Status != http.StatusOK || strings.TrimSpace(gridCell(row, a.ID, "Title").Text()) != "Alpha relaunch "+gridHostileImg {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	if byTestID(row, "suggestion").Length() != 0 || !gridCell(row, a.ID, "Title").HasClass("edited") {
		t.Error("an accepted suggestion becomes an edit")
	}

	rej, _ := gridCell(grid, b.ID, "Title").Find(`[data-testid="reject-cell"]`).Attr("hx-post")
	r = gridSend(f.b, http.MethodPost, rej, nil)
	row = rowFragment(t, r)
	if r.Status != http.StatusOK || strings.TrimSpace(gridCell(row, b.ID, "Title").Text()) != "Gamma" || byTestID(row, "suggestion").Length() != 0 {
		t.Fatalf("reject: %d %s", r.Status, r.Body)
	}
	c, err := f.inst.App.Workbooks.Counters(ctx, f.user.ID, f.wb.ID, f.tbl.ID)
	if err != nil || c.PendingSuggestions != 1 {
		t.Errorf("pending after accept and reject: %d %v", c.PendingSuggestions, err)
	}
	if got := gridHTMXGet(t, f.b, f.inst.URL, f.gridURL()+"/counters"); got.TestID("counter-suggestions").Text() != "1" {
		t.Errorf("counters fragment: %s", got.Body)
	}
}

func TestGridRecordsColumnsAndTabs(t *testing.T) {
	t.Parallel()
	f := mustGridFixture(t)
	ctx := context.Background()

	// Add, delete, restore.
	r := gridSend(f.b, http.MethodPost, f.gridURL()+"/records", nil)
	row := rowFragment(t, r)
	id, _ := row.Find("tr").Attr("data-record-id")
	if r.Status != http.StatusOK || id == "" || !row.Find("tr").HasClass("created") {
		t.Fatalf("add record: %d %s", r.Status, r.Body)
	}
	if r := gridSend(f.b, http.MethodDelete, f.recordURL(id), nil); r.Status != http.StatusOK || strings.TrimSpace(r.Body) != "" {
		t.Errorf("deleting a new record removes its row: %d %q", r.Status, r.Body)
	}
	r = gridSend(f.b, http.MethodDelete, f.recordURL(f.recs[2].ID), nil)
	if !rowFragment(t, r).Find("tr").HasClass("deleted") {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	r = gridSend(f.b, http.MethodPost, f.recordURL(f.recs[2].ID)+"/restore", nil)
	if row := rowFragment(t, r).Find("tr"); r.Status != http.StatusOK || row.HasClass("deleted") {
		t.Fatalf("restore: %d %s", r.Status, r.Body)
	}

	// Hide columns, persisted per table.
	visible := url.Values{"next": {f.gridURL() + "?sort=Price"}}
	for _, c := range f.tbl.Columns {
		if c.Name != "Meta" && c.Name != "Note" {
			visible.Add("visible", c.ID)
		}
	}
	if r := f.b.PostForm(f.gridURL()+"/hidden-columns", visible); r.Status != http.StatusSeeOther || r.Header.Get("Location") != f.gridURL()+"?sort=Price" {
		t.Fatalf("hide columns: %d %q", r.Status, r.Header.Get("Location"))
	}
	page := f.b.Get(f.gridURL())
	if page.Doc.Find(`[data-testid="column-header"][data-column="Meta"]`).Length() != 0 || page.TestID("column-header").Length() != len(f.tbl.Columns)-2 {
		t.Error("hidden columns are not shown")
	}

	// Scratch columns.
	if r := f.b.PostForm(f.gridURL()+"/columns", url.Values{"name": {"Idea"}, "type": {"text"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("add column: %d", r.Status)
	}
	tbl, err := f.inst.App.Workbooks.FindTable(ctx, f.user.ID, f.wb.ID, f.tbl.ID)
	if err != nil {
		t.Fatal(err)
	}
	idea, ok := tbl.Columns.Lookup("Idea")
	if !ok || !idea.Scratch {
		t.Fatalf("scratch column: %+v", tbl.Columns)
	}
	if r := gridSend(f.b, http.MethodDelete, f.gridURL()+"/columns/"+idea.ID, nil); r.Status != http.StatusNoContent || r.Header.Get("HX-Redirect") != f.gridURL() {
		t.Fatalf("remove column: %d %q", r.Status, r.Header.Get("HX-Redirect"))
	}
	if tbl, _ := f.inst.App.Workbooks.FindTable(ctx, f.user.ID, f.wb.ID, f.tbl.ID); len(tbl.Columns) != len(f.tbl.Columns) {
		t.Error("the scratch column was not removed")
	}

	// Tabs: a second table, moved first, then hidden and shown again.
	second, err := f.inst.App.Workbooks.CreateTable(ctx, f.user.ID, f.wb.ID, workbooks.TableInput{Name: "Authors",
		Columns: []workbooks.ColumnInput{{Name: "Name", Type: values.Text}}})
	if err != nil {
		t.Fatal(err)
	}
	secondURL := "/workbooks/" + f.wb.ID + "/tables/" + second.ID
	tabs := f.b.Get(secondURL).TestID("table-tab")
	if tabs.Length() != 2 {
		t.Fatalf("tabs: %d", tabs.Length())
	}
	if r := f.b.PostForm(secondURL+"/move", url.Values{"position": {"0"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("move: %d", r.Status)
	}
	if r := f.b.Get("/workbooks/" + f.wb.ID); r.Header.Get("Location") != secondURL {
		t.Errorf("the workbook opens at its first table: %q", r.Header.Get("Location"))
	}
	if r := f.b.PostForm(secondURL+"/hidden", url.Values{"hidden": {"true"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("hide: %d", r.Status)
	}
	page = f.b.Get(f.gridURL())
	if page.TestID("table-tab").Length() != 1 || page.TestID("hidden-table").Length() != 1 {
		t.Errorf("hidden tables sit in their menu: tabs %d hidden %d", page.TestID("table-tab").Length(), page.TestID("hidden-table").Length())
	}
	if r := f.b.PostForm(f.gridURL()+"/rename", url.Values{"name": {"Articles"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("rename table: %d", r.Status)
	}
	if got := f.b.Get(f.gridURL()).Doc.Find(`[data-testid="table-tab"].active`).Text(); got != "Articles" {
		t.Errorf("renamed tab %q", got)
	}
}

func TestGridLiveMessages(t *testing.T) {
	t.Parallel()
	f := mustGridFixture(t)
	ctx := context.Background()
	render := handlers.EventRenderer(handlers.EventRendererDeps{Workbooks: f.inst.App.Workbooks})
	topic := events.WorkbookTopic(f.wb.ID)
	names := func(msgs []events.Message) []string {
		var out []string
		for _, m := range msgs {
			out = append(out, m.Name)
		}
		return out
	}
	const gone = "00000000-0000-4000-8000-000000000000"
	data := fmt.Sprintf(`{"kind":"record.updated","table_id":%q,"record_ids":[%q,%q]}`, f.tbl.ID, f.recs[1].ID, gone)
	msgs := render(ctx, events.Event{Topic: topic, Type: "record.updated", Data: []byte(data)})
	want := []string{"rec-" + f.recs[1].ID, "rec-" + gone, "counters-" + f.tbl.ID}
	if strings.Join(names(msgs), " ") != strings.Join(want, " ") {
		t.Fatalf("messages %v, want %v", names(msgs), want)
	}
	row, err := goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + string(msgs[0].Data) + "</tbody></table>"))
	if err != nil {
		t.Fatal(err)
	}
	if row.Find("script, img").Length() != 0 || !strings.Contains(row.Find(`[data-column="Title"]`).Text(), gridHostileScript) {
		t.Errorf("live row: %s", msgs[0].Data)
	}
	if !strings.Contains(string(msgs[1].Data), "hidden") {
		t.Errorf("a record that is gone gets an empty hidden row: %s", msgs[1].Data)
	}

	bulk := fmt.Sprintf(`{"kind":"records.changed","table_id":%q,"bulk":true}`, f.tbl.ID)
	msgs = render(ctx, events.Event{Topic: topic, Type: "records.changed", Data: []byte(bulk)})
	if got := strings.Join(names(msgs), " "); got != "grid-refresh-"+f.tbl.ID+" counters-"+f.tbl.ID {
		t.Errorf("bulk: %s", got)
	}
	// A change to many records goes out as one message, which a
	// subscriber's queue holds, rather than one per row.
	many := []string{strconv.Quote(f.recs[0].ID)}
	for i := range 40 {
		many = append(many, fmt.Sprintf(`"00000000-0000-4000-8000-%012d"`, i+1))
	}
	data = fmt.Sprintf(`{"kind":"records.changed","table_id":%q,"record_ids":[%s]}`, f.tbl.ID, strings.Join(many, ","))
	msgs = render(ctx, events.Event{Topic: topic, Type: "records.changed", Data: []byte(data)})
	if got := strings.Join(names(msgs), " "); got != "rows-"+f.tbl.ID+" counters-"+f.tbl.ID {
		t.Errorf("many records: %s", got)
	} else if rows := string(msgs[0].Data); strings.Count(rows, "<tr") != 41 || !strings.Contains(rows, `data-record-id="`+f.recs[0].ID+`"`) {
		t.Errorf("many records: the message holds %d rows: %.300s", strings.Count(rows, "<tr"), rows)
	}
	created := fmt.Sprintf(`{"kind":"record.created","table_id":%q,"record_ids":[%q]}`, f.tbl.ID, f.recs[0].ID)
	msgs = render(ctx, events.Event{Topic: topic, Type: "record.created", Data: []byte(created)})
	if got := strings.Join(names(msgs), " "); !strings.Contains(got, "rec-new-"+f.tbl.ID) {
		t.Errorf("created: %s", got)
	}
	cols := fmt.Sprintf(`{"kind":"table.updated","table_id":%q}`, f.tbl.ID)
	if got := names(render(ctx, events.Event{Topic: topic, Type: "table.updated", Data: []byte(cols)})); len(got) != 1 || got[0] != "table-changed-"+f.tbl.ID {
		t.Errorf("table changed: %v", got)
	}
}

// TestGridAddRecordAsksForRequiredValues: a table whose source requires a
// column (NOT NULL without a default) cannot hold an empty record, so Add
// record asks for that value first, and only for it: a read-only column is
// the source's to fill, and the others are filled in the grid.
func TestGridAddRecordAsksForRequiredValues(t *testing.T) {
	t.Parallel()
	f := mustGridFixture(t)
	ctx := context.Background()

	// The fixture's table requires nothing: the button adds at once.
	page := f.b.Get(f.gridURL())
	if page.TestID("add-record-menu").Length() != 0 || page.TestID("add-record").Find("button").Length() != 1 {
		t.Fatalf("a table without required columns has a plain Add record button: %s", page.TestID("add-record").Text())
	}

	tbl, err := f.inst.App.Workbooks.CreateTable(ctx, f.user.ID, f.wb.ID, workbooks.TableInput{Name: "Products", Columns: []workbooks.ColumnInput{
		{Name: "id", Type: values.Number, ReadOnly: true, Required: true},
		{Name: "title", Type: values.Text, Required: true},
		{Name: "price", Type: values.Number},
	}})
	if err != nil {
		t.Fatal(err)
	}
	title, _ := tbl.Columns.Lookup("title")
	price, _ := tbl.Columns.Lookup("price")
	gridURL := "/workbooks/" + f.wb.ID + "/tables/" + tbl.ID
	page = f.b.Get(gridURL)
	fields := page.Doc.Find(`[data-testid="add-record-menu"] [data-testid="new-record-field"]`)
	if fields.Length() != 1 || fields.AttrOr("data-column", "") != "title" || fields.AttrOr("name", "") != views.NewRecordField+title.ID {
		t.Fatalf("the add record form asks for %d values (%s), want title only", fields.Length(), fields.AttrOr("data-column", ""))
	}
	if _, ok := fields.Attr("required"); !ok {
		t.Error("the title input is not marked required")
	}

	// Without the value, the refusal says which value is missing.
	r := gridSend(f.b, http.MethodPost, gridURL+"/records", nil)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "The new record was not added: title is required.") {
		t.Fatalf("add without a title: %d %s", r.Status, r.Body)
	}
	// A wrong value elsewhere is not read: only the asked-for fields are.
	r = gridSend(f.b, http.MethodPost, gridURL+"/records", url.Values{
		views.NewRecordField + title.ID: {"Lamp"},
		views.NewRecordField + price.ID: {"cheap"},
	})
	row := rowFragment(t, r).Find("tr")
	id, _ := row.Attr("data-record-id")
	if r.Status != http.StatusOK || id == "" || !row.HasClass("created") {
		t.Fatalf("add with a title: %d %s", r.Status, r.Body)
	}
	if got := strings.TrimSpace(gridCell(row, id, "title").Find(`[data-testid="cell-value"]`).Text()); got != "Lamp" {
		t.Errorf("the new row's title shows %q, want Lamp", got)
	}
	recs, err := f.inst.App.Workbooks.FindRecords(ctx, f.user.ID, f.wb.ID, tbl.ID, workbooks.RecordQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs.Records) != 1 || recs.Records[0].Fields[title.ID] != "Lamp" || recs.Records[0].Fields[price.ID] != nil {
		t.Errorf("the table holds %+v, want one record titled Lamp with no price", recs.Records)
	}
}
