package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/app"
	"github.com/scratchpad/scratchpad/internal/apptest"
)

// TestAssetPages drives the prompt asset pages as a browser without
// JavaScript: create (refused input kept), the preview fragment renders
// sanitised Markdown, edit, import, every page and action on another
// user's asset is not found, forms without the CSRF token are refused, and
// delete.
func TestAssetPages(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{AppOptions: app.Options{FetchLoopback: true}})
	pages := pageServer(t)
	b := inst.NewBrowser(t)
	b.MustSignUp("pages-assets@example.com", "correct horse battery")

	r := b.Get("/assets")
	if r.Status != http.StatusOK || r.TestID("no-assets").Length() != 1 {
		t.Fatalf("empty list: %d", r.Status)
	}
	r = b.PostForm("/assets", url.Values{"name": {""}, "body": {"kept text"}})
	if r.Status != http.StatusUnprocessableEntity || r.TestID("error-name").Length() != 1 || r.TestID("asset-body").Text() != "kept text" {
		t.Fatalf("refused create: %d %q", r.Status, r.TestID("asset-body").Text())
	}
	r = b.PostForm("/assets", url.Values{"name": {"Tone"}, "body": {"# Tone\n\n<script>x()</script>\n\nBe **kind**."}, "auto_include": {"on"}})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/assets/") {
		t.Fatalf("create: %d %q", r.Status, r.Header.Get("Location"))
	}
	page := r.Header.Get("Location")
	r = b.Get(page)
	prev := r.TestID("asset-preview")
	if prev.Find("h1").Text() != "Tone" || prev.Find("strong").Text() != "kind" || prev.Find("script").Length() != 0 || strings.Contains(prev.Text(), "x()") {
		t.Fatalf("preview: %s", prev.Text())
	}
	if _, ok := r.TestID("asset-auto-include").Attr("checked"); !ok {
		t.Fatal("auto-include is not checked")
	}

	// The live preview is a fragment.
	r = b.Send(http.MethodPost, "/assets/preview", url.Values{"body": {"## Hi\n\n[x](javascript:alert(1))"}}, true)
	if r.Status != http.StatusOK || strings.Contains(r.Body, "<html") || r.TestID("asset-preview").Find("h2").Text() != "Hi" || strings.Contains(r.Body, "javascript") {
		t.Fatalf("preview fragment: %d %s", r.Status, r.Body)
	}

	r = b.PostForm(page, url.Values{"name": {"Tone v2"}, "body": {"Short."}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("update: %d", r.Status)
	}
	r = b.Get(page)
	if r.TestID("asset-title").Text() != "Tone v2" || r.TestID("asset-body").Text() != "Short." {
		t.Fatalf("after update: %q %q", r.TestID("asset-title").Text(), r.TestID("asset-body").Text())
	}
	if _, ok := r.TestID("asset-auto-include").Attr("checked"); ok {
		t.Fatal("auto-include still checked after the form left it out")
	}

	// Import, and a refused import that says why.
	r = b.PostForm("/assets/import", url.Values{"url": {pages.URL + "/report.pdf"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.TestID("import-error").Text(), "application/pdf") {
		t.Fatalf("refused import: %d %q", r.Status, r.TestID("import-error").Text())
	}
	// Through htmx, the refusal is the card alone; a success opens the asset.
	r = b.Send(http.MethodPost, "/assets/import", url.Values{"url": {pages.URL + "/metadata"}}, true)
	if r.Status != http.StatusUnprocessableEntity || strings.Contains(r.Body, "<html") || !strings.Contains(r.TestID("import-error").Text(), "private or special") {
		t.Fatalf("htmx refused import: %d %s", r.Status, r.Body)
	}
	r = b.Send(http.MethodPost, "/assets/import", url.Values{"url": {pages.URL + "/guide"}}, true)
	if r.Status != http.StatusNoContent || !strings.HasPrefix(r.Header.Get("HX-Redirect"), "/assets/") {
		t.Fatalf("htmx import: %d %q", r.Status, r.Header.Get("HX-Redirect"))
	}
	r = b.PostForm("/assets/import", url.Values{"url": {pages.URL + "/guide"}, "name": {"Imported"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("import: %d %s", r.Status, r.TestID("import-error").Text())
	}
	if n := b.Get("/assets").TestID("asset-row").Length(); n != 3 {
		t.Fatalf("%d assets listed, want 3", n)
	}

	// Without the CSRF token, nothing changes.
	req, _ := http.NewRequest(http.MethodPost, inst.URL+page+"/delete", nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := b.Do(req); r.Status != http.StatusForbidden {
		t.Fatalf("delete without CSRF: %d", r.Status)
	}

	other := inst.NewBrowser(t)
	other.MustSignUp("pages-assets-other@example.com", "correct horse battery")
	for _, c := range []struct {
		method, path string
		form         url.Values
	}{
		{http.MethodGet, page, nil},
		{http.MethodPost, page, url.Values{"name": {"Mine"}, "body": {"x"}}},
		{http.MethodPost, page + "/delete", nil},
	} {
		var r *apptest.Response
		if c.method == http.MethodGet {
			r = other.Get(c.path)
		} else {
			r = other.PostForm(c.path, c.form)
		}
		if r.Status != http.StatusNotFound {
			t.Fatalf("other user %s %s: %d", c.method, c.path, r.Status)
		}
	}
	if n := other.Get("/assets").TestID("asset-row").Length(); n != 0 {
		t.Fatalf("the other user lists %d assets", n)
	}

	r = b.PostForm(page+"/delete", nil)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/assets" {
		t.Fatalf("delete: %d", r.Status)
	}
	if r := b.Get(page); r.Status != http.StatusNotFound {
		t.Fatalf("after delete: %d", r.Status)
	}
}

// TestSettingsModelKeyNeverShown stores a key through the settings form
// and checks that no page or fragment ever contains it again, and that the
// agent's key lookup returns it.
func TestSettingsModelKeyNeverShown(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{Env: map[string]string{"LLM_API_KEY": "sk-server-0000-aaaa"}})
	b := inst.NewBrowser(t)
	b.MustSignUp("settings-key@example.com", "correct horse battery")
	const key = "sk-or-v1-neverShownAgain9876wxyz"

	r := b.Send(http.MethodPost, "/settings/llm-key", url.Values{"api_key": {key}}, true)
	if r.Status != http.StatusOK || r.TestID("llm-key-hint").Text() != "sk-or-v1-…wxyz" || strings.Contains(r.Body, "neverShown") {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	r = b.Get("/settings")
	if strings.Contains(r.Body, "neverShown") || r.TestID("llm-key-hint").Text() != "sk-or-v1-…wxyz" {
		t.Fatal("the settings page shows the key")
	}
	u, err := inst.App.Accounts.FindUserByEmail(context.Background(), "settings-key@example.com")
	if err != nil {
		t.Fatal(err)
	}
	got, src, err := inst.App.LLMKeys.KeyFor(context.Background(), u.ID)
	if err != nil || got != key || src != "user" {
		t.Fatalf("KeyFor: %q %q %v", got, src, err)
	}
	r = b.PostForm("/settings/llm-key/delete", nil)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.Status)
	}
	if _, src, _ := inst.App.LLMKeys.KeyFor(context.Background(), u.ID); src != "server" {
		t.Fatalf("after delete the key comes from %q", src)
	}
	// A malformed key is refused on the field, and not echoed.
	r = b.Send(http.MethodPost, "/settings/llm-key", url.Values{"api_key": {"sk bad key"}}, true)
	if r.Status != http.StatusUnprocessableEntity || strings.Contains(r.Body, "sk bad key") {
		t.Fatalf("malformed key: %d", r.Status)
	}
}
