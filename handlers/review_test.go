package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/chromedp"

	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/browsertest"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// reviewFixture is an instance with a signed-in owner, a workbook and a
// table with one column of every type.
type reviewFixture struct {
	inst  *apptest.Instance
	b     *apptest.Browser
	owner string
	table workbooks.Table
	svc   *workbooks.Service
}

const (
	hostileScript = `<script>alert(1)</script>`
	hostileImg    = `"><img src=x onerror=alert(2)>`
)

func mustReviewFixture(t *testing.T) *reviewFixture {
	t.Helper()
	inst := apptest.MustStart(t, apptest.Options{})
	b := inst.NewBrowser(t)
	b.MustSignUp("owner@example.com", adminPassword)
	owner := mustFindUser(t, inst, "owner@example.com")
	ctx := context.Background()
	svc := inst.App.Workbooks
	wb, err := svc.CreateWorkbook(ctx, owner.ID, "Site")
	if err != nil {
		t.Fatal(err)
	}
	table, err := svc.CreateTable(ctx, owner.ID, wb.ID, workbooks.TableInput{Name: "Posts", Columns: []workbooks.ColumnInput{
		{Name: "Title", Type: values.Text},
		{Name: "Body", Type: values.Text, Format: values.FormatMarkdown},
		{Name: "Price", Type: values.Number},
		{Name: "Live", Type: values.Boolean},
		{Name: "Status", Type: values.Select, Options: []string{"Draft", "Published"}},
		{Name: "Tags", Type: values.MultiSelect, Options: []string{"a", "b", "c"}},
		{Name: "Day", Type: values.Date},
		{Name: "At", Type: values.Datetime},
		{Name: "Meta", Type: values.JSON},
		{Name: "SKU", Type: values.Text, ReadOnly: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	b.Get("/") // a page with the CSRF token
	return &reviewFixture{inst: inst, b: b, owner: owner.ID, table: table, svc: svc}
}

func (f *reviewFixture) col(t testing.TB, name string) string {
	t.Helper()
	c, ok := f.table.Columns.Lookup(name)
	if !ok {
		t.Fatalf("no column %q", name)
	}
	return c.ID
}

func (f *reviewFixture) url(path string) string {
	return "/workbooks/" + f.table.WorkbookID + "/tables/" + f.table.ID + path
}

func (f *reviewFixture) mustRecord(t testing.TB, fields map[string]any) workbooks.Record {
	t.Helper()
	r, err := f.svc.CreateRecord(context.Background(), f.owner, f.table.WorkbookID, f.table.ID, fields)
	if err != nil {
		t.Fatalf("create record: %v", err)
	}
	return r
}

func (f *reviewFixture) mustFind(t testing.TB, id string) workbooks.Record {
	t.Helper()
	r, err := f.svc.FindRecord(context.Background(), f.owner, f.table.WorkbookID, f.table.ID, id)
	if err != nil {
		t.Fatalf("find record: %v", err)
	}
	return r
}

func (f *reviewFixture) mustPropose(t testing.TB, p workbooks.Proposal) {
	t.Helper()
	p.Source = workbooks.SourceAgent
	if _, err := f.svc.ProposeSuggestions(context.Background(), f.owner, f.table.WorkbookID, f.table.ID, p); err != nil {
		t.Fatalf("propose: %v", err)
	}
}

func (f *reviewFixture) pending(t testing.TB) int64 {
	t.Helper()
	c, err := f.svc.Counters(context.Background(), f.owner, f.table.WorkbookID, f.table.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c.PendingSuggestions
}

// htmxGet fetches path the way htmx does.
func htmxGet(t testing.TB, b *apptest.Browser, base, path string) *apptest.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("HX-Request", "true")
	return b.Do(req)
}

func TestReviewPanelRendersEveryFieldEscaped(t *testing.T) {
	t.Parallel()
	f := mustReviewFixture(t)
	body := "# Heading\n\nSome **bold** text. " + hostileScript + "\n\n<div onclick=\"x()\">raw</div>\n\n" +
		"[click](javascript:alert(3)) [ok](https://example.com) [sneaky](JaVaScRiPt:alert(4)) <javascript:alert(5)>\n\n" + hostileImg
	rec := f.mustRecord(t, map[string]any{
		"Title": hostileScript + hostileImg, "Body": body, "Price": "12.5", "Live": true, "Status": "Draft",
		"Tags": []string{"b", "a"}, "Day": "2024-05-01", "At": "2024-05-01T13:45:00Z", "Meta": map[string]any{"k": hostileScript},
	})
	f.mustPropose(t, workbooks.Proposal{Updates: []workbooks.RecordUpdate{{RecordID: rec.ID, Fields: map[string]any{"Title": "Safe " + hostileImg}}}})

	r := htmxGet(t, f.b, f.inst.URL, f.url("/records/"+rec.ID))
	if r.Status != http.StatusOK {
		t.Fatalf("status %d", r.Status)
	}
	aside := r.Doc.Find(`aside#record-panel`)
	if aside.Length() != 1 || aside.Is("[hidden]") {
		t.Fatalf("want one visible aside#record-panel: %s", r.Body)
	}
	// Every field, labelled with its column name, with a type-aware editor.
	fields := r.TestID("panel-field")
	if fields.Length() != len(f.table.Columns) {
		t.Fatalf("fields = %d, want %d", fields.Length(), len(f.table.Columns))
	}
	wantInput := map[string]string{"Title": "text", "Body": "markdown", "Price": "number", "Live": "boolean", "Status": "select",
		"Tags": "multiselect", "Day": "date", "At": "datetime", "Meta": "json", "SKU": "text"}
	for i, col := range f.table.Columns {
		fs := fields.Eq(i)
		if label := strings.TrimSpace(fs.Find("label").Text()); !strings.HasPrefix(label, col.Name) {
			t.Errorf("field %d label = %q, want %q", i, label, col.Name)
		}
		if in, _ := fs.Attr("data-input"); in != wantInput[col.Name] {
			t.Errorf("%s editor = %q, want %q", col.Name, in, wantInput[col.Name])
		}
	}
	if v, _ := r.Doc.Find(`input[name="f.` + f.col(t, "Title") + `"]`).Attr("value"); v != hostileScript+hostileImg {
		t.Errorf("title input = %q", v)
	}
	if v, _ := r.Doc.Find(`input[name="f.` + f.col(t, "At") + `"]`).Attr("value"); v != "2024-05-01T13:45:00" {
		t.Errorf("datetime input = %q", v)
	}
	if n := r.Doc.Find(`select[name="f.` + f.col(t, "Tags") + `"] option[selected]`).Length(); n != 2 {
		t.Errorf("multi select has %d selected options, want 2", n)
	}
	if !r.Doc.Find(`input[name="f.` + f.col(t, "SKU") + `"]`).Is("[disabled]") {
		t.Error("read-only column is editable")
	}
	// Hostile values are text only: no script, no element with a handler.
	if n := r.Doc.Find("script").Length(); n != 0 {
		t.Errorf("%d script elements in the panel", n)
	}
	if n := r.Doc.Find("img, [onerror], [onclick]").Length(); n != 0 {
		t.Errorf("%d injected elements in the panel", n)
	}
	if !strings.Contains(r.TestID("panel-heading").Text(), hostileScript) {
		t.Errorf("heading = %q", r.TestID("panel-heading").Text())
	}
	// Markdown is rendered, without raw HTML or script links.
	md := r.TestID("panel-markdown")
	if md.Find("h1").Text() != "Heading" || md.Find("strong").Text() != "bold" {
		t.Errorf("markdown not rendered: %s", reviewHTML(md))
	}
	if md.Find("div").Length() != 0 || strings.Contains(reviewHTML(md), "<script") {
		t.Errorf("raw HTML came through: %s", reviewHTML(md))
	}
	md.Find("a").Each(func(_ int, a *goquery.Selection) {
		href, _ := a.Attr("href")
		if strings.Contains(strings.ToLower(href), "javascript") {
			t.Errorf("dangerous link kept: %q", href)
		}
	})
	if md.Find(`a[href="https://example.com"]`).Length() != 1 {
		t.Errorf("safe link missing: %s", reviewHTML(md))
	}
	// The pending suggestion, side by side with a word diff.
	sug := r.TestID("panel-suggestion")
	if sug.Length() != 1 {
		t.Fatalf("suggestions = %d", sug.Length())
	}
	if got := byTestID(sug, "suggestion-before").Text(); got != hostileScript+hostileImg {
		t.Errorf("before = %q", got)
	}
	if ins := sug.Find("ins.diff-ins").Text(); !strings.Contains(ins, "Safe") {
		t.Errorf("diff insertions = %q", ins)
	}
	if sug.Find("del.diff-del").Length() == 0 {
		t.Error("diff shows no deletion")
	}
	if byTestID(sug, "panel-accept-cell").Length() != 1 || byTestID(sug, "panel-reject-cell").Length() != 1 {
		t.Error("cell accept/reject buttons missing")
	}

	// Opened as a plain link, the panel is a page of its own.
	page := f.b.Get(f.url("/records/" + rec.ID))
	if page.Status != http.StatusOK || page.TestID("record-panel").Length() != 1 || page.Doc.Find("header.app-header").Length() != 1 {
		t.Errorf("full page: status %d", page.Status)
	}
}

func TestReviewPanelShowsSuggestedCreatesAndDeletesAndNeighbours(t *testing.T) {
	t.Parallel()
	f := mustReviewFixture(t)
	a := f.mustRecord(t, map[string]any{"Title": "A", "Price": 3})
	b := f.mustRecord(t, map[string]any{"Title": "B", "Price": 1})
	c := f.mustRecord(t, map[string]any{"Title": "C", "Price": 2})
	f.mustPropose(t, workbooks.Proposal{Deletes: []string{b.ID}, Creates: []workbooks.RecordFields{{Fields: map[string]any{"Title": "Draft"}}}})

	r := htmxGet(t, f.b, f.inst.URL, f.url("/records/"+b.ID))
	if r.TestID("panel-suggested-delete").Length() != 1 {
		t.Error("suggested delete not shown")
	}
	page, err := f.svc.FindRecords(context.Background(), f.owner, f.table.WorkbookID, f.table.ID, workbooks.RecordQuery{Filter: "Title = 'Draft'"})
	if err != nil || len(page.Records) != 1 {
		t.Fatal(err)
	}
	draft := page.Records[0]
	if r := htmxGet(t, f.b, f.inst.URL, f.url("/records/"+draft.ID)); r.TestID("panel-suggested-create").Length() != 1 {
		t.Error("suggested create not shown")
	}

	// Sorted by price, descending, filtered to A–C: A(3), C(2), B(1).
	q := "?" + url.Values{"sort": {"-Price"}, "filter": {"Price IS NOT NULL"}}.Encode()
	r = htmxGet(t, f.b, f.inst.URL, f.url("/records/"+c.ID+q))
	prev, _ := r.TestID("panel-prev").Attr("hx-get")
	next, _ := r.TestID("panel-next").Attr("hx-get")
	if prev != f.url("/records/"+a.ID+q) || next != f.url("/records/"+b.ID+q) {
		t.Errorf("prev %q next %q", prev, next)
	}
	r = htmxGet(t, f.b, f.inst.URL, f.url("/records/"+a.ID+q))
	if r.TestID("panel-prev").Length() != 0 || r.TestID("panel-next").Length() != 1 {
		t.Error("the first record has a previous link or no next link")
	}

	// Rejecting the suggested create from its panel removes the draft and
	// closes the panel.
	r = f.b.Send(http.MethodPost, f.url("/suggestions/reject"), url.Values{"record_id": {draft.ID}, "view": {"panel"}, "panel_record": {draft.ID}}, true)
	if r.Status != http.StatusOK || r.TestID("record-panel-closed").Length() != 1 {
		t.Errorf("reject create: status %d: %s", r.Status, r.Body)
	}
}

func TestReviewPanelSave(t *testing.T) {
	t.Parallel()
	f := mustReviewFixture(t)
	rec := f.mustRecord(t, map[string]any{"Title": "Mug", "Price": 10, "Tags": []string{"b", "a"}})
	title, price, tags := "f."+f.col(t, "Title"), "f."+f.col(t, "Price"), "f."+f.col(t, "Tags")
	path := f.url("/records/" + rec.ID)

	// The form posts every field; only the changed one is saved (the
	// multi select comes back in option order and is not an edit).
	form := url.Values{"version": {"1"}, title: {"Big mug"}, price: {"10"}, tags: {"", "a", "b"}}
	r := f.b.Send(http.MethodPut, path, form, true)
	if r.Status != http.StatusOK || r.TestID("panel-notice").Length() != 1 {
		t.Fatalf("save: status %d: %v %s", r.Status, r.Header, r.Body)
	}
	if v, _ := r.TestID("panel-version").Attr("value"); v != "2" {
		t.Errorf("version after save = %q", v)
	}
	if !strings.Contains(r.Header.Get("HX-Trigger"), "counters-changed") {
		t.Errorf("HX-Trigger = %q", r.Header.Get("HX-Trigger"))
	}
	var audits int
	if err := f.inst.Pool.QueryRow(context.Background(), `SELECT count(*) FROM record_changes WHERE record_id = $1 AND action = 'edit'`, rec.ID).Scan(&audits); err != nil || audits != 1 {
		t.Errorf("edit audit entries = %d, %v", audits, err)
	}
	got := f.mustFind(t, rec.ID)
	if got.Fields[f.col(t, "Title")] != "Big mug" || got.Version != 2 {
		t.Fatalf("saved = %+v", got)
	}

	// A stale version is refused with the conflict shown, never overwriting.
	form = url.Values{"version": {"1"}, title: {"Stale mug"}}
	r = f.b.Send(http.MethodPut, path, form, true)
	if r.Status != http.StatusConflict {
		t.Fatalf("stale save: status %d", r.Status)
	}
	if r.TestID("panel-conflict").Length() != 1 || r.TestID("conflict-value").Text() != "Stale mug" {
		t.Errorf("conflict not shown: %s", r.Body)
	}
	if v, _ := r.Doc.Find(`input[name="` + title + `"]`).Attr("value"); v != "Big mug" {
		t.Errorf("conflict panel shows %q, want the current value", v)
	}
	if got := f.mustFind(t, rec.ID); got.Fields[f.col(t, "Title")] != "Big mug" || got.Version != 2 {
		t.Errorf("stale save changed the record: %+v", got)
	}

	// A value the column cannot hold is shown on its field; nothing is saved.
	form = url.Values{"version": {"2"}, title: {"Other"}, price: {"twelve"}}
	r = f.b.Send(http.MethodPut, path, form, true)
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("invalid save: status %d", r.Status)
	}
	errField := r.Doc.Find(`[data-testid="panel-field"][data-field="` + f.col(t, "Price") + `"] [data-testid="panel-field-error"]`)
	if !strings.Contains(errField.Text(), "must be a number") {
		t.Errorf("price error = %q", errField.Text())
	}
	if v, _ := r.Doc.Find(`input[name="` + title + `"]`).Attr("value"); v != "Other" {
		t.Errorf("typed title lost: %q", v)
	}
	if got := f.mustFind(t, rec.ID); got.Version != 2 {
		t.Errorf("invalid save changed the record: %+v", got)
	}
}

func TestReviewAcceptAndReject(t *testing.T) {
	t.Parallel()
	f := mustReviewFixture(t)
	title, price := f.col(t, "Title"), f.col(t, "Price")
	recs := make([]workbooks.Record, 4)
	var updates []workbooks.RecordUpdate
	for i := range recs {
		recs[i] = f.mustRecord(t, map[string]any{"Title": "T" + strconv.Itoa(i), "Price": i})
		updates = append(updates, workbooks.RecordUpdate{RecordID: recs[i].ID, Fields: map[string]any{"Title": "New " + strconv.Itoa(i), "Price": 100 + i}})
	}
	f.mustPropose(t, workbooks.Proposal{Updates: updates})
	if f.pending(t) != 8 {
		t.Fatalf("pending = %d", f.pending(t))
	}
	post := func(path string, form url.Values) *apptest.Response {
		t.Helper()
		r := f.b.Send(http.MethodPost, f.url(path), form, true)
		if r.Status != http.StatusOK {
			t.Fatalf("%s %v: status %d: %s", path, form, r.Status, r.Body)
		}
		return r
	}
	wantCount := func(r *apptest.Response, msg string) {
		t.Helper()
		if got := strings.TrimSpace(r.TestID("bulk-result-message").Text()); got != msg {
			t.Errorf("result = %q, want %q", got, msg)
		}
		if trig := r.Header.Get("HX-Trigger"); !strings.Contains(trig, `"grid-refresh": true`) || !strings.Contains(trig, `"counters-changed": true`) {
			t.Errorf("HX-Trigger = %q", trig)
		}
	}

	// One cell, from the panel: the panel comes back with the value applied.
	r := post("/suggestions/accept", url.Values{"cells": {recs[0].ID + ":" + title}, "view": {"panel"}, "panel_record": {recs[0].ID}})
	if r.TestID("record-panel").Length() != 1 || r.TestID("panel-notice").Text() != "Accepted 1 suggestion." {
		t.Errorf("panel after accepting a cell: %s", r.Body)
	}
	if got := f.mustFind(t, recs[0].ID); got.Fields[title] != "New 0" || got.Suggestions[price] == nil {
		t.Errorf("after cell accept: %+v", got)
	}
	// One record (both its suggestions).
	wantCount(post("/suggestions/reject", url.Values{"record_id": {recs[1].ID}}), "Rejected 2 suggestions.")
	if got := f.mustFind(t, recs[1].ID); got.Fields[title] != "T1" || len(got.Suggestions) != 0 {
		t.Errorf("after record reject: %+v", got)
	}
	// A column, from the toolbar: the selected rows are ignored for it.
	wantCount(post("/suggestions/accept", url.Values{"scope": {"column"}, "field": {price}, "record_id": {recs[3].ID}}), "Accepted 3 suggestions.")
	for _, i := range []int{0, 2, 3} {
		if got := f.mustFind(t, recs[i].ID).Fields[price]; got != reviewNumber(100+i) {
			t.Errorf("record %d price = %v", i, got)
		}
	}
	// The selection.
	wantCount(post("/suggestions/accept", url.Values{"scope": {"selection"}, "field": {price}, "record_id": {recs[2].ID}}), "Accepted 1 suggestion.")
	if got := f.mustFind(t, recs[2].ID).Fields[title]; got != "New 2" {
		t.Errorf("selection accept: title %v", got)
	}
	// The whole table.
	wantCount(post("/suggestions/accept", url.Values{"scope": {"table"}}), "Accepted 1 suggestion.")
	if got := f.mustFind(t, recs[3].ID).Fields[title]; got != "New 3" || f.pending(t) != 0 {
		t.Errorf("table accept: title %v, pending %d", got, f.pending(t))
	}
	// Nothing left.
	r = post("/suggestions/accept", url.Values{"all": {"true"}})
	if kind, _ := r.TestID("bulk-result-message").Attr("data-kind"); kind != "info" {
		t.Errorf("empty accept kind = %q", kind)
	}
	// A selection with nothing selected is refused, in the result area.
	r = f.b.Send(http.MethodPost, f.url("/suggestions/reject"), url.Values{"scope": {"selection"}}, true)
	if r.Status != http.StatusUnprocessableEntity || r.TestID("bulk-problem").Length() != 1 {
		t.Errorf("empty selection: status %d: %s", r.Status, r.Body)
	}
}

func TestReviewFindReplace(t *testing.T) {
	t.Parallel()
	f := mustReviewFixture(t)
	title := f.col(t, "Title")
	titles := []string{"Red mug", "red MUG", "Blue mug", "Plate"}
	recs := make([]workbooks.Record, len(titles))
	for i, s := range titles {
		recs[i] = f.mustRecord(t, map[string]any{"Title": s, "Price": i})
	}
	run := func(form url.Values) *apptest.Response {
		t.Helper()
		form.Set("field", title)
		return f.b.Send(http.MethodPost, f.url("/find-replace"), form, true)
	}
	count := func(r *apptest.Response) int {
		t.Helper()
		if r.Status != http.StatusOK {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		n, _ := r.TestID("bulk-result-message").Attr("data-count")
		v, _ := strconv.Atoi(n)
		return v
	}
	cases := []struct {
		name string
		form url.Values
		want int
	}{
		{"literal", url.Values{"find": {"mug"}, "replace": {"cup"}}, 3},
		{"case-sensitive", url.Values{"find": {"mug"}, "replace": {"cup"}, "case_sensitive": {"true"}}, 2},
		{"regex", url.Values{"find": {`^(red|blue) `}, "replace": {"Green "}, "regex": {"true"}}, 3},
		{"scoped by the filter", url.Values{"find": {"mug"}, "replace": {"cup"}, "filter": {"Price >= 1"}}, 2},
	}
	for _, tc := range cases {
		tc.form.Set("mode", "preview")
		if got := count(run(tc.form)); got != tc.want {
			t.Errorf("%s: preview %d, want %d", tc.name, got, tc.want)
		}
	}
	if f.pending(t) != 0 {
		t.Fatal("previews proposed suggestions")
	}
	r := run(url.Values{"find": {"mug"}, "replace": {"cup"}, "filter": {"Price >= 1"}, "mode": {"apply"}})
	if got := count(r); got != 2 || f.pending(t) != 2 {
		t.Errorf("apply = %d, pending %d; want 2", got, f.pending(t))
	}
	if !strings.Contains(r.Header.Get("HX-Trigger"), "grid-refresh") {
		t.Errorf("HX-Trigger = %q", r.Header.Get("HX-Trigger"))
	}
	got := f.mustFind(t, recs[2].ID)
	if got.Fields[title] != "Blue mug" || got.Suggestions[title] != "Blue cup" || got.Version != 1 {
		t.Errorf("find & replace edited instead of suggesting: %+v", got)
	}

	r = run(url.Values{"find": {"(unclosed"}, "regex": {"true"}, "mode": {"preview"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.TestID("bulk-problem").Text(), "regular expression") {
		t.Errorf("bad regex: status %d: %s", r.Status, r.Body)
	}
	r = f.b.Send(http.MethodPost, f.url("/find-replace"), url.Values{"field": {f.col(t, "Price")}, "find": {"1"}}, true)
	if r.Status != http.StatusUnprocessableEntity {
		t.Errorf("number column: status %d", r.Status)
	}
}

func TestReviewFillColumn(t *testing.T) {
	t.Parallel()
	f := mustReviewFixture(t)
	price, status := f.col(t, "Price"), f.col(t, "Status")
	recs := make([]workbooks.Record, 4)
	for i := range recs {
		recs[i] = f.mustRecord(t, map[string]any{"Title": "T" + strconv.Itoa(i), "Price": i})
	}
	fill := func(form url.Values) *apptest.Response {
		t.Helper()
		return f.b.Send(http.MethodPost, f.url("/fill"), form, true)
	}
	r := fill(url.Values{"field": {status}, "value": {"published"}, "fill_scope": {"selection"}, "record_id": {recs[0].ID, recs[3].ID}})
	if r.Status != http.StatusOK || strings.TrimSpace(r.TestID("bulk-result-message").Text()) != "Filled 2 records." {
		t.Fatalf("fill selection: %d %s", r.Status, r.Body)
	}
	if !strings.Contains(r.Header.Get("HX-Trigger"), "grid-refresh") {
		t.Errorf("HX-Trigger = %q", r.Header.Get("HX-Trigger"))
	}
	for i, rec := range recs {
		got := f.mustFind(t, rec.ID)
		if (i == 0 || i == 3) != (got.Fields[status] == "Published") || len(got.Suggestions) != 0 {
			t.Errorf("record %d after fill: %+v", i, got)
		}
	}
	r = fill(url.Values{"field": {price}, "value": {"7"}, "fill_scope": {"filter"}, "filter": {"Price < 2"}})
	if r.Status != http.StatusOK || strings.TrimSpace(r.TestID("bulk-result-message").Text()) != "Filled 2 records." {
		t.Fatalf("fill filtered: %d %s", r.Status, r.Body)
	}
	for i, rec := range recs {
		want := reviewNumber(i)
		if i < 2 {
			want = reviewNumber(7)
		}
		if got := f.mustFind(t, rec.ID).Fields[price]; got != want {
			t.Errorf("record %d price = %v, want %v", i, got, want)
		}
	}
	r = fill(url.Values{"field": {price}, "value": {"seven"}, "fill_scope": {"filter"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.TestID("bulk-problem").Text(), "must be a number") {
		t.Errorf("invalid number: %d %s", r.Status, r.Body)
	}
	// No rows selected never means "all of them".
	r = fill(url.Values{"field": {price}, "value": {"1"}, "fill_scope": {"selection"}})
	if r.Status != http.StatusUnprocessableEntity {
		t.Errorf("empty selection: status %d", r.Status)
	}
}

func TestReviewOtherUsersIDsAreNotFound(t *testing.T) {
	t.Parallel()
	f := mustReviewFixture(t)
	rec := f.mustRecord(t, map[string]any{"Title": "Mine"})
	f.mustPropose(t, workbooks.Proposal{Updates: []workbooks.RecordUpdate{{RecordID: rec.ID, Fields: map[string]any{"Title": "Theirs"}}}})
	other := f.inst.NewBrowser(t)
	other.MustSignUp("other@example.com", adminPassword)
	other.Get("/")
	title := f.col(t, "Title")
	cases := []struct {
		method, path string
		form         url.Values
	}{
		{http.MethodGet, "/records/" + rec.ID, nil},
		{http.MethodPut, "/records/" + rec.ID, url.Values{"version": {"1"}, "f." + title: {"x"}}},
		{http.MethodPost, "/suggestions/accept", url.Values{"all": {"true"}}},
		{http.MethodPost, "/suggestions/reject", url.Values{"record_id": {rec.ID}}},
		{http.MethodPost, "/find-replace", url.Values{"field": {title}, "find": {"M"}, "mode": {"apply"}}},
		{http.MethodPost, "/fill", url.Values{"field": {title}, "value": {"x"}, "fill_scope": {"filter"}}},
	}
	for _, tc := range cases {
		var r *apptest.Response
		if tc.method == http.MethodGet {
			r = other.Get(f.url(tc.path))
		} else {
			r = other.Send(tc.method, f.url(tc.path), tc.form, true)
		}
		if r.Status != http.StatusNotFound {
			t.Errorf("%s %s: status %d, want 404", tc.method, tc.path, r.Status)
		}
	}
	if got := f.mustFind(t, rec.ID); got.Fields[title] != "Mine" || got.Version != 1 || f.pending(t) != 1 {
		t.Errorf("another user's requests changed the record: %+v", got)
	}
}

func reviewHTML(s *goquery.Selection) string {
	h, _ := s.Html()
	return h
}

func reviewNumber(i int) json.Number { return json.Number(strconv.Itoa(i)) }

// TestBrowserReviewToolbarAndPanel drives the toolbar and the panel in a
// real browser under the app's CSP: the grid's row checkboxes belong to the
// toolbar's form, results land in #bulk-result, and the panel's buttons
// swap the panel in place.
func TestBrowserReviewToolbarAndPanel(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	ctx := context.Background()
	tab := browsertest.MustBrowser(t)
	mustSignUpInBrowser(t, tab, inst.URL, "review@example.com", adminPassword)
	u := mustFindUser(t, inst, "review@example.com")
	svc := inst.App.Workbooks
	wb, err := svc.CreateWorkbook(ctx, u.ID, "Review")
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := svc.CreateTable(ctx, u.ID, wb.ID, workbooks.TableInput{Name: "Posts", Columns: []workbooks.ColumnInput{
		{Name: "Title", Type: values.Text}, {Name: "Price", Type: values.Number},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var recs []workbooks.Record
	var updates []workbooks.RecordUpdate
	for i := range 3 {
		rec, err := svc.CreateRecord(ctx, u.ID, wb.ID, tbl.ID, map[string]any{"Title": "Post " + strconv.Itoa(i), "Price": i})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
		updates = append(updates, workbooks.RecordUpdate{RecordID: rec.ID, Fields: map[string]any{"Title": "Better post " + strconv.Itoa(i)}})
	}
	if _, err := svc.ProposeSuggestions(ctx, u.ID, wb.ID, tbl.ID, workbooks.Proposal{Source: workbooks.SourceAgent, Updates: updates}); err != nil {
		t.Fatal(err)
	}
	base := "/workbooks/" + wb.ID + "/tables/" + tbl.ID
	box := func(r workbooks.Record) string {
		return `tr[data-record-id="` + r.ID + `"] [data-testid="select-record"]`
	}
	browsertest.MustDo(t, tab,
		chromedp.Navigate(inst.URL+base),
		chromedp.WaitVisible(chromedp.CSS(box(recs[2]))),
		chromedp.Click(chromedp.CSS(box(recs[0]))),
		chromedp.Click(chromedp.CSS(box(recs[2]))),
		// Ticking a row shows the bulk toolbar, hidden until then.
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-toolbar"]`)),
	)
	if n := browsertest.MustEval[int](t, tab, `document.querySelectorAll('input[name="record_id"][form="bulk-form"]:checked').length`); n != 2 {
		t.Fatalf("%d rows checked, want 2", n)
	}
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`[data-testid="bulk-accept-selection"]`)))
	browsertest.WaitText(t, tab, `[data-testid="bulk-result-message"]`, "Accepted 2 suggestions.")

	browsertest.MustDo(t, tab,
		chromedp.SendKeys(chromedp.CSS(`[data-testid="bulk-find"]`), "post"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="bulk-field"]`), tbl.Columns[0].ID),
		chromedp.Click(chromedp.CSS(`[data-testid="bulk-find-preview"]`)),
	)
	browsertest.WaitText(t, tab, `[data-testid="bulk-result-message"]`, "3 records would change.")

	// The grid opens the panel; here htmx is asked directly, as its trigger does.
	browsertest.MustEval[any](t, tab, `htmx.ajax('GET', '`+base+`/records/`+recs[1].ID+`', {target: '#record-panel', swap: 'outerHTML'}) && null`)
	browsertest.MustDo(t, tab,
		chromedp.WaitVisible(chromedp.CSS(`#record-panel [data-testid="panel-suggestion"]`)),
		chromedp.Click(chromedp.CSS(`#record-panel [data-testid="panel-accept-cell"]`)),
	)
	browsertest.WaitText(t, tab, `#record-panel [data-testid="panel-notice"]`, "Accepted 1 suggestion.")
	if got, err := svc.FindRecord(ctx, u.ID, wb.ID, tbl.ID, recs[1].ID); err != nil || got.Fields[tbl.Columns[0].ID] != "Better post 1" {
		t.Errorf("panel accept: %v %v", got.Fields, err)
	}
}
