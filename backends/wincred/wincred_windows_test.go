//go:build windows

package wincred

import (
	"errors"
	"strings"
	"testing"
	"time"

	wc "github.com/danieljoos/wincred"
	"github.com/mcpcred/mcpcred/backends"
)

// These run against the real Credential Manager: on Windows, or under Wine
// (scripts/wine-test.sh), where the credentials live in the Wine prefix.

func TestWindows(t *testing.T) {
	runConformance(t, sysStore{})
	runScenarios(t, sysStore{})
}

// TestKeyringRSCredential writes a credential with danieljoos/wincred exactly as
// keyring-rs 3.6.3 does, and reads it back through both layouts.
func TestKeyringRSCredential(t *testing.T) {
	service := testService(t)
	cleanupService(t, sysStore{}, service)
	const acct = "linear|638130d5ab3558f4"
	target := acct + "." + service
	want := `{"server_name":"linear","url":"https://mcp.linear.app/mcp","client_id":"c","token_response":{"access_token":"é🔑"},"expires_at":1}`
	g := wc.NewGenericCredential(target)
	g.UserName = acct
	g.Comment = acct + "@" + service + ":" + target + " (keyring v3.6.3)"
	g.Persist = wc.PersistEnterprise
	g.CredentialBlob = utf16le(want)
	if err := g.Write(); err != nil {
		t.Fatal(err)
	}
	for _, codex := range []bool{false, true} {
		kr := New(backends.Options{Timeout: 5 * time.Second, CodexLayout: codex})
		got, err := kr.Get(ctxT(t), service, acct)
		if err != nil || string(got) != want {
			t.Fatalf("Get (codex layout %v) = %q, %v; want %q", codex, got, err, want)
		}
	}
	// A Codex-layout write leaves what keyring-rs reads: the same target, user
	// name, persistence and UTF-16LE blob.
	kr := New(backends.Options{Timeout: 5 * time.Second, CodexLayout: true})
	if err := kr.Set(ctxT(t), service, acct, []byte(want+" ")); err != nil {
		t.Fatal(err)
	}
	g, err := wc.GetGenericCredential(target)
	if err != nil {
		t.Fatal(err)
	}
	if g.UserName != acct || g.Persist != wc.PersistEnterprise || string(g.CredentialBlob) != string(utf16le(want+" ")) {
		t.Fatalf("credential = user %q, persist %d, blob %x", g.UserName, g.Persist, g.CredentialBlob)
	}
	if err := kr.Delete(ctxT(t), service, acct); err != nil {
		t.Fatal(err)
	}
	if _, err := wc.GetGenericCredential(target); !errors.Is(err, wc.ErrElementNotFound) {
		t.Fatalf("after Delete: %v", err)
	}
}

// TestOwnSizeChecks: Wine stores blobs over 2560 bytes that Windows refuses, so
// the limits are checked by this package, before any call.
func TestOwnSizeChecks(t *testing.T) {
	service := testService(t)
	cleanupService(t, sysStore{}, service)
	kr := New(backends.Options{CodexLayout: true})
	var tl *backends.TooLongError
	if err := kr.Set(ctxT(t), service, "a", []byte(strings.Repeat("x", 1281))); !errors.As(err, &tl) {
		t.Fatalf("Set of 2562 bytes of UTF-16LE: %v; want a TooLongError", err)
	}
	if _, err := wc.GetGenericCredential("a." + service); !errors.Is(err, wc.ErrElementNotFound) {
		t.Fatalf("a refused Set wrote a credential: %v", err)
	}
	long := strings.Repeat("t", 40000)
	if err := kr.Set(ctxT(t), long, "a", []byte("x")); !errors.As(err, &tl) || !strings.Contains(err.Error(), "65534") {
		t.Fatalf("Set with a 40002-character target name: %v; want a TooLongError naming 65534 bytes", err)
	}
}
