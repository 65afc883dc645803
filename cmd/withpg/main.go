// Command withpg runs a command with TEST_DATABASE_URL pointing at a
// PostgreSQL server, so `make test` works on any machine with PostgreSQL's
// server binaries and no database set up:
//
//	go run ./cmd/withpg -- go test ./...
//
// When TEST_DATABASE_URL is already set (CI with a service container, a
// developer's own server) the command runs unchanged. Otherwise withpg starts a
// private cluster under .data/test-postgres at the module root, runs the
// command against it, stops the cluster and exits with the command's status.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/scratchpad/scratchpad/internal/localpg"
)

const envURL = "TEST_DATABASE_URL"

func main() {
	os.Exit(run())
}

func run() int {
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: withpg -- command [args...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		flag.Usage()
		return 2
	}
	if os.Getenv(envURL) != "" {
		return runCommand(args, nil)
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dir := filepath.Join(moduleRoot(), ".data", "test-postgres")
	// Signals arriving while the cluster starts cancel the start; once the
	// command runs, runCommand forwards them instead.
	startCtx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cluster, err := localpg.Start(startCtx, localpg.Options{
		Dir:      dir,
		Database: "postgres",
		Logger:   logger,
	})
	stopSignals()
	if err != nil {
		fmt.Fprintln(os.Stderr, "withpg:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "withpg: %s=%s\n", envURL, cluster.URL())

	code := runCommand(args, []string{envURL + "=" + cluster.URL()})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cluster.Stop(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "withpg:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// runCommand runs args with the extra environment entries, passing standard
// streams through and forwarding signals, and returns the exit status a shell
// would report for it.
func runCommand(args, extraEnv []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), extraEnv...)

	// Take signals before starting, so none is lost or kills us instead of
	// reaching the command and letting us stop the cluster afterwards.
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(signals)

	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "withpg:", err)
		return 127
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-signals:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	return exitCode(err)
}

// exitCode maps a command's end to a shell-style status: its own exit code,
// or 128 plus the signal that killed it.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		fmt.Fprintln(os.Stderr, "withpg:", err)
		return 1
	}
	if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return exitErr.ExitCode()
}

// moduleRoot finds the directory holding go.mod above the working directory,
// so running withpg from a subdirectory reuses the same cluster; it falls
// back to the working directory.
func moduleRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			return wd
		}
	}
}
