package file

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// ErrLockTimeout is matched by the error of Lock (and Update) when another process
// held the lock for the whole timeout.
var ErrLockTimeout = errors.New("timed out waiting for lock")

// Lock takes the exclusive lock on the lock file at path, creating the file (mode
// 0600) and its directory (0700) if missing. It refuses (ErrUnsafeDir) a
// directory that someone else controls, by the rule of the package doc, and a
// lock directory that is a symlink; the lock file itself is opened with
// O_NOFOLLOW where the OS has it, so it is never created through a symlink. It tries without blocking, then again
// with a short backoff, until timeout has passed (a timeout <= 0 means one try); then
// it returns an error matching ErrLockTimeout that names path. unlock releases the
// lock and closes the file; call it exactly once. The lock file is never removed.
// Locks exclude each other across processes and also within one process (each Lock
// opens the file anew), and die with the process that holds them. Child processes
// do not inherit them.
func Lock(path string, timeout time.Duration) (unlock func() error, err error) {
	dir := filepath.Dir(path)
	if err := privateDir(dir); err != nil {
		if errors.Is(err, ErrUnsafeDir) {
			return nil, err
		}
		return nil, fmt.Errorf("creating lock directory: %w", err)
	}
	if err := realDir(dir); err != nil {
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
