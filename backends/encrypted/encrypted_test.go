package encrypted

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/keyringtest"
	"github.com/mcpcred/mcpcred/backends/keyutils"
	"github.com/mcpcred/mcpcred/backends/killtest"
)

// The tests run against the real kernel keyring of the user running them; each
// store has its own directory and so its own key description.

const (
	svc      = "mcpcred-test"
	childEnv = "MCPCRED_ENCRYPTED_CHILD"
	passText = "correct horse battery staple"
)

var pass = []byte(passText)

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(runChild(mode))
	}
	os.Exit(m.Run())
}

func runChild(mode string) int {
	s := New(Config{Dir: os.Getenv("ENC_DIR"), Timeout: time.Minute, WorkFactor: 10})
	ctx := context.Background()
	key := os.Getenv("ENC_KEY")
	fail := func(err error) int { fmt.Fprintln(os.Stderr, err); return 1 }
	switch mode {
	case "set":
		if err := s.Set(ctx, svc, key, []byte(secretFor(key))); err != nil {
			return fail(err)
		}
		return 0
	case "loop":
		pad := strings.Repeat("p", 2048)
		for n := 0; ; n++ {
			k := fmt.Sprintf("%s-%d", key, n)
			if err := s.Set(ctx, svc, k, []byte(secretFor(k)+pad)); err != nil {
				return fail(err)
			}
			fmt.Println("done " + k)
		}
	case "reboot": // a process of another user: a persistent keyring of its own
		p, err := io.ReadAll(os.Stdin)
		if err != nil {
			return fail(err)
		}
		if _, err := s.Get(ctx, svc, key); !errors.Is(err, ErrLocked) {
			return fail(fmt.Errorf("Get in a new keyring: %v, want ErrLocked", err))
		}
		if err := s.Unlock(p, time.Minute); err != nil {
			return fail(err)
		}
		defer s.Lock()
		v, err := s.Get(ctx, svc, key)
		if err != nil {
			return fail(err)
		}
		fmt.Print("value:" + string(v))
		return 0
	}
	return 2
}

// secretFor is the secret stored under key: distinctive, so scans find it.
func secretFor(key string) string { return "s3cr3t-" + key + "-TOKEN" }

func newStore(t testing.TB) *Store {
	t.Helper()
	s := New(Config{Dir: filepath.Join(t.TempDir(), "enc"), Timeout: 30 * time.Second, WorkFactor: 10})
	t.Cleanup(func() { _ = s.Lock() })
	return s
}

func tctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// scan fails if any file under dir, temp files included, holds a secret in clear:
// one of secrets, the passphrase, or an age identity.
func scan(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	needles := append([]string{passText, "AGE-SECRET-KEY-", "s3cr3t-"}, secrets...)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // a temp file renamed meanwhile
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(data, []byte(n)) {
				t.Fatalf("%s holds %q in clear", p, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
	if errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("%s: %v matches ErrUnavailable, which would let auto fall back to the plain file", what, err)
	}
}

func TestLifecycle(t *testing.T) {
	requireKeyring(t)
	s := newStore(t)
	c := tctx(t)
	dir := s.Dir()
	step := func() { t.Helper(); scan(t, filepath.Dir(dir)) }

	wantErr(t, "Set before a passphrase", s.Set(c, svc, "a", []byte(secretFor("a"))), ErrNoPassphrase)
	wantErr(t, "Unlock before a passphrase", s.Unlock(pass, time.Minute), ErrNoPassphrase)
	if _, err := s.Get(c, svc, "a"); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Get of an empty store: %v", err)
	}
	if s.Initialized() {
		t.Fatal("Initialized before Init")
	}
	step()

	if err := s.Init(pass); err != nil {
		t.Fatal(err)
	}
	if err := s.Init([]byte("other")); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second Init: %v, want ErrExist", err)
	}
	step()

	// Store while locked: needs only the recipient.
	if err := s.Set(c, svc, "a", []byte(secretFor("a"))); err != nil {
		t.Fatalf("Set while locked: %v", err)
	}
	step()
	_, err := s.Get(c, svc, "a")
	wantErr(t, "Get while locked", err, ErrLocked)
	if !strings.Contains(err.Error(), "mcpcred unlock") {
		t.Fatalf("the locked error does not name `mcpcred unlock`: %v", err)
	}
	if got, err := s.List(c, svc); err != nil || len(got) != 1 || got[0] != "a" {
		t.Fatalf("List while locked = %q, %v", got, err)
	}

	wantErr(t, "Unlock with the wrong passphrase", s.Unlock([]byte("wrong"), time.Minute), ErrWrongPassphrase)
	wantErr(t, "Unlock with no passphrase", s.Unlock(nil, time.Minute), ErrWrongPassphrase)
	_, err = s.Get(c, svc, "a")
	wantErr(t, "Get after a wrong passphrase", err, ErrLocked)
	step()

	if err := s.Unlock(pass, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(c, svc, "a"); err != nil || string(got) != secretFor("a") {
		t.Fatalf("Get after Unlock = %q, %v", got, err)
	}
	if err := s.Set(c, svc, "b", []byte(secretFor("b"))); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(c, svc, "b"); err != nil || string(got) != secretFor("b") {
		t.Fatalf("Get of a record stored while unlocked = %q, %v", got, err)
	}
	if !strings.Contains(strings.Join(s.Doctor(c), "\n"), "unlocked") {
		t.Fatalf("Doctor while unlocked: %q", s.Doctor(c))
	}
	step()

	if err := s.Lock(); err != nil {
		t.Fatal(err)
	}
	if err := s.Lock(); err != nil {
		t.Fatalf("Lock of a locked store: %v", err)
	}
	_, err = s.Get(c, svc, "b")
	wantErr(t, "Get after Lock", err, ErrLocked)
	if doc := strings.Join(s.Doctor(c), "\n"); !strings.Contains(doc, "locked; run `mcpcred unlock`") || !strings.Contains(doc, "2 records") {
		t.Fatalf("Doctor while locked: %q", doc)
	}
	if err := s.Delete(c, svc, "a"); err != nil {
		t.Fatalf("Delete while locked: %v", err)
	}
	if err := s.Delete(c, svc, "a"); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
	step()
}

func TestExpiry(t *testing.T) {
	requireKeyring(t)
	s := newStore(t)
	c := tctx(t)
	if err := s.Init(pass); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(c, svc, "a", []byte(secretFor("a"))); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlock(pass, time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(c, svc, "a"); err != nil {
		t.Fatalf("Get right after Unlock: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second) // the kernel expires it within 3 s
	for {
		_, err := s.Get(c, svc, "a")
		if errors.Is(err, ErrLocked) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("still unlocked 15 s after a 1 s unlock")
		}
		time.Sleep(200 * time.Millisecond)
	}
	scan(t, s.Dir())
}

// failCache makes the kernel keyring calls fail with err, as under Docker's seccomp
// profile or on a system without a kernel keyring (keyutils' own tests check that
// the kernel's EPERM and ENOSYS become keyutils.ErrRefused).
func failCache(t *testing.T, err error) {
	p, g, d := cachePut, cacheGet, cacheDrop
	cachePut = func(string, []byte, time.Duration) error { return err }
	cacheGet = func(string) ([]byte, error) { return nil, err }
	cacheDrop = func(string) error { return err }
	t.Cleanup(func() { cachePut, cacheGet, cacheDrop = p, g, d })
}

func TestKeyctlRefused(t *testing.T) {
	s := newStore(t)
	c := tctx(t)
	if err := s.Init(pass); err != nil {
		t.Fatal(err)
	}
	failCache(t, fmt.Errorf("getting the persistent keyring: %w (operation not permitted)", keyutils.ErrRefused))
	if err := s.Set(c, svc, "a", []byte(secretFor("a"))); err != nil {
		t.Fatalf("Set with keyctl refused: %v (storing needs no unlock)", err)
	}
	err := s.Unlock(pass, time.Minute)
	wantErr(t, "Unlock with keyctl refused", err, ErrRefused)
	if !strings.Contains(err.Error(), "keyctl") || !strings.Contains(err.Error(), "--store file") {
		t.Fatalf("the refused error does not say what and what to do: %v", err)
	}
	_, err = s.Get(c, svc, "a")
	wantErr(t, "Get with keyctl refused", err, ErrRefused)
	wantErr(t, "Lock with keyctl refused", s.Lock(), ErrRefused)
	if doc := strings.Join(s.Doctor(c), "\n"); !strings.Contains(doc, "keyctl refused") {
		t.Fatalf("Doctor with keyctl refused: %q", doc)
	}
	scan(t, s.Dir())
}

func TestTamperedRecipient(t *testing.T) {
	requireKeyring(t)
	s := newStore(t)
	if err := s.Init(pass); err != nil {
		t.Fatal(err)
	}
	other := New(Config{Dir: filepath.Join(t.TempDir(), "other"), WorkFactor: 10})
	if err := other.Init(pass); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(other.Dir(), "records.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), "records.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlock(pass, time.Minute); err == nil || !strings.Contains(err.Error(), "another recipient") {
		t.Fatalf("Unlock with a foreign recipient: %v", err)
	}
	// A lost recipient (a crash after the identity was written) is restored by Unlock.
	if err := os.Remove(filepath.Join(s.Dir(), "records.json")); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(tctx(t), svc, "a", []byte("x")); err == nil || !strings.Contains(err.Error(), "mcpcred unlock") {
		t.Fatalf("Set without a recipient: %v", err)
	}
	if err := s.Unlock(pass, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(tctx(t), svc, "a", []byte(secretFor("a"))); err != nil {
		t.Fatal(err)
	}
}

func TestConformance(t *testing.T) {
	requireKeyring(t)
	s := newStore(t)
	if err := s.Init(pass); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlock(pass, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	keyringtest.Run(t, s, svc)
	scan(t, s.Dir())
}

func TestBadNames(t *testing.T) {
	s := newStore(t)
	if err := s.Init(pass); err != nil {
		t.Fatal(err)
	}
	for _, n := range [][2]string{{"a\nb", "c"}, {"ok", "\xff"}} {
		if err := s.Set(tctx(t), n[0], n[1], []byte("x")); err == nil {
			t.Errorf("Set(%q, %q) succeeded", n[0], n[1])
		}
	}
}

// Test100Writers: 100 processes store at once, while locked; none is lost.
func Test100Writers(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	requireKeyring(t)
	s := newStore(t)
	if err := s.Init(pass); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	cmds := make([]*exec.Cmd, n)
	for i := range cmds {
		cmds[i] = exec.Command(exe, "-test.run=^$")
		cmds[i].Env = append(os.Environ(), childEnv+"=set", "ENC_DIR="+s.Dir(), fmt.Sprintf("ENC_KEY=w%03d", i))
		cmds[i].Stderr = os.Stderr
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	scan(t, s.Dir())
	if err := s.Unlock(pass, time.Minute); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		k := fmt.Sprintf("w%03d", i)
		if got, err := s.Get(tctx(t), svc, k); err != nil || string(got) != secretFor(k) {
			t.Fatalf("writer %d's record: %q, %v", i, got, err)
		}
	}
}

// TestKilledWriters kills writers at random instants: the store stays readable,
// every record reported stored is there, and no plaintext is ever on disk.
func TestKilledWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	requireKeyring(t)
	s := newStore(t)
	if err := s.Init(pass); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlock(pass, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	reported := killtest.Run(t, 15, 20*time.Millisecond, func(r int) *exec.Cmd {
		c := exec.Command(exe, "-test.run=^$")
		c.Env = append(os.Environ(), childEnv+"=loop", "ENC_DIR="+s.Dir(), fmt.Sprintf("ENC_KEY=r%02d", r))
		return c
	}, func(r int, reported map[string]bool) {
		scan(t, s.Dir())
		for k := range reported {
			v, err := s.Get(tctx(t), svc, k)
			if err != nil || !strings.HasPrefix(string(v), secretFor(k)) {
				t.Fatalf("round %d: record %s reported stored: %v", r, k, err)
			}
		}
	})
	if err := s.Set(tctx(t), svc, "last", []byte(secretFor("last"))); err != nil {
		t.Fatal(err)
	}
	if tmp, _ := filepath.Glob(filepath.Join(s.Dir(), ".*.tmp-*")); len(tmp) != 0 {
		t.Fatalf("temp files after the next write: %v", tmp)
	}
	t.Logf("%d records reported stored, all read back", len(reported))
}

// TestNoKernelKeyring: a system without a persistent kernel keyring says so.
func TestNoKernelKeyring(t *testing.T) {
	s := newStore(t)
	if err := s.Init(pass); err != nil {
		t.Fatal(err)
	}
	failCache(t, fmt.Errorf("getting the persistent keyring: %w", keyutils.ErrUnsupported))
	wantErr(t, "Unlock without a kernel keyring", s.Unlock(pass, time.Minute), ErrNoKernelKeyring)
	if err := s.Set(tctx(t), svc, "a", []byte(secretFor("a"))); err != nil {
		t.Fatal(err)
	}
	_, err := s.Get(tctx(t), svc, "a")
	wantErr(t, "Get without a kernel keyring", err, ErrNoKernelKeyring)
}
