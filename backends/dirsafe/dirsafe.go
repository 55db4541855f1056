// Package dirsafe holds the rules for a directory mcpcred keeps secrets or lock
// files in. Check is ssh's rule for ~/.ssh (its StrictModes): the directory and
// each directory above it, up to and including the user's home directory (up to
// / when it is not under the home), with symlinks resolved, must be owned by the
// user or root and not writable by group or others; a root-owned sticky directory
// above it (/tmp) is allowed, never as the directory itself. Where the OS has no
// Unix owners and modes (Windows) Check accepts every directory: access there is
// the ACL of the user's profile. CheckReal refuses a directory that is a symlink,
// for lock directories. Each refusal is one line naming the directory and the
// command that fixes it, and matches ErrUnsafeDir.
package dirsafe

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrUnsafeDir is matched by the error of Check and CheckReal.
var ErrUnsafeDir = errors.New("unsafe directory")

// unsafeDirError is one line saying which directory is refused, why, and the
// command that fixes it; it matches ErrUnsafeDir.
type unsafeDirError struct{ msg string }

func (e *unsafeDirError) Error() string        { return e.msg }
func (e *unsafeDirError) Is(target error) bool { return target == ErrUnsafeDir }

func unsafeDir(format string, args ...any) error {
	return &unsafeDirError{msg: fmt.Sprintf(format, args...)}
}

// CheckReal refuses a lock directory that is a symlink, or not a directory: a
// lock file is never created through a link someone could point elsewhere.
func CheckReal(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeDir {
		return unsafeDir("refusing to create lock files in %s: it is a symlink or not a directory; remove it (mcpcred creates it anew)", dir)
	}
	return nil
}
