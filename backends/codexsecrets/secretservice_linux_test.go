//go:build linux

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
	"github.com/mcpcred/mcpcred/backends/keyringtest"
	"github.com/mcpcred/mcpcred/backends/secretservice"
	"github.com/mcpcred/mcpcred/helper"
)

// These run on a real gnome-keyring under scripts/with-secret-service.sh.

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
