// Package static embeds the CSS, images, small hand-written scripts and the
// vendored htmx files, so the binary serves them with nothing else on disk.
//
// Each file is also served under a name carrying a hash of its content
// (app.css as app.3f2a1c9e0b.css), which pages link to through URL. Such a
// name changes whenever the content does, so browsers may keep it for a
// year without asking again. The plain names still work, with a short cache,
// for anything that linked to them before, and so do hashed names of an
// older build (serving today's file, briefly cached).
package static

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"
)

//go:embed app.css app.js grid.js grid_keys.js grid_keys.css grid_columns.js grid_columns.css grid_layout.js grid_layout.css agent.js upload.js clerk.js favicon.svg vendor/*.js
var files embed.FS

// Prefix is where the router mounts Handler.
const Prefix = "/static/"

// The caches of the two kinds of name.
const (
	cacheHashed = "public, max-age=31536000, immutable"
	cachePlain  = "public, max-age=300"
)

// asset is one embedded file under its hashed name.
type asset struct {
	name    string // the plain name, e.g. "app.css"
	content []byte
	etag    string
}

// catalogue maps names to hashed names and back; built once, on first use.
var catalogue = sync.OnceValue(func() (c struct {
	hashed map[string]string // plain name → hashed name
	assets map[string]asset  // hashed name → file
}) {
	c.hashed, c.assets = map[string]string{}, map[string]asset{}
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h := hex.EncodeToString(sum[:5])
		hashed := hashedName(name, h)
		c.hashed[name] = hashed
		c.assets[hashed] = asset{name: name, content: b, etag: `"` + h + `"`}
		return nil
	})
	if err != nil {
		panic("static: read embedded files: " + err.Error()) // the binary itself is broken
	}
	return c
})

// hashedName puts h before name's extension: vendor/htmx.min.js becomes
// vendor/htmx.min.<h>.js.
func hashedName(name, h string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + h + ext
}

// URL returns the address of the embedded file name (such as "app.css" or
// "vendor/htmx-2.0.11.min.js") under its content-hashed name. A name that
// is not embedded gets its plain address, which then answers 404.
func URL(name string) string {
	if h, ok := catalogue().hashed[name]; ok {
		return Prefix + h
	}
	return Prefix + name
}

// Handler serves the embedded files, mounted with Prefix stripped: hashed
// names with a year's immutable cache, plain names with five minutes'.
func Handler() http.Handler {
	plain := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a, ok := catalogue().assets[strings.TrimPrefix(r.URL.Path, "/")]; ok {
			w.Header().Set("Cache-Control", cacheHashed)
			w.Header().Set("ETag", a.etag)
			http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.content))
			return
		}
		w.Header().Set("Cache-Control", cachePlain)
		if m := staleHash.FindStringSubmatch(r.URL.Path); m != nil {
			// A name from an older build, in a page loaded before a
			// deploy: today's file, which must not be kept long.
			if _, ok := catalogue().hashed[strings.TrimPrefix(m[1]+m[2], "/")]; ok {
				r2 := new(http.Request)
				*r2 = *r
				u := *r.URL
				u.Path = m[1] + m[2]
				r2.URL = &u
				plain.ServeHTTP(w, r2)
				return
			}
		}
		plain.ServeHTTP(w, r)
	})
}

// staleHash matches a hashed name: the plain name's stem, the hash, and its
// extension.
var staleHash = regexp.MustCompile(`^(.*)\.[0-9a-f]{10}(\.[A-Za-z0-9]+)$`)
