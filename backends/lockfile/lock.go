// Package lockfile takes exclusive locks on lock files across processes:
// flock(LOCK_EX) on Unix, LockFileEx on Windows, both the locks Rust's
// File::try_lock takes, so Codex and mcpcred exclude each other. A lock dies with
// its holder's process, so a lock file left by a killed process never blocks, and
// lock files are never deleted (deleting one while another process waits on it
// would let two processes hold "the" lock at once).
package lockfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/mcpcred/mcpcred/backends/dirsafe"
)

// ErrLockTimeout is matched by the error of Lock (and Update) when another process
// held the lock for the whole timeout.
var ErrLockTimeout = errors.New("timed out waiting for lock")

// Lock takes the exclusive lock on the lock file at path, creating the file (mode
// 0600) and its directory (0700, by MkdirPrivate) if missing. It refuses
// (dirsafe.ErrUnsafeDir) a lock directory that someone else controls and one that
// is a symlink, and opens the lock file with O_NOFOLLOW where the OS has it, so a
// lock file is never created through a link. It tries without blocking, then again
// with a short backoff, until timeout has passed (a timeout <= 0 means one try); then
// it returns an error matching ErrLockTimeout that names path. unlock releases the
// lock and closes the file; call it exactly once. The lock file is never removed.
// Locks exclude each other across processes and also within one process (each Lock
// opens the file anew), and die with the process that holds them. Child processes
// do not inherit them.
func Lock(path string, timeout time.Duration) (unlock func() error, err error) {
	dir := filepath.Dir(path)
	if err := MkdirPrivate(dir); err != nil {
		if errors.Is(err, dirsafe.ErrUnsafeDir) {
			return nil, err
		}
		return nil, fmt.Errorf("creating lock directory: %w", err)
	}
	if err := dirsafe.CheckReal(dir); err != nil {
		return nil, err
	}
	f, err := openLockFile(path)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if ok {
			return func() error {
				uerr := unlockFile(f)
				if cerr := f.Close(); uerr == nil {
					uerr = cerr
				}
				return uerr
			}, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			f.Close()
			return nil, fmt.Errorf("%w: %s is held by another process (waited %v)", ErrLockTimeout, path, timeout)
		}
		// Jitter keeps many waiters from retrying in lockstep.
		d := wait/2 + rand.N(wait/2+1)
		d = min(d, left)
		time.Sleep(d)
		wait = min(wait*2, 25*time.Millisecond)
	}
}

func openLockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|oNoFollow, 0o600)
}

// MkdirPrivate makes dir ready to hold a secret or a lock: safe by dirsafe.Check
// before anything is created (no directory is made under one someone else
// controls), created with any missing parents with mode 0700 exactly (whatever
// the umask), and safe again afterwards, since a directory found existing (made
// by someone else meanwhile, under a sticky /tmp) is judged as it is. Directories
// that exist are left alone.
func MkdirPrivate(dir string) error {
	if err := dirsafe.Check(dir); err != nil {
		return err
	}
	if err := mkdirAll(dir); err != nil {
		return err
	}
	return dirsafe.Check(dir)
}

func mkdirAll(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // created by someone else meanwhile: theirs, leave it
		}
		return err
	}
	// Mkdir's mode passed through the umask; where there are no Unix
	// permissions, 0700 keeps the one bit Chmod sets there (writable).
	return os.Chmod(dir, 0o700)
}
