//go:build linux

package encrypted

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends/keyringtest"
	"github.com/mcpcred/mcpcred/backends/keyutils"
)

func requireKeyring(t testing.TB) {
	t.Helper()
	if err := keyutils.Check(); err != nil {
		keyringtest.Missing(t, "the kernel keyring cannot be used here: "+err.Error())
	}
}

// TestReboot: a new persistent keyring (another user's: a reboot looks the same to
// the store) is locked, and the same passphrase unlocks the same records.
func TestReboot(t *testing.T) {
	requireKeyring(t)
	if os.Geteuid() != 0 {
		keyringtest.Missing(t, "a second uid needs root")
	}
	const nobody = 65534
	base, err := os.MkdirTemp("", "mcpcred-encrypted-") // t.TempDir's parent is 0700
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	s := New(Config{Dir: filepath.Join(base, "enc"), Timeout: 30 * time.Second, WorkFactor: 10})
	t.Cleanup(func() { _ = s.Lock() })
	c := tctx(t)
	if err := s.Init(pass); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(c, svc, "a", []byte(secretFor("a"))); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlock(pass, time.Minute); err != nil {
		t.Fatal(err)
	}
	exe := copyExe(t, base)
	if err := filepath.WalkDir(s.Dir(), func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, nobody, nobody)
	}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=reboot", "ENC_DIR="+s.Dir(), "ENC_KEY=a")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	cmd.Dir = "/"
	cmd.Stdin = strings.NewReader(passText)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || string(out) != "value:"+secretFor("a") {
		t.Fatalf("other keyring: %q, %v; stderr: %s", out, err, stderr.String())
	}
	// Ours was not touched by theirs.
	if got, err := s.Get(c, svc, "a"); err != nil || string(got) != secretFor("a") {
		t.Fatalf("Get in our keyring after theirs = %q, %v", got, err)
	}
	scan(t, s.Dir())
}

func copyExe(t *testing.T, dir string) string {
	t.Helper()
	from, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(dir, "encrypted.test")
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return to
}
