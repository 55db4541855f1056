//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris || windows)

package lockfile

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// tryLock fails: this OS has no lock that excludes other processes and dies with
// its holder, so writing without one would risk lost updates.
func tryLock(*os.File) (bool, error) {
	return false, fmt.Errorf("file locking is not supported on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func unlockFile(*os.File) error { return nil }

const oNoFollow = 0
