package file

import (
	"time"

	"github.com/mcpcred/mcpcred/backends/dirsafe"
	"github.com/mcpcred/mcpcred/backends/lockfile"
)

// The store's lock is package lockfile's and its directory rules are package
// dirsafe's; Lock, ErrLockTimeout and ErrUnsafeDir stay part of this package's
// API for other lock files with the same semantics.
var (
	// ErrLockTimeout is matched by the error of Lock (and Update) when another
	// process held the lock for the whole timeout.
	ErrLockTimeout = lockfile.ErrLockTimeout
	// ErrUnsafeDir is matched by the error of Update and Lock when the directory
	// they would keep a secret or a lock in is one that someone else controls, or
	// a lock directory that is a symlink.
	ErrUnsafeDir = dirsafe.ErrUnsafeDir
	mkdirPrivate = lockfile.MkdirPrivate
)

// Lock is lockfile.Lock.
func Lock(path string, timeout time.Duration) (unlock func() error, err error) {
	return lockfile.Lock(path, timeout)
}
