//go:build unix

package lockfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mcpcred/mcpcred/backends/dirsafe"
)

// TestLockRefusesUnsafeDir: every lock (the file store's and the refresh lock
// alike) takes the directory rules where its directory is created: no lock
// directory is made under a directory others can write, a lock directory others
// can write is refused, and so is a symlinked one; nothing is created.
func TestLockRefusesUnsafeDir(t *testing.T) {
	base := t.TempDir()
	t.Setenv("HOME", filepath.Join(base, "user"))

	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	_, err := Lock(filepath.Join(open, "locks", "a.lock"), 0)
	if want := "refusing to keep secrets in " + filepath.Join(open, "locks") + ": " + open + " is writable by others (mode 0777); run: chmod go-w " + open; !errors.Is(err, dirsafe.ErrUnsafeDir) || err.Error() != want {
		t.Fatalf("lock under a world-writable directory: %v, want %q", err, want)
	}
	_, err = Lock(filepath.Join(open, "a.lock"), 0)
	if want := "refusing to keep secrets in " + open + ": it is writable by others (mode 0777); run: chmod go-w " + open; !errors.Is(err, dirsafe.ErrUnsafeDir) || err.Error() != want {
		t.Fatalf("lock in a world-writable directory: %v, want %q", err, want)
	}
	if ents, err := os.ReadDir(open); err != nil || len(ents) != 0 {
		t.Fatalf("%s holds %v (%v) after the refusals", open, ents, err)
	}

	target := filepath.Join(base, "elsewhere")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "locks")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	_, err = Lock(filepath.Join(link, "a.lock"), 0)
	if want := "refusing to create lock files in " + link + ": it is a symlink or not a directory; remove it (mcpcred creates it anew)"; !errors.Is(err, dirsafe.ErrUnsafeDir) || err.Error() != want {
		t.Fatalf("symlinked lock directory: %v, want %q", err, want)
	}
	if ents, err := os.ReadDir(target); err != nil || len(ents) != 0 {
		t.Fatalf("%s holds %v (%v): a lock file went through the symlink", target, ents, err)
	}
}
