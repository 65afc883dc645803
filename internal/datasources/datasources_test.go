package datasources_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/app"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/datasources"
	"github.com/scratchpad/scratchpad/internal/secrets"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

type fixture struct {
	pool       *pgxpool.Pool
	svc        *datasources.Service
	alice, bob string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool := testdb.New(t)
	k, _ := secrets.ParseKey(secrets.NewKey())
	ring, err := secrets.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{pool: pool, svc: datasources.NewService(pool, ring, app.Connectors(), datasources.Options{})}
	acc := accounts.NewService(pool)
	for who, id := range map[string]*string{"alice": &f.alice, "bob": &f.bob} {
		u, err := acc.CreateUser(context.Background(), accounts.SignUpInput{
			Email: who + "@example.com", Name: who, Password: "correct horse battery"}, false)
		if err != nil {
			t.Fatal(err)
		}
		*id = u.ID
	}
	return f
}

func kindOf(err error) apperr.Kind {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae.Kind
	}
	return ""
}

func TestCreateStoresCredentialsSealedAndChecksThem(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	const secret = "s3cr3t-password-xyz"
	ds, err := f.svc.Create(ctx, f.alice, datasources.CreateInput{Service: "postgres", Name: "  Shop  ",
		Credentials: connectors.Credentials{"connection_string": "postgres://shop:" + secret + "@db.example.com/shop"}})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Name != "Shop" || ds.Health != datasources.HealthUnknown || ds.Service != "postgres" {
		t.Errorf("created %+v", ds)
	}
	var raw []byte
	if err := f.pool.QueryRow(ctx, `SELECT credentials FROM data_sources WHERE id = $1`, ds.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), secret) || strings.Contains(string(raw), "db.example.com") {
		t.Error("credentials are stored in the clear")
	}

	bad := []datasources.CreateInput{
		{Service: "ftp", Name: "x", Credentials: connectors.Credentials{"connection_string": "postgres://a@b/c"}},
		{Service: "postgres", Name: " ", Credentials: connectors.Credentials{"connection_string": "postgres://a@b/c"}},
		{Service: "postgres", Name: strings.Repeat("n", 201), Credentials: connectors.Credentials{"connection_string": "postgres://a@b/c"}},
		{Service: "postgres", Name: "x", Credentials: connectors.Credentials{}},
		{Service: "postgres", Name: "x", Credentials: connectors.Credentials{"connection_string": "postgres://a@b/c", "extra": "1"}},
		{Service: "postgres", Name: "x", Credentials: connectors.Credentials{"connection_string": strings.Repeat("p", 9000)}},
		{Service: "postgres", Name: "x", Credentials: connectors.Credentials{"connection_string": "mysql://a@b/c"}},
	}
	for i, in := range bad {
		if _, err := f.svc.Create(ctx, f.alice, in); kindOf(err) != apperr.Invalid {
			t.Errorf("bad input %d: %v", i, err)
		}
	}
}

func TestAnotherUsersDataSourceIsNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	ds, err := f.svc.Create(ctx, f.alice, datasources.CreateInput{Service: "postgres", Name: "Shop",
		Credentials: connectors.Credentials{"connection_string": testdb.NewURL(t)}})
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]error{}
	_, checks["get"] = f.svc.Get(ctx, f.bob, ds.ID)
	_, checks["rename"] = f.svc.Rename(ctx, f.bob, ds.ID, "Mine")
	_, checks["replace"] = f.svc.ReplaceCredentials(ctx, f.bob, ds.ID, connectors.Credentials{"connection_string": "postgres://x@y/z"})
	_, checks["test"] = f.svc.Test(ctx, f.bob, ds.ID)
	_, checks["tables"] = f.svc.Tables(ctx, f.bob, ds.ID, "", 10)
	_, _, checks["open"] = f.svc.Open(ctx, f.bob, ds.ID)
	_, checks["used by"] = f.svc.UsedBy(ctx, f.bob, ds.ID)
	checks["delete"] = f.svc.Delete(ctx, f.bob, ds.ID)
	_, checks["malformed id"] = f.svc.Get(ctx, f.alice, "not-a-uuid")
	for what, err := range checks {
		if kindOf(err) != apperr.NotFound {
			t.Errorf("%s by another user: %v", what, err)
		}
	}
	if list, _ := f.svc.List(ctx, f.bob); len(list) != 0 {
		t.Errorf("bob lists %d data sources", len(list))
	}
	if got, err := f.svc.Get(ctx, f.alice, ds.ID); err != nil || got.Name != "Shop" {
		t.Errorf("alice's data source changed: %+v %v", got, err)
	}
}

func TestHealthRecordsTheLastCheck(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	ds, err := f.svc.Create(ctx, f.alice, datasources.CreateInput{Service: "postgres", Name: "Shop",
		Credentials: connectors.Credentials{"connection_string": testdb.NewURL(t)}})
	if err != nil {
		t.Fatal(err)
	}
	ds, err = f.svc.Test(ctx, f.alice, ds.ID)
	if err != nil || ds.Health != datasources.HealthOK || ds.CheckedAt == nil || ds.HealthError != "" {
		t.Fatalf("check of a working database: %+v %v", ds, err)
	}
	tables, err := f.svc.Tables(ctx, f.alice, ds.ID, "", 500)
	if err != nil || len(tables) == 0 {
		t.Fatalf("tables: %d %v", len(tables), err)
	}

	const secret = "pw-never-shown-123"
	ds, err = f.svc.ReplaceCredentials(ctx, f.alice, ds.ID, connectors.Credentials{
		"connection_string": "postgres://nobody:" + secret + "@127.0.0.1:1/none?connect_timeout=2"})
	if err != nil || ds.Health != datasources.HealthUnknown || ds.CheckedAt != nil {
		t.Fatalf("new credentials keep the old health: %+v %v", ds, err)
	}
	ds, err = f.svc.Test(ctx, f.alice, ds.ID)
	if err != nil || ds.Health != datasources.HealthFailing || ds.HealthError == "" || ds.CheckedAt == nil {
		t.Fatalf("check of an unreachable database: %+v %v", ds, err)
	}
	if strings.Contains(ds.HealthError, secret) {
		t.Errorf("the health error shows the password: %q", ds.HealthError)
	}
	if _, err := f.svc.Tables(ctx, f.alice, ds.ID, "", 10); kindOf(err) != apperr.Unavailable || strings.Contains(err.Error(), secret) {
		t.Errorf("tables of an unreachable database: %v", err)
	}
}

func TestUpdateChecksBothBeforeStoringEither(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	ds, err := f.svc.Create(ctx, f.alice, datasources.CreateInput{Service: "postgres", Name: "Shop",
		Credentials: connectors.Credentials{"connection_string": "postgres://shop@db.example.com/shop"}})
	if err != nil {
		t.Fatal(err)
	}
	sealed := func() []byte {
		var raw []byte
		if err := f.pool.QueryRow(ctx, `SELECT credentials FROM data_sources WHERE id = $1`, ds.ID).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		return raw
	}
	before := sealed()

	blank := "  "
	_, err = f.svc.Update(ctx, f.alice, ds.ID, datasources.UpdateInput{Name: &blank,
		Credentials: connectors.Credentials{"connection_string": "postgres://other@db.example.com/other"}})
	if kindOf(err) != apperr.Invalid {
		t.Fatalf("blank name: %v", err)
	}
	bad := "Shop 2"
	_, err = f.svc.Update(ctx, f.alice, ds.ID, datasources.UpdateInput{Name: &bad,
		Credentials: connectors.Credentials{"connection_string": "mysql://x@h/db"}})
	if kindOf(err) != apperr.Invalid {
		t.Fatalf("credentials of another service: %v", err)
	}
	if got, _ := f.svc.Get(ctx, f.alice, ds.ID); got.Name != "Shop" || string(sealed()) != string(before) {
		t.Fatalf("a refused update changed the data source: %+v", got)
	}
	if _, err := f.svc.Update(ctx, f.bob, ds.ID, datasources.UpdateInput{Name: &bad}); kindOf(err) != apperr.NotFound {
		t.Fatalf("bob's update: %v", err)
	}

	got, err := f.svc.Update(ctx, f.alice, ds.ID, datasources.UpdateInput{Name: &bad,
		Credentials: connectors.Credentials{"connection_string": "postgres://other@db.example.com/other"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Shop 2" || got.Health != datasources.HealthUnknown || string(sealed()) == string(before) {
		t.Fatalf("after the update: %+v", got)
	}
}
