package localpg

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// postmasterPID is what a running server writes to postmaster.pid: its
// process id on the first line and its port on the fourth.
type postmasterPID struct {
	pid  int
	port int
}

// readPostmasterPID reads dir/postmaster.pid; ok is false when there is none.
func readPostmasterPID(dir string) (p postmasterPID, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if errors.Is(err, fs.ErrNotExist) {
		return p, false, nil
	}
	if err != nil {
		return p, false, err
	}
	// A server writes the file in steps, so a starting server's file may
	// not name its port yet; port stays zero then.
	lines := strings.Split(string(b), "\n")
	p.pid, _ = strconv.Atoi(strings.TrimSpace(lines[0]))
	if len(lines) >= 4 {
		p.port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	}
	return p, true, nil
}

// serverAlive reports whether p names a live postmaster serving dir. A
// postmaster.pid left by a crash or a reboot can name a process id that has
// since been given to another program; on Linux we tell them apart by the
// process's working directory, which a postmaster sets to its data directory.
func serverAlive(p postmasterPID, dir string) bool {
	if p.pid <= 0 {
		return false
	}
	err := syscall.Kill(p.pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", p.pid))
	if err != nil {
		// No /proc (macOS) or no right to look: trust the signal probe.
		return true
	}
	return samePath(cwd, dir)
}

func samePath(a, b string) bool {
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	if errA != nil || errB != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return ra == rb
}
