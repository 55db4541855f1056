// Package helpertest is the helper conformance suite: every behaviour of Codex's
// MCP OAuth credential module (its eight tests, ported) and of mcpcred's modes,
// run against a given keyring. The in-memory keyring runs it in package helper's
// tests; the Secret Service and Windows Credential Manager run it against the real
// thing. Error injection wraps the real keyring: faults are added next to it, never
// instead of it.
package helpertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/file"
	"github.com/mcpcred/mcpcred/helper"
)

// Faulty wraps a Keyring with per-account error injection and read and write
// counters.
type Faulty struct {
	backends.Keyring
	mu     sync.Mutex
	errs   map[string]error
	writes int
	reads  int
}

// SetError makes every call on account fail with err (nil clears it).
func (f *Faulty) SetError(account string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.errs == nil {
		f.errs = map[string]error{}
	}
	f.errs[account] = err
}

func (f *Faulty) fault(account string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.errs[account]
}

// Writes counts Set calls that reached the wrapped keyring.
func (f *Faulty) Writes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes
}

// Reads counts Get calls that reached the wrapped keyring.
func (f *Faulty) Reads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

// Get implements backends.Keyring.
func (f *Faulty) Get(ctx context.Context, service, account string) ([]byte, error) {
	if err := f.fault(account); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.reads++
	f.mu.Unlock()
	return f.Keyring.Get(ctx, service, account)
}

// Set implements backends.Keyring.
func (f *Faulty) Set(ctx context.Context, service, account string, secret []byte) error {
	if err := f.fault(account); err != nil {
		return err
	}
	f.mu.Lock()
	f.writes++
	f.mu.Unlock()
	return f.Keyring.Set(ctx, service, account, secret)
}

// Delete implements backends.Keyring.
func (f *Faulty) Delete(ctx context.Context, service, account string) error {
	if err := f.fault(account); err != nil {
		return err
	}
	return f.Keyring.Delete(ctx, service, account)
}

// Env is one test's helper, keyring and file store.
type Env struct {
	T       *testing.T
	Helper  *helper.Helper
	Keyring *Faulty
	Notices *bytes.Buffer
}

// New builds an Env in mode over kr, with a fresh home and a service name no other
// test uses; it removes its keyring items when the test ends.
func New(t *testing.T, kr backends.Keyring, mode helper.Mode) *Env {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	service := "mcpcred-test-" + strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	notices := &bytes.Buffer{}
	f := &Faulty{Keyring: kr}
	e := &Env{T: t, Keyring: f, Notices: notices, Helper: &helper.Helper{
		Mode:    mode,
		Service: service,
		Keyring: f,
		Tokens: file.New(filepath.Join(home, ".credentials.json"),
			filepath.Join(home, "mcp-oauth-locks", "file-store.lock"), 5*time.Second),
		Notices: notices,
		Timeout: 10 * time.Second,
	}}
	t.Cleanup(func() {
		ctx := context.Background()
		accts, _ := kr.List(ctx, service)
		for _, a := range accts {
			_ = kr.Delete(ctx, service, a)
		}
	})
	return e
}

// Sample is the sample record of Codex's own tests: a bearer token with a refresh token, two
// scopes and an hour to live.
func Sample() *helper.Token {
	return &helper.Token{
		ServerName:   "test-server",
		URL:          "https://example.test",
		ClientID:     "client-id",
		TokenType:    "Bearer",
		AccessToken:  "access-token",
		RefreshToken: "refresh-token",
		Scope:        "scope-a scope-b",
		Expiry:       time.Now().Add(time.Hour).Truncate(time.Millisecond),
	}
}

func (e *Env) ctx() context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	e.T.Cleanup(cancel)
	return c
}

// WithMode returns a helper over the same stores in another mode.
func (e *Env) WithMode(m helper.Mode) *helper.Helper {
	h := *e.Helper
	h.Mode = m
	return &h
}

// SaveFile writes tok to the file store only.
func (e *Env) SaveFile(tok *helper.Token) {
	e.T.Helper()
	if _, err := e.WithMode(helper.File).SaveToken(e.ctx(), tok); err != nil {
		e.T.Fatalf("saving to the file: %v", err)
	}
}

// SaveKeyring writes tok to the keyring only, as Codex would.
func (e *Env) SaveKeyring(tok *helper.Token) {
	e.T.Helper()
	err := e.Keyring.Keyring.Set(e.ctx(), e.Helper.Service, tok.Key(), tok.KeyringJSON(time.Now()))
	if err != nil {
		e.T.Fatalf("saving to the keyring: %v", err)
	}
}

// InKeyring reports whether the keyring holds tok's item.
func (e *Env) InKeyring(tok *helper.Token) bool {
	e.T.Helper()
	_, err := e.Keyring.Keyring.Get(e.ctx(), e.Helper.Service, tok.Key())
	if err != nil && !errors.Is(err, backends.ErrNotFound) {
		e.T.Fatalf("reading the keyring: %v", err)
	}
	return err == nil
}

// FileExists reports whether .credentials.json exists.
func (e *Env) FileExists() bool {
	_, err := os.Stat(e.Helper.Tokens.Path())
	return err == nil
}

// FileEntry returns the file's entry for tok, or nil.
func (e *Env) FileEntry(tok *helper.Token) map[string]any {
	e.T.Helper()
	entries, err := e.Helper.Tokens.Read()
	if err != nil {
		e.T.Fatal(err)
	}
	raw, ok := entries[tok.Key()]
	if !ok {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		e.T.Fatal(err)
	}
	return m
}

var errInjected = errors.New("injected keyring failure")

// Run runs the whole suite against kr.
func Run(t *testing.T, kr backends.Keyring) {
	ctx := func(t *testing.T) context.Context {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		t.Cleanup(cancel)
		return c
	}
	mustLoad := func(t *testing.T, h *helper.Helper, tok *helper.Token) (*helper.Token, string) {
		t.Helper()
		got, where, err := h.LoadToken(ctx(t), tok.ServerName, tok.URL)
		if err != nil {
			t.Fatalf("LoadToken: %v", err)
		}
		if got == nil {
			t.Fatalf("LoadToken found nothing")
		}
		if !got.Equal(tok) {
			t.Fatalf("LoadToken = %+v, want %+v", got, tok)
		}
		return got, where
	}

	// The eight tests of Codex's credential module, as behaviours.
	t.Run("LoadReadsFromKeyringWhenAvailable", func(t *testing.T) {
		e := New(t, kr, helper.Keyring)
		tok := Sample()
		e.SaveKeyring(tok)
		if _, where := mustLoad(t, e.Helper, tok); where != helper.InKeyring {
			t.Fatalf("loaded from %s", where)
		}
	})
	t.Run("LoadFallsBackWhenMissingInKeyring", func(t *testing.T) {
		e := New(t, kr, helper.Auto)
		tok := Sample()
		e.SaveFile(tok)
		if _, where := mustLoad(t, e.Helper, tok); where != helper.InFile {
			t.Fatalf("loaded from %s", where)
		}
	})
	t.Run("LoadFallsBackWhenKeyringErrors", func(t *testing.T) {
		e := New(t, kr, helper.Auto)
		tok := Sample()
		e.Keyring.SetError(tok.Key(), errInjected)
		e.SaveFile(tok)
		if _, where := mustLoad(t, e.Helper, tok); where != helper.InFile {
			t.Fatalf("loaded from %s", where)
		}
	})
	t.Run("SavePrefersKeyringWhenAvailable", func(t *testing.T) {
		e := New(t, kr, helper.Auto)
		tok := Sample()
		e.SaveFile(tok)
		where, err := e.Helper.SaveToken(ctx(t), tok)
		if err != nil || where != helper.InKeyring {
			t.Fatalf("SaveToken = %s, %v", where, err)
		}
		if e.FileExists() {
			t.Fatal("the file still exists after the keyring took the record")
		}
		mustLoad(t, e.WithMode(helper.Keyring), tok)
		if e.Notices.Len() != 0 {
			t.Fatalf("notices: %q", e.Notices)
		}
	})
	t.Run("SaveWritesFallbackWhenKeyringFails", func(t *testing.T) {
		e := New(t, kr, helper.Auto)
		tok := Sample()
		e.Keyring.SetError(tok.Key(), errInjected)
		where, err := e.Helper.SaveToken(ctx(t), tok)
		if err != nil || where != helper.InFile {
			t.Fatalf("SaveToken = %s, %v", where, err)
		}
		entry := e.FileEntry(tok)
		if entry == nil || entry["server_name"] != tok.ServerName || entry["server_url"] != tok.URL ||
			entry["client_id"] != tok.ClientID || entry["access_token"] != tok.AccessToken {
			t.Fatalf("file entry = %v", entry)
		}
		e.Keyring.SetError(tok.Key(), nil)
		if e.InKeyring(tok) {
			t.Fatal("the keyring holds the record after a failed write")
		}
		want := "mcpcred: keyring not used (injected keyring failure); stored in the plaintext file " + e.Helper.Tokens.Path() + "\n"
		if e.Notices.String() != want {
			t.Fatalf("notice = %q, want %q", e.Notices, want)
		}
	})
	t.Run("DeleteRemovesAllStorage", func(t *testing.T) {
		e := New(t, kr, helper.Auto)
		tok := Sample()
		e.SaveKeyring(tok)
		e.SaveFile(tok)
		removed, err := e.Helper.DeleteToken(ctx(t), tok.ServerName, tok.URL)
		if err != nil || !removed {
			t.Fatalf("DeleteToken = %v, %v", removed, err)
		}
		if e.InKeyring(tok) || e.FileExists() {
			t.Fatalf("left behind: keyring %v, file %v", e.InKeyring(tok), e.FileExists())
		}
	})
	t.Run("DeleteRemovesKeyringOnlyEntry", func(t *testing.T) {
		e := New(t, kr, helper.Auto)
		tok := Sample()
		e.SaveKeyring(tok)
		removed, err := e.Helper.DeleteToken(ctx(t), tok.ServerName, tok.URL)
		if err != nil || !removed {
			t.Fatalf("DeleteToken = %v, %v", removed, err)
		}
		if e.InKeyring(tok) || e.FileExists() {
			t.Fatalf("left behind: keyring %v, file %v", e.InKeyring(tok), e.FileExists())
		}
	})
	t.Run("DeletePropagatesKeyringErrors", func(t *testing.T) {
		e := New(t, kr, helper.Auto)
		tok := Sample()
		e.Keyring.SetError(tok.Key(), errInjected)
		e.SaveFile(tok)
		if _, err := e.Helper.DeleteToken(ctx(t), tok.ServerName, tok.URL); !errors.Is(err, errInjected) {
			t.Fatalf("DeleteToken err = %v, want the keyring's", err)
		}
		if !e.FileExists() {
			t.Fatal("the file was removed although the keyring delete failed")
		}
	})

	// The rest of the modes.
	t.Run("KeyringModeDoesNotFallBack", func(t *testing.T) {
		e := New(t, kr, helper.Keyring)
		tok := Sample()
		e.Keyring.SetError(tok.Key(), errInjected)
		if _, err := e.Helper.SaveToken(ctx(t), tok); !errors.Is(err, errInjected) {
			t.Fatalf("SaveToken err = %v", err)
		}
		if e.FileExists() {
			t.Fatal("keyring mode wrote the file")
		}
		e.SaveFile(tok)
		if _, _, err := e.Helper.LoadToken(ctx(t), tok.ServerName, tok.URL); !errors.Is(err, errInjected) {
			t.Fatalf("LoadToken err = %v, want the keyring's", err)
		}
	})
	t.Run("KeyringModeSaveMigratesFileEntry", func(t *testing.T) {
		e := New(t, kr, helper.Keyring)
		tok := Sample()
		e.SaveFile(tok)
		if _, err := e.Helper.SaveToken(ctx(t), tok); err != nil {
			t.Fatal(err)
		}
		if e.FileExists() || !e.InKeyring(tok) {
			t.Fatalf("file %v, keyring %v", e.FileExists(), e.InKeyring(tok))
		}
	})
	t.Run("FileModeNeverTouchesKeyringOnReadAndWrite", func(t *testing.T) {
		e := New(t, kr, helper.File)
		tok := Sample()
		e.SaveKeyring(tok)
		got, _, err := e.Helper.LoadToken(ctx(t), tok.ServerName, tok.URL)
		if err != nil || got != nil {
			t.Fatalf("file mode read the keyring: %v, %v", got, err)
		}
		e.Keyring.SetError(tok.Key(), errInjected)
		if where, err := e.Helper.SaveToken(ctx(t), tok); err != nil || where != helper.InFile {
			t.Fatalf("SaveToken = %s, %v", where, err)
		}
		mustLoad(t, e.Helper, tok)
		if e.Notices.Len() != 0 {
			t.Fatalf("--store file said: %q", e.Notices)
		}
	})
	t.Run("FileModeEraseIgnoresKeyringErrors", func(t *testing.T) {
		e := New(t, kr, helper.File)
		tok := Sample()
		e.SaveFile(tok)
		e.Keyring.SetError(tok.Key(), errInjected)
		removed, err := e.Helper.DeleteToken(ctx(t), tok.ServerName, tok.URL)
		if err != nil || !removed || e.FileExists() {
			t.Fatalf("DeleteToken = %v, %v; file exists %v", removed, err, e.FileExists())
		}
	})
	t.Run("FileModeEraseRemovesKeyringItemToo", func(t *testing.T) {
		e := New(t, kr, helper.File)
		tok := Sample()
		e.SaveKeyring(tok)
		removed, err := e.Helper.DeleteToken(ctx(t), tok.ServerName, tok.URL)
		if err != nil || !removed || e.InKeyring(tok) {
			t.Fatalf("DeleteToken = %v, %v; keyring has it %v", removed, err, e.InKeyring(tok))
		}
	})
	t.Run("KeyringModeEraseRemovesFileCopy", func(t *testing.T) {
		e := New(t, kr, helper.Keyring)
		tok := Sample()
		e.SaveKeyring(tok)
		e.SaveFile(tok)
		if _, err := e.Helper.DeleteToken(ctx(t), tok.ServerName, tok.URL); err != nil {
			t.Fatal(err)
		}
		if e.InKeyring(tok) || e.FileExists() {
			t.Fatal("erase left a copy")
		}
	})
	t.Run("IdenticalStoreWritesNothing", func(t *testing.T) {
		for _, mode := range []helper.Mode{helper.Auto, helper.Keyring} {
			e := New(t, kr, mode)
			tok := Sample()
			if _, err := e.Helper.SaveToken(ctx(t), tok); err != nil {
				t.Fatal(err)
			}
			before := e.Keyring.Writes()
			same := *tok
			if _, err := e.Helper.SaveToken(ctx(t), &same); err != nil {
				t.Fatal(err)
			}
			if w := e.Keyring.Writes() - before; w != 0 {
				t.Fatalf("%s: storing the same record again wrote the keyring %d times", mode, w)
			}
			same.AccessToken = "another"
			if _, err := e.Helper.SaveToken(ctx(t), &same); err != nil {
				t.Fatal(err)
			}
			if w := e.Keyring.Writes() - before; w != 1 {
				t.Fatalf("%s: a changed record wrote the keyring %d times, want 1", mode, w)
			}
		}
	})
	t.Run("ExpiredTokenStillReturned", func(t *testing.T) {
		e := New(t, kr, helper.Auto)
		tok := Sample()
		tok.Expiry = time.Now().Add(-time.Hour).Truncate(time.Millisecond)
		if _, err := e.Helper.SaveToken(ctx(t), tok); err != nil {
			t.Fatal(err)
		}
		mustLoad(t, e.Helper, tok)
	})
	t.Run("StoreReplacesWholeRecord", func(t *testing.T) {
		e := New(t, kr, helper.Auto)
		tok := Sample()
		if _, err := e.Helper.SaveToken(ctx(t), tok); err != nil {
			t.Fatal(err)
		}
		next := &helper.Token{ServerName: tok.ServerName, URL: tok.URL, ClientID: "c2", AccessToken: "a2"}
		if _, err := e.Helper.SaveToken(ctx(t), next); err != nil {
			t.Fatal(err)
		}
		mustLoad(t, e.Helper, next)
	})
	t.Run("ListNamesEveryRecordWithoutSecrets", func(t *testing.T) {
		e := New(t, kr, helper.Auto)
		a, b := Sample(), Sample()
		b.ServerName = "other"
		e.SaveKeyring(a)
		e.SaveFile(b)
		got, err := e.Helper.ListTokens(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ServerName != "test-server" || got[0].Where != helper.InKeyring ||
			got[1].ServerName != "other" || got[1].Where != helper.InFile {
			t.Fatalf("ListTokens = %+v", got)
		}
	})
}
