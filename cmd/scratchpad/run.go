package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/app"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/config"
	"github.com/scratchpad/scratchpad/internal/datasources"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/llmkeys"
	"github.com/scratchpad/scratchpad/internal/localpg"
	"github.com/scratchpad/scratchpad/internal/reqlog"
	"github.com/scratchpad/scratchpad/internal/secrets"
	"github.com/scratchpad/scratchpad/migrations"
)

// run dispatches a command line. It is main without the process: tests call
// it with their own arguments, environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	logger := reqlog.New(stderr, cfg.LogLevel, cfg.LogFormat)
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		if err := resolveEncryptionKey(&cfg, logger); err != nil {
			return err
		}
		return withDB(ctx, cfg, logger, func(pool *pgxpool.Pool) error { return serve(ctx, cfg, pool, logger) })
	case "migrate":
		return withDB(ctx, cfg, logger, func(*pgxpool.Pool) error { return nil })
	case "user":
		return userCommand(ctx, cfg, logger, args, stdout)
	case "token":
		return tokenCommand(ctx, cfg, logger, args, stdout)
	case "secrets":
		return secretsCommand(ctx, cfg, logger, args, stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return usageError{"unknown command " + cmd}
}

// withDB connects (starting the private cluster when DATABASE_URL is unset),
// applies migrations, runs fn and tears everything down.
func withDB(ctx context.Context, cfg config.Config, logger *slog.Logger, fn func(*pgxpool.Pool) error) error {
	url := cfg.DatabaseURL
	if url == "" {
		cluster, err := localpg.Start(ctx, localpg.Options{
			Dir: cfg.DataDir + "/postgres", Port: 0, Fsync: true, Logger: logger,
		})
		if err != nil {
			return err
		}
		defer func() {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if err := cluster.Stop(stopCtx); err != nil {
				logger.Error("stopping private PostgreSQL", "err", err)
			}
		}()
		url = cluster.URL()
		logger.Info("using private PostgreSQL", "dir", cfg.DataDir+"/postgres")
	}
	pool, err := db.Connect(ctx, url, cfg.DBMaxConns)
	if err != nil {
		return err
	}
	defer pool.Close()
	sqlDB := stdlib.OpenDBFromPool(pool)
	err = migrations.Up(ctx, sqlDB)
	sqlDB.Close()
	if err != nil {
		return err
	}
	return fn(pool)
}

// resolveEncryptionKey fills in the key that seals stored secrets when
// ENCRYPTION_KEY is unset: a key generated once and kept under DATA_DIR,
// which is what `make run` needs. A server on https refuses, because a key
// on the app's own disk next to its data protects little.
func resolveEncryptionKey(cfg *config.Config, logger *slog.Logger) error {
	if cfg.EncryptionKey != nil {
		return nil
	}
	if cfg.SecureCookies() {
		return errors.New("ENCRYPTION_KEY is not set. A server on https must have one: make it with `openssl rand -base64 32`, keep it safe, and set ENCRYPTION_KEY")
	}
	path := filepath.Join(cfg.DataDir, "encryption.key")
	k, created, err := secrets.LoadOrCreateKeyFile(path)
	if err != nil {
		return err
	}
	if created {
		logger.Warn("ENCRYPTION_KEY is not set: generated one for this machine; set ENCRYPTION_KEY to its contents to keep data sources working elsewhere", "file", path)
	} else {
		logger.Info("ENCRYPTION_KEY is not set: using the key generated earlier", "file", path)
	}
	cfg.EncryptionKey = k
	return nil
}

// secretsCommand runs `scratchpad secrets rotate`: every stored secret is
// sealed again with ENCRYPTION_KEY, opening old ones with
// ENCRYPTION_OLD_KEYS.
func secretsCommand(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "rotate" {
		return usageError{"secrets: want rotate"}
	}
	if err := resolveEncryptionKey(&cfg, logger); err != nil {
		return err
	}
	keys, err := secrets.NewKeyring(cfg.EncryptionKey, cfg.EncryptionOldKeys...)
	if err != nil {
		return err
	}
	return withDB(ctx, cfg, logger, func(pool *pgxpool.Pool) error {
		n, err := datasources.NewService(pool, keys, app.Connectors(), datasources.Options{Logger: logger}).Rotate(ctx)
		if err != nil {
			return fmt.Errorf("secrets rotate: %w (after resealing %d)", err, n)
		}
		m, err := llmkeys.NewService(pool, keys, llmkeys.Options{Logger: logger}).Rotate(ctx)
		n += m
		if err != nil {
			return fmt.Errorf("secrets rotate: %w (after resealing %d)", err, n)
		}
		fmt.Fprintf(stdout, "resealed %d secrets with key %s\n", n, keys.CurrentKeyID())
		return nil
	})
}

func serve(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, logger *slog.Logger) error {
	a, err := app.New(cfg, pool, logger, app.Options{})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return err
	}
	return a.Serve(ctx, ln)
}

func userCommand(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"user: want create or grant-admin"}
	}
	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("user create", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		email := fs.String("email", "", "email address")
		password := fs.String("password", "", "password (at least 10 characters)")
		name := fs.String("name", "", "display name")
		admin := fs.Bool("admin", false, "make the user an admin")
		if err := fs.Parse(args[1:]); err != nil {
			return usageError{"user create: " + err.Error()}
		}
		return withDB(ctx, cfg, logger, func(pool *pgxpool.Pool) error {
			u, err := accounts.NewService(pool).CreateUser(ctx, accounts.SignUpInput{Email: *email, Name: *name, Password: *password}, *admin)
			if err != nil {
				return describe(err)
			}
			fmt.Fprintf(stdout, "created %s (%s) with role %s\n", u.Email, u.ID, u.Role)
			return nil
		})
	case "grant-admin":
		if len(args) != 2 {
			return usageError{"user grant-admin: want exactly one EMAIL"}
		}
		return withDB(ctx, cfg, logger, func(pool *pgxpool.Pool) error {
			u, err := accounts.NewService(pool).GrantAdmin(ctx, args[1])
			if err != nil {
				return describe(err)
			}
			fmt.Fprintf(stdout, "%s is now an admin\n", u.Email)
			return nil
		})
	}
	return usageError{"user: unknown subcommand " + args[0]}
}

func tokenCommand(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{"token: want create"}
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "owner's email")
	name := fs.String("name", "", "token name")
	scopes := fs.String("scopes", "read", "comma-separated scopes")
	expires := fs.Duration("expires", 0, "lifetime such as 720h; 0 never expires")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{"token create: " + err.Error()}
	}
	parsed, err := accounts.ParseScopes(*scopes)
	if err != nil {
		return describe(err)
	}
	return withDB(ctx, cfg, logger, func(pool *pgxpool.Pool) error {
		svc := accounts.NewService(pool)
		u, err := svc.FindUserByEmail(ctx, *email)
		if err != nil {
			return describe(err)
		}
		_, secret, err := svc.CreateToken(ctx, u, accounts.TokenInput{Name: *name, Scopes: parsed, ExpiresIn: *expires})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintln(stdout, secret)
		return nil
	})
}

// describe turns a domain error into a message for the operator's terminal,
// listing invalid fields.
func describe(err error) error {
	var b strings.Builder
	if apperr.KindOf(err) == apperr.Internal {
		return err
	}
	b.WriteString(apperr.MessageOf(err))
	for _, f := range apperr.FieldsOf(err) {
		fmt.Fprintf(&b, "\n  --%s %s", strings.ReplaceAll(f.Field, "_", "-"), f.Message)
	}
	return fmt.Errorf("%s", b.String())
}
