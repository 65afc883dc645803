// Package connectors is the one interface through which Scratchpad talks to
// the systems where content lives (PostgreSQL and MySQL databases now;
// Airtable, WordPress, Webflow, Notion, Wix, YouTube and Google Sheets next),
// with what every connector shares: the registry of services, the errors a
// person can act on, and the rate limiter. Each service is a sub-package;
// connectortest is the conformance suite every one of them passes.
//
// The interface is shaped by what those services have in common:
//
//   - Tables are listed and described remotely (ListTables, TableSpec); a
//     column says whether the source lets it be written, and a table may be
//     read-only as a whole (a SQL table without a primary key, a YouTube
//     channel's statistics), with the reason.
//   - Pulls read pages behind an opaque cursor (a keyset position, an API's
//     offset or page token), so a pull resumes after a crash from the last
//     page it committed.
//   - Writes go in batches no larger than Limits says (Airtable takes ten
//     records a request), and report per record, so one bad record does not
//     fail its batch.
//   - Rate limits: Limits gives the pace a connector may be called at, and
//     Limited wraps a connector in a token bucket; a connector that is told
//     to slow down (HTTP 429) returns an *Error of kind RateLimited with the
//     wait, which Limited honours before it retries.
//   - Rich text travels as text with a format (markdown, html) in the
//     column's spec; values are in internal/values' canonical forms.
//   - Credentials that expire (OAuth tokens) are refreshed by the connector,
//     which hands the new ones to Config.SaveCredentials to be sealed and
//     stored again.
package connectors

import (
	"context"
	"encoding/json"

	"github.com/scratchpad/scratchpad/internal/values"
)

// Connector speaks to one account of one service (one data source). Its
// methods are safe for concurrent use. Errors that a person can act on are
// *Error; anything else is a failure on our side or the network's.
type Connector interface {
	// Test checks that the credentials work and the service answers.
	Test(ctx context.Context) error
	// ListTables returns the tables the account can see whose name
	// contains search (ignoring case; all when empty), at most limit of
	// them, in a stable order.
	ListTables(ctx context.Context, search string, limit int) ([]RemoteTable, error)
	// TableSpec describes one table. Errors: *Error NotFound.
	TableSpec(ctx context.Context, tableID string) (TableSpec, error)
	// Pull reads the page of records after cursor ("" for the first page),
	// in a stable order, at most limit records.
	Pull(ctx context.Context, tableID, cursor string, limit int) (Page, error)
	// Fetch reads the records with the given remote ids as they are now;
	// ids that do not exist are left out. At most Limits().FetchBatch ids.
	Fetch(ctx context.Context, tableID string, ids []string) ([]Record, error)
	// Create creates records, at most Limits().CreateBatch, and returns one
	// result per record, in order, with the new remote ids.
	Create(ctx context.Context, tableID string, recs []NewRecord) ([]WriteResult, error)
	// Update sets the given fields of existing records (the others are left
	// alone), at most Limits().UpdateBatch, one result per record, in order.
	Update(ctx context.Context, tableID string, changes []Change) ([]WriteResult, error)
	// Delete deletes records by remote id, at most Limits().DeleteBatch;
	// one result per id, in order. An id that no longer exists succeeds.
	Delete(ctx context.Context, tableID string, ids []string) ([]WriteResult, error)
	// Limits are the connector's batch sizes and pace.
	Limits() Limits
	// Close releases the connector's connections.
	Close() error
}

// FieldFetcher is a Connector that can read only some fields of records,
// as a publish's conflict check needs: less to read and send where records
// are wide. fields are remote field keys; nil reads them all.
type FieldFetcher interface {
	FetchFields(ctx context.Context, tableID string, ids, fields []string) ([]Record, error)
}

// FetchFields reads the named fields of records from c, through
// FieldFetcher when c can, else all their fields through Fetch.
func FetchFields(ctx context.Context, c Connector, tableID string, ids, fields []string) ([]Record, error) {
	if f, ok := c.(FieldFetcher); ok {
		return f.FetchFields(ctx, tableID, ids, fields)
	}
	return c.Fetch(ctx, tableID, ids)
}

// CreateLookup is implemented by connectors that can find records a
// create may have made before its answer was lost (a crash mid-publish):
// for each record, the remote id of the record it made, or "" when it made
// none. A publish that was cut off asks before it creates again, so it
// never creates a record twice where the connector can tell.
type CreateLookup interface {
	LookupCreated(ctx context.Context, tableID string, recs []NewRecord) ([]string, error)
}

// RemoteTable is a table as a service lists it.
type RemoteTable struct {
	// ID is what TableSpec, Pull and the writes take; it is stable for the
	// table's life (for a SQL database, "schema.table").
	ID   string `json:"id"`
	Name string `json:"name"`
	// Description is shown under the name, such as a schema or a base.
	Description string `json:"description,omitempty"`
	// ReadOnly, when a connector can tell while listing, says why the table
	// cannot be written; empty otherwise (TableSpec always says).
	ReadOnly string `json:"read_only,omitempty"`
}

// TableSpec describes a remote table.
type TableSpec struct {
	ID      string
	Name    string
	Columns []ColumnSpec
	// ReadOnly, when not empty, says why the table cannot be written at
	// all (no primary key, say); its records can still be pulled.
	ReadOnly string
	// EstimatedRecords is the size the service reports, or -1.
	EstimatedRecords int64
}

// ColumnSpec describes a remote column.
type ColumnSpec struct {
	// Key is the column's name in the service's API; it is what records'
	// Fields are keyed by.
	Key string
	// Name is what people call it.
	Name string
	Type values.Type
	// Format is the text format (values.FormatMarkdown for rich text...).
	Format string
	// RemoteType is the service's own type name, shown to people.
	RemoteType string
	// ReadOnly says the service does not let the column be written
	// (computed, generated, an identity, a primary key).
	ReadOnly bool
	// Required says a create must give it a value.
	Required bool
	// Options are the choices of a select or multi_select column.
	Options []string
}

// Record is a remote record: its remote id and its values by column key,
// in values' canonical forms.
type Record struct {
	ID     string
	Fields map[string]any
}

// Page is one page of a pull.
type Page struct {
	Records []Record
	// Next is the cursor of the following page; empty when this is the
	// last page.
	Next string
}

// NewRecord is a record to create, by column key.
type NewRecord struct {
	Fields map[string]any
}

// Change sets some fields of one record.
type Change struct {
	ID     string
	Fields map[string]any
}

// WriteResult is the outcome of one record of a write.
type WriteResult struct {
	// ID is the record's remote id (the new one, for a create).
	ID string
	// Err is why the record was not written: an *Error, often with Field
	// set. Nil on success.
	Err error
}

// Limits are a connector's batch sizes and pace.
type Limits struct {
	PageSize    int
	FetchBatch  int
	CreateBatch int
	UpdateBatch int
	DeleteBatch int
	// RequestsPerSecond and Burst pace the calls made to the service;
	// zero means unlimited (a database on the local network).
	RequestsPerSecond float64
	Burst             int
}

// Credentials are a data source's secrets and settings, by the keys its
// service's CredentialFields name, such as {"connection_string": "..."}.
type Credentials map[string]string

// String keeps credentials out of logs and error messages that print them
// with %v or %s; they are sealed for storage with Seal.
func (Credentials) String() string { return "[credentials]" }

// GoString does the same for %#v.
func (Credentials) GoString() string { return "[credentials]" }

// Seal encodes credentials for internal/secrets to encrypt.
func (c Credentials) Seal() ([]byte, error) { return json.Marshal(map[string]string(c)) }

// OpenCredentials decodes what Seal encoded.
func OpenCredentials(b []byte) (Credentials, error) {
	var c map[string]string
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return Credentials(c), nil
}
