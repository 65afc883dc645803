// Package layering holds one test: that the dependencies of the code point
// the one way ../shared/STYLE.md draws them, so the layering holds by
// itself rather than by review.
package layering

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// rule forbids packages whose import path has one of the prefixes to
// import (outside their tests) a path with one of the forbidden prefixes.
type rule struct {
	who       string
	packages  []string
	except    []string
	forbidden []string
}

const module = "github.com/scratchpad/scratchpad/"

var rules = []rule{
	{
		who:       "handlers and views speak to the domain, never to the database or the job queue",
		packages:  []string{module + "handlers", module + "views"},
		forbidden: []string{module + "internal/db", "github.com/jackc/pgx", "github.com/riverqueue/river"},
	},
	{
		who:      "the domain knows nothing of HTTP routing or HTML",
		packages: []string{module + "internal/"},
		// internal/app wires the server as main would, and the test rigs
		// start it.
		except:    []string{module + "internal/app", module + "internal/apptest", module + "internal/browsertest"},
		forbidden: []string{"github.com/labstack/echo", "github.com/a-h/templ", module + "handlers", module + "views"},
	},
	{
		who:       "the listing SQL builder writes SQL and runs none: the record store runs it",
		packages:  []string{module + "internal/recordsql"},
		forbidden: []string{module + "internal/db", "github.com/jackc/pgx", "github.com/riverqueue/river"},
	},
}

func TestDependenciesPointOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	seen := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		seen++
		for _, r := range rules {
			if !hasPrefix(p.ImportPath, r.packages) || hasPrefix(p.ImportPath, r.except) {
				continue
			}
			for _, imp := range p.Imports {
				if hasPrefix(imp, r.forbidden) {
					t.Errorf("%s imports %s: %s", p.ImportPath, imp, r.who)
				}
			}
		}
	}
	if seen < 20 {
		t.Fatalf("go list named only %d packages: the test reads the wrong module", seen)
	}
}

// hasPrefix reports whether path is one of roots or inside one of them.
func hasPrefix(path string, roots []string) bool {
	for _, r := range roots {
		r = strings.TrimSuffix(r, "/")
		if path == r || strings.HasPrefix(path, r+"/") {
			return true
		}
	}
	return false
}
