//go:build windows

package wincred

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	wc "github.com/danieljoos/wincred"

	"github.com/mcpcred/mcpcred/backends"
)

func gitHost(t *testing.T) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	h := "git-" + hex.EncodeToString(b) + ".example"
	t.Cleanup(func() {
		for _, p := range []string{gitPrefix, gitAuthTypePrefix} {
			list, _ := wc.FilteredList(p + "*")
			for _, g := range list {
				if c, ok := parseGitCred(g); ok && (c.Host == h || c.Host == h+":8443") {
					_ = wc.NewGenericCredential(g.TargetName).Delete()
				}
			}
		}
	})
	return h
}

// TestGitLayout: items as git-credential-wincred writes and reads them.
func TestGitLayout(t *testing.T) {
	k := New(backends.Options{Timeout: 10 * time.Second})
	ctx := context.Background()
	host := gitHost(t)
	c := backends.GitCredential{Protocol: "https", Host: host, Path: "org/r.git", HasPath: true,
		Username: "alice", HasUser: true, Password: "pw", Expiry: 9999999999, RefreshToken: "rt"}
	if err := k.GitStore(ctx, c); err != nil {
		t.Fatal(err)
	}
	target := "git:https://alice@" + host + "/org/r.git"
	g, err := wc.GetGenericCredential(target)
	if err != nil {
		t.Fatalf("no credential %s: %v", target, err)
	}
	if g.UserName != "alice" || g.Persist != wc.PersistLocalMachine || string(g.CredentialBlob) != string(encodeUTF16LE("pw\r\noauth_refresh_token=rt")) {
		t.Errorf("credential = user %q persist %d blob %q", g.UserName, g.Persist, g.CredentialBlob)
	}
	switch {
	case len(g.Attributes) == 0 && os.Getenv("MCPCRED_WINE") == "1":
		// Wine 8's CredWriteW keeps no attributes; Windows does.
		t.Log("under Wine: the credential attribute with the expiry is not kept")
		c.Expiry = 0
	case len(g.Attributes) != 1 || g.Attributes[0].Keyword != gitExpiryAttr || string(g.Attributes[0].Value) != string(encodeUTF16LE("9999999999")):
		t.Errorf("attributes = %+v", g.Attributes)
	}
	cs, err := k.GitSearch(ctx, backends.GitQuery{Protocol: "https", HasProtocol: true, Host: host, HasHost: true})
	c.ID = target
	if err != nil || len(cs) != 1 || cs[0] != c {
		t.Fatalf("GitSearch = %+v, %v; want %+v", cs, err, c)
	}

	// Written as git-credential-wincred writes it (no path, empty-password edge).
	w := wc.NewGenericCredential("git:https://bob@" + host)
	w.UserName = "bob"
	w.CredentialBlob = encodeUTF16LE("bob-pw")
	w.Persist = wc.PersistLocalMachine
	w.Comment = "saved by git-credential-wincred"
	if err := w.Write(); err != nil {
		t.Fatal(err)
	}
	cs, _ = k.GitSearch(ctx, backends.GitQuery{Protocol: "https", HasProtocol: true, Host: host, HasHost: true, Username: "bob", HasUser: true})
	if len(cs) != 1 || cs[0].Password != "bob-pw" || cs[0].HasPath {
		t.Fatalf("wincred's item read as %+v", cs)
	}

	// An authtype credential is not under git: (wincred never lists it).
	at := backends.GitCredential{Protocol: "https", Host: host, AuthType: "Bearer", Credential: "tok"}
	if err := k.GitStore(ctx, at); err != nil {
		t.Fatal(err)
	}
	if _, err := wc.GetGenericCredential("git-authtype:https://" + host); err != nil {
		t.Fatalf("authtype target: %v", err)
	}
	// It replaced every credential of the host (no username: all users).
	cs, _ = k.GitSearch(ctx, backends.GitQuery{Protocol: "https", HasProtocol: true, Host: host, HasHost: true})
	if len(cs) != 1 || cs[0].Credential != "tok" || cs[0].AuthType != "Bearer" {
		t.Fatalf("after the authtype store: %+v", cs)
	}
	if err := k.GitDelete(ctx, cs[0]); err != nil {
		t.Fatal(err)
	}
	if err := k.GitDelete(ctx, cs[0]); err != backends.ErrNotFound {
		t.Fatalf("second delete: %v", err)
	}
}
