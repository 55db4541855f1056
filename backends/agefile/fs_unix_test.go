//go:build unix

package agefile

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPermissions(t *testing.T) {
	dir, path := paths(t)
	id := testIdentity(t)
	f := New(path, filepath.Join(dir, "locks", "x.lock"), time.Second)
	if err := f.Create(id.Recipient(), []byte("a")); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]fs.FileMode{path: 0o600, filepath.Dir(path): 0o700, filepath.Join(dir, "locks"): 0o700} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Fatalf("%s: mode %v, %v; want %04o", p, fi.Mode().Perm(), err, want)
		}
	}
	// Codex writes 0644; our next write makes it 0600.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.Update(With(id, id.Recipient()), func(p []byte) ([]byte, bool, error) { return []byte("b"), true, nil }); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after Update %04o, want 0600", fi.Mode().Perm())
	}
}

// Symlinks are tested on Unix only: Windows needs a privilege for them, and Wine
// does not report them as such.
func TestSymlinkRefused(t *testing.T) {
	dir, path := paths(t)
	id := testIdentity(t)
	target := filepath.Join(dir, "target.age")
	if err := New(target, target+".lock", time.Second).Create(id.Recipient(), []byte("t")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	f := New(path, path+".lock", time.Second)
	if _, err := f.Read(id); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Read through a symlink: %v", err)
	}
	if err := f.Update(With(id, id.Recipient()), func(p []byte) ([]byte, bool, error) { return []byte("x"), true, nil }); err == nil {
		t.Fatal("Update through a symlink succeeded")
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatal("the symlink was replaced")
	}
}
