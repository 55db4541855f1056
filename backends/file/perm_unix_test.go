//go:build unix

package file

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Modes are exact whatever the umask.
func TestPermissionsUmask(t *testing.T) {
	for _, mask := range []int{0o022, 0o277, 0} {
		// The test's own directory exists first: under umask 0 t.TempDir makes
		// it 0777, which the store rightly refuses to write under.
		base := t.TempDir()
		old := syscall.Umask(mask)
		path := filepath.Join(base, "new", ".credentials.json")
		lockPath := filepath.Join(base, "new", "mcp-oauth-locks", "file-store.lock")
		err := New(path, lockPath, time.Second).Update(func(m map[string]json.RawMessage) (bool, error) {
			m["k"] = json.RawMessage(`1`)
			return true, nil
		})
		syscall.Umask(old)
		if err != nil {
			t.Fatalf("umask %04o: %v", mask, err)
		}
		for p, want := range map[string]os.FileMode{filepath.Dir(path): 0o700, path: 0o600, filepath.Dir(lockPath): 0o700} {
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
				t.Errorf("umask %04o: %s is %v, want %04o", mask, p, fi.Mode(), want)
			}
		}
	}
}

// Symlinks (which need privileges on Windows) and Unix modes: Unix only.
func TestSymlinkRefused(t *testing.T) {
	dir, path, lockPath := paths(t)
	target := filepath.Join(dir, "real.json")
	os.WriteFile(target, []byte(vector), 0o600)
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	s := New(path, lockPath, time.Second)
	if _, err := s.Read(); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("Read: %v", err)
	}
	if err := s.Update(touch(true)); err == nil {
		t.Error("Update through a symlink succeeded")
	}
	if fi, _ := os.Lstat(path); fi.Mode()&fs.ModeSymlink == 0 {
		t.Error("symlink replaced")
	}
	if st := s.Status(); !st.Exists || len(st.Problems) == 0 {
		t.Errorf("Status = %+v", st)
	}
}

func TestPermissions(t *testing.T) {
	base := t.TempDir()
	// Missing directories are created 0700.
	dir := filepath.Join(base, "a", "b")
	path := filepath.Join(dir, "creds.json")
	lockPath := filepath.Join(base, "locks", "x", "file-store.lock")
	s := New(path, lockPath, time.Second)
	add := func(m map[string]json.RawMessage) (bool, error) { m["k"] = json.RawMessage(`1`); return true, nil }
	if err := s.Update(add); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]fs.FileMode{
		filepath.Join(base, "a"): 0o700, dir: 0o700, path: 0o600,
		filepath.Join(base, "locks"): 0o700, filepath.Dir(lockPath): 0o700, lockPath: 0o600,
	} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %04o", p, fi.Mode(), err, want)
		}
	}
	if st := s.Status(); !st.Exists || len(st.Problems) != 0 || len(st.DirProblems) != 0 || st.Mode != 0o600 || st.DirMode != 0o700 {
		t.Errorf("Status = %+v", st)
	}
	// An existing file with other modes is 0600 after a write; an existing
	// directory's mode is left alone.
	os.Chmod(dir, 0o755)
	os.Chmod(path, 0o644)
	if st := s.Status(); len(st.Problems) != 1 || len(st.DirProblems) != 1 {
		t.Errorf("Status = %+v", st)
	}
	if err := s.Update(add); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v", fi.Mode())
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o755 {
		t.Errorf("existing dir mode changed to %v", fi.Mode())
	}
}
