// Package mysql is the connector to any reachable MySQL or MariaDB database.
// It mirrors the PostgreSQL connector: tables and views of every database
// the user may read are listed (the connection's database first); a table's
// primary key is its records' remote id (a table without one, or a view, is
// pulled but read-only, and says why); pulls read keyset pages in
// primary-key order; writes run in transactions, one statement per batch,
// falling back to one statement per record only when a batch fails, so that
// one bad record fails alone.
//
// Values cross as text: the session runs in UTC with strict SQL mode, so a
// value the column cannot hold fails its record instead of being truncated;
// dates and times are formatted by the server, and parameters are
// interpolated by the driver (one round trip a statement). Identifiers come
// from information_schema and are quoted with backticks.
package mysql

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/scratchpad/scratchpad/internal/connectors"
)

// ServiceID names the service in data sources.
const ServiceID = "mysql"

// keyConnectionString is the one credential.
const keyConnectionString = "connection_string"

// Service describes the MySQL and MariaDB data source for the registry.
func Service() connectors.Service {
	return connectors.Service{
		ID:          ServiceID,
		Name:        "MySQL / MariaDB",
		Description: "Any MySQL or MariaDB database the server can reach: tables and views of every database you may read.",
		Fields: []connectors.CredentialField{{
			Key: keyConnectionString, Label: "Connection string", Secret: true,
			Placeholder: "mysql://user:password@db.example.com:3306/content",
			Help:        "mysql://user:password@host:port/database (percent-encode special characters of the password; add ?tls=true to require a verified TLS connection). Use a user that may read the tables, and write them to publish.",
		}},
		Validate: validate,
		Open: func(ctx context.Context, creds connectors.Credentials, _ connectors.Config) (connectors.Connector, error) {
			return Open(ctx, creds[keyConnectionString])
		},
	}
}

func validate(creds connectors.Credentials) error {
	_, err := parseURL(creds[keyConnectionString])
	return err
}

// badURL is the error of a connection string that cannot be used; message
// says what is wrong, and never quotes the string, whose password it holds.
func badURL(message string) error {
	return &connectors.Error{Kind: connectors.Invalid, Field: keyConnectionString, Message: message}
}

// connectTimeout bounds dialling the server and its handshake.
const connectTimeout = 10 * time.Second

// parseURL turns a mysql://user:password@host:port/database URL into the
// driver's configuration, with the session settings the connector relies
// on: utf8mb4, UTC, strict SQL mode, text results (no parseTime), and
// parameters interpolated by the driver. A tls (or ssl-mode) query
// parameter picks the TLS mode; other parameters are ignored, since the
// connector sets what it needs itself.
func parseURL(raw string) (*mysqldrv.Config, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme != "mysql" && u.Scheme != "mariadb" || u.Opaque != "" {
		return nil, badURL("Enter a connection string such as mysql://user:password@host:3306/database.")
	}
	host := u.Hostname()
	if host == "" {
		return nil, badURL("The connection string needs the server's host name: mysql://user:password@host:3306/database.")
	}
	port := u.Port()
	if port == "" {
		port = "3306"
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return nil, badURL("The port in the connection string must be a number such as 3306.")
	}
	if u.User == nil || u.User.Username() == "" {
		return nil, badURL("The connection string needs a user name: mysql://user:password@host:3306/database.")
	}
	database := strings.TrimPrefix(u.Path, "/")
	if database == "" || strings.Contains(database, "/") {
		return nil, badURL("The connection string needs a database name after the host: mysql://user:password@host:3306/database.")
	}
	tlsMode, ok := tlsConfigName(u.Query())
	if !ok {
		return nil, badURL("tls in the connection string must be true, false, preferred or skip-verify.")
	}
	cfg := mysqldrv.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(host, port)
	cfg.DBName = database
	cfg.TLSConfig = tlsMode
	cfg.AllowFallbackToPlaintext = tlsMode == "preferred"
	cfg.Timeout = connectTimeout
	cfg.ParseTime = false
	cfg.InterpolateParams = true
	// Zero asks the server for its max_allowed_packet.
	cfg.MaxAllowedPacket = 0
	cfg.Logger = &mysqldrv.NopLogger{}
	cfg.Params = map[string]string{
		"time_zone": "'+00:00'",
		// Strict mode for every engine: a value a column cannot hold is
		// an error for its record, never silently truncated.
		"sql_mode": "CONCAT_WS(',', NULLIF(@@sql_mode, ''), 'STRICT_ALL_TABLES')",
	}
	if err := cfg.Apply(mysqldrv.Charset("utf8mb4", "")); err != nil {
		return nil, badURL("The connection string is not valid.")
	}
	return cfg, nil
}

// tlsConfigName reads the TLS mode from the URL's query, in the driver's
// words: preferred (TLS when the server offers it, as the mysql client
// does) unless the URL says otherwise.
func tlsConfigName(q url.Values) (string, bool) {
	mode := ""
	for _, k := range []string{"tls", "ssl-mode", "sslmode", "ssl_mode"} {
		if v := q.Get(k); v != "" {
			mode = strings.ToLower(v)
			break
		}
	}
	switch mode {
	case "", "preferred", "prefer":
		return "preferred", true
	case "true", "verify_identity", "verify-identity", "verify_ca", "verify-ca", "verify-full":
		return "true", true
	case "skip-verify", "required", "require":
		// The mysql client's REQUIRED encrypts without checking the
		// certificate.
		return "skip-verify", true
	case "false", "disabled", "disable":
		return "false", true
	}
	return "", false
}

// limits are the batch sizes: statements of a few thousand values, and no
// pace, since a database takes what it is given.
var limits = connectors.Limits{PageSize: 5000, FetchBatch: 1000, CreateBatch: 500, UpdateBatch: 500, DeleteBatch: 1000}

// Connector is a connection pool to one database server, with one database
// selected.
type Connector struct {
	db       *sql.DB
	database string
	// withoutReturning makes creates take the path of servers without
	// INSERT ... RETURNING even on MariaDB, for tests.
	withoutReturning bool

	mu     sync.Mutex
	server *server
	// tables caches the tables this connector has described, by id: a
	// connector lives for one job or request.
	tables map[string]*table
}

// Open returns a connector to the database at url, a
// mysql://user:password@host:port/database URL. It does not connect until
// the first call.
func Open(_ context.Context, url string) (*Connector, error) {
	cfg, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	conn, err := mysqldrv.NewConnector(cfg)
	if err != nil {
		return nil, badURL("The connection string is not valid.")
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(time.Minute)
	db.SetConnMaxLifetime(10 * time.Minute)
	return &Connector{db: db, database: cfg.DBName, tables: map[string]*table{}}, nil
}

// Limits implements connectors.Connector.
func (c *Connector) Limits() connectors.Limits { return limits }

// Close implements connectors.Connector.
func (c *Connector) Close() error { return c.db.Close() }

// Test implements connectors.Connector.
func (c *Connector) Test(ctx context.Context) error {
	var one int
	if err := c.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return classify(err)
	}
	return nil
}

// server is what the connector needs to know of the server's version.
type server struct {
	mariaDB      bool
	major, minor int
}

func (s server) atLeast(major, minor int) bool {
	return s.major > major || s.major == major && s.minor >= minor
}

// returning reports whether INSERT ... RETURNING works (MariaDB 10.5).
func (s server) returning() bool { return s.mariaDB && s.atLeast(10, 5) }

// parseVersion reads VERSION(): "10.11.19-MariaDB-0+deb12u1", "8.0.36", or
// "5.5.5-10.11.6-MariaDB" behind some proxies.
func parseVersion(v string) server {
	s := server{mariaDB: strings.Contains(strings.ToLower(v), "mariadb")}
	v = strings.TrimPrefix(v, "5.5.5-")
	_, _ = fmt.Sscanf(v, "%d.%d", &s.major, &s.minor)
	return s
}

// serverInfo returns the server's version, asked once.
func (c *Connector) serverInfo(ctx context.Context) (server, error) {
	c.mu.Lock()
	s := c.server
	c.mu.Unlock()
	if s != nil {
		return *s, nil
	}
	var v string
	if err := c.db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		return server{}, classify(err)
	}
	info := parseVersion(v)
	c.mu.Lock()
	c.server = &info
	c.mu.Unlock()
	return info, nil
}

// classify turns a driver error into a connectors.Error with words for a
// person; the driver's text stays in Cause for logs. The driver never
// quotes the password.
func classify(err error) error { return classifyIn(err, nil) }

// classifyIn is classify for an error of a statement on t, whose indexes
// and columns name what a constraint error is about; t may be nil.
func classifyIn(err error, t *table) error {
	if err == nil {
		return nil
	}
	if _, ok := connectors.AsError(err); ok {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var me *mysqldrv.MySQLError
	if errors.As(err, &me) {
		return classifyServer(me, err, t)
	}
	e := &connectors.Error{Kind: connectors.Unavailable, Cause: err}
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var authorityErr x509.UnknownAuthorityError
	var ne net.Error
	switch {
	case errors.Is(err, mysqldrv.ErrNoTLS):
		e.Kind, e.Field = connectors.Invalid, keyConnectionString
		e.Message = "The database server does not accept TLS connections: remove tls from the connection string, or enable TLS on the server."
	case errors.As(err, &certErr) || errors.As(err, &hostErr) || errors.As(err, &authorityErr):
		e.Kind, e.Field = connectors.Invalid, keyConnectionString
		e.Message = "The database server's TLS certificate could not be verified; use tls=skip-verify to encrypt without verifying it."
	case errors.Is(err, mysqldrv.ErrCleartextPassword) || errors.Is(err, mysqldrv.ErrOldPassword) ||
		errors.Is(err, mysqldrv.ErrNativePassword) || errors.Is(err, mysqldrv.ErrUnknownPlugin):
		e.Kind = connectors.Auth
		e.Message = "The database user signs in with a method this connector does not support; use a user with mysql_native_password or caching_sha2_password."
	case errors.Is(err, mysqldrv.ErrPktTooLarge):
		e.Kind = connectors.Invalid
		e.Message = "The values are larger than the database server's max_allowed_packet setting allows."
	case errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysqldrv.ErrInvalidConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		e.Message = "The database server could not be reached. Check its address and port, and that it accepts connections from this server."
	default:
		e.Message = "The database failed in an unexpected way."
	}
	return e
}

// classifyServer classifies an error the server sent, by its number.
func classifyServer(me *mysqldrv.MySQLError, err error, t *table) error {
	e := &connectors.Error{Cause: err}
	msg := firstLine(me.Message)
	switch me.Number {
	case 1045:
		e.Kind, e.Message = connectors.Auth, "The database server refused the user name or password."
	case 1044:
		e.Kind, e.Message = connectors.Auth, "The database user may not use the database named in the connection string."
	case 1049:
		e.Kind, e.Message = connectors.Auth, "The database named in the connection string does not exist."
	case 1142, 1143, 1227, 1370:
		e.Kind, e.Message = connectors.Auth, "The database user lacks a permission this needs."
	case 1290, 1836:
		e.Kind, e.Message = connectors.Auth, "The database server only allows reading (a replica?); connect to the primary to write."
	case 1146, 1054:
		e.Kind, e.Message = connectors.NotFound, "The table or one of its columns no longer exists."
	case 1062, 1586:
		e.Kind, e.Message = connectors.Conflict, "Another record already has this value"
		if col := t.uniqueColumn(duplicateKey(me.Message)); col != "" {
			e.Field = col
			e.Message += " of " + col
		}
		e.Message += "."
	case 1451, 1452:
		e.Kind, e.Message = connectors.Conflict, "Another table's records refer to this record, or it refers to one that does not exist."
	case 1048, 1364:
		e.Kind, e.Field = connectors.Invalid, quotedAfter(me.Message, "Column ", "Field ")
		e.Message = e.Field + " needs a value."
	case 4025, 3819:
		e.Kind = connectors.Invalid
		name := constraintName(me.Message)
		if col := t.jsonCheck(name); col != "" {
			e.Field, e.Message = col, col+" must be valid JSON."
		} else {
			e.Message = fmt.Sprintf("The database's rule %s refused the values.", name)
		}
	case 1264, 1265, 1292, 1366, 1367, 1406, 1411, 1690, 3140, 4038:
		e.Kind, e.Field = connectors.Invalid, columnOf(me.Message)
		e.Message = "The database refused a value: " + msg + "."
	case 1213, 1205, 1040, 1053, 1927, 1615, 2006, 2013:
		e.Kind, e.Message = connectors.Unavailable, "The database is busy or restarting; try again."
	default:
		e.Kind, e.Message = connectors.Invalid, "The database refused the request: "+msg+"."
	}
	return e
}

// duplicateKey reads the index of a duplicate-entry error: "Duplicate
// entry 'x' for key 'slug'" (MySQL 8 says 'table.slug').
func duplicateKey(msg string) string {
	i := strings.LastIndex(msg, " for key '")
	if i < 0 {
		return ""
	}
	key := strings.TrimSuffix(msg[i+len(" for key '"):], "'")
	if _, after, ok := strings.Cut(key, "."); ok {
		key = after
	}
	return key
}

// constraintName reads the check constraint of "CONSTRAINT `t.meta` failed
// for `db`.`t`" (MariaDB) or "Check constraint 'meta' is violated."
// (MySQL), without the table.
func constraintName(msg string) string {
	name := quotedAfter(msg, "CONSTRAINT ", "constraint ")
	if _, after, ok := strings.Cut(name, "."); ok {
		return after
	}
	return name
}

// quotedAfter returns the quoted name that follows one of prefixes in msg:
// "Column 'title' cannot be null" gives title.
func quotedAfter(msg string, prefixes ...string) string {
	for _, p := range prefixes {
		i := strings.Index(msg, p)
		if i < 0 || len(msg) <= i+len(p) {
			continue
		}
		rest := msg[i+len(p):]
		q := rest[0]
		if q != '\'' && q != '`' {
			continue
		}
		if end := strings.IndexByte(rest[1:], q); end >= 0 {
			return rest[1 : end+1]
		}
	}
	return ""
}

// columnRE finds the column of a data error: "for column 'price'" or "for
// column `db`.`t`.`price`".
var columnRE = regexp.MustCompile("for column (?:'([^']*)'|(?:`(?:[^`]|``)*`\\.)*`((?:[^`]|``)*)`)")

func columnOf(msg string) string {
	m := columnRE.FindStringSubmatch(msg)
	switch {
	case m == nil:
		return ""
	case m[1] != "":
		return m[1]
	}
	return strings.ReplaceAll(m[2], "``", "`")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.TrimSuffix(s, ".")
}

// inTx runs fn in a transaction.
func (c *Connector) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return classify(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return classify(err)
	}
	return classify(tx.Commit())
}
