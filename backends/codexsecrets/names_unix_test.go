//go:build unix

package codexsecrets_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mcpcred/mcpcred/backends/codexsecrets"
)

// TestAccountThroughSymlink: a CODEX_HOME reached through a symlink hashes as its
// target, as with Rust's canonicalize. (Unix only: Wine does not resolve symlinks.)
func TestAccountThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if a, b := codexsecrets.PassphraseAccount(filepath.Join(dir, "link")), codexsecrets.PassphraseAccount(real); a != b {
		t.Errorf("account through a symlink %q != %q", a, b)
	}
}
