//go:build linux || freebsd || openbsd || netbsd || dragonfly

package helper

// The remembered keyring failure against the Secret Service: a bus that never
// answers, and the real gnome-keyring (scripts/with-secret-service.sh).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/file"
	"github.com/mcpcred/mcpcred/backends/keyringtest"
	"github.com/mcpcred/mcpcred/backends/secretservice"
)

// hungBus is a D-Bus that accepts every connection, reads what the client says
// and never answers. It counts the connections made to it: a keyring call that
// is not made makes none.
type hungBus struct {
	addr     string
	accepted atomic.Int64
}

func newHungBus(t *testing.T) *hungBus {
	t.Helper()
	dir, err := os.MkdirTemp("", "hungbus") // a short path: sun_path holds 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	l, err := net.Listen("unix", filepath.Join(dir, "bus"))
	if err != nil {
		t.Fatal(err)
	}
	b := &hungBus{addr: "unix:path=" + filepath.Join(dir, "bus")}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			b.accepted.Add(1)
			conns = append(conns, c)
			go io.Copy(io.Discard, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return b
}

const memoTimeout = 300 * time.Millisecond

// memoHelper is one process's Helper over home, with the Secret Service at addr
// ("" for the session bus).
func memoHelper(home, addr string, mode Mode, clock *memoClock, notices io.Writer) *Helper {
	return &Helper{
		Mode:    mode,
		Service: "mcpcred-memo-test",
		Keyring: secretservice.New(secretservice.Config{
			Options: backends.Options{Timeout: memoTimeout}, Prompt: secretservice.PromptNever, Address: addr}),
		Tokens: file.New(filepath.Join(home, ".credentials.json"),
			filepath.Join(home, "mcp-oauth-locks", "file-store.lock"), time.Second),
		Notices:   notices,
		Timeout:   memoTimeout,
		Now:       clock.now,
		NoRefresh: true,
	}
}

func memoToken(access string, expiry time.Time) *Token {
	return &Token{ServerName: "memo", URL: "https://memo.test/mcp", ClientID: "c",
		AccessToken: access, Expiry: expiry.Truncate(time.Millisecond)}
}

// A keyring call that gets no answer is remembered beside the locks: the calls
// after it, in this process and the next ones, do not ask the keyring until the
// memory expires; auto reads and writes the file with the one notice, keyring
// mode fails at once naming the remembered failure, doctor asks anyway.
func TestHungKeyringIsAskedOnce(t *testing.T) {
	bus := newHungBus(t)
	home := t.TempDir()
	clock := &memoClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	memoPath := filepath.Join(home, "mcp-oauth-locks", "keyring-unanswered.json")

	var notices bytes.Buffer
	h := memoHelper(home, bus.addr, Auto, clock, &notices)
	defer h.Close()
	tok := memoToken("secret-access-1", clock.t.Add(time.Hour))
	where, err := h.SaveToken(ctx, tok)
	if err != nil || where != InFile {
		t.Fatalf("auto store on a hung bus = %q, %v; want the file", where, err)
	}
	asked := bus.accepted.Load()
	if asked == 0 {
		t.Fatalf("the hung bus was never asked")
	}
	data, err := os.ReadFile(memoPath)
	if err != nil {
		t.Fatalf("no failure remembered: %v", err)
	}
	if bytes.Contains(data, []byte("secret-access-1")) || !bytes.Contains(data, []byte("secret-service")) {
		t.Fatalf("remembered %s", data)
	}
	if fi, _ := os.Stat(memoPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("memo file mode %04o, want 0600", fi.Mode().Perm())
	}

	// The next process: auto goes straight to the file, says so once.
	notices.Reset()
	h2 := memoHelper(home, bus.addr, Auto, clock, &notices)
	defer h2.Close()
	got, where, err := h2.LoadToken(ctx, tok.ServerName, tok.URL)
	if err != nil || where != InFile || got == nil || got.AccessToken != "secret-access-1" {
		t.Fatalf("auto get = %v, %q, %v; want the file's token", got, where, err)
	}
	if n := bus.accepted.Load(); n != asked {
		t.Fatalf("auto get asked the remembered keyring (%d connections, was %d)", n, asked)
	}
	if s := notices.String(); strings.Count(s, "\n") != 1 || !strings.Contains(s, "did not answer") ||
		!strings.Contains(s, "read the plaintext file") {
		t.Errorf("auto get said %q; want one notice naming the remembered failure", s)
	}

	// Explaining a record that is absent names the remembered failure too,
	// without asking again.
	if err := h2.NoToken(ctx, "absent", tok.URL); err == nil || !strings.Contains(err.Error(), "did not answer at") {
		t.Errorf("NoToken = %v; want it to name the remembered failure", err)
	}
	if n := bus.accepted.Load(); n != asked {
		t.Fatalf("NoToken asked the remembered keyring")
	}

	// keyring mode fails at once, naming it.
	hk := memoHelper(home, bus.addr, Keyring, clock, io.Discard)
	defer hk.Close()
	_, _, err = hk.LoadToken(ctx, tok.ServerName, tok.URL)
	if err == nil || !strings.Contains(err.Error(), "did not answer at") || !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("keyring get = %v; want the remembered failure", err)
	}
	if n := bus.accepted.Load(); n != asked {
		t.Fatalf("keyring get asked the remembered keyring")
	}

	// doctor asks afresh, and says what it remembered.
	var doc bytes.Buffer
	hd := memoHelper(home, bus.addr, Auto, clock, io.Discard)
	defer hd.Close()
	hd.Doctor(ctx, &doc)
	if n := bus.accepted.Load(); n == asked {
		t.Fatalf("doctor did not ask the keyring")
	}
	if !strings.Contains(doc.String(), "remembered: did not answer") || !strings.Contains(doc.String(), "usable: no") {
		t.Errorf("doctor said:\n%s", doc.String())
	}
	asked = bus.accepted.Load()

	// Expired: the next call asks again, and remembers again.
	clock.t = clock.t.Add(unansweredFor + time.Second)
	h3 := memoHelper(home, bus.addr, Auto, clock, io.Discard)
	defer h3.Close()
	if _, where, err := h3.LoadToken(ctx, tok.ServerName, tok.URL); err != nil || where != InFile {
		t.Fatalf("auto get after expiry = %q, %v", where, err)
	}
	if n := bus.accepted.Load(); n == asked {
		t.Fatalf("the keyring was not asked after the memory expired")
	}
	var r unanswered
	data, _ = os.ReadFile(memoPath)
	if err := json.Unmarshal(data, &r); err != nil || !r.Until.Equal(clock.t.Add(unansweredFor)) {
		t.Fatalf("after a second failure remembered %s (%v)", data, err)
	}
}

// Against the real gnome-keyring: a token written to the file while the keyring
// hung is not shadowed by the keyring's older copy once it answers again; a call
// that succeeds forgets the remembered failure; a store that reaches the keyring
// migrates the file's copy.
func TestKeyringBackAfterHang(t *testing.T) {
	if os.Getenv("MCPCRED_TEST_SECRET_SERVICE") != "1" {
		keyringtest.Missing(t, "no private Secret Service (run under scripts/with-secret-service.sh)")
	}
	bus := newHungBus(t)
	home := t.TempDir()
	clock := &memoClock{t: time.Now().UTC().Truncate(time.Second)}
	ctx := context.Background()
	memoPath := filepath.Join(home, "mcp-oauth-locks", "keyring-unanswered.json")

	var notices bytes.Buffer
	real := memoHelper(home, "", Auto, clock, &notices)
	defer real.Close()
	older := memoToken("keyring-copy", clock.t.Add(time.Hour))
	if where, err := real.SaveToken(ctx, older); err != nil || where != InKeyring {
		t.Fatalf("store into gnome-keyring = %q, %v", where, err)
	}
	defer real.DeleteToken(ctx, older.ServerName, older.URL)

	hung := memoHelper(home, bus.addr, Auto, clock, io.Discard)
	defer hung.Close()
	newer := memoToken("file-copy", clock.t.Add(2*time.Hour))
	if where, err := hung.SaveToken(ctx, newer); err != nil || where != InFile {
		t.Fatalf("store while the keyring hangs = %q, %v", where, err)
	}

	// Within the memory: gnome-keyring is not asked (it would answer), the file is read.
	back := memoHelper(home, "", Auto, clock, &notices)
	defer back.Close()
	notices.Reset()
	got, where, err := back.LoadToken(ctx, newer.ServerName, newer.URL)
	if err != nil || where != InFile || got.AccessToken != "file-copy" || !strings.Contains(notices.String(), "did not answer") {
		t.Fatalf("get within the memory = %v, %q, %v, notices %q", got, where, err, notices.String())
	}

	// Expired: gnome-keyring is asked, answers with the older copy, and the file's
	// newer copy wins; the success forgets the failure.
	clock.t = clock.t.Add(unansweredFor + time.Second)
	back2 := memoHelper(home, "", Auto, clock, &notices)
	defer back2.Close()
	notices.Reset()
	got, where, err = back2.LoadToken(ctx, newer.ServerName, newer.URL)
	if err != nil || where != InFile || got.AccessToken != "file-copy" {
		t.Fatalf("get after the keyring came back = %v, %q, %v; want the file's newer copy", got, where, err)
	}
	if notices.Len() != 0 {
		t.Errorf("notices once the keyring answers: %q", notices.String())
	}
	if _, err := os.Stat(memoPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the failure is still remembered after a call succeeded: %v", err)
	}

	// A file copy whose expiry is earlier than the keyring's is the older one.
	hf := memoHelper(home, "", File, clock, io.Discard)
	defer hf.Close()
	if _, err := hf.SaveToken(ctx, memoToken("stale-file-copy", clock.t.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	if got, where, err := back2.LoadToken(ctx, newer.ServerName, newer.URL); err != nil || where != InKeyring || got.AccessToken != "keyring-copy" {
		t.Fatalf("get with an older file copy = %v, %q, %v; want the keyring's", got, where, err)
	}

	// A store that reaches the keyring removes the file's copy.
	if where, err := back2.SaveToken(ctx, newer); err != nil || where != InKeyring {
		t.Fatalf("store after the keyring came back = %q, %v", where, err)
	}
	if got, where, err := back2.LoadToken(ctx, newer.ServerName, newer.URL); err != nil || where != InKeyring || got.AccessToken != "file-copy" {
		t.Fatalf("get after migration = %v, %q, %v", got, where, err)
	}
	if raw, found, err := back2.Tokens.Lookup(newer.Key()); err != nil || found {
		t.Fatalf("file copy left after a keyring store: %s, %v", raw, err)
	}
}
