package mysql

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/scratchpad/scratchpad/internal/connectors"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url                    string
		user, pass, addr, db   string
		tls                    string
		wantErr, errMentioning string
	}{
		{url: "mysql://app:s3cret@db.example.com:3307/content", user: "app", pass: "s3cret", addr: "db.example.com:3307", db: "content", tls: "preferred"},
		{url: " mariadb://app@10.0.0.5/content?tls=true ", user: "app", addr: "10.0.0.5:3306", db: "content", tls: "true"},
		{url: "mysql://app:p%40ss%2Fw0rd@[::1]:3306/c?ssl-mode=REQUIRED", user: "app", pass: "p@ss/w0rd", addr: "[::1]:3306", db: "c", tls: "skip-verify"},
		{url: "mysql://app:pw@h/c?sslmode=disable&parseTime=true", user: "app", pass: "pw", addr: "h:3306", db: "c", tls: "false"},
		{url: "", wantErr: "such as mysql://"},
		{url: "postgres://app:hunter2@h/c", wantErr: "such as mysql://"},
		{url: "app:hunter2@tcp(h:3306)/c", wantErr: "such as mysql://"},
		{url: "mysql://app:hunter2@/c", wantErr: "host name"},
		{url: "mysql://app:hunter2@h:99999/c", wantErr: "port"},
		{url: "mysql://:hunter2@h/c", wantErr: "user name"},
		{url: "mysql://app:hunter2@h", wantErr: "database name"},
		{url: "mysql://app:hunter2@h/", wantErr: "database name"},
		{url: "mysql://app:hunter2@h/c?tls=maybe", wantErr: "tls"},
		{url: "mysql://app:hunter2@h:port/c", wantErr: "such as mysql://"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			cfg, err := parseURL(tt.url)
			if tt.wantErr != "" {
				e, ok := connectors.AsError(err)
				if !ok || e.Kind != connectors.Invalid || e.Field != keyConnectionString || !strings.Contains(e.Message, tt.wantErr) {
					t.Fatalf("parseURL(%q) = %v, want an Invalid error about %q on the connection string", tt.url, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("the error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.User != tt.user || cfg.Passwd != tt.pass || cfg.Addr != tt.addr || cfg.DBName != tt.db || cfg.TLSConfig != tt.tls {
				t.Errorf("config: user %q password %q addr %q database %q tls %q", cfg.User, cfg.Passwd, cfg.Addr, cfg.DBName, cfg.TLSConfig)
			}
			if cfg.ParseTime || !cfg.InterpolateParams || cfg.Timeout == 0 || cfg.Params["time_zone"] != "'+00:00'" {
				t.Errorf("session settings: parseTime %v interpolate %v timeout %v params %v", cfg.ParseTime, cfg.InterpolateParams, cfg.Timeout, cfg.Params)
			}
		})
	}
}

func TestTableIDRoundTrips(t *testing.T) {
	t.Parallel()
	for _, names := range [][2]string{{"shop", "items"}, {"my db", "a.b"}, {"x`y", "`"}, {"ünï", "t"}} {
		id := tableID(names[0], names[1])
		schema, name, ok := parseTableID(id)
		if !ok || schema != names[0] || name != names[1] {
			t.Errorf("parseTableID(%s) = %q %q %v, want %q %q", id, schema, name, ok, names[0], names[1])
		}
	}
	for _, bad := range []string{"", "items", "`a`", "`a`.`b`_missing", "`a`.b", "``.`b`", "`a`.`b", "`a`.`b`.`c`"} {
		if _, _, ok := parseTableID(bad); ok {
			t.Errorf("parseTableID(%q) accepted it", bad)
		}
	}
}

func TestParseOptions(t *testing.T) {
	t.Parallel()
	tests := map[string][]string{
		"enum('guide','news','review')": {"guide", "news", "review"},
		"set('blue','green','red')":     {"blue", "green", "red"},
		`enum('it''s','a\\b','x,y','')`: {"it's", `a\b`, "x,y", ""},
		"enum('(paren)')":               {"(paren)"},
	}
	for in, want := range tests {
		if got := parseOptions(in); !slices.Equal(got, want) {
			t.Errorf("parseOptions(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestJSONValidColumn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		clause string
		col    string
		ok     bool
	}{
		{"json_valid(`meta`)", "meta", true},
		{"JSON_VALID(`my``col`)", "my`col", true},
		{"json_valid(`a`) and `b` > 0", "", false},
		{"`price` > 0", "", false},
		{"json_valid(meta)", "", false},
	}
	for _, tt := range tests {
		if col, ok := jsonValidColumn(tt.clause); col != tt.col || ok != tt.ok {
			t.Errorf("jsonValidColumn(%q) = %q %v, want %q %v", tt.clause, col, ok, tt.col, tt.ok)
		}
	}
}

func TestParseVersion(t *testing.T) {
	t.Parallel()
	tests := map[string]server{
		"10.11.19-MariaDB-0+deb12u1": {mariaDB: true, major: 10, minor: 11},
		"5.5.5-10.4.32-MariaDB":      {mariaDB: true, major: 10, minor: 4},
		"8.0.36":                     {major: 8, minor: 0},
	}
	for v, want := range tests {
		if got := parseVersion(v); got != want {
			t.Errorf("parseVersion(%q) = %+v, want %+v", v, got, want)
		}
	}
	if !parseVersion("10.5.0-MariaDB").returning() || parseVersion("10.4.32-MariaDB").returning() || parseVersion("8.4.0").returning() {
		t.Error("RETURNING is MariaDB 10.5's")
	}
}

func TestParseHashID(t *testing.T) {
	t.Parallel()
	h := strings.Repeat("0f", hashLen/2)
	for id, want := range map[string]int{h: 1, h + "-2": 2, h + "-10": 10} {
		if got, n, ok := parseHashID(id); !ok || got != h || n != want {
			t.Errorf("parseHashID(%q) = %q %d %v", id, got, n, ok)
		}
	}
	for _, bad := range []string{"", h[1:], h + "-1", h + "-02", h + "-x", strings.ToUpper(h), "5"} {
		if _, _, ok := parseHashID(bad); ok {
			t.Errorf("parseHashID(%q) accepted it", bad)
		}
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tbl := &table{
		cols:    []column{{name: "slug"}, {name: "meta", typ: "json"}, {name: "price"}},
		uniques: map[string][]string{"slug_idx": {"slug"}, "pair": {"a", "b"}},
	}
	tests := []struct {
		number  uint16
		message string
		kind    connectors.ErrorKind
		field   string
		says    string
	}{
		{1045, "Access denied for user 'x'@'h' (using password: YES)", connectors.Auth, "", "user name or password"},
		{1044, "Access denied for user 'x'@'%' to database 'c'", connectors.Auth, "", "may not use the database"},
		{1049, "Unknown database 'c'", connectors.Auth, "", "does not exist"},
		{1142, "UPDATE command denied to user", connectors.Auth, "", "permission"},
		{1146, "Table 'c.t' doesn't exist", connectors.NotFound, "", "no longer exists"},
		{1062, "Duplicate entry 'item-1' for key 'slug_idx'", connectors.Conflict, "slug", "already has this value of slug"},
		{1062, "Duplicate entry 'item-1' for key 't.slug_idx'", connectors.Conflict, "slug", "of slug"},
		{1062, "Duplicate entry '1-2' for key 'pair'", connectors.Conflict, "", "already has this value."},
		{1451, "Cannot delete or update a parent row", connectors.Conflict, "", "refer to"},
		{1048, "Column 'title' cannot be null", connectors.Invalid, "title", "title needs a value"},
		{1364, "Field 'title' doesn't have a default value", connectors.Invalid, "title", "title needs a value"},
		{4025, "CONSTRAINT `t.meta` failed for `c`.`t`", connectors.Invalid, "meta", "meta must be valid JSON"},
		{4025, "CONSTRAINT `positive` failed for `c`.`t`", connectors.Invalid, "", "rule positive"},
		{1366, "Incorrect decimal value: 'abc' for column `c`.`t`.`price` at row 1", connectors.Invalid, "price", "Incorrect decimal value"},
		{1265, "Data truncated for column 'tags' at row 1", connectors.Invalid, "tags", "Data truncated"},
		{1406, "Data too long for column 'slug' at row 1", connectors.Invalid, "slug", "too long"},
		{1213, "Deadlock found when trying to get lock", connectors.Unavailable, "", "busy"},
		{1205, "Lock wait timeout exceeded", connectors.Unavailable, "", "busy"},
		{1064, "You have an error in your SQL syntax", connectors.Invalid, "", "refused the request"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.number, tt.message), func(t *testing.T) {
			t.Parallel()
			err := classifyIn(fmt.Errorf("exec: %w", &mysqldrv.MySQLError{Number: tt.number, Message: tt.message}), tbl)
			e, ok := connectors.AsError(err)
			if !ok || e.Kind != tt.kind || e.Field != tt.field || !strings.Contains(e.Message, tt.says) {
				t.Fatalf("classify = %#v, want kind %s field %q saying %q", err, tt.kind, tt.field, tt.says)
			}
		})
	}
	if e, _ := connectors.AsError(classify(mysqldrv.ErrInvalidConn)); e == nil || e.Kind != connectors.Unavailable {
		t.Errorf("a broken connection classifies as %v, want Unavailable", e)
	}
	if e, _ := connectors.AsError(classify(mysqldrv.ErrNoTLS)); e == nil || e.Field != keyConnectionString {
		t.Errorf("a server without TLS classifies as %v, want an error on the connection string", e)
	}
	if err := classify(errors.New("boom")); connectors.KindOf(err) != connectors.Unavailable {
		t.Errorf("an unknown failure classifies as %v", err)
	}
}
