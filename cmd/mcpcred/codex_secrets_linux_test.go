package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/agefile"
	"github.com/mcpcred/mcpcred/backends/codexsecrets"
	"github.com/mcpcred/mcpcred/backends/keyringtest"
	"github.com/mcpcred/mcpcred/backends/native"
	"github.com/mcpcred/mcpcred/helper"
)

// TestCodexProfileSecretsFile: with `[features] secret_auth_storage = true` in
// CODEX_HOME/config.toml, the codex profile's store writes Codex's secrets file
// (not a direct keyring entry), with its passphrase in the real gnome-keyring;
// the file decrypts with that passphrase to Codex's layout, get reads it back,
// doctor names the store, and erase removes the record.
func TestCodexProfileSecretsFile(t *testing.T) {
	if os.Getenv("MCPCRED_TEST_SECRET_SERVICE") != "1" {
		keyringtest.Missing(t, "no private Secret Service (run the tests under scripts/with-secret-service.sh)")
	}
	bin := builtBinary(t)
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte("[features]\nsecret_auth_storage = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kr := native.New(backends.Options{Timeout: 5 * time.Second, CodexLayout: true})
	defer kr.Close()
	ctx := context.Background()
	account := codexsecrets.PassphraseAccount(home)
	t.Cleanup(func() { kr.Delete(ctx, codexsecrets.PassphraseService, account) })

	h := &encryptedHome{t: t, bin: bin, home: home}
	run := func(stdin string, args ...string) (string, string, int) {
		// The session's real keyring: the passphrase entry lives there.
		cmd := exec.Command(bin, append([]string{"--profile", "codex", "--home", home, "--timeout", "10s"}, args...)...)
		cmd.Env = append(os.Environ(), "MCPCRED_STORE=", "MCPCRED_PROFILE=", "MCPCRED_HOME=")
		return h.runCmd(cmd, stdin)
	}
	if _, errs, code := run(storeReq("srv", "codex-secret-token"), "store"); code != 0 || errs != "" {
		t.Fatalf("store = %q, exit %d", errs, code)
	}
	data, err := os.ReadFile(filepath.Join(home, "secrets", "mcp_oauth.age"))
	if err != nil {
		t.Fatalf("no secrets file after the store: %v", err)
	}
	h.noClear("store", "codex-secret-token")
	pass, err := kr.Get(ctx, codexsecrets.PassphraseService, account)
	if err != nil {
		t.Fatalf("the passphrase entry: %v", err)
	}
	id, err := age.NewScryptIdentity(string(pass))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := agefile.Decrypt(data, id)
	if err != nil {
		t.Fatalf("decrypting with the keyring's passphrase: %v", err)
	}
	var file struct {
		Version int               `json:"version"`
		Secrets map[string]string `json:"secrets"`
	}
	if err := json.Unmarshal(plain, &file); err != nil || file.Version != 1 {
		t.Fatalf("plaintext %v, version %d", err, file.Version)
	}
	rec, ok := file.Secrets[codexsecrets.SecretName(helper.StoreKey("srv", "https://srv.test/mcp"))]
	if !ok || !strings.Contains(rec, `"access_token":"codex-secret-token"`) {
		t.Fatalf("the secrets file holds %d names, the record %q", len(file.Secrets), rec)
	}
	if _, err := kr.Get(ctx, codexsecrets.Service, helper.StoreKey("srv", "https://srv.test/mcp")); err == nil {
		t.Error("a direct keyring entry was written too")
	}
	if out, errs, code := run(idReq("srv"), "get"); code != 0 || !strings.Contains(out, "access_token=codex-secret-token\n") || errs != "" {
		t.Fatalf("get = %q, %q, exit %d", out, errs, code)
	}
	if out, _, _ := run("", "doctor"); !strings.Contains(out, "codex token store: "+filepath.Join(home, "config.toml")+" sets [features] secret_auth_storage = true") ||
		!strings.Contains(out, "keyring: codex-secrets\n") || !strings.Contains(out, "codex secrets file: decrypts; 1 MCP token records") {
		t.Errorf("doctor says:\n%s", out)
	}
	if _, errs, code := run(idReq("srv"), "erase"); code != 0 || errs != "" {
		t.Fatalf("erase = %q, exit %d", errs, code)
	}
	if out, _, code := run(idReq("srv"), "get"); code != 0 || out != "" {
		t.Errorf("get after erase = %q, exit %d", out, code)
	}
}
