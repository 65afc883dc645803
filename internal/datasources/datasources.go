// Package datasources keeps the data sources people connect: a service
// (PostgreSQL, MySQL, and the SaaS connectors to come), a name, and
// credentials sealed by internal/secrets, which never leave this package in
// the clear except to open a connector. A data source belongs to its owner
// like a workbook does: every read goes through one ownership check (owned),
// so another user's data source is simply not found.
package datasources

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/ids"
	"github.com/scratchpad/scratchpad/internal/secrets"
)

// Health of a data source, from its last check.
const (
	HealthUnknown = "unknown"
	HealthOK      = "ok"
	HealthFailing = "failing"
)

// MaxPerOwner caps how many data sources one user keeps.
const MaxPerOwner = 200

// maxNameLen caps a data source's name, in characters.
const maxNameLen = 200

// maxCredentialLen caps one credential value, in bytes.
const maxCredentialLen = 8 << 10

// testTimeout bounds a check of credentials and a listing of tables.
const testTimeout = 20 * time.Second

var errNotFound = apperr.New(apperr.NotFound, "Data source not found.")

// DataSource is a connection as people see it: never its credentials.
type DataSource struct {
	ID      string
	OwnerID string
	// Service is the id of the connector's service, such as "postgres".
	Service string
	Name    string
	// Health is unknown, ok or failing; HealthError says why it fails.
	Health      string
	HealthError string
	CheckedAt   *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// WorkbookRef names a workbook that uses a data source.
type WorkbookRef struct {
	ID   string
	Name string
}

// Service is the data sources domain.
type Service struct {
	pool     *pgxpool.Pool
	q        *db.Queries
	keys     *secrets.Keyring
	registry *connectors.Registry
	cfg      connectors.Config
	logger   *slog.Logger
}

// Options tunes NewService.
type Options struct {
	Logger *slog.Logger
	// HTTPClient is what HTTP connectors use; tests point it at fakes.
	HTTPClient *http.Client
}

// NewService returns the data sources domain over the services registry
// offers, sealing credentials with keys.
func NewService(pool *pgxpool.Pool, keys *secrets.Keyring, registry *connectors.Registry, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	return &Service{pool: pool, q: db.New(pool), keys: keys, registry: registry, logger: opts.Logger,
		cfg: connectors.Config{HTTPClient: opts.HTTPClient, Logger: opts.Logger}}
}

// Registry is the set of services data sources can use.
func (s *Service) Registry() *connectors.Registry { return s.registry }

func fromRow(r db.DataSource) DataSource {
	d := DataSource{ID: r.ID, OwnerID: r.OwnerID, Service: r.Service, Name: r.Name, Health: r.Health,
		CheckedAt: r.CheckedAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.HealthError != nil {
		d.HealthError = *r.HealthError
	}
	return d
}

// purpose binds a data source's sealed credentials to its row.
func purpose(id string) string { return "data_source:" + id }

// owned is the one ownership check: the owner's data source, or NotFound.
// A move to organizations changes this function and the queries it uses.
func (s *Service) owned(ctx context.Context, q *db.Queries, ownerID, id string) (db.DataSource, error) {
	if !ids.ValidUUID(id) || !ids.ValidUUID(ownerID) {
		return db.DataSource{}, errNotFound
	}
	r, err := q.GetDataSource(ctx, db.GetDataSourceParams{ID: id, OwnerID: ownerID})
	if errors.Is(err, pgx.ErrNoRows) {
		return db.DataSource{}, errNotFound
	}
	return r, err
}

// CreateInput is a new data source.
type CreateInput struct {
	Service     string
	Name        string
	Credentials connectors.Credentials
}

func cleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", apperr.InvalidFields("Give the data source a name.", apperr.FieldError{Field: "name", Message: "is required"})
	case !utf8.ValidString(name) || strings.ContainsRune(name, 0):
		return "", apperr.InvalidFields("The name is not valid text.", apperr.FieldError{Field: "name", Message: "is not valid text"})
	case utf8.RuneCountInString(name) > maxNameLen:
		return "", apperr.InvalidFields(fmt.Sprintf("The name is longer than %d characters.", maxNameLen),
			apperr.FieldError{Field: "name", Message: fmt.Sprintf("is longer than %d characters", maxNameLen)})
	}
	return name, nil
}

// checkCredentials keeps only the service's fields, trims them, caps them
// and lets the service validate them.
func checkCredentials(svc connectors.Service, in connectors.Credentials) (connectors.Credentials, error) {
	out := connectors.Credentials{}
	var fields []apperr.FieldError
	known := map[string]bool{}
	for _, f := range svc.Fields {
		known[f.Key] = true
		v := in[f.Key]
		if !f.Secret {
			v = strings.TrimSpace(v)
		}
		switch {
		case len(v) > maxCredentialLen:
			fields = append(fields, apperr.FieldError{Field: "credentials." + f.Key, Message: fmt.Sprintf("is longer than %d bytes", maxCredentialLen)})
		case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
			fields = append(fields, apperr.FieldError{Field: "credentials." + f.Key, Message: "is not valid text"})
		case v == "" && !f.Optional:
			fields = append(fields, apperr.FieldError{Field: "credentials." + f.Key, Message: "is required"})
		case v != "":
			out[f.Key] = v
		}
	}
	for k := range in {
		if !known[k] {
			fields = append(fields, apperr.FieldError{Field: "credentials." + k, Message: "is not a credential of " + svc.Name})
		}
	}
	if len(fields) > 0 {
		return nil, apperr.InvalidFields("Check the credentials.", fields...)
	}
	if svc.Validate != nil {
		if err := svc.Validate(out); err != nil {
			var ce *connectors.Error
			if errors.As(err, &ce) {
				field := "credentials"
				if ce.Field != "" {
					field += "." + ce.Field
				}
				return nil, apperr.InvalidFields(ce.Message, apperr.FieldError{Field: field, Message: ce.Message})
			}
			return nil, apperr.InvalidFields("Check the credentials.", apperr.FieldError{Field: "credentials", Message: "are not valid"})
		}
	}
	return out, nil
}

func (s *Service) service(id string) (connectors.Service, error) {
	svc, ok := s.registry.Service(id)
	if !ok {
		return connectors.Service{}, apperr.InvalidFields("Pick one of the services offered.",
			apperr.FieldError{Field: "service", Message: "is not a service this server offers"})
	}
	return svc, nil
}

func (s *Service) seal(id string, creds connectors.Credentials) ([]byte, error) {
	plain, err := creds.Seal()
	if err != nil {
		return nil, err
	}
	return s.keys.Seal(purpose(id), plain), nil
}

// Create stores a new data source; it does not contact the service (Test
// does). Errors: Invalid, Conflict (too many).
func (s *Service) Create(ctx context.Context, ownerID string, in CreateInput) (DataSource, error) {
	svc, err := s.service(in.Service)
	if err != nil {
		return DataSource{}, err
	}
	name, err := cleanName(in.Name)
	if err != nil {
		return DataSource{}, err
	}
	creds, err := checkCredentials(svc, in.Credentials)
	if err != nil {
		return DataSource{}, err
	}
	var out DataSource
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		// Serialises one owner's creates, so the cap holds.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, ownerID); err != nil {
			return err
		}
		existing, err := q.ListDataSources(ctx, db.ListDataSourcesParams{OwnerID: ownerID, MaxCount: MaxPerOwner})
		if err != nil {
			return err
		}
		if len(existing) >= MaxPerOwner {
			return apperr.New(apperr.Conflict, "You have %d data sources, the most one person can keep. Delete one first.", MaxPerOwner)
		}
		id, err := q.NewDataSourceID(ctx)
		if err != nil {
			return err
		}
		sealed, err := s.seal(id, creds)
		if err != nil {
			return err
		}
		r, err := q.CreateDataSource(ctx, db.CreateDataSourceParams{ID: id, OwnerID: ownerID, Service: svc.ID, Name: name, Credentials: sealed})
		if err != nil {
			return err
		}
		out = fromRow(r)
		return nil
	})
	return out, err
}

// Get returns one of the owner's data sources. Errors: NotFound.
func (s *Service) Get(ctx context.Context, ownerID, id string) (DataSource, error) {
	r, err := s.owned(ctx, s.q, ownerID, id)
	if err != nil {
		return DataSource{}, err
	}
	return fromRow(r), nil
}

// List returns the owner's data sources by name.
func (s *Service) List(ctx context.Context, ownerID string) ([]DataSource, error) {
	rows, err := s.q.ListDataSources(ctx, db.ListDataSourcesParams{OwnerID: ownerID, MaxCount: MaxPerOwner})
	if err != nil {
		return nil, err
	}
	out := make([]DataSource, len(rows))
	for i, r := range rows {
		out[i] = fromRow(r)
	}
	return out, nil
}

// Rename renames a data source. Errors: Invalid, NotFound.
func (s *Service) Rename(ctx context.Context, ownerID, id, name string) (DataSource, error) {
	name, err := cleanName(name)
	if err != nil {
		return DataSource{}, err
	}
	if _, err := s.owned(ctx, s.q, ownerID, id); err != nil {
		return DataSource{}, err
	}
	r, err := s.q.RenameDataSource(ctx, db.RenameDataSourceParams{ID: id, OwnerID: ownerID, Name: name})
	if errors.Is(err, pgx.ErrNoRows) {
		return DataSource{}, errNotFound
	}
	return fromRow(r), err
}

// ReplaceCredentials stores new credentials; the health is unknown until
// the next check. Errors: Invalid, NotFound.
func (s *Service) ReplaceCredentials(ctx context.Context, ownerID, id string, creds connectors.Credentials) (DataSource, error) {
	r, err := s.owned(ctx, s.q, ownerID, id)
	if err != nil {
		return DataSource{}, err
	}
	svc, err := s.service(r.Service)
	if err != nil {
		return DataSource{}, err
	}
	creds, err = checkCredentials(svc, creds)
	if err != nil {
		return DataSource{}, err
	}
	sealed, err := s.seal(id, creds)
	if err != nil {
		return DataSource{}, err
	}
	r, err = s.q.ReplaceDataSourceCredentials(ctx, db.ReplaceDataSourceCredentialsParams{ID: id, OwnerID: ownerID, Credentials: sealed})
	if errors.Is(err, pgx.ErrNoRows) {
		return DataSource{}, errNotFound
	}
	return fromRow(r), err
}

// UpdateInput changes a data source; nil fields stay as they are.
type UpdateInput struct {
	Name        *string
	Credentials connectors.Credentials // nil keeps the stored ones
}

// Update renames a data source and/or replaces its credentials, checking
// both before storing either, in one transaction: a bad name never leaves
// new credentials behind. New credentials leave the health unknown until
// the next check. Errors: Invalid, NotFound.
func (s *Service) Update(ctx context.Context, ownerID, id string, in UpdateInput) (DataSource, error) {
	r, err := s.owned(ctx, s.q, ownerID, id)
	if err != nil {
		return DataSource{}, err
	}
	var name string
	if in.Name != nil {
		if name, err = cleanName(*in.Name); err != nil {
			return DataSource{}, err
		}
	}
	var sealed []byte
	if in.Credentials != nil {
		svc, err := s.service(r.Service)
		if err != nil {
			return DataSource{}, err
		}
		creds, err := checkCredentials(svc, in.Credentials)
		if err != nil {
			return DataSource{}, err
		}
		if sealed, err = s.seal(id, creds); err != nil {
			return DataSource{}, err
		}
	}
	out := fromRow(r)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if in.Name != nil {
			row, err := q.RenameDataSource(ctx, db.RenameDataSourceParams{ID: id, OwnerID: ownerID, Name: name})
			if err != nil {
				return err
			}
			out = fromRow(row)
		}
		if sealed != nil {
			row, err := q.ReplaceDataSourceCredentials(ctx, db.ReplaceDataSourceCredentialsParams{ID: id, OwnerID: ownerID, Credentials: sealed})
			if err != nil {
				return err
			}
			out = fromRow(row)
		}
		return nil
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return DataSource{}, errNotFound
	}
	return out, err
}

// UsedBy lists the owner's workbooks with tables from the data source, so
// a delete can say what it leaves without a source. Errors: NotFound.
func (s *Service) UsedBy(ctx context.Context, ownerID, id string) ([]WorkbookRef, error) {
	if _, err := s.owned(ctx, s.q, ownerID, id); err != nil {
		return nil, err
	}
	rows, err := s.q.DataSourceUsers(ctx, db.DataSourceUsersParams{DataSourceID: &id, OwnerID: ownerID})
	if err != nil {
		return nil, err
	}
	out := make([]WorkbookRef, len(rows))
	for i, r := range rows {
		out[i] = WorkbookRef{ID: r.ID, Name: r.Name}
	}
	return out, nil
}

// Delete deletes a data source. Its tables stay in their workbooks, with
// their records, but can no longer be pulled or published. Errors: NotFound.
func (s *Service) Delete(ctx context.Context, ownerID, id string) error {
	if _, err := s.owned(ctx, s.q, ownerID, id); err != nil {
		return err
	}
	n, err := s.q.DeleteDataSource(ctx, db.DeleteDataSourceParams{ID: id, OwnerID: ownerID})
	if err != nil {
		return err
	}
	if n == 0 {
		return errNotFound
	}
	return nil
}

// open unseals a data source's credentials and opens its connector.
func (s *Service) open(ctx context.Context, r db.DataSource) (connectors.Connector, error) {
	svc, ok := s.registry.Service(r.Service)
	if !ok {
		return nil, apperr.New(apperr.Conflict, "This server no longer offers the %q service.", r.Service)
	}
	plain, err := s.keys.Open(purpose(r.ID), r.Credentials)
	if err != nil {
		s.logger.Error("data source credentials do not open", "data_source", r.ID, "err", err)
		return nil, apperr.New(apperr.Conflict, "The credentials of this data source cannot be read with this server's encryption key. Enter them again.")
	}
	creds, err := connectors.OpenCredentials(plain)
	if err != nil {
		return nil, err
	}
	cfg := s.cfg
	id := r.ID
	cfg.SaveCredentials = func(ctx context.Context, c connectors.Credentials) error {
		sealed, err := s.seal(id, c)
		if err != nil {
			return err
		}
		return s.q.SaveRefreshedCredentials(ctx, db.SaveRefreshedCredentialsParams{ID: id, Credentials: sealed})
	}
	return svc.Open(ctx, creds, cfg)
}

// Open returns a connector to one of the owner's data sources and its
// service's id; the caller closes it. It implements syncs.Sources.
// Errors: NotFound, Conflict (credentials unreadable).
func (s *Service) Open(ctx context.Context, ownerID, id string) (connectors.Connector, string, error) {
	r, err := s.owned(ctx, s.q, ownerID, id)
	if err != nil {
		return nil, "", err
	}
	c, err := s.open(ctx, r)
	if err != nil {
		return nil, "", err
	}
	return c, r.Service, nil
}

// Test checks the credentials against the service and records the outcome
// as the data source's health. A failed check is not an error: the
// returned data source says why it failed. Errors: NotFound.
func (s *Service) Test(ctx context.Context, ownerID, id string) (DataSource, error) {
	r, err := s.owned(ctx, s.q, ownerID, id)
	if err != nil {
		return DataSource{}, err
	}
	health, msg := HealthOK, ""
	c, err := s.open(ctx, r)
	if err == nil {
		tctx, cancel := context.WithTimeout(ctx, testTimeout)
		err = c.Test(tctx)
		cancel()
		c.Close()
	}
	if err != nil {
		health, msg = HealthFailing, Explain(err)
		s.logger.Info("data source check failed", "data_source", id, "service", r.Service, "err", err)
	}
	var herr *string
	if msg != "" {
		herr = &msg
	}
	r, err = s.q.SetDataSourceHealth(ctx, db.SetDataSourceHealthParams{ID: id, OwnerID: ownerID, Health: health, HealthError: herr})
	if errors.Is(err, pgx.ErrNoRows) {
		return DataSource{}, errNotFound
	}
	return fromRow(r), err
}

// Tables lists the remote tables of a data source whose name contains
// search, at most limit. Errors: NotFound, Unavailable (the service
// failed; the message says why).
func (s *Service) Tables(ctx context.Context, ownerID, id, search string, limit int) ([]connectors.RemoteTable, error) {
	if len(search) > 200 {
		return nil, apperr.InvalidFields("The search is too long.", apperr.FieldError{Field: "search", Message: "is longer than 200 bytes"})
	}
	limit = min(max(limit, 1), 500)
	c, _, err := s.Open(ctx, ownerID, id)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	tctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	tables, err := c.ListTables(tctx, search, limit)
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, err, "%s", Explain(err))
	}
	return tables, nil
}

// Explain words a connector's failure for the person who can fix it; it
// never includes credentials or raw driver text.
func Explain(err error) string {
	var ce *connectors.Error
	if errors.As(err, &ce) && ce.Message != "" {
		return ce.Message
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae.Message
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "The service did not answer in time."
	}
	return "The service could not be reached."
}

// Rotate seals every data source's credentials again with the current key;
// it returns how many it resealed. Run it after making a new key current,
// with the old one still in ENCRYPTION_OLD_KEYS.
func (s *Service) Rotate(ctx context.Context) (int, error) {
	n, after := 0, "00000000-0000-0000-0000-000000000000"
	for {
		rows, err := s.q.DataSourcesToRotate(ctx, after)
		if err != nil {
			return n, err
		}
		for _, r := range rows {
			after = r.ID
			if s.keys.Current(r.Credentials) {
				continue
			}
			sealed, err := s.keys.Reseal(purpose(r.ID), r.Credentials)
			if err != nil {
				return n, fmt.Errorf("data source %s: %w", r.ID, err)
			}
			if err := s.q.ResealDataSource(ctx, db.ResealDataSourceParams{ID: r.ID, Credentials: sealed, OldCredentials: r.Credentials}); err != nil {
				return n, err
			}
			n++
		}
		if len(rows) == 0 {
			return n, nil
		}
	}
}
