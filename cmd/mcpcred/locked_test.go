package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpcred/mcpcred/backends/keyringtest"
)

// TestStartedLockedFallsBack runs under `scripts/with-secret-service.sh --locked`
// (gnome-keyring, and KeePassXC whose locked database hides its items and whose
// unlock dialog nobody answers), where the collection starts locked and no prompt
// can be answered: auto stores and gets fall back to the file with the one-line
// notice, keyring mode's store, get and erase fail with one line, and erase never
// succeeds for an item it could not see; git credentials alike. Every command
// ends within --timeout (the prompt is dismissed then). (scripts/test.sh runs that variant; in the unlocked
// run the backend's own TestLocked locks and unlocks the collection instead.)
func TestStartedLockedFallsBack(t *testing.T) {
	if os.Getenv("MCPCRED_TEST_SECRET_SERVICE") != "1" {
		keyringtest.Missing(t, "no private Secret Service (run under scripts/with-secret-service.sh --locked)")
	}
	if os.Getenv("MCPCRED_TEST_SECRET_SERVICE_LOCKED") != "1" {
		keyringtest.Missing(t, "the collection is unlocked in this run; this test needs with-secret-service.sh --locked")
	}
	bin := builtBinary(t)
	home := t.TempDir()
	run := func(stdin string, args ...string) (string, string, error) {
		cmd := exec.Command(bin, append([]string{"--home", home, "--timeout", "1s"}, args...)...)
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
	out, stderr, err := run(id, "get")
	if err != nil || !strings.Contains(out, "access_token=a\n") || !strings.HasPrefix(stderr, "mcpcred: keyring not used (") ||
		!strings.Contains(stderr, "locked") || !strings.HasSuffix(stderr, "; read the plaintext file "+path+" only\n") ||
		strings.Count(stderr, "\n") != 1 {
		t.Errorf("auto get = %q, %q, %v; want the file's token and one notice naming the locked keyring", out, stderr, err)
	}
	for _, c := range []struct{ name, stdin, verb string }{
		{"keyring store", store, "store"},
		{"keyring get", id, "get"},
		{"keyring erase", id, "erase"},
	} {
		out, stderr, err := run(c.stdin, "--store", "keyring", c.verb)
		if procExit(err) != 1 || out != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "locked") {
			t.Errorf("%s = %q, %q, %v; want exit 1 and one line saying the keyring is locked", c.name, out, stderr, err)
		}
	}
	// auto erase: the keyring's copy, if any, cannot be seen, so the erase fails
	// and the file's copy stays.
	out, stderr, err = run(id, "erase")
	if procExit(err) != 1 || out != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "locked") {
		t.Errorf("auto erase = %q, %q, %v; want exit 1 and one line saying the keyring is locked", out, stderr, err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("auto erase that failed removed the file's copy: %v", err)
	}

	// Git credentials follow the same rules, notices included.
	gitPath := filepath.Join(home, "git-credentials.json")
	_, stderr, err = run("protocol=https\nhost=locked.test\nusername=u\npassword=gitpw\n", "store")
	if err != nil || !strings.HasPrefix(stderr, "mcpcred: keyring not used (") ||
		!strings.HasSuffix(stderr, "; stored in the plaintext file "+gitPath+"\n") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("auto git store = %q, %v; want one notice naming the locked keyring and the file", stderr, err)
	}
	out, stderr, err = run("protocol=https\nhost=locked.test\n", "get")
	if err != nil || !strings.Contains(out, "password=gitpw\n") || !strings.HasPrefix(stderr, "mcpcred: keyring not used (") ||
		!strings.Contains(stderr, "locked") || !strings.HasSuffix(stderr, "; read the plaintext file "+gitPath+" only\n") ||
		strings.Count(stderr, "\n") != 1 {
		t.Errorf("auto git get = %q, %q, %v; want the file's credential and one notice naming the locked keyring", out, stderr, err)
	}
}

// procExit is the exit status of a finished command (-1: it did not run).
func procExit(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
