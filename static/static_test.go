package static

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
)

func TestHashedURLs(t *testing.T) {
	t.Parallel()
	h := http.StripPrefix(Prefix, Handler())
	for _, name := range []string{"app.css", "grid.js", "vendor/htmx-2.0.11.min.js"} {
		u := URL(name)
		want := regexp.MustCompile(`^/static/` + regexp.QuoteMeta(name[:len(name)-len(extOf(name))]) + `\.[0-9a-f]{10}` + regexp.QuoteMeta(extOf(name)) + `$`)
		if !want.MatchString(u) {
			t.Errorf("URL(%q) = %q", name, u)
		}
		hashed, plain := get(t, h, u), get(t, h, Prefix+name)
		if hashed.Code != http.StatusOK || hashed.Header().Get("Cache-Control") != cacheHashed || hashed.Header().Get("ETag") == "" {
			t.Errorf("GET %s: %d %v", u, hashed.Code, hashed.Header())
		}
		if plain.Code != http.StatusOK || plain.Header().Get("Cache-Control") != cachePlain {
			t.Errorf("GET %s: %d %v", Prefix+name, plain.Code, plain.Header())
		}
		a, _ := io.ReadAll(hashed.Body)
		b, _ := io.ReadAll(plain.Body)
		if string(a) != string(b) || len(a) == 0 {
			t.Errorf("%s and its plain name differ", u)
		}
		// A revalidation of a hashed name needs no body.
		req := httptest.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("If-None-Match", hashed.Header().Get("ETag"))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %d, want 304", u, rec.Code)
		}
	}
	if u := URL("missing.js"); u != "/static/missing.js" {
		t.Errorf("URL of an unknown file = %q", u)
	}
	// A page from before a deploy links an older hash: it gets today's
	// file, briefly cached.
	if rec := get(t, h, "/static/app.0000000000.css"); rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != cachePlain {
		t.Errorf("an old hash answers %d %v, want today's file", rec.Code, rec.Header())
	}
	if rec := get(t, h, "/static/nothing.0000000000.css"); rec.Code != http.StatusNotFound {
		t.Errorf("an unknown file answers %d, want 404", rec.Code)
	}
}

func extOf(name string) string {
	for i := len(name) - 1; i >= 0 && name[i] != '/'; i-- {
		if name[i] == '.' {
			return name[i:]
		}
	}
	return ""
}

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}
