package file

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/mcpcred/mcpcred/backends/lockfile"
)

// The store's lock is package lockfile's; Lock and ErrLockTimeout stay part of
// this package's API for other lock files with the same semantics.
var (
	// ErrLockTimeout is matched by the error of Lock (and Update) when another
	// process held the lock for the whole timeout.
	ErrLockTimeout = lockfile.ErrLockTimeout
	mkdirPrivate   = lockfile.MkdirPrivate
)

// Lock is lockfile.Lock after the directory rules: it refuses (ErrUnsafeDir) a
// lock directory that someone else controls, by the rule of the package doc, and
// one that is a symlink, so a lock file is never created through a link.
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
	return lockfile.Lock(path, timeout)
}
