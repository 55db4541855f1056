package file

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrUnsafeDir is matched by the error of Update and Lock when the directory they
// would keep a secret or a lock in is one that someone else controls
// (checkDirSafe, per OS), or a lock directory that is a symlink.
var ErrUnsafeDir = errors.New("unsafe directory")

// unsafeDirError is one line saying which directory is refused, why, and the
// command that fixes it; it matches ErrUnsafeDir.
type unsafeDirError struct{ msg string }

func (e *unsafeDirError) Error() string        { return e.msg }
func (e *unsafeDirError) Is(target error) bool { return target == ErrUnsafeDir }

func unsafeDir(format string, args ...any) error {
	return &unsafeDirError{msg: fmt.Sprintf(format, args...)}
}

// safeDir is the one check Update and Lock make of the directory they write in,
// before they create it or anything in it: checkDirSafe's ownership and mode
// rule for it and the directories above it.
func safeDir(dir string) error { return checkDirSafe(dir) }

// privateDir makes dir ready to hold a secret: safe by safeDir before anything
// is created (no directory is made under one someone else controls), created
// 0700 if missing, and safe again afterwards, since a directory found existing
// (made by someone else meanwhile, under a sticky /tmp) is judged as it is.
func privateDir(dir string) error {
	if err := safeDir(dir); err != nil {
		return err
	}
	if err := mkdirPrivate(dir); err != nil {
		return err
	}
	return safeDir(dir)
}

// realDir refuses a lock directory that is a symlink, or not a directory: a lock
// file is never created through a link someone could point elsewhere.
func realDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeDir {
		return unsafeDir("refusing to create lock files in %s: it is a symlink or not a directory; remove it (mcpcred creates it anew)", dir)
	}
	return nil
}
