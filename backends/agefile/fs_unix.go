//go:build unix

package agefile

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// chmodPrivate makes the file 0600 exactly, whatever the umask took away.
func chmodPrivate(f *os.File) error { return f.Chmod(0o600) }

func chmodDirPrivate(dir string) error { return os.Chmod(dir, 0o700) }

// syncDir makes a rename in dir durable. File systems that cannot fsync a
// directory are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}
