package codexsecrets_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/agefile"
	"github.com/mcpcred/mcpcred/backends/codexsecrets"
	"github.com/mcpcred/mcpcred/backends/file"
	"github.com/mcpcred/mcpcred/backends/memory"
	"github.com/mcpcred/mcpcred/helper"
)

// The tests that need the OS keyring run on a real gnome-keyring under
// scripts/with-secret-service.sh; the in-memory keyring only injects failures.

// Codex 0.171's record for test-server (docs/codex-secrets.md), and its names.
const (
	record     = `{"server_name":"test-server","url":"http://127.0.0.1:18080/mcp","issuer":"http://127.0.0.1:18080","client_id":"test-client-id","token_response":{"access_token":"access-token-1","token_type":"bearer","expires_in":3600,"refresh_token":"refresh-token-1","scope":"scope-a scope-b"},"expires_at":1795889172727}`
	recordKey  = "test-server|089c68f51447b06b"
	recordName = "global/MCP_OAUTH_BA7051BAAA074F0B2C7CDBB8C23954A5" // sha256sum of recordKey
	record2    = `{"server_name":"linear","url":"https://mcp.linear.app/mcp","client_id":"c","token_response":{"access_token":"a<&>\u2028","token_type":"bearer"}}`
	record2Key = "linear|638130d5ab3558f4"
	record2Nm  = "global/MCP_OAUTH_7DA894130F5D98D340DDF20C57D17D84"
)

func account(rec []byte) (string, error) {
	tok, err := helper.ParseKeyringJSON(rec)
	if err != nil {
		return "", err
	}
	return tok.Key(), nil
}

func newStore(t *testing.T, kr backends.Keyring) (*codexsecrets.Store, string) {
	t.Helper()
	home := t.TempDir()
	t.Cleanup(func() {
		_ = kr.Delete(context.Background(), codexsecrets.PassphraseService, codexsecrets.PassphraseAccount(home))
	})
	return codexsecrets.New(codexsecrets.Config{CodexHome: home, Keyring: kr, Timeout: 5 * time.Second, WorkFactor: 10, Account: account}), home
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestNames(t *testing.T) {
	if got := codexsecrets.SecretName(recordKey); got != recordName {
		t.Errorf("SecretName(%q) = %q, want %q", recordKey, got, recordName)
	}
	// sha256sum of "/nonexistent/codex-home": a path that cannot be canonicalized
	// is hashed as given, as Codex does.
	if got, want := codexsecrets.PassphraseAccount("/nonexistent/codex-home"), "secrets|b5d85b424b15c4d9"; got != want {
		t.Errorf("PassphraseAccount = %q, want %q", got, want)
	}
}

// The in-memory keyring below only injects failures of the OS keyring.

func TestKeyringFailures(t *testing.T) {
	kr := memory.New()
	s, home := newStore(t, kr)
	acct := codexsecrets.PassphraseAccount(home)
	c := ctx(t)
	kr.SetError(acct, backends.ErrUnavailable)
	if err := s.Set(c, codexsecrets.Service, recordKey, []byte(record)); !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("Set with the keyring down: %v, want ErrUnavailable", err)
	}
	if s.Path() != "" && fileExists(s.Path()) {
		t.Fatal("Set wrote a file without a passphrase")
	}
	kr.SetError(acct, nil)
	if err := s.Set(c, codexsecrets.Service, recordKey, []byte(record)); err != nil {
		t.Fatal(err)
	}
	// The passphrase item is gone (another machine's keyring, a wiped keyring): the
	// file is not replaced by one under a new passphrase.
	if err := kr.Delete(c, codexsecrets.PassphraseService, acct); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(s.Path())
	_, err := s.Get(c, codexsecrets.Service, recordKey)
	if err == nil || !strings.Contains(err.Error(), acct) || errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Get without the passphrase: %v; want an error naming the entry", err)
	}
	if err := s.Set(c, codexsecrets.Service, record2Key, []byte(record2)); err == nil {
		t.Fatal("Set without the passphrase of an existing file succeeded")
	}
	if after, _ := os.ReadFile(s.Path()); string(before) != string(after) {
		t.Fatal("the file changed")
	}
	if _, err := kr.Get(c, codexsecrets.PassphraseService, acct); !errors.Is(err, backends.ErrNotFound) {
		t.Fatal("a new passphrase was made for an existing file")
	}
}

func TestRefusesBadInput(t *testing.T) {
	kr := memory.New()
	s, home := newStore(t, kr)
	c := ctx(t)
	for _, bad := range [][]byte{nil, {0xff, 0xfe}} {
		if err := s.Set(c, codexsecrets.Service, recordKey, bad); err == nil {
			t.Errorf("Set(%q) succeeded", bad)
		}
	}
	if err := s.Set(c, "other", recordKey, []byte(record)); err == nil {
		t.Error("Set of another service succeeded")
	}
	// A newer file version is refused, and not rewritten.
	pass := "cGFzc3BocmFzZXBhc3NwaHJhc2VwYXNzcGhyYXNlMTI="
	if err := kr.Set(c, codexsecrets.PassphraseService, codexsecrets.PassphraseAccount(home), []byte(pass)); err != nil {
		t.Fatal(err)
	}
	r, _ := age.NewScryptRecipient(pass)
	r.SetWorkFactor(10)
	if err := agefile.New(s.Path(), s.Path()+".lock", time.Second).Create(r, []byte(`{"version":2,"secrets":{}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(c, codexsecrets.Service, recordKey); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("Get of a version 2 file: %v", err)
	}
	if err := s.Set(c, codexsecrets.Service, recordKey, []byte(record)); err == nil {
		t.Fatal("Set over a version 2 file succeeded")
	}
}

func TestCodexHoldsTheLock(t *testing.T) {
	kr := memory.New()
	home := t.TempDir()
	s := codexsecrets.New(codexsecrets.Config{CodexHome: home, Keyring: kr, Timeout: 100 * time.Millisecond, WorkFactor: 10})
	unlock, err := file.Lock(filepath.Join(home, "mcp-oauth-locks", "secrets-store.lock"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if err := s.Set(ctx(t), codexsecrets.Service, recordKey, []byte(record)); !errors.Is(err, file.ErrLockTimeout) {
		t.Fatalf("Set while Codex holds secrets-store.lock: %v, want ErrLockTimeout", err)
	}
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
