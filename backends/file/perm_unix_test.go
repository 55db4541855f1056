//go:build unix

package file

import (
	"encoding/json"
	"os"
	"path/filepath"
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
