// Package static embeds the CSS, images, small hand-written scripts and the
// vendored htmx files, so the binary serves them with nothing else on disk.
package static

import (
	"embed"
	"net/http"
)

//go:embed app.css app.js grid.js upload.js clerk.js favicon.svg vendor/*.js
var files embed.FS

// Handler serves the embedded files. They change only with a new binary, so
// browsers may reuse them for a few minutes without asking.
func Handler() http.Handler {
	fs := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		fs.ServeHTTP(w, r)
	})
}
