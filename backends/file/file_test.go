package file

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const vector = `{"test-server|089c68f51447b06b":{"server_name":"test-server","server_url":"http://127.0.0.1:18080/mcp","issuer":"http://127.0.0.1:18080","client_id":"test-client-id","access_token":"access-token-1","expires_at":1795889123536,"refresh_token":"refresh-token-1","scopes":["scope-a","scope-b"]}}`

// Child processes: the test binary re-executed with childEnv set runs one of the
// modes below instead of the tests.
const childEnv = "MCPCRED_FILETEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(runChild(mode))
	}
	os.Exit(m.Run())
}

func runChild(mode string) int {
	path, lockPath := os.Getenv("FT_PATH"), os.Getenv("FT_LOCK")
	s := New(path, lockPath, 60*time.Second)
	switch mode {
	case "add": // add key FT_KEY and increment "counter"
		key := os.Getenv("FT_KEY")
		err := s.Update(func(m map[string]json.RawMessage) (bool, error) {
			m[key] = json.RawMessage(`{"k":` + strconv.Quote(key) + `}`)
			return true, increment(m)
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	case "hold": // hold the lock until killed
		if _, err := Lock(lockPath, 5*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("locked")
		time.Sleep(time.Hour)
		return 3
	case "loop": // add keys FT_KEY-<n> until killed, reporting each completed Update
		pad := strings.Repeat("x", 4096)
		for n := 0; ; n++ {
			key := fmt.Sprintf("%s-%d", os.Getenv("FT_KEY"), n)
			err := s.Update(func(m map[string]json.RawMessage) (bool, error) {
				m[key] = json.RawMessage(`{"k":"` + key + `","pad":"` + pad + `"}`)
				return true, nil
			})
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			fmt.Println("done " + key)
		}
	}
	return 2
}

func increment(m map[string]json.RawMessage) error {
	var n int
	if raw, ok := m["counter"]; ok {
		if err := json.Unmarshal(raw, &n); err != nil {
			return err
		}
	}
	m["counter"] = json.RawMessage(strconv.Itoa(n + 1))
	return nil
}

func child(t *testing.T, mode, path, lockPath, key string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, "FT_PATH="+path, "FT_LOCK="+lockPath, "FT_KEY="+key)
	cmd.Stderr = os.Stderr
	return cmd
}

func paths(t *testing.T) (dir, path, lockPath string) {
	dir = t.TempDir()
	return dir, filepath.Join(dir, ".credentials.json"), filepath.Join(dir, "mcp-oauth-locks", "file-store.lock")
}

func touch(changed bool) func(map[string]json.RawMessage) (bool, error) {
	return func(map[string]json.RawMessage) (bool, error) { return changed, nil }
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func temps(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRoundTripVector(t *testing.T) {
	_, path, lockPath := paths(t)
	if err := os.WriteFile(path, []byte(vector), 0o600); err != nil {
		t.Fatal(err)
	}
	s := New(path, lockPath, time.Second)
	m, err := s.Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || m["test-server|089c68f51447b06b"] == nil {
		t.Fatalf("Read = %v", m)
	}
	before, _ := os.Stat(path)
	// changed=false: nothing is written.
	if err := s.Update(touch(false)); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(path); !os.SameFile(before, after) {
		t.Fatal("Update without change rewrote the file")
	}
	// changed=true, same content: rewritten (a new file), same bytes.
	if err := s.Update(touch(true)); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(path); os.SameFile(before, after) {
		t.Fatal("Update with change did not rewrite the file")
	}
	if got := mustRead(t, path); got != vector {
		t.Fatalf("round trip changed bytes:\n got %s\nwant %s", got, vector)
	}
	// Through the API from scratch too.
	os.Remove(path)
	err = s.Update(func(m map[string]json.RawMessage) (bool, error) {
		m["test-server|089c68f51447b06b"] = json.RawMessage(vector[len(`{"test-server|089c68f51447b06b":`) : len(vector)-1])
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); got != vector {
		t.Fatalf("write = %s", got)
	}
}

func TestSortedKeysAndEscaping(t *testing.T) {
	_, path, lockPath := paths(t)
	s := New(path, lockPath, time.Second)
	keys := []string{"é", "b", "z\u2028", "a\\", "a\"q", "a", "B", "<tag>&", "\x01"}
	err := s.Update(func(m map[string]json.RawMessage) (bool, error) {
		for _, k := range keys {
			m[k] = json.RawMessage(`1`)
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"\u0001":1,"<tag>&":1,"B":1,"a":1,"a\"q":1,"a\\":1,"b":1,"z` + "\u2028" + `":1,"é":1}`
	if got := mustRead(t, path); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	m, err := s.Read()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if string(m[k]) != "1" {
			t.Errorf("key %q lost on read", k)
		}
	}
}

func TestForeignPrettyFile(t *testing.T) {
	_, path, lockPath := paths(t)
	pretty := "{\n  \"b\": {\"x\": 1,\n     \"y\": [1, 2]},\n  \"a\": {\"z\":\"q\"}\n}\n"
	if err := os.WriteFile(path, []byte(pretty), 0o644); err != nil {
		t.Fatal(err)
	}
	s := New(path, lockPath, time.Second)
	m, err := s.Read()
	if err != nil {
		t.Fatal(err)
	}
	if string(m["a"]) != `{"z":"q"}` || len(m) != 2 {
		t.Fatalf("Read = %q", m)
	}
	if err := s.Update(touch(true)); err != nil {
		t.Fatal(err)
	}
	if got, want := mustRead(t, path), `{"a":{"z":"q"},"b":{"x":1,"y":[1,2]}}`; got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}

func TestEmptyMapRemovesFile(t *testing.T) {
	dir, path, lockPath := paths(t)
	s := New(path, lockPath, time.Second)
	if err := s.Update(func(m map[string]json.RawMessage) (bool, error) {
		m["k"] = json.RawMessage(`{}`)
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); got != `{"k":{}}` {
		t.Fatal(got)
	}
	if err := s.Update(func(m map[string]json.RawMessage) (bool, error) {
		delete(m, "k")
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("file still there: %v", err)
	}
	// Removing again, and reading nothing, are fine.
	if err := s.Update(touch(true)); err != nil {
		t.Fatal(err)
	}
	if m, err := s.Read(); err != nil || m == nil || len(m) != 0 {
		t.Fatalf("Read = %v, %v", m, err)
	}
	if len(temps(t, dir)) != 0 {
		t.Fatal("temp files left")
	}
	// The lock file is never deleted.
	if _, err := os.Stat(lockPath); err != nil {
		t.Fatal(err)
	}
}

func TestEmptyFileReadsEmpty(t *testing.T) {
	_, path, lockPath := paths(t)
	os.WriteFile(path, []byte(" \n"), 0o600)
	m, err := New(path, lockPath, time.Second).Read()
	if err != nil || len(m) != 0 {
		t.Fatalf("Read = %v, %v", m, err)
	}
}

func TestInvalidFile(t *testing.T) {
	for _, content := range []string{`{"a": sekrit-not-json`, `null`, `["sekrit"]`, `"sekrit"`, `{"a":1} sekrit`} {
		_, path, lockPath := paths(t)
		os.WriteFile(path, []byte(content), 0o600)
		s := New(path, lockPath, time.Second)
		_, err := s.Read()
		if err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "sekrit") {
			t.Errorf("%s: Read error = %v", content, err)
		}
		called := false
		err = s.Update(func(m map[string]json.RawMessage) (bool, error) { called = true; return true, nil })
		if err == nil || called {
			t.Errorf("%s: Update error = %v, fn called %v", content, err, called)
		}
		if got := mustRead(t, path); got != content {
			t.Errorf("Update changed an invalid file: %s", got)
		}
	}
}

func TestBadEntriesWriteNothing(t *testing.T) {
	dir, path, lockPath := paths(t)
	os.WriteFile(path, []byte(vector), 0o600)
	s := New(path, lockPath, time.Second)
	for name, fn := range map[string]func(map[string]json.RawMessage) (bool, error){
		"bad json": func(m map[string]json.RawMessage) (bool, error) {
			m["x"] = json.RawMessage(`{"sekrit"`)
			return true, nil
		},
		"nil entry": func(m map[string]json.RawMessage) (bool, error) { m["x"] = nil; return true, nil },
		"bad key":   func(m map[string]json.RawMessage) (bool, error) { m["\xff"] = json.RawMessage(`1`); return true, nil },
	} {
		err := s.Update(fn)
		if err == nil || strings.Contains(err.Error(), "sekrit") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	sentinel := errors.New("mine")
	if err := s.Update(func(m map[string]json.RawMessage) (bool, error) {
		clear(m)
		return true, sentinel
	}); err != sentinel {
		t.Errorf("fn error not returned as is: %v", err)
	}
	if got := mustRead(t, path); got != vector {
		t.Errorf("file changed: %s", got)
	}
	if len(temps(t, dir)) != 0 {
		t.Error("temp files left")
	}
}

func TestLockExcludesWithinProcess(t *testing.T) {
	_, path, lockPath := paths(t)
	unlock, err := Lock(lockPath, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = New(path, lockPath, 200*time.Millisecond).Update(touch(true))
	if !errors.Is(err, ErrLockTimeout) || !strings.Contains(err.Error(), lockPath) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("gave up after %v, before its 200ms timeout", d)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := New(path, lockPath, 0).Update(touch(true)); err != nil {
		t.Fatal(err)
	}
}

func TestGoroutines(t *testing.T) {
	_, path, lockPath := paths(t)
	const workers, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			s := New(path, lockPath, 30*time.Second) // own Store, own lock open
			for i := range each {
				errs <- s.Update(func(m map[string]json.RawMessage) (bool, error) {
					m[fmt.Sprintf("w%d-%d", w, i)] = json.RawMessage(`true`)
					return true, increment(m)
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	m, err := New(path, lockPath, 0).Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != workers*each+1 || string(m["counter"]) != strconv.Itoa(workers*each) {
		t.Fatalf("%d entries, counter %s", len(m), m["counter"])
	}
}

func TestMultiProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	dir, path, lockPath := paths(t)
	const n = 50
	start := time.Now()
	cmds := make([]*exec.Cmd, n)
	for i := range cmds {
		cmds[i] = child(t, "add", path, lockPath, fmt.Sprintf("key-%02d", i))
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("child %d: %v", i, err)
		}
	}
	t.Logf("%d processes in %v", n, time.Since(start))
	m, err := New(path, lockPath, 0).Read()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if m[fmt.Sprintf("key-%02d", i)] == nil {
			t.Errorf("key-%02d lost", i)
		}
	}
	if string(m["counter"]) != strconv.Itoa(n) {
		t.Errorf("counter = %s, want %d (lost update)", m["counter"], n)
	}
	if len(temps(t, dir)) != 0 {
		t.Error("temp files left")
	}
}

func TestLockHeldByOtherProcess(t *testing.T) {
	_, path, lockPath := paths(t)
	c := child(t, "hold", path, lockPath, "")
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Process.Kill()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "locked\n" {
		t.Fatalf("child: %q %v", line, err)
	}
	// Held and never released: a clear error within about the timeout.
	start := time.Now()
	err = New(path, lockPath, 500*time.Millisecond).Update(touch(true))
	d := time.Since(start)
	if !errors.Is(err, ErrLockTimeout) || !strings.Contains(err.Error(), lockPath) {
		t.Fatalf("err = %v", err)
	}
	if d < 500*time.Millisecond {
		t.Errorf("gave up after %v, before its 500ms timeout", d)
	}
	t.Logf("timeout error after %v: %v", d, err)
	// The holder is killed: its lock file is left behind and does not block.
	c.Process.Kill()
	c.Wait()
	if _, err := os.Stat(lockPath); err != nil {
		t.Fatal(err)
	}
	// A zero timeout is a single try: it succeeds only if the lock is free now.
	if err := New(path, lockPath, 0).Update(func(m map[string]json.RawMessage) (bool, error) {
		m["k"] = json.RawMessage(`1`)
		return true, nil
	}); err != nil {
		t.Fatalf("the lock of a killed holder still blocks: %v", err)
	}
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	dir, path, lockPath := paths(t)
	const rounds = 30
	start := time.Now()
	reported := map[string]bool{}
	leftovers := 0
	for r := range rounds {
		c := child(t, "loop", path, lockPath, fmt.Sprintf("r%02d", r))
		out, err := c.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Wait for the first completed Update, then kill at a random instant.
		first, ok := <-lines
		if !ok {
			c.Wait()
			t.Fatalf("round %d: child wrote nothing", r)
		}
		got := []string{first}
		timer := time.After(time.Duration(rand.N(30000)) * time.Microsecond)
	wait:
		for {
			select {
			case l := <-lines:
				got = append(got, l)
			case <-timer:
				break wait
			}
		}
		c.Process.Kill()
		for l := range lines {
			got = append(got, l)
		}
		c.Wait()
		for _, l := range got {
			if key, ok := strings.CutPrefix(l, "done "); ok {
				reported[key] = true
			}
		}
		m, err := New(path, lockPath, 0).Read()
		if err != nil {
			t.Fatalf("round %d: file does not parse after kill: %v", r, err)
		}
		for key := range reported {
			var e struct{ K string }
			if err := json.Unmarshal(m[key], &e); err != nil || e.K != key {
				t.Fatalf("round %d: completed key %s lost", r, key)
			}
		}
		tmp := temps(t, dir)
		if len(tmp) > 1 {
			t.Fatalf("round %d: %d temp files", r, len(tmp))
		}
		leftovers += len(tmp)
	}
	// The next writer removes a dead writer's temp file.
	if err := New(path, lockPath, time.Second).Update(touch(true)); err != nil {
		t.Fatal(err)
	}
	if tmp := temps(t, dir); len(tmp) != 0 {
		t.Fatalf("temp files after the next Update: %v", tmp)
	}
	t.Logf("%d rounds in %v, %d completed Updates checked, %d kills left a temp file", rounds, time.Since(start), len(reported), leftovers)
}

func TestEncodeMatchesFileAfterRead(t *testing.T) {
	// Encode is the inverse of Read for compact files in Codex's format.
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(vector), &m); err != nil {
		t.Fatal(err)
	}
	b, err := Encode(m)
	if err != nil || !bytes.Equal(b, []byte(vector)) {
		t.Fatalf("Encode = %s, %v", b, err)
	}
}
