// Package postgres is the connector to any reachable PostgreSQL database.
// Tables are listed by schema; a table's primary key is its records' remote
// id (a table without one is pulled but read-only, and says why); pulls read
// keyset pages in primary-key order; writes run in transactions, one
// statement per batch, falling back to one statement per record only when a
// batch fails, so that one bad record fails alone.
//
// Every value crosses as text: columns are read as ::text (dates and times
// formatted in UTC by the server) and written as $n::text::<column type>, so
// any type PostgreSQL can print and parse round-trips without the connector
// knowing it. Identifiers come from the catalogs and are quoted.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/connectors"
)

// ServiceID names the service in data sources.
const ServiceID = "postgres"

// keyConnectionString is the one credential.
const keyConnectionString = "connection_string"

// Service describes the PostgreSQL data source for the registry.
func Service() connectors.Service {
	return connectors.Service{
		ID:          ServiceID,
		Name:        "PostgreSQL",
		Description: "Any PostgreSQL database the server can reach: tables of every schema you may read.",
		Fields: []connectors.CredentialField{{
			Key: keyConnectionString, Label: "Connection string", Secret: true,
			Placeholder: "postgres://user:password@db.example.com:5432/content?sslmode=require",
			Help:        "Your provider's dashboard shows it (often as DATABASE_URL); use a user that may read the tables, and write them to publish.",
		}},
		Validate: validate,
		Open: func(ctx context.Context, creds connectors.Credentials, _ connectors.Config) (connectors.Connector, error) {
			return Open(ctx, creds[keyConnectionString])
		},
	}
}

func validate(creds connectors.Credentials) error {
	s := strings.TrimSpace(creds[keyConnectionString])
	bad := &connectors.Error{Kind: connectors.Invalid, Field: keyConnectionString,
		Message: "Enter a connection string such as postgres://user:password@host:5432/database."}
	if s == "" || !strings.HasPrefix(s, "postgres://") && !strings.HasPrefix(s, "postgresql://") {
		return bad
	}
	if _, err := pgconn.ParseConfig(s); err != nil {
		// ParseConfig's error quotes the string, password and all.
		return bad
	}
	return nil
}

// limits are the batch sizes: statements of a few thousand parameters, and
// no pace, since a database takes what it is given. A publish writes its
// updates a batch at a time, each with a fetch of the batch's records, a
// transaction here and one in the record store: 2,000 records a batch keep
// those round trips a small part of a publish (at 500, a publish of 10,000
// records spent longer on them than on writing). An update that would pass
// PostgreSQL's limit of parameters is split (maxParams).
var limits = connectors.Limits{PageSize: 5000, FetchBatch: 2000, CreateBatch: 500, UpdateBatch: 2000, DeleteBatch: 1000}

// maxParams is the most parameters one statement may have: the protocol
// counts them in 16 bits.
const maxParams = 65535

// Connector is a connection pool to one database.
type Connector struct {
	pool *pgxpool.Pool
	// tables caches the tables this connector has described, by id: a
	// connector lives for one job or request.
	mu     sync.Mutex
	tables map[string]*table
}

// Open returns a connector to the database at url. It does not connect
// until the first call.
func Open(ctx context.Context, url string) (*Connector, error) {
	if err := validate(connectors.Credentials{keyConnectionString: url}); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(strings.TrimSpace(url))
	if err != nil {
		return nil, connectors.Errorf(connectors.Invalid, "The connection string is not valid.")
	}
	cfg.MaxConns = 4
	cfg.MinConns = 0
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	rp := cfg.ConnConfig.RuntimeParams
	rp["application_name"] = "scratchpad"
	rp["TimeZone"] = "UTC"
	rp["DateStyle"] = "ISO, YMD"
	rp["IntervalStyle"] = "iso_8601"
	rp["extra_float_digits"] = "3"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, classify(err)
	}
	return &Connector{pool: pool, tables: map[string]*table{}}, nil
}

// Limits implements connectors.Connector.
func (c *Connector) Limits() connectors.Limits { return limits }

// Close implements connectors.Connector.
func (c *Connector) Close() error {
	c.pool.Close()
	return nil
}

// Test implements connectors.Connector.
func (c *Connector) Test(ctx context.Context) error {
	var one int
	if err := c.pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return classify(err)
	}
	return nil
}

// classify turns a driver error into a connectors.Error with words for a
// person; the driver's text, which may quote the connection string, stays in
// Cause for logs.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ce *connectors.Error
	if errors.As(err, &ce) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return classifyPg(pe, err)
	}
	var ne net.Error
	var ce2 *pgconn.ConnectError
	if errors.As(err, &ce2) || errors.As(err, &ne) {
		e := connectors.Errorf(connectors.Unavailable, "The database server could not be reached. Check its address and port, and that it accepts connections from this server.")
		e.Cause = err
		return e
	}
	return &connectors.Error{Kind: connectors.Unavailable, Message: "The database failed in an unexpected way.", Cause: err}
}

func classifyPg(pe *pgconn.PgError, err error) error {
	e := &connectors.Error{Cause: err, Field: pe.ColumnName}
	switch code := pe.Code; {
	case code == "28P01" || code == "28000":
		e.Kind, e.Message = connectors.Auth, "PostgreSQL refused the user name or password."
	case code == "3D000":
		e.Kind, e.Message = connectors.Auth, "The database named in the connection string does not exist."
	case code == "42501":
		e.Kind, e.Message = connectors.Auth, "The database user lacks a permission this needs."
	case code == "42P01" || code == "42703":
		e.Kind, e.Message = connectors.NotFound, "The table or one of its columns no longer exists."
	case code == "23505":
		e.Kind, e.Message = connectors.Conflict, "Another record already has this value"
		if col := uniqueColumn(pe.Detail); col != "" {
			e.Field = col
			e.Message += " of " + col
		}
		e.Message += "."
	case code == "23503":
		e.Kind, e.Message = connectors.Conflict, "Another table's records refer to this record, or it refers to one that does not exist."
	case code == "23502":
		e.Kind, e.Message = connectors.Invalid, fmt.Sprintf("%s needs a value.", pe.ColumnName)
	case code == "23514":
		e.Kind, e.Message = connectors.Invalid, fmt.Sprintf("The database's rule %s refused the values.", pe.ConstraintName)
	case strings.HasPrefix(code, "22"):
		e.Kind, e.Message = connectors.Invalid, "The database refused a value: "+firstLine(pe.Message)+"."
	case code == "40001" || code == "40P01" || code == "55P03" || strings.HasPrefix(code, "57") || strings.HasPrefix(code, "08") || strings.HasPrefix(code, "53"):
		e.Kind, e.Message = connectors.Unavailable, "The database is busy or restarting; try again."
	default:
		e.Kind, e.Message = connectors.Invalid, "The database refused the request: "+firstLine(pe.Message)+"."
	}
	return e
}

// uniqueColumn reads the column of a unique violation from its detail,
// "Key (slug)=(item-1) already exists.", for a single-column key.
func uniqueColumn(detail string) string {
	rest, ok := strings.CutPrefix(detail, "Key (")
	if !ok {
		return ""
	}
	col, _, ok := strings.Cut(rest, ")=(")
	if !ok || strings.ContainsAny(col, ",()") {
		return ""
	}
	return strings.Trim(col, `"`)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.TrimSuffix(s, ".")
}

// inTx runs fn in a transaction.
func (c *Connector) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, c.pool, fn)
	return classify(err)
}
