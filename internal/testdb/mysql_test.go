package testdb

import "testing"

func TestMySQLServerDefaultsLocallyAndMissingFailsInCI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       map[string]string
		wantURL   string
		wantFatal bool
	}{
		{name: "set", env: map[string]string{EnvMySQLURL: "mysql://me@db:3307/x"}, wantURL: "mysql://me@db:3307/x"},
		{name: "unset on a laptop", env: map[string]string{}, wantURL: DefaultMySQLURL},
		{name: "unset in CI", env: map[string]string{"CI": "true"}, wantURL: DefaultMySQLURL, wantFatal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string { return tt.env[k] }
			if got := mysqlServerURL(getenv); got != tt.wantURL {
				t.Errorf("mysqlServerURL() = %q, want %q", got, tt.wantURL)
			}
			if got := mysqlMissingIsFatal(getenv); got != tt.wantFatal {
				t.Errorf("mysqlMissingIsFatal() = %v, want %v", got, tt.wantFatal)
			}
		})
	}
}

func TestMySQLConfig(t *testing.T) {
	t.Parallel()
	cfg, err := mysqlConfig("mysql://me:p%40ss@[::1]/ignored")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "me" || cfg.Passwd != "p@ss" || cfg.Addr != "[::1]:3306" || cfg.DBName != "" {
		t.Errorf("mysqlConfig = user %q password %q addr %q database %q", cfg.User, cfg.Passwd, cfg.Addr, cfg.DBName)
	}
	if _, err := mysqlConfig("postgres://postgres@127.0.0.1/postgres"); err == nil {
		t.Error("mysqlConfig accepted a postgres:// URL")
	}
}
