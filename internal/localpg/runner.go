package localpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// serverUser is the system account that owns the cluster when this process
// runs as root, because initdb and pg_ctl refuse to run as root.
const serverUser = "postgres"

// runner runs the PostgreSQL binaries of one installation, as the postgres
// system user when this process is root and as the current user otherwise.
type runner struct {
	binDir string
	// owner is set only when this process is root: the account the binaries
	// run as and that must own the data directory.
	owner *user.User
}

func newRunner(binDir string) (runner, error) {
	r := runner{binDir: binDir}
	if os.Geteuid() != 0 {
		return r, nil
	}
	u, err := user.Lookup(serverUser)
	if err != nil {
		return r, fmt.Errorf("running as root needs the %q system user to own the cluster "+
			"(initdb and pg_ctl refuse to run as root): %w", serverUser, err)
	}
	if _, err := exec.LookPath("runuser"); err != nil {
		return r, fmt.Errorf("running as root needs runuser to start PostgreSQL as %q: %w", serverUser, err)
	}
	r.owner = u
	return r, nil
}

// command builds the command for one PostgreSQL binary, running in workDir
// so the postgres user never needs access to our working directory.
func (r runner) command(ctx context.Context, workDir, name string, args ...string) *exec.Cmd {
	path := filepath.Join(r.binDir, name)
	var cmd *exec.Cmd
	if r.owner == nil {
		cmd = exec.CommandContext(ctx, path, args...)
	} else {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", r.owner.Username, "--", path}, args...)...)
	}
	cmd.Dir = workDir
	// The postmaster pg_ctl starts writes to its own log file, but should a
	// child keep our output pipes open, don't wait on it forever.
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs one PostgreSQL binary and folds its output into the error, which
// is where initdb and pg_ctl explain what went wrong.
func (r runner) run(ctx context.Context, workDir, name string, args ...string) error {
	out, err := r.command(ctx, workDir, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// prepareDir creates dir (mode 0700, as PostgreSQL demands) and, when running
// as root, hands it to the postgres user and lets that user traverse every
// parent directory.
func (r runner) prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	if r.owner == nil {
		return nil
	}
	uid, err := strconv.Atoi(r.owner.Uid)
	if err != nil {
		return fmt.Errorf("uid of %q: %w", r.owner.Username, err)
	}
	gid, err := strconv.Atoi(r.owner.Gid)
	if err != nil {
		return fmt.Errorf("gid of %q: %w", r.owner.Username, err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return err
	}
	return allowTraversal(filepath.Dir(dir))
}

// allowTraversal adds the search (x) permission for others to dir and its
// parents where it is missing, so the postgres user can reach a data directory
// under, say, a test's private temporary directory. It grants no right to list
// or change those directories.
func allowTraversal(dir string) error {
	for {
		info, err := os.Stat(dir)
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(dir, info.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("let %q reach the data directory: %w", serverUser, err)
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}

// isInitialized reports whether dir already holds a cluster, which we keep
// and reuse rather than initialize again.
func isInitialized(dir string) (bool, error) {
	_, err := os.Stat(filepath.Join(dir, "PG_VERSION"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
