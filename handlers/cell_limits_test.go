package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// TestCellCapOnPageWritePaths checks that a value larger than a cell can
// hold is refused with a clear message by each way the pages write cells
// (the grid's inline edit, the record panel, fill, find & replace), and that
// the record is left as it was.
func TestCellCapOnPageWritePaths(t *testing.T) {
	t.Parallel()
	f := mustReviewFixture(t)
	const title = "Mug, mug, mug, mug, mug"
	rec := f.mustRecord(t, map[string]any{"Title": title})
	titleID := f.col(t, "Title")
	over := strings.Repeat("x", workbooks.MaxCellBytes+1)
	paths := []struct {
		name   string
		method string
		path   string
		form   url.Values
		status int
		testID string
		want   string
	}{
		{"inline edit", http.MethodPut, "/records/" + rec.ID + "/cells/" + titleID,
			url.Values{"version": {"1"}, "value": {over}}, http.StatusUnprocessableEntity, "cell-error", "larger than 256 KiB"},
		{"record panel", http.MethodPut, "/records/" + rec.ID,
			url.Values{"version": {"1"}, "f." + titleID: {over}}, http.StatusUnprocessableEntity, "panel-field-error", "larger than 256 KiB"},
		{"fill", http.MethodPost, "/fill",
			url.Values{"field": {titleID}, "value": {over}, "fill_scope": {"selection"}, "record_id": {rec.ID}}, http.StatusUnprocessableEntity, "bulk-problem", "larger than 256 KiB"},
		{"find & replace making a value too large", http.MethodPost, "/find-replace",
			url.Values{"field": {titleID}, "find": {"mug"}, "replace": {strings.Repeat("x", 60000)}, "mode": {"apply"}}, http.StatusUnprocessableEntity, "bulk-problem", "Replace: would make a value larger than 256 KiB"},
		{"find & replace with a 900,000-character replacement", http.MethodPost, "/find-replace",
			url.Values{"field": {titleID}, "find": {"mug"}, "replace": {strings.Repeat("x", 900000)}, "mode": {"preview"}}, http.StatusUnprocessableEntity, "bulk-problem", "Replace: must be at most 64 KiB"},
		{"find & replace of $1 × 100,000", http.MethodPost, "/find-replace",
			url.Values{"field": {titleID}, "find": {"(.+)"}, "regex": {"true"}, "replace": {strings.Repeat("$1", 100000)}, "mode": {"preview"}}, http.StatusUnprocessableEntity, "bulk-problem", "Replace: must be at most 64 KiB"},
	}
	for _, p := range paths {
		start := time.Now()
		r := f.b.Send(p.method, f.url(p.path), p.form, true)
		if r.Status != p.status || !strings.Contains(r.TestID(p.testID).Text(), p.want) {
			t.Errorf("%s: status %d, %s %q; want %d and %q", p.name, r.Status, p.testID, truncate(r.TestID(p.testID).Text()), p.status, p.want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %v", p.name, d)
		}
	}
	if got := f.mustFind(t, rec.ID); got.Version != 1 || got.Fields[titleID] != title || len(got.Suggestions) != 0 {
		t.Errorf("record changed by refused writes: version %d, %d suggestions", got.Version, len(got.Suggestions))
	}
}

// TestCellCapOnAPIWritePaths checks the same for the JSON API: record
// create, update and batch, and proposed suggestions answer 422 with the
// field at fault.
func TestCellCapOnAPIWritePaths(t *testing.T) {
	t.Parallel()
	f := MustWorkbookFixture(t, "cell-cap@example.com")
	rec := f.MustCreateRecord(`{"Title": "Lamp"}`)
	over := `"` + strings.Repeat("x", workbooks.MaxCellBytes+1) + `"`
	paths := []struct {
		name, method, path, body, field string
	}{
		{"create", http.MethodPost, "/records", `{"fields": {"Title": ` + over + `}}`, "Title"},
		{"update", http.MethodPatch, "/records/" + rec.ID, `{"fields": {"Title": ` + over + `}, "version": 1}`, "Title"},
		{"batch create", http.MethodPost, "/records/batch", `{"creates": [{"fields": {"Title": ` + over + `}}]}`, "creates[0].Title"},
		{"batch update", http.MethodPost, "/records/batch", `{"updates": [{"record_id": "` + rec.ID + `", "fields": {"Title": ` + over + `}, "version": 1}]}`, "updates[0].Title"},
		{"propose", http.MethodPost, "/suggestions", `{"updates": [{"record_id": "` + rec.ID + `", "fields": {"Title": ` + over + `}}]}`, "Title"},
	}
	for _, p := range paths {
		pb := MustProblem(t, f.s.call(p.method, f.tablePath()+p.path, p.body), http.StatusUnprocessableEntity, "invalid_input")
		if len(pb.Errors) != 1 || pb.Errors[0].Field != p.field || !strings.Contains(pb.Errors[0].Message, "larger than 256 KiB") {
			t.Errorf("%s: errors %+v, want %s: larger than 256 KiB", p.name, pb.Errors, p.field)
		}
	}
	if got := f.MustRecord(rec.ID); got.Version != 1 || got.Fields["Title"] != "Lamp" {
		t.Errorf("record changed by refused writes: %+v", got.Version)
	}
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
