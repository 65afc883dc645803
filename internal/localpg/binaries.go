package localpg

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrBinariesNotFound reports that no directory holds both initdb and pg_ctl,
// so callers can tell "PostgreSQL is not installed" apart from a cluster that
// failed to start, and point the developer at the fix.
var ErrBinariesNotFound = errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found: " +
	"install them (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@16) " +
	"or set DATABASE_URL")

// findBinDir returns the first directory that holds both initdb and pg_ctl,
// looking on PATH first, then at Debian's versioned directories and then at
// Homebrew's, newest version first.
func findBinDir() (string, error) {
	for _, dir := range candidateBinDirs() {
		if hasServerBinaries(dir) {
			return dir, nil
		}
	}
	return "", ErrBinariesNotFound
}

// candidateBinDirs lists where PostgreSQL installs its server binaries, in the
// order we prefer them.
func candidateBinDirs() []string {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	dirs = append(dirs, newestFirst(glob("/usr/lib/postgresql/*/bin"), debianVersion)...)
	dirs = append(dirs, newestFirst(glob("/opt/homebrew/opt/postgresql@*/bin"), homebrewVersion)...)
	dirs = append(dirs, newestFirst(glob("/usr/local/opt/postgresql@*/bin"), homebrewVersion)...)
	return append(dirs, "/opt/homebrew/bin", "/usr/local/bin")
}

func glob(pattern string) []string {
	matches, _ := filepath.Glob(pattern) // the patterns are constant and valid
	return matches
}

func hasServerBinaries(dir string) bool {
	return isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "pg_ctl"))
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0
}

// debianVersion extracts "15" from /usr/lib/postgresql/15/bin.
func debianVersion(binDir string) string {
	return filepath.Base(filepath.Dir(binDir))
}

// homebrewVersion extracts "16" from /opt/homebrew/opt/postgresql@16/bin.
func homebrewVersion(binDir string) string {
	_, v, _ := strings.Cut(filepath.Base(filepath.Dir(binDir)), "@")
	return v
}

// newestFirst sorts binary directories by the version each one names, highest
// first, so that "9.6" sorts below "15".
func newestFirst(dirs []string, versionOf func(string) string) []string {
	sorted := slices.Clone(dirs)
	slices.SortStableFunc(sorted, func(a, b string) int {
		return compareVersions(versionOf(b), versionOf(a))
	})
	return sorted
}

// compareVersions compares dotted numeric versions; parts that are not
// numbers count as zero.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(pa), len(pb)) {
		if c := versionPart(pa, i) - versionPart(pb, i); c != 0 {
			return c
		}
	}
	return 0
}

func versionPart(parts []string, i int) int {
	if i >= len(parts) {
		return 0
	}
	n, _ := strconv.Atoi(parts[i])
	return n
}
