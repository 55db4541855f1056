package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpcred/mcpcred/backends/keyringtest"
)

// TestLockedKeyringFallsBack runs under `scripts/with-secret-service.sh --locked`,
// whose collection starts locked and no prompt can be answered: auto stores fall
// back to the file with the one-line notice, keyring mode fails with one line, and
// neither waits for a prompt. (scripts/test.sh runs that variant; in the unlocked
// run the backend's own TestLocked locks and unlocks the collection instead.)
func TestLockedKeyringFallsBack(t *testing.T) {
	if os.Getenv("MCPCRED_TEST_SECRET_SERVICE") != "1" {
		keyringtest.Missing(t, "no private Secret Service (run under scripts/with-secret-service.sh --locked)")
	}
	if os.Getenv("MCPCRED_TEST_SECRET_SERVICE_LOCKED") != "1" {
		t.Skip("the collection is unlocked in this run; scripts/test.sh runs this test under with-secret-service.sh --locked")
	}
	bin := builtBinary(t)
	home := t.TempDir()
	run := func(stdin string, args ...string) (string, string, error) {
		cmd := exec.Command(bin, append([]string{"--home", home, "--timeout", "5s"}, args...)...)
		cmd.Env = append(os.Environ(), "DISPLAY=", "WAYLAND_DISPLAY=")
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	store := "server_name=locked\nurl=https://locked.test/mcp\nclient_id=c\naccess_token=a\n"
	id := "server_name=locked\nurl=https://locked.test/mcp\n"

	_, stderr, err := run(store, "store")
	if err != nil {
		t.Fatalf("auto store: %v: %s", err, stderr)
	}
	path := filepath.Join(home, ".credentials.json")
	if !strings.HasPrefix(stderr, "mcpcred: keyring not used (") || !strings.Contains(stderr, "locked") ||
		!strings.HasSuffix(stderr, "; stored in the plaintext file "+path+"\n") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("auto store said %q; want one notice naming the locked keyring and the file", stderr)
	}
	if out, stderr, err := run(id, "get"); err != nil || !strings.Contains(out, "access_token=a\n") || stderr != "" {
		t.Errorf("auto get = %q, %q, %v", out, stderr, err)
	}
	out, stderr, err := run(store, "--store", "keyring", "store")
	if err == nil || out != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "locked") {
		t.Errorf("keyring store = %q, %q, %v; want exit 1 and one line saying the keyring is locked", out, stderr, err)
	}
}
