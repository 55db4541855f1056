package agefile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/mcpcred/mcpcred/backends/killtest"
)

const childEnv = "MCPCRED_AGEFILE_CHILD"

// A fixed key, so that child processes and the test share it.
const testKey = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"

func testIdentity(t testing.TB) *age.X25519Identity {
	id, err := age.ParseX25519Identity(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "loop" {
		os.Exit(runLoop(os.Getenv("AF_PATH"), os.Getenv("AF_KEY")))
	}
	os.Exit(m.Run())
}

// runLoop appends lines "<key>-<n>" to the file until killed, reporting each.
func runLoop(path, key string) int {
	id, _ := age.ParseX25519Identity(testKey)
	f := New(path, path+".lock", time.Minute)
	pad := strings.Repeat("p", 8192)
	for n := 0; ; n++ {
		line := fmt.Sprintf("%s-%d", key, n)
		err := f.Update(With(id, id.Recipient()), func(p []byte) ([]byte, bool, error) {
			return append(p, line+" "+pad+"\n"...), true, nil
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("done " + line)
	}
}

func paths(t *testing.T) (dir, path string) {
	dir = t.TempDir()
	return dir, filepath.Join(dir, "sub", "x.age")
}

func temps(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".x.age.tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCreateReadUpdate(t *testing.T) {
	_, path := paths(t)
	id := testIdentity(t)
	f := New(path, path+".lock", time.Second)
	if _, err := f.Read(id); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Read of no file: %v, want ErrNotExist", err)
	}
	if err := f.Create(id.Recipient(), []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := f.Create(id.Recipient(), []byte("two")); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second Create: %v, want ErrExist", err)
	}
	raw, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(raw, []byte("age-encryption.org/v1\n")) || bytes.Contains(raw, []byte("one")) {
		t.Fatalf("file is not an age file holding no plaintext: %q, %v", raw, err)
	}
	if got, err := f.Read(id); err != nil || string(got) != "one" {
		t.Fatalf("Read = %q, %v", got, err)
	}
	err = f.Update(With(id, id.Recipient()), func(p []byte) ([]byte, bool, error) {
		return append(p, "+two"...), true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.Read(id); err != nil || string(got) != "one+two" {
		t.Fatalf("Read after Update = %q, %v", got, err)
	}
	// An error or "unchanged" from fn writes nothing.
	before, _ := os.ReadFile(path)
	boom := errors.New("boom")
	if err := f.Update(With(id, id.Recipient()), func(p []byte) ([]byte, bool, error) { return []byte("x"), true, boom }); err != boom {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	if err := f.Update(With(id, id.Recipient()), func(p []byte) ([]byte, bool, error) { return []byte("x"), false, nil }); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("the file changed although fn failed or reported no change")
	}
}

func TestWrongKey(t *testing.T) {
	_, path := paths(t)
	other, _ := age.GenerateX25519Identity()
	f := New(path, path+".lock", time.Second)
	if err := f.Create(other.Recipient(), []byte("theirs")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Read(testIdentity(t)); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Read with the wrong key: %v, want ErrWrongKey", err)
	}
	id := testIdentity(t)
	err := f.Update(With(id, id.Recipient()), func(p []byte) ([]byte, bool, error) { return nil, true, nil })
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Update with the wrong key: %v, want ErrWrongKey", err)
	}
	// A passphrase file: the wrong passphrase is ErrWrongKey too.
	_, ppath := paths(t)
	pf := New(ppath, ppath+".lock", time.Second)
	r, _ := age.NewScryptRecipient("right")
	r.SetWorkFactor(10)
	if err := pf.Create(r, []byte("s")); err != nil {
		t.Fatal(err)
	}
	wrong, _ := age.NewScryptIdentity("wrong")
	if _, err := pf.Read(wrong); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Read with the wrong passphrase: %v, want ErrWrongKey", err)
	}
	right, _ := age.NewScryptIdentity("right")
	if got, err := pf.Read(right); err != nil || string(got) != "s" {
		t.Fatalf("Read with the passphrase = %q, %v", got, err)
	}
	// Garbage is an error that is not ErrWrongKey.
	if err := os.WriteFile(ppath, []byte("not age"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := pf.Read(right); err == nil || errors.Is(err, ErrWrongKey) {
		t.Fatalf("Read of garbage: %v", err)
	}
}

func TestGoroutines(t *testing.T) {
	_, path := paths(t)
	id := testIdentity(t)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			f := New(path, path+".lock", time.Minute)
			errs <- f.Update(With(id, id.Recipient()), func(p []byte) ([]byte, bool, error) {
				return append(p, fmt.Sprintf("%d\n", i)...), true, nil
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := New(path, path+".lock", 0).Read(id)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(got), "\n"); lines != n {
		t.Fatalf("%d of %d updates survived", lines, n)
	}
}

// TestCrashSafety kills writers at random instants: the file always decrypts and
// keeps every update reported done, and the next writer removes a dead one's temp.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	_, path := paths(t)
	id := testIdentity(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 20
	leftovers := 0
	reported := killtest.Run(t, rounds, 20*time.Millisecond, func(r int) *exec.Cmd {
		c := exec.Command(exe, "-test.run=^$")
		c.Env = append(os.Environ(), childEnv+"=loop", "AF_PATH="+path, fmt.Sprintf("AF_KEY=r%02d", r))
		return c
	}, func(r int, reported map[string]bool) {
		plain, err := New(path, path+".lock", 0).Read(id)
		if err != nil {
			t.Fatalf("round %d: file does not decrypt after kill: %v", r, err)
		}
		have := map[string]bool{}
		for _, l := range strings.Split(string(plain), "\n") {
			if k, _, ok := strings.Cut(l, " "); ok {
				have[k] = true
			}
		}
		for key := range reported {
			if !have[key] {
				t.Fatalf("round %d: completed update %s lost", r, key)
			}
		}
		leftovers += len(temps(t, filepath.Dir(path)))
	})
	f := New(path, path+".lock", time.Second)
	if err := f.Update(With(id, id.Recipient()), func(p []byte) ([]byte, bool, error) { return p, true, nil }); err != nil {
		t.Fatal(err)
	}
	if tmp := temps(t, filepath.Dir(path)); len(tmp) != 0 {
		t.Fatalf("temp files after the next Update: %v", tmp)
	}
	t.Logf("%d rounds, %d completed updates checked, %d kills left a temp file", rounds, len(reported), leftovers)
}
