package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestGridLayoutHandler sends layout changes as htmx and as the Columns
// menu's form does: they are kept and shown (widths in the layout
// stylesheet, order, row height); bad values are refused; another
// person's table is not found.
func TestGridLayoutHandler(t *testing.T) {
	t.Parallel()
	f := mustGridFixture(t)
	layout := f.gridURL() + "/layout"

	if r := f.b.Send(http.MethodPost, layout, url.Values{"width_" + f.col["Title"]: {"333"}, "row_height": {"medium"}}, true); r.Status != http.StatusNoContent {
		t.Fatalf("htmx layout change: status %d: %s", r.Status, r.Body)
	}
	if r := f.b.PostForm(layout, url.Values{"move_down": {f.col["Title"]}, "next": {f.gridURL() + "?sort=Price"}}); r.Status != http.StatusSeeOther || r.Header.Get("Location") != f.gridURL()+"?sort=Price" {
		t.Fatalf("form layout change: status %d, to %q", r.Status, r.Header.Get("Location"))
	}
	page := f.b.Get(f.gridURL())
	if page.Status != http.StatusOK {
		t.Fatalf("grid: %d", page.Status)
	}
	if got := page.Doc.Find(`table.grid`).AttrOr("class", ""); !strings.Contains(got, "rows-medium") {
		t.Errorf("grid classes %q, want rows-medium", got)
	}
	var headers []string
	page.Doc.Find(`thead th[data-column]`).Each(func(_ int, s *goquery.Selection) { headers = append(headers, s.AttrOr("data-column", "")) })
	if len(headers) < 2 || headers[0] != "Body" || headers[1] != "Title" {
		t.Errorf("headers %v, want Body then Title", headers)
	}
	href, ok := page.TestID("layout-css").Attr("href")
	if !ok {
		t.Fatal("no layout stylesheet linked")
	}
	css := f.b.Get(href)
	if css.Status != http.StatusOK || !strings.Contains(css.Body, `[data-column-id="`+f.col["Title"]+`"]{width:333px`) || !strings.Contains(css.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("layout stylesheet: %d %q %q", css.Status, css.Body, css.Header.Get("Cache-Control"))
	}

	for name, form := range map[string]url.Values{
		"too wide":       {"width_" + f.col["Title"]: {"5000"}},
		"not a number":   {"width_" + f.col["Title"]: {"wide"}},
		"no such column": {"width_nope": {"100"}},
		"row height":     {"row_height": {"huge"}},
	} {
		if r := f.b.Send(http.MethodPost, layout, form, true); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", name, r.Status)
		}
	}

	other := f.inst.NewBrowser(t)
	other.MustSignUp("other-layout@example.com", gridPassword)
	if r := other.Send(http.MethodPost, layout, url.Values{"row_height": {"tall"}}, true); r.Status != http.StatusNotFound {
		t.Errorf("someone else's table: status %d, want 404", r.Status)
	}
	if r := other.Get(f.gridURL() + "/layout.css"); r.Status != http.StatusNotFound {
		t.Errorf("someone else's layout stylesheet: status %d, want 404", r.Status)
	}
}

// TestGridSearchWithBadFilter: with a search, a filter's error still
// points at the filter as it was written.
func TestGridSearchWithBadFilter(t *testing.T) {
	t.Parallel()
	f := mustGridFixture(t)
	r := f.b.Get(f.gridURL() + "?q=x&filter=" + url.QueryEscape("Nope = 1"))
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", r.Status)
	}
	if pos := r.TestID("filter-error").AttrOr("data-pos", ""); pos != "0" {
		t.Errorf("caret at %q, want 0: %s", pos, r.TestID("filter-error").Text())
	}
	if !strings.Contains(r.TestID("filter-error").Text(), "Nope = 1") || strings.Contains(r.TestID("filter-error").Text(), "contains(") {
		t.Errorf("the error shows %q, want the filter as written", r.TestID("filter-error").Text())
	}
}
