package lockfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLockExcludes: a second Lock of the same file, in this process too, waits
// out its timeout and names the file; after unlock it gets the lock. The lock
// file stays.
func TestLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locks", "a.lock")
	unlock, err := Lock(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(path, 50*time.Millisecond); !errors.Is(err, ErrLockTimeout) || !strings.Contains(err.Error(), path) {
		t.Fatalf("second Lock = %v, want ErrLockTimeout naming %s", err, path)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	again, err := Lock(path, 0)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	if err := again(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the lock file was removed: %v", err)
	}
}
