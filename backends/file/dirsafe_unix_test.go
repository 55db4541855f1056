//go:build unix

package file

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends/dirsafe"
	"github.com/mcpcred/mcpcred/backends/keyringtest"
)

// nobody is the second uid the ownership tests give directories.
const nobody = 65534

// chownNobody gives p to uid 65534, which needs root: the tests run as root in
// CI.
func chownNobody(t *testing.T, p string) {
	t.Helper()
	if os.Getuid() != 0 {
		keyringtest.Missing(t, "giving a directory to another uid needs root")
	}
	if err := os.Chown(p, nobody, nobody); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, p string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(p, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func storeOne(home string) error {
	s := New(filepath.Join(home, ".credentials.json"), filepath.Join(home, "mcp-oauth-locks", "file-store.lock"), time.Second)
	return s.Update(func(m map[string]json.RawMessage) (bool, error) {
		m["k"] = json.RawMessage(`"secret"`)
		return true, nil
	})
}

// untouched fails if anything was created in home.
func untouched(t *testing.T, home string) {
	t.Helper()
	ents, err := os.ReadDir(home)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		t.Fatalf("%s holds %v after a refusal", home, ents)
	}
}

func me() string { return dirsafe.DescribeUID(os.Getuid()) }

// A home owned by another user, or a directory above it owned by another user,
// is refused with one line naming the chown that fixes it; nothing is written.
func TestUnsafeDirOwner(t *testing.T) {
	base := t.TempDir()
	t.Setenv("HOME", filepath.Join(base, "user"))
	uid := strconv.Itoa(os.Getuid())

	home := mkdir(t, filepath.Join(base, "theirs"), 0o700)
	chownNobody(t, home)
	err := storeOne(home)
	want := "refusing to keep secrets in " + home + ": it is owned by uid 65534 (nobody), not by you (" + me() + ") or root; run: chown " + uid + " " + home
	if !errors.Is(err, ErrUnsafeDir) || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	untouched(t, home)

	// Above the home: the walk goes up to /, since this is not under $HOME.
	parent := mkdir(t, filepath.Join(base, "shared"), 0o755)
	chownNobody(t, parent)
	home = mkdir(t, filepath.Join(parent, "home"), 0o700)
	if err := storeOne(home); !errors.Is(err, ErrUnsafeDir) || err.Error() != "refusing to keep secrets in "+home+": "+parent+" is owned by uid 65534 (nobody), not by you ("+me()+") or root; run: chown "+uid+" "+parent {
		t.Fatalf("err = %v", err)
	}
	untouched(t, home)

	// The refresh lock alone (another lock file in the same directory) is refused
	// the same way, before its directory is created.
	if _, err := Lock(filepath.Join(home, "mcp-oauth-locks", "abc.lock"), time.Second); !errors.Is(err, ErrUnsafeDir) {
		t.Fatalf("Lock: %v", err)
	}
	untouched(t, home)

	// A symlink to a directory someone else owns is judged by that directory.
	link := filepath.Join(base, "link")
	if err := os.Symlink(filepath.Join(base, "theirs"), link); err != nil {
		t.Fatal(err)
	}
	if err := storeOne(link); !errors.Is(err, ErrUnsafeDir) {
		t.Fatalf("through a symlink: %v", err)
	}

	// Doctor's status names the owner and the problem.
	st := New(filepath.Join(base, "theirs", ".credentials.json"), "", time.Second).Status()
	if st.DirOwner != "uid 65534 (nobody)" || len(st.Problems) != 0 || len(st.DirProblems) != 1 || !strings.HasPrefix(st.DirProblems[0], "refusing to keep secrets in ") {
		t.Fatalf("status %+v", st)
	}
}

// A home, or a directory above it, that others can write is refused; group
// write counts, as for ssh. A root-owned sticky directory above it (/tmp) is
// fine, but not as the home itself.
func TestUnsafeDirMode(t *testing.T) {
	base := t.TempDir()
	t.Setenv("HOME", filepath.Join(base, "user"))
	for _, mode := range []os.FileMode{0o777, 0o775, 0o757, 0o777 | os.ModeSticky} {
		home := mkdir(t, filepath.Join(base, "home-"+strconv.FormatUint(uint64(mode.Perm()), 8)+map[bool]string{true: "t"}[mode&os.ModeSticky != 0]), mode)
		err := storeOne(home)
		want := "refusing to keep secrets in " + home + ": it is writable by others (mode " + "0" + strconv.FormatUint(uint64(mode.Perm()), 8) + "); run: chmod go-w " + home
		if !errors.Is(err, ErrUnsafeDir) || err.Error() != want {
			t.Fatalf("mode %o: err = %v\nwant %s", mode, err, want)
		}
		untouched(t, home)
	}
	open := mkdir(t, filepath.Join(base, "open"), 0o777)
	home := filepath.Join(open, "home")
	if err := storeOne(home); !errors.Is(err, ErrUnsafeDir) || err.Error() != "refusing to keep secrets in "+home+": "+open+" is writable by others (mode 0777); run: chmod go-w "+open {
		t.Fatalf("under a 0777 directory: %v", err)
	}
	if _, err := os.Stat(home); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the home was created under a 0777 directory: %v", err)
	}
	// 0755 and 0700 homes are fine, and so is a 0711 one.
	for _, mode := range []os.FileMode{0o755, 0o700, 0o711} {
		home := mkdir(t, filepath.Join(base, "ok-"+strconv.FormatUint(uint64(mode), 8)), mode)
		if err := storeOne(home); err != nil {
			t.Fatalf("mode %o: %v", mode, err)
		}
	}
}

// A sticky directory owned by root above the home is allowed: this is /tmp.
func TestStickyRootParent(t *testing.T) {
	if os.Getuid() != 0 {
		keyringtest.Missing(t, "a root-owned sticky directory other than /tmp needs root to make")
	}
	base := t.TempDir()
	t.Setenv("HOME", filepath.Join(base, "user"))
	sticky := mkdir(t, filepath.Join(base, "tmp"), 0o777|os.ModeSticky)
	if err := storeOne(filepath.Join(sticky, "home")); err != nil {
		t.Fatal(err)
	}
	// The same directory owned by another user is refused.
	other := mkdir(t, filepath.Join(base, "tmp2"), 0o777|os.ModeSticky)
	chownNobody(t, other)
	if err := storeOne(filepath.Join(other, "home")); !errors.Is(err, ErrUnsafeDir) {
		t.Fatalf("sticky, not root's: %v", err)
	}
}

// The walk stops at the user's home directory, as ssh's does: what is above it
// is the administrator's.
func TestUnsafeDirStopsAtHome(t *testing.T) {
	base := t.TempDir()
	above := mkdir(t, filepath.Join(base, "above"), 0o777)
	user := mkdir(t, filepath.Join(above, "user"), 0o700)
	t.Setenv("HOME", user)
	if err := storeOne(filepath.Join(user, ".codex")); err != nil {
		t.Fatalf("under $HOME: %v", err)
	}
	// The home itself is checked.
	if err := os.Chmod(user, 0o770); err != nil {
		t.Fatal(err)
	}
	if err := storeOne(filepath.Join(user, ".codex")); !errors.Is(err, ErrUnsafeDir) {
		t.Fatalf("a group-writable $HOME: %v", err)
	}
}

// Lock files are never created through a symlink: neither a symlinked lock
// directory nor a symlinked lock file is followed.
func TestLockNoSymlinks(t *testing.T) {
	base := t.TempDir()
	t.Setenv("HOME", filepath.Join(base, "user"))
	target := mkdir(t, filepath.Join(base, "elsewhere"), 0o700)
	home := mkdir(t, filepath.Join(base, "home"), 0o700)
	locks := filepath.Join(home, "mcp-oauth-locks")
	if err := os.Symlink(target, locks); err != nil {
		t.Fatal(err)
	}
	_, err := Lock(filepath.Join(locks, "file-store.lock"), time.Second)
	if !errors.Is(err, ErrUnsafeDir) || err.Error() != "refusing to create lock files in "+locks+": it is a symlink or not a directory; remove it (mcpcred creates it anew)" {
		t.Fatalf("symlinked lock directory: %v", err)
	}
	if err := storeOne(home); !errors.Is(err, ErrUnsafeDir) {
		t.Fatalf("store with a symlinked lock directory: %v", err)
	}
	untouched(t, target)

	if err := os.Remove(locks); err != nil {
		t.Fatal(err)
	}
	mkdir(t, locks, 0o700)
	victim := filepath.Join(target, "victim")
	if err := os.Symlink(victim, filepath.Join(locks, "file-store.lock")); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(filepath.Join(locks, "file-store.lock"), time.Second); err == nil {
		t.Fatal("a symlinked lock file was opened")
	}
	if _, err := os.Lstat(victim); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a file was created through the symlink: %v", err)
	}
}

// Put, the write a store makes, refuses an unsafe directory as Update does,
// before it takes the lock; nothing is written.
func TestUnsafeDirPut(t *testing.T) {
	base := t.TempDir()
	t.Setenv("HOME", filepath.Join(base, "user"))
	home := mkdir(t, filepath.Join(base, "home"), 0o777)
	s := New(filepath.Join(home, ".credentials.json"), filepath.Join(home, "mcp-oauth-locks", "file-store.lock"), time.Second)
	_, err := s.Put("k", []byte(`"secret"`), nil)
	want := "refusing to keep secrets in " + home + ": it is writable by others (mode 0777); run: chmod go-w " + home
	if !errors.Is(err, ErrUnsafeDir) || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	untouched(t, home)
}
