//go:build windows

package codexsecrets_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf16"

	"filippo.io/age"
	wc "github.com/danieljoos/wincred"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/agefile"
	"github.com/mcpcred/mcpcred/backends/codexsecrets"
	"github.com/mcpcred/mcpcred/backends/wincred"
)

// These run against the real Credential Manager: on Windows, or under Wine
// (scripts/wine-test.sh).

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// TestWindowsPassphraseEntry: the passphrase entry is the credential keyring-rs
// writes (target "<account>.codex", user name the account, UTF-16LE blob), both ways,
// and the account hashes Rust's verbatim form of the canonical CODEX_HOME.
func TestWindowsPassphraseEntry(t *testing.T) {
	kr := wincred.New(backends.Options{Timeout: 5 * time.Second, CodexLayout: true})
	s, home := newStore(t, kr)
	acct := codexsecrets.PassphraseAccount(home)
	canon, err := filepath.EvalSymlinks(home)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(`\\?\` + canon))
	if want := "secrets|" + hex.EncodeToString(sum[:8]); acct != want {
		t.Fatalf("PassphraseAccount = %q, want %q (the hash of %q)", acct, want, `\\?\`+canon)
	}
	target := acct + "." + codexsecrets.PassphraseService

	// Ours, read as keyring-rs reads it.
	if err := s.Set(ctx(t), codexsecrets.Service, recordKey, []byte(record)); err != nil {
		t.Fatal(err)
	}
	g, err := wc.GetGenericCredential(target)
	if err != nil {
		t.Fatalf("no credential %q: %v", target, err)
	}
	if g.UserName != acct || len(g.CredentialBlob) != 88 {
		t.Fatalf("credential: user %q, %d-byte blob; want %q and 44 UTF-16LE characters", g.UserName, len(g.CredentialBlob), acct)
	}
	var pass []byte
	for i := 0; i < len(g.CredentialBlob); i += 2 {
		pass = append(pass, g.CredentialBlob[i])
	}
	id, _ := age.NewScryptIdentity(string(pass))
	if plain, err := agefile.New(s.Path(), "", 0).Read(id); err != nil || string(plain) != `{"version":1,"secrets":{"`+recordName+`":"`+escaped(record)+`"}}` {
		t.Fatalf("file with the credential's passphrase: %q, %v", plain, err)
	}

	// Codex's, as keyring-rs writes it, with a file made under it.
	if err := os.Remove(s.Path()); err != nil {
		t.Fatal(err)
	}
	codexPass := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	c := wc.NewGenericCredential(target)
	c.UserName = acct
	c.Comment = acct + "@" + codexsecrets.PassphraseService + ":" + target + " (keyring v3.6.3)"
	c.Persist = wc.PersistEnterprise
	c.CredentialBlob = utf16le(codexPass)
	if err := c.Write(); err != nil {
		t.Fatal(err)
	}
	r, _ := age.NewScryptRecipient(codexPass)
	r.SetWorkFactor(10)
	data, err := agefile.Encrypt(r, []byte(`{"version":1,"secrets":{"`+recordName+`":"`+escaped(record)+`"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.Path(), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx(t), codexsecrets.Service, recordKey); err != nil || string(got) != record {
		t.Fatalf("Get of Codex's file = %q, %v", got, err)
	}
}
