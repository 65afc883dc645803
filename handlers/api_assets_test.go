package handlers_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/app"
	"github.com/scratchpad/scratchpad/internal/apptest"
)

// assetBody is a prompt asset as the API answers it.
type assetBody struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	AutoInclude bool    `json:"auto_include"`
	SourceURL   *string `json:"source_url"`
	Size        int     `json:"size"`
	Body        *string `json:"body"`
}

// pageServer serves a style guide page, a PDF and a redirect to the cloud
// metadata address, for imports.
func pageServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/guide":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<html><head><title>House style</title><script>steal()</script></head><body>
<nav>Home · About</nav><h1>Tone</h1><p>Be <em>brief</em>.</p><ul><li>No jargon</li><li>Active voice</li></ul></body></html>`)
		case "/report.pdf":
			w.Header().Set("Content-Type", "application/pdf")
			fmt.Fprint(w, "%PDF-1.4")
		case "/metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestAPIAssets goes through a prompt asset's life over the API: create,
// list without bodies, read, change, import from a page (and refusals of
// pages that cannot be imported), another user's asset is not found, and
// delete.
func TestAPIAssets(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{AppOptions: app.Options{FetchLoopback: true}})
	api := newAPIClient(t, inst)
	_, token := MustUserWithToken(t, inst, "assets-owner@example.com", false, accounts.ScopeRead, accounts.ScopeWrite)
	_, otherToken := MustUserWithToken(t, inst, "assets-other@example.com", false, accounts.ScopeRead, accounts.ScopeWrite)
	me := wbSession{t: t, api: api, token: token}
	them := wbSession{t: t, api: api, token: otherToken}
	pages := pageServer(t)

	var a assetBody
	MustDecode(t, me.call(http.MethodPost, "/api/v1/assets", `{"name": "Voice", "body": "# Voice\n\nShort <b>sentences</b>.", "auto_include": true}`), http.StatusCreated, &a)
	if a.Name != "Voice" || !a.AutoInclude || a.Body == nil || *a.Body != "# Voice\n\nShort <b>sentences</b>." || a.SourceURL != nil || a.Size != len(*a.Body) {
		t.Fatalf("created %+v", a)
	}
	path := "/api/v1/assets/" + a.ID

	var list struct {
		Items []assetBody `json:"items"`
	}
	MustDecode(t, me.call(http.MethodGet, "/api/v1/assets", ""), http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].ID != a.ID || list.Items[0].Body != nil {
		t.Fatalf("list %+v", list.Items)
	}
	MustDecode(t, them.call(http.MethodGet, "/api/v1/assets", ""), http.StatusOK, &list)
	if len(list.Items) != 0 {
		t.Fatalf("the other user lists %+v", list.Items)
	}
	for _, m := range []string{http.MethodGet, http.MethodPatch, http.MethodDelete} {
		body := ""
		if m == http.MethodPatch {
			body = `{"name": "mine now"}`
		}
		MustProblem(t, them.call(m, path, body), http.StatusNotFound, "not_found")
	}

	MustDecode(t, me.call(http.MethodPatch, path, `{"auto_include": false, "body": "changed"}`), http.StatusOK, &a)
	if a.Name != "Voice" || a.AutoInclude || *a.Body != "changed" {
		t.Fatalf("patched %+v", a)
	}
	var imp assetBody
	MustDecode(t, me.call(http.MethodPost, "/api/v1/assets/import", `{"url": "`+pages.URL+`/guide"}`), http.StatusCreated, &imp)
	if imp.Name != "House style" || imp.SourceURL == nil || *imp.SourceURL != pages.URL+"/guide" || *imp.Body != "# Tone\n\nBe brief.\n\n- No jargon\n- Active voice" {
		t.Fatalf("imported %+v body %q", imp, *imp.Body)
	}
	for url, want := range map[string]string{
		pages.URL + "/report.pdf":            "Only HTML, Markdown and plain-text",
		pages.URL + "/metadata":              "private or special network addresses",
		pages.URL + "/missing":               "404",
		"file:///etc/passwd":                 "Only http:// and https://",
		"http://[fd00::1]/internal":          "private or special network addresses",
		"http://10.0.0.1/admin":              "private or special network addresses",
		"http://169.254.169.254/latest/meta": "private or special network addresses",
	} {
		p := MustProblem(t, me.call(http.MethodPost, "/api/v1/assets/import", `{"url": "`+url+`"}`), http.StatusUnprocessableEntity, "invalid_input")
		if !hasFieldError(p, "url") || !strings.Contains(p.Detail, want) {
			t.Errorf("%s: %+v, want %q", url, p, want)
		}
	}

	if r := me.call(http.MethodDelete, path, ""); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	MustProblem(t, me.call(http.MethodGet, path, ""), http.StatusNotFound, "not_found")
}
