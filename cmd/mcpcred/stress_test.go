//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func storeRequest(i int) string {
	return fmt.Sprintf("server_name=s%d\nurl=https://mcp%d.example.test/mcp\nclient_id=c\naccess_token=token-%d\n", i, i, i)
}

// fileKeys returns the store keys in the file; the file must parse.
func fileKeys(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return map[string]bool{}
	}
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	keys := map[string]bool{}
	for k := range m {
		keys[k[:strings.IndexByte(k, '|')]] = true
	}
	return keys
}

// 100 concurrent stores of distinct records into one file all survive.
func TestConcurrentStoresAllSurvive(t *testing.T) {
	bin := builtBinary(t)
	home := t.TempDir()
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(bin, "--store", "file", "--home", home, "--timeout", "60s", "store")
			cmd.Stdin = strings.NewReader(storeRequest(i))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			<-start
			if err := cmd.Run(); err != nil {
				errs <- fmt.Errorf("store %d: %v: %s", i, err, stderr.String())
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	keys := fileKeys(t, filepath.Join(home, ".credentials.json"))
	for i := range n {
		if !keys[fmt.Sprintf("s%d", i)] {
			t.Errorf("record s%d is missing", i)
		}
	}
	checkPrivate(t, home)
}

// A loop of stores killed with SIGKILL at random instants always leaves a file that
// parses and holds every record whose store returned.
func TestKilledStoresLeaveReadableFile(t *testing.T) {
	bin := builtBinary(t)
	home := t.TempDir()
	path := filepath.Join(home, ".credentials.json")
	// Kill at a random instant within twice what one store takes on this machine,
	// so that about half the stores die part-way, however fast the machine is.
	start := time.Now()
	first := exec.Command(bin, "--store", "file", "--home", home, "store")
	first.Stdin = strings.NewReader(storeRequest(-1))
	if out, err := first.CombinedOutput(); err != nil {
		t.Fatalf("store: %v: %s", err, out)
	}
	window := 2 * time.Since(start)
	done := map[string]bool{"s-1": true}
	kills := 0
	for i := range 60 {
		cmd := exec.Command(bin, "--store", "file", "--home", home, "store")
		cmd.Stdin = strings.NewReader(storeRequest(i))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(rand.N(window))
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if err == nil {
			done[fmt.Sprintf("s%d", i)] = true
		} else {
			kills++
		}
		keys := fileKeys(t, path)
		for k := range done {
			if !keys[k] {
				t.Fatalf("after store %d: record %s, whose store returned, is missing", i, k)
			}
		}
	}
	t.Logf("kill window %v: %d of 60 stores were killed, %d completed", window, kills, len(done)-1)
	if kills == 0 || len(done) == 1 {
		t.Fatalf("the kills did not land both before and after stores finished (%d killed): the test showed nothing", kills)
	}
	// One more store cleans up what killed writers left behind.
	cmd := exec.Command(bin, "--store", "file", "--home", home, "store")
	cmd.Stdin = strings.NewReader(storeRequest(1000))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("store after the kills: %v: %s", err, out)
	}
	entries, _ := os.ReadDir(home)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temp file %s left behind", e.Name())
		}
	}
	checkPrivate(t, home)
}

// A lock held by a process that was then killed does not block the next store.
func TestKilledLockHolderDoesNotBlock(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Fatalf("flock (util-linux) is needed: %v", err)
	}
	bin := builtBinary(t)
	home := t.TempDir()
	lock := filepath.Join(home, "mcp-oauth-locks", "file-store.lock")
	if err := os.MkdirAll(filepath.Dir(lock), 0o700); err != nil {
		t.Fatal(err)
	}
	// -o: flock itself holds the lock, not the sleep it starts, so killing it frees it.
	holder := exec.Command("flock", "-o", lock, "sleep", "60")
	holder.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-holder.Process.Pid, syscall.SIGKILL) })
	// While it is held, a store waits for its timeout and says so.
	deadline := time.Now().Add(10 * time.Second)
	for {
		cmd := exec.Command(bin, "--store", "file", "--home", home, "--timeout", "200ms", "store")
		cmd.Stdin = strings.NewReader(storeRequest(1))
		out, err := cmd.CombinedOutput()
		if err != nil {
			if !strings.Contains(string(out), "file-store.lock") {
				t.Fatalf("a blocked store said %q; want the lock file named", out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("flock never took the lock")
		}
		time.Sleep(20 * time.Millisecond) // flock had not taken the lock yet
	}
	_ = holder.Process.Signal(syscall.SIGKILL)
	_ = holder.Wait()
	cmd := exec.Command(bin, "--store", "file", "--home", home, "store")
	cmd.Stdin = strings.NewReader(storeRequest(2))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("store after the holder died: %v: %s", err, out)
	}
}

func checkPrivate(t *testing.T, home string) {
	t.Helper()
	fi, err := os.Stat(filepath.Join(home, ".credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %o, want 600", fi.Mode().Perm())
	}
}
