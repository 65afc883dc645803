package testdb

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
)

// EnvMySQLURL names the variable holding the URL of a MySQL or MariaDB
// server on which the user may CREATE DATABASE, for the MySQL connector's
// tests; unset, they use DefaultMySQLURL, the server on this machine. Tests
// only ever create and drop databases of their own there.
const EnvMySQLURL = "TEST_MYSQL_URL"

// DefaultMySQLURL is the server MySQL tests use when EnvMySQLURL is unset.
const DefaultMySQLURL = "mysql://root@127.0.0.1:3306/test"

// NewMySQL creates a database that only this test uses on the MySQL or
// MariaDB server of TEST_MYSQL_URL, and returns its mysql:// URL and a pool
// connected to it (in UTC). The database is dropped when the test ends,
// after the cleanups registered later, such as those closing connectors.
// When the server does not answer, the test is skipped, except in CI, where
// it fails.
func NewMySQL(t testing.TB) (string, *sql.DB) {
	t.Helper()
	raw := mysqlServerURL(os.Getenv)
	cfg, err := mysqlConfig(raw)
	if err != nil {
		t.Fatalf("testdb: %s: %v", EnvMySQLURL, err)
	}
	admin := openMySQL(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		var ne net.Error
		if !errors.As(err, &ne) {
			// A server answered, and refused: the URL is wrong.
			t.Fatalf("testdb: the MySQL server at %s (%s): %v", cfg.Addr, EnvMySQLURL, err)
		}
		msg := fmt.Sprintf("testdb: no MySQL or MariaDB server answers at %s (set %s): %v", cfg.Addr, EnvMySQLURL, err)
		if mysqlMissingIsFatal(os.Getenv) {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	name := "scratchpad_test_" + randomHex(t, 6)
	if _, err := admin.Exec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4"); err != nil {
		admin.Close()
		t.Fatalf("testdb: create a MySQL database: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS `" + name + "`"); err != nil {
			t.Errorf("testdb: drop MySQL database %s: %v", name, err)
		}
	})
	dbCfg := cfg.Clone()
	dbCfg.DBName = name
	db := openMySQL(t, dbCfg)
	t.Cleanup(func() { db.Close() })

	u, _ := url.Parse(raw)
	u.Path = "/" + name
	return u.String(), db
}

// mysqlServerURL returns TEST_MYSQL_URL, or the server on this machine.
func mysqlServerURL(getenv func(string) string) string {
	return cmp.Or(getenv(EnvMySQLURL), DefaultMySQLURL)
}

// mysqlMissingIsFatal says whether a MySQL server that does not answer
// fails the test: in CI it is a broken pipeline rather than a choice.
func mysqlMissingIsFatal(getenv func(string) string) bool {
	return getenv("CI") != ""
}

// mysqlConfig turns a mysql://user:password@host:port/database URL into
// the driver's configuration, without the database: tests make their own.
func mysqlConfig(raw string) (*mysqldrv.Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a URL")
	}
	if u.Scheme != "mysql" && u.Scheme != "mariadb" {
		return nil, fmt.Errorf("want a mysql:// URL, got scheme %q", u.Scheme)
	}
	cfg := mysqldrv.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(cmp.Or(u.Hostname(), "127.0.0.1"), cmp.Or(u.Port(), "3306"))
	cfg.Timeout = 5 * time.Second
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	cfg.Logger = &mysqldrv.NopLogger{}
	if err := cfg.Apply(mysqldrv.Charset("utf8mb4", "")); err != nil {
		return nil, err
	}
	return cfg, nil
}

func openMySQL(t testing.TB, cfg *mysqldrv.Config) *sql.DB {
	t.Helper()
	conn, err := mysqldrv.NewConnector(cfg)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(4)
	return db
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return strings.ToLower(hex.EncodeToString(b))
}
