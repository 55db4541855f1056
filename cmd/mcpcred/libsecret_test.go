package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends/keyringtest"
)

// libsecretSource is where Debian's git package ships git-credential-libsecret's
// source: the helper git 2.39 (Debian 12) has, which looks credentials up under
// org.gnome.keyring.NetworkPassword only and keeps the bare password.
const libsecretSource = "/usr/share/doc/git/contrib/credential/libsecret/git-credential-libsecret.c"

// buildLibsecretHelper compiles Debian's git-credential-libsecret (needs gcc,
// pkg-config and libsecret-1-dev, which scripts/test.sh installs).
func buildLibsecretHelper(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(libsecretSource); err != nil {
		keyringtest.Missing(t, "git's contrib source is not installed ("+libsecretSource+")")
	}
	for _, tool := range []string{"gcc", "pkg-config"} {
		if _, err := exec.LookPath(tool); err != nil {
			keyringtest.Missing(t, tool+" is not installed")
		}
	}
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "libsecret-1", "glib-2.0").Output()
	if err != nil {
		keyringtest.Missing(t, "libsecret-1-dev is not installed (pkg-config libsecret-1 failed)")
	}
	bin := filepath.Join(t.TempDir(), "git-credential-libsecret")
	args := append([]string{"-O2", "-o", bin, libsecretSource}, strings.Fields(string(flags))...)
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("building git-credential-libsecret: %v\n%s", err, out)
	}
	return bin
}

// TestGitLibsecret239: git 2.39 with its own libsecret helper finds what mcpcred
// stored (the password, without the expiry and refresh token lines the newer
// layout appends), mcpcred finds what that helper stored, a password changed by
// the old helper is the one mcpcred then reads, and mcpcred's erase leaves the old
// helper nothing. Real git drives both helpers.
func TestGitLibsecret239(t *testing.T) {
	requireGit(t)
	if os.Getenv("MCPCRED_TEST_SECRET_SERVICE") != "1" {
		keyringtest.Missing(t, "no private Secret Service (run the tests under scripts/with-secret-service.sh)")
	}
	if os.Getenv("MCPCRED_TEST_SECRET_SERVICE_LOCKED") == "1" {
		keyringtest.Missing(t, "the collection was started locked (--locked); this test needs it unlocked")
	}
	lib := buildLibsecretHelper(t)
	e := newGitEnv(t, mcpcredBinary(t), "keyring", "abs")
	old := []string{"-c", "credential.helper=", "-c", "credential.helper=" + lib}
	stamp := strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	host, host2 := "lib239-"+stamp+".example", "lib239b-"+stamp+".example"
	t.Cleanup(func() {
		for _, h := range []string{host, host2} {
			_, _ = e.helperCall("erase", "protocol=https\nhost="+h+"\n")
		}
	})

	// mcpcred stores (as git 2.41+ would send it: expiry and refresh token).
	e.helperCall("store", "protocol=https\nhost="+host+"\nusername=u\npassword=mcpcred-pw\npassword_expiry_utc=9999999999\noauth_refresh_token=rt\n")
	e.check("fill", "protocol=https\nhost="+host+"\n", "protocol=https\nhost="+host+"\nusername=u\npassword=mcpcred-pw\n", "", old...)
	got, _ := e.helperCall("get", "protocol=https\nhost="+host+"\n")
	if want := "username=u\npassword=mcpcred-pw\noauth_refresh_token=rt\npassword_expiry_utc=9999999999\n"; got != want {
		t.Fatalf("mcpcred get = %q, want %q", got, want)
	}

	// The old helper changes the password (git approve after a new login); the
	// item it rewrote is then the newest (Modified counts seconds). Not on
	// KeePassXC: 2.7.4 fails a CreateItem that replaces an existing item and never
	// completes its prompt, so libsecret itself waits there for ever.
	if os.Getenv("MCPCRED_TEST_SECRET_SERVICE_PROVIDER") != "keepassxc" {
		time.Sleep(1100 * time.Millisecond)
		e.check("approve", "protocol=https\nhost="+host+"\nusername=u\npassword=changed-by-git-2.39\n", "", "", old...)
		got, _ = e.helperCall("get", "protocol=https\nhost="+host+"\n")
		if want := "username=u\npassword=changed-by-git-2.39\n"; got != want {
			t.Fatalf("mcpcred get after the old helper's store = %q, want %q", got, want)
		}
	}

	// The old helper stores; mcpcred, driven by git, finds it.
	e.check("approve", "protocol=https\nhost="+host2+"\nusername=v\npassword=lib-pw\n", "", "", old...)
	e.check("fill", "url=https://"+host2+"\n", "protocol=https\nhost="+host2+"\nusername=v\npassword=lib-pw\n", "")

	// mcpcred erases (git reject): the old helper finds nothing for either host.
	for _, h := range []string{host, host2} {
		e.check("reject", "protocol=https\nhost="+h+"\n", "", "")
		out, errs, err := e.run("protocol=https\nhost="+h+"\n", lib, "get")
		if err != nil || out != "" {
			t.Fatalf("the old helper's get after mcpcred's erase = %q, %q, %v; want nothing", out, errs, err)
		}
	}
}
