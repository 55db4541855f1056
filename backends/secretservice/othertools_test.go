//go:build linux || freebsd || openbsd || netbsd || (dragonfly && cgo)

package secretservice

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends/keyringtest"
)

// debianPython is Debian's python3, whose dist-packages hold python3-keyring (a
// python3 earlier on PATH, such as pyenv's, may not have it).
const debianPython = "/usr/bin/python3"

// pythonKeyring runs python's keyring library (its Secret Service backend, on the
// script's bus) with one call; the password, if any, goes on stdin.
func pythonKeyring(t *testing.T, stdin, code string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, debianPython, "-c", `import sys
from keyring.backends.SecretService import Keyring
k = Keyring()
`+code)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python keyring: %v\n%s", err, out)
	}
	return string(out)
}

func requirePythonKeyring(t *testing.T) {
	t.Helper()
	if err := exec.Command(debianPython, "-c", "import keyring.backends.SecretService").Run(); err != nil {
		keyringtest.Missing(t, "Debian's python3-keyring is not installed ("+debianPython+" cannot import keyring)")
	}
}

// TestPythonKeyringDuplicate: python's keyring set_password on mcpcred's key adds a
// second item (its application attribute differs, so the service's replace does
// not match ours). mcpcred reads the newer; a store over it leaves one item,
// which python then reads; an erase removes both, and python finds nothing.
// (Python's set_password over an item that exists is not used: KeePassXC 2.7.4
// fails such a replace and python then waits for ever.)
func TestPythonKeyringDuplicate(t *testing.T) {
	kr := realKeyring(t, Config{})
	requirePythonKeyring(t)
	ctx := tctx(t)
	svc, stored, erased := unique("mcpcred-test-"), "stored", "erased"
	for _, acct := range []string{stored, erased} {
		t.Cleanup(func() { _ = kr.Delete(context.Background(), svc, acct) })
		if err := kr.Set(ctx, svc, acct, []byte("from-mcpcred")); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1100 * time.Millisecond) // Modified counts seconds
	for _, acct := range []string{stored, erased} {
		pythonKeyring(t, "from-python", "k.set_password("+pyStr(svc)+", "+pyStr(acct)+", sys.stdin.read())")
		items, err := kr.SearchItems(ctx, keyAttrs(svc, acct))
		if err != nil || len(items) != 2 {
			t.Fatalf("after python's set_password: %d items, %v; want mcpcred's and python's", len(items), err)
		}
		it, err := kr.ReadItem(ctx, items[0])
		if err != nil || it.Attributes["application"] == "mcpcred" {
			t.Fatalf("the newest item = %+v, %v; want python's", it, err)
		}
		if got, err := kr.Get(ctx, svc, acct); err != nil || string(got) != "from-python" {
			t.Fatalf("Get = %q, %v; want python's newer item", got, err)
		}
	}
	if err := kr.Set(ctx, svc, stored, []byte("stored-by-mcpcred")); err != nil {
		t.Fatal(err)
	}
	if items, err := kr.SearchItems(ctx, keyAttrs(svc, stored)); err != nil || len(items) != 1 {
		t.Fatalf("after Set: %d items, %v; want 1", len(items), err)
	}
	if got := pythonKeyring(t, "", "print(k.get_password("+pyStr(svc)+", "+pyStr(stored)+"))"); got != "stored-by-mcpcred\n" {
		t.Fatalf("python get_password after mcpcred's store = %q", got)
	}
	if err := kr.Delete(ctx, svc, erased); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if items, err := kr.SearchItems(ctx, keyAttrs(svc, erased)); err != nil || len(items) != 0 {
		t.Fatalf("after Delete: %d items, %v; want none", len(items), err)
	}
	if got := pythonKeyring(t, "", "print(k.get_password("+pyStr(svc)+", "+pyStr(erased)+"))"); got != "None\n" {
		t.Fatalf("python get_password after mcpcred's erase = %q, want None", got)
	}
}

// TestPythonKeyringDuplicateDoctor: the pair python's keyring makes is named by
// Doctor, and the rest of checkDuplicates holds for it.
func TestPythonKeyringDuplicateDoctor(t *testing.T) {
	kr := realKeyring(t, Config{})
	requirePythonKeyring(t)
	ctx := tctx(t)
	svc, acct := unique("mcpcred-test-"), "a"
	t.Cleanup(func() { _ = kr.Delete(context.Background(), svc, acct) })
	if err := kr.Set(ctx, svc, acct, []byte("from-mcpcred")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // Modified counts seconds
	pythonKeyring(t, "from-python", "k.set_password("+pyStr(svc)+", "+pyStr(acct)+", sys.stdin.read())")
	checkDuplicates(t, kr, svc, acct, "from-python")
}

// pyStr quotes s (test names: letters, digits, '-') as a python string literal.
func pyStr(s string) string { return "'" + s + "'" }
