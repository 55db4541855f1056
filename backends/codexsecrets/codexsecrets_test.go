package codexsecrets_test

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/agefile"
	"github.com/mcpcred/mcpcred/backends/codexsecrets"
	"github.com/mcpcred/mcpcred/backends/file"
	"github.com/mcpcred/mcpcred/backends/keyringtest"
	"github.com/mcpcred/mcpcred/backends/memory"
	"github.com/mcpcred/mcpcred/backends/secretservice"
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

// escaped is s as a serde_json string body (what Codex writes inside the file).
func escaped(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

func account(rec []byte) (string, error) {
	tok, err := helper.ParseKeyringJSON(rec)
	if err != nil {
		return "", err
	}
	return tok.Key(), nil
}

func realKeyring(t *testing.T) backends.Keyring {
	t.Helper()
	if os.Getenv("MCPCRED_TEST_SECRET_SERVICE") != "1" {
		keyringtest.Missing(t, "no private Secret Service (run the tests under scripts/with-secret-service.sh)")
	}
	if _, err := exec.LookPath("secret-tool"); err != nil {
		keyringtest.Missing(t, "secret-tool is not installed")
	}
	kr := secretservice.New(secretservice.Config{Options: backends.Options{Timeout: 10 * time.Second, CodexLayout: true}, Prompt: secretservice.PromptNever})
	t.Cleanup(func() { _ = kr.Close() })
	return kr
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

func secretTool(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	c := exec.CommandContext(ctx(t), "secret-tool", args...)
	c.Stdin = strings.NewReader(stdin)
	out, err := c.Output()
	if err != nil {
		t.Fatalf("secret-tool %v: %v", args, err)
	}
	return string(out)
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
	// A CODEX_HOME reached through a symlink hashes as its target.
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(dir, "link")); err != nil {
		t.Skipf("no symlinks: %v", err)
	}
	if a, b := codexsecrets.PassphraseAccount(filepath.Join(dir, "link")), codexsecrets.PassphraseAccount(real); a != b {
		t.Errorf("account through a symlink %q != %q", a, b)
	}
}

// TestReadsCodexFile: a file made as Codex makes it (passphrase item written as
// keyring-rs writes it, file 0644 in a 0755 directory, plaintext as Codex's) is read.
func TestReadsCodexFile(t *testing.T) {
	kr := realKeyring(t)
	s, home := newStore(t, kr)
	acct := codexsecrets.PassphraseAccount(home)
	pass := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	secretTool(t, pass, "store", "--label="+acct+"@codex:default (keyring v3.6.3)",
		"service", "codex", "username", acct, "target", "default", "application", "rust-keyring")
	plain := `{"version":1,"secrets":{"global/CODEX_OTHER":"kept","` + recordName + `":"` + escaped(record) + `"}}`
	r, err := age.NewScryptRecipient(pass)
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(16) // not ours (10): any factor Codex wrote must be read
	data, err := agefile.Encrypt(r, []byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, "secrets"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.Path(), data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx(t), codexsecrets.Service, recordKey)
	if err != nil || string(got) != record {
		t.Fatalf("Get = %q, %v; want Codex's record", got, err)
	}
	if _, err := s.Get(ctx(t), codexsecrets.Service, record2Key); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Get of an absent key: %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx(t), "other service", recordKey); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Get of another service: %v, want ErrNotFound", err)
	}
	keys, err := s.List(ctx(t), codexsecrets.Service)
	if err != nil || len(keys) != 1 || keys[0] != recordKey {
		t.Fatalf("List = %q, %v", keys, err)
	}
	// A write keeps Codex's other secret and the passphrase.
	if err := s.Set(ctx(t), codexsecrets.Service, record2Key, []byte(record2)); err != nil {
		t.Fatal(err)
	}
	id, _ := age.NewScryptIdentity(pass)
	after, err := agefile.New(s.Path(), "", 0).Read(id)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":1,"secrets":{"global/CODEX_OTHER":"kept","` + record2Nm + `":"` + escaped(record2) + `","` + recordName + `":"` + escaped(record) + `"}}`
	if string(after) != want {
		t.Fatalf("plaintext after Set:\n%s\nwant\n%s", after, want)
	}
}

// TestWritesCodexPlaintext: into an empty CODEX_HOME, Set creates the passphrase
// item as Codex would (read back with secret-tool), and the file decrypts with it to
// Codex's exact plaintext.
func TestWritesCodexPlaintext(t *testing.T) {
	kr := realKeyring(t)
	s, home := newStore(t, kr)
	for _, kv := range [][2]string{{record2Key, record2}, {recordKey, record}} {
		if err := s.Set(ctx(t), codexsecrets.Service, kv[0], []byte(kv[1])); err != nil {
			t.Fatal(err)
		}
	}
	pass := secretTool(t, "", "lookup", "service", "codex", "username", codexsecrets.PassphraseAccount(home))
	if raw, err := base64.StdEncoding.DecodeString(pass); err != nil || len(pass) != 44 || len(raw) != 32 {
		t.Fatalf("passphrase %d chars, %d bytes, %v; want base64 of 32 bytes", len(pass), len(raw), err)
	}
	id, _ := age.NewScryptIdentity(pass)
	plain, err := agefile.New(s.Path(), "", 0).Read(id)
	if err != nil {
		t.Fatalf("the file does not decrypt with the keyring's passphrase: %v", err)
	}
	want := `{"version":1,"secrets":{"` + record2Nm + `":"` + escaped(record2) + `","` + recordName + `":"` + escaped(record) + `"}}`
	if string(plain) != want {
		t.Fatalf("plaintext:\n%s\nwant\n%s", plain, want)
	}
	if fi, err := os.Stat(filepath.Join(home, "mcp-oauth-locks", "secrets-store.lock")); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("Codex's lock file was not used: %v", err)
	}
	if got, err := s.Get(ctx(t), codexsecrets.Service, record2Key); err != nil || string(got) != record2 {
		t.Fatalf("Get = %q, %v", got, err)
	}
}

func TestDelete(t *testing.T) {
	kr := realKeyring(t)
	s, home := newStore(t, kr)
	c := ctx(t)
	if err := s.Delete(c, codexsecrets.Service, recordKey); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Delete with nothing stored: %v, want ErrNotFound", err)
	}
	if err := s.Set(c, codexsecrets.Service, recordKey, []byte(record)); err != nil {
		t.Fatal(err)
	}
	// A legacy direct entry, as Codex's keyring mode wrote it.
	if err := kr.Set(c, codexsecrets.Service, recordKey, []byte(record)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kr.Delete(context.Background(), codexsecrets.Service, recordKey) })
	if err := s.Delete(c, codexsecrets.Service, recordKey); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Get(c, codexsecrets.Service, recordKey); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("legacy entry after Delete: %v, want ErrNotFound", err)
	}
	pass, err := kr.Get(c, codexsecrets.PassphraseService, codexsecrets.PassphraseAccount(home))
	if err != nil {
		t.Fatalf("the passphrase went with the last record: %v", err)
	}
	id, _ := age.NewScryptIdentity(string(pass))
	plain, err := agefile.New(s.Path(), "", 0).Read(id)
	if err != nil || string(plain) != `{"version":1,"secrets":{}}` {
		t.Fatalf("file after the last Delete = %q, %v; want Codex's empty file", plain, err)
	}
	if err := s.Delete(c, codexsecrets.Service, recordKey); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("second Delete: %v, want ErrNotFound", err)
	}
}

func TestConcurrentSets(t *testing.T) {
	kr := realKeyring(t)
	s, _ := newStore(t, kr)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			key := helper.StoreKey("s"+string(rune('a'+i)), "https://x.test/mcp")
			rec := `{"server_name":"s` + string(rune('a'+i)) + `","url":"https://x.test/mcp","client_id":"c","token_response":{"access_token":"t","token_type":"bearer"}}`
			errs <- s.Set(ctx(t), codexsecrets.Service, key, []byte(rec))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	keys, err := s.List(ctx(t), codexsecrets.Service)
	if err != nil || len(keys) != n {
		t.Fatalf("List after %d concurrent Sets = %q, %v (one passphrase, no lost update)", n, keys, err)
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
