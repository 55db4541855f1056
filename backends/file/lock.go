package file

import (
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

// Lock is lockfile.Lock.
func Lock(path string, timeout time.Duration) (unlock func() error, err error) {
	return lockfile.Lock(path, timeout)
}
