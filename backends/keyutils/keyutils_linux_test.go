//go:build linux

package keyutils

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/keyringtest"
)

// These tests use the real kernel keyring of the user running them. Each uses its
// own key description, and removes its keys, so that parallel runs (and other users
// of root's persistent keyring) are not disturbed.

const childEnv = "MCPCRED_KEYUTILS_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(runChild(mode, os.Getenv("KU_DESC")))
	}
	os.Exit(m.Run())
}

// runChild runs in a new anonymous session keyring, which does not link the user
// keyring: a process started by a service or in a container looks like this.
// Session keyrings belong to a thread's credentials, so the thread is pinned.
func runChild(mode, desc string) int {
	runtime.LockOSThread()
	// A NULL name makes an anonymous keyring (an empty name is EINVAL).
	if _, err := unix.KeyctlInt(unix.KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "join session:", err)
		return 2
	}
	switch mode {
	case "get":
		v, err := Get(desc)
		if errors.Is(err, backends.ErrNotFound) {
			fmt.Print("notfound")
			return 0
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Print("value:" + string(v))
		return 0
	case "putget":
		if err := Put(desc, []byte("child-secret"), time.Minute); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		v, err := Get(desc)
		_ = Drop(desc)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Print("value:" + string(v))
		return 0
	}
	return 2
}

func requireKeyring(t *testing.T) {
	t.Helper()
	if err := Check(); err != nil {
		keyringtest.Missing(t, "the kernel keyring cannot be used here: "+err.Error())
	}
}

func uniqueDesc(t *testing.T) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	d := "mcpcred-test:" + t.Name() + ":" + hex.EncodeToString(b)
	t.Cleanup(func() { _ = Drop(d) })
	return d
}

func TestPutGetReplaceDrop(t *testing.T) {
	requireKeyring(t)
	d := uniqueDesc(t)
	if _, err := Get(d); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Get of an absent key: %v, want ErrNotFound", err)
	}
	for _, v := range []string{"AGE-SECRET-KEY-1ONE", "AGE-SECRET-KEY-1TWO-LONGER"} {
		if err := Put(d, []byte(v), time.Minute); err != nil {
			t.Fatalf("Put: %v", err)
		}
		got, err := Get(d)
		if err != nil || string(got) != v {
			t.Fatalf("Get = %q, %v; want %q", got, err, v)
		}
	}
	if err := Drop(d); err != nil {
		t.Fatalf("Drop: %v", err)
	}
	if _, err := Get(d); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Get after Drop: %v, want ErrNotFound", err)
	}
	if err := Drop(d); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("second Drop: %v, want ErrNotFound", err)
	}
}

func TestPayloadLimits(t *testing.T) {
	requireKeyring(t)
	d := uniqueDesc(t)
	if err := Put(d, nil, time.Minute); err == nil {
		t.Fatal("Put of an empty payload succeeded")
	}
	var tl *backends.TooLongError
	if err := Put(d, make([]byte, MaxPayload+1), time.Minute); !errors.As(err, &tl) {
		t.Fatalf("Put of %d bytes: %v, want a TooLongError", MaxPayload+1, err)
	}
	if err := Put(d, []byte("x"), 0); err == nil {
		t.Fatal("Put with no expiry succeeded")
	}
	big := bytes.Repeat([]byte{0, 1, 2, 0xff}, 1024) // binary payloads survive
	if err := Put(d, big, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, err := Get(d); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Get of a 4 KiB binary payload: %d bytes, %v", len(got), err)
	}
}

func TestExpiry(t *testing.T) {
	requireKeyring(t)
	d := uniqueDesc(t)
	if err := Put(d, []byte("short-lived"), time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := Get(d); err != nil {
		t.Fatalf("Get right after Put: %v", err)
	}
	// The kernel expires the key within 3 s; allow a loaded machine ample time.
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := Get(d)
		if errors.Is(err, backends.ErrNotFound) {
			return
		}
		if err != nil {
			t.Fatalf("Get of an expiring key: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the key was still readable 15 s after a 1 s expiry")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// childCmd re-executes the test binary in mode; with uid > 0 it runs as that user,
// from a copy of the binary that the user may execute.
func childCmd(t *testing.T, mode, desc string, uid int) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if uid > 0 {
		// Not t.TempDir: its parent is 0700.
		dir, err := os.MkdirTemp("", "mcpcred-keyutils-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		exe = copyExe(t, exe, filepath.Join(dir, "keyutils.test"))
	}
	c := exec.Command(exe, "-test.run=^$")
	c.Env = append(os.Environ(), childEnv+"="+mode, "KU_DESC="+desc)
	if uid > 0 {
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
		c.Dir = "/"
	}
	return c
}

func copyExe(t *testing.T, from, to string) string {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return to
}

func runChildCmd(t *testing.T, c *exec.Cmd) string {
	t.Helper()
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		t.Fatalf("child: %v; stderr: %s", err, stderr.String())
	}
	return string(out)
}

// A process in a fresh session, which does not link the user keyring, still reads
// the key: the persistent keyring is linked into its session first.
func TestFreshSessionReads(t *testing.T) {
	requireKeyring(t)
	d := uniqueDesc(t)
	if err := Put(d, []byte("cached-identity"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := runChildCmd(t, childCmd(t, "get", d, 0)); got != "value:cached-identity" {
		t.Fatalf("child in a new session read %q", got)
	}
}

// Another user has a persistent keyring of its own: it does not see ours, and
// its own works from a fresh session too.
func TestOtherUser(t *testing.T) {
	requireKeyring(t)
	if os.Geteuid() != 0 {
		keyringtest.Missing(t, "switching to a second uid needs root")
	}
	d := uniqueDesc(t)
	if err := Put(d, []byte("root-only"), time.Minute); err != nil {
		t.Fatal(err)
	}
	const nobody = 65534
	if got := runChildCmd(t, childCmd(t, "get", d, nobody)); got != "notfound" {
		t.Fatalf("uid %d read our key: %q", nobody, got)
	}
	if got := runChildCmd(t, childCmd(t, "putget", d, nobody)); got != "value:child-secret" {
		t.Fatalf("uid %d with its own key read %q", nobody, got)
	}
	if got, err := Get(d); err != nil || string(got) != "root-only" {
		t.Fatalf("our key after the other user wrote the same description: %q, %v", got, err)
	}
}

// refuse makes the named system call fail with errno for the rest of the test, as
// a seccomp filter does.
func refuse(t *testing.T, call string, errno syscall.Errno) {
	t.Helper()
	switch call {
	case "keyctl":
		old1, old2, old3 := keyctlInt, keyctlBuffer, keyctlSearch
		keyctlInt = func(int, int, int, int, int) (int, error) { return 0, errno }
		keyctlBuffer = func(int, int, []byte, int) (int, error) { return 0, errno }
		keyctlSearch = func(int, string, string, int) (int, error) { return 0, errno }
		t.Cleanup(func() { keyctlInt, keyctlBuffer, keyctlSearch = old1, old2, old3 })
	case "add_key":
		old := addKey
		addKey = func(string, string, []byte, int) (int, error) { return 0, errno }
		t.Cleanup(func() { addKey = old })
	default:
		t.Fatalf("no such call %q", call)
	}
}

func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		call  string
		errno syscall.Errno
		want  error
	}{
		{"keyctl", unix.EPERM, ErrRefused},  // Docker's default seccomp profile
		{"keyctl", unix.ENOSYS, ErrRefused}, // a filter answering "no such call"
		{"keyctl", unix.EOPNOTSUPP, ErrUnsupported},
	} {
		t.Run(tc.call+"-"+tc.errno.Error(), func(t *testing.T) {
			refuse(t, tc.call, tc.errno)
			d := "mcpcred-test:refused"
			checks := map[string]error{"Check": Check(), "Put": Put(d, []byte("s"), time.Minute), "Drop": Drop(d)}
			_, checks["Get"] = Get(d)
			for name, err := range checks {
				if !errors.Is(err, tc.want) || !errors.Is(err, backends.ErrUnavailable) {
					t.Errorf("%s: %v, want %v (and ErrUnavailable)", name, err, tc.want)
				}
			}
		})
	}
	// Podman's profile allows keyctl but not add_key: reads work, Put is refused.
	t.Run("add_key-EPERM", func(t *testing.T) {
		requireKeyring(t)
		refuse(t, "add_key", unix.EPERM)
		d := uniqueDesc(t)
		if err := Put(d, []byte("s"), time.Minute); !errors.Is(err, ErrRefused) {
			t.Fatalf("Put: %v, want ErrRefused", err)
		}
		if _, err := Get(d); !errors.Is(err, backends.ErrNotFound) {
			t.Fatalf("Get: %v, want ErrNotFound", err)
		}
	})
}

func TestErrorsHoldNoPayload(t *testing.T) {
	refuse(t, "add_key", unix.EDQUOT)
	requireKeyring(t)
	err := Put("mcpcred-test:quota", []byte("SECRET-PAYLOAD"), time.Minute)
	if err == nil || strings.Contains(err.Error(), "SECRET-PAYLOAD") || !strings.Contains(err.Error(), "quota") {
		t.Fatalf("Put over quota: %v", err)
	}
}
