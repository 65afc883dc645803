package testdb

import (
	"testing"

	"github.com/peterldowns/pgtestdb"
)

func TestServerURLSkipsLocallyAndFailsInCI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       map[string]string
		wantOK    bool
		wantFatal bool
	}{
		{name: "set", env: map[string]string{EnvURL: "postgres://postgres@127.0.0.1/postgres", "CI": "true"}, wantOK: true},
		{name: "unset on a laptop", env: map[string]string{}},
		{name: "unset in CI", env: map[string]string{"CI": "true"}, wantFatal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ok, fatal := serverURL(func(k string) string { return tt.env[k] })
			if ok != tt.wantOK || fatal != tt.wantFatal {
				t.Errorf("serverURL() ok=%v fatal=%v, want ok=%v fatal=%v", ok, fatal, tt.wantOK, tt.wantFatal)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want pgtestdb.Config
	}{
		{
			raw: "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
			want: pgtestdb.Config{Host: "127.0.0.1", Port: "5432", User: "postgres",
				Database: "postgres", Options: "sslmode=disable"},
		},
		{
			raw:  "postgresql://me:secret@[::1]/",
			want: pgtestdb.Config{Host: "[::1]", Port: "5432", User: "me", Password: "secret", Database: "postgres"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			got, err := parseConfig(tt.raw)
			if err != nil {
				t.Fatalf("parseConfig: %v", err)
			}
			tt.want.DriverName = "pgx"
			tt.want.ForceTerminateConnections = true
			if got != tt.want {
				t.Errorf("parseConfig(%q) = %+v, want %+v", tt.raw, got, tt.want)
			}
		})
	}
	if _, err := parseConfig("mysql://root@localhost/db"); err == nil {
		t.Error("parseConfig accepted a mysql:// URL")
	}
}
