package localpg

import (
	"slices"
	"strings"
	"testing"
)

func TestNewestFirstOrdersByNumericVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		dirs      []string
		versionOf func(string) string
		want      []string
	}{
		{
			name:      "debian",
			dirs:      []string{"/usr/lib/postgresql/9.6/bin", "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/13/bin"},
			versionOf: debianVersion,
			want:      []string{"/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/13/bin", "/usr/lib/postgresql/9.6/bin"},
		},
		{
			name:      "homebrew",
			dirs:      []string{"/opt/homebrew/opt/postgresql@14/bin", "/opt/homebrew/opt/postgresql@17/bin"},
			versionOf: homebrewVersion,
			want:      []string{"/opt/homebrew/opt/postgresql@17/bin", "/opt/homebrew/opt/postgresql@14/bin"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := newestFirst(tt.dirs, tt.versionOf); !slices.Equal(got, tt.want) {
				t.Errorf("newestFirst(%v) = %v, want %v", tt.dirs, got, tt.want)
			}
		})
	}
}

func TestFindBinDirFailsWithInstallAdvice(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	dir, err := findBinDir()
	if err != nil {
		if got := err.Error(); !strings.Contains(got, "apt-get install postgresql") || !strings.Contains(got, "brew install") {
			t.Errorf("error %q does not say what to install", got)
		}
		return
	}
	// Off PATH, the search still finds a Debian or Homebrew installation.
	if !hasServerBinaries(dir) {
		t.Errorf("findBinDir() = %q, which lacks initdb or pg_ctl", dir)
	}
}

func TestShellQuoteSurvivesQuotes(t *testing.T) {
	t.Parallel()
	if got, want := shellQuote("a b'c"), `'a b'\''c'`; got != want {
		t.Errorf("shellQuote = %s, want %s", got, want)
	}
}
