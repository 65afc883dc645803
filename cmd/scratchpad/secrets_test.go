package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/app"
	"github.com/scratchpad/scratchpad/internal/config"
	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/datasources"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/secrets"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

// TestServeWithoutKeyOnHTTPSRefuses: a real deployment must bring its own
// key; only a local `make run` gets one generated.
func TestServeWithoutKeyOnHTTPSRefuses(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": "postgres://unused", "BASE_URL": "https://sp.example.com", "DATA_DIR": t.TempDir()}
	err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, &strings.Builder{}, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "ENCRYPTION_KEY is not set") {
		t.Fatalf("serve on https without a key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(env["DATA_DIR"], "encryption.key")); !os.IsNotExist(err) {
		t.Errorf("a key file was written: %v", err)
	}
}

// TestServeWithoutKeyKeepsOneUnderDataDir: with nothing configured, the
// first start writes a key and later starts reuse it.
func TestServeWithoutKeyKeepsOneUnderDataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := mustConfig(t, map[string]string{"DATA_DIR": dir})
	if err := resolveEncryptionKey(&cfg, discardLogger()); err != nil {
		t.Fatal(err)
	}
	first := cfg.EncryptionKey
	raw, err := os.ReadFile(filepath.Join(dir, "encryption.key"))
	if err != nil || len(first) != secrets.KeySize {
		t.Fatalf("key file: %v", err)
	}
	if k, _ := secrets.ParseKey(string(raw)); string(k) != string(first) {
		t.Error("the key in use is not the one in the file")
	}
	cfg = mustConfig(t, map[string]string{"DATA_DIR": dir})
	if err := resolveEncryptionKey(&cfg, discardLogger()); err != nil || string(cfg.EncryptionKey) != string(first) {
		t.Fatalf("second start: another key (%v)", err)
	}
}

// TestSecretsRotate: credentials sealed with the old key open with the new
// key alone after `scratchpad secrets rotate`.
func TestSecretsRotate(t *testing.T) {
	t.Parallel()
	url := testdb.NewURL(t)
	oldKey, newKey := secrets.NewKey(), secrets.NewKey()
	ctx := context.Background()

	pool, err := db.Connect(ctx, url, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// The operator's database is migrated by any command; use one.
	op := &operator{t: t, env: map[string]string{"DATABASE_URL": url, "LOG_LEVEL": "warn", "ENCRYPTION_KEY": oldKey}}
	op.MustRun("migrate")
	u, err := accounts.NewService(pool).CreateUser(ctx, accounts.SignUpInput{Email: "ops@example.com", Name: "Ops", Password: "correct horse battery"}, false)
	if err != nil {
		t.Fatal(err)
	}
	ring := func(cur string, old ...string) *secrets.Keyring {
		c, _ := secrets.ParseKey(cur)
		var o [][]byte
		for _, k := range old {
			b, _ := secrets.ParseKey(k)
			o = append(o, b)
		}
		r, err := secrets.NewKeyring(c, o...)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	oldSvc := datasources.NewService(pool, ring(oldKey), app.Connectors(), datasources.Options{})
	ds, err := oldSvc.Create(ctx, u.ID, datasources.CreateInput{Service: "postgres", Name: "Shop",
		Credentials: connectors.Credentials{"connection_string": "postgres://shop:pw@db.example.com/shop"}})
	if err != nil {
		t.Fatal(err)
	}
	newOnly := datasources.NewService(pool, ring(newKey), app.Connectors(), datasources.Options{})
	if _, _, err := newOnly.Open(ctx, u.ID, ds.ID); err == nil {
		t.Fatal("the new key alone opened credentials sealed with the old one")
	}

	op.env["ENCRYPTION_KEY"], op.env["ENCRYPTION_OLD_KEYS"] = newKey, oldKey
	if out := op.MustRun("secrets", "rotate"); !strings.HasPrefix(out, "resealed 1 secrets") {
		t.Fatalf("rotate said %q", out)
	}
	c, svc, err := newOnly.Open(ctx, u.ID, ds.ID)
	if err != nil || svc != "postgres" {
		t.Fatalf("after rotation the new key alone: %v", err)
	}
	c.Close()
	if out := op.MustRun("secrets", "rotate"); !strings.HasPrefix(out, "resealed 0 secrets") {
		t.Errorf("a second rotation resealed again: %q", out)
	}
	if _, err := op.Run("secrets", "spin"); err == nil {
		t.Error("an unknown secrets subcommand was accepted")
	}
}

func mustConfig(t testing.TB, env map[string]string) config.Config {
	t.Helper()
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
