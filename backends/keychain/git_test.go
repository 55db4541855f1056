//go:build darwin && cgo

package keychain

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"
	"unsafe"

	kc "github.com/keybase/go-keychain"

	"github.com/mcpcred/mcpcred/backends"
)

// Like the tests in keychain_test.go, the Keychain ones run on a Mac against the
// default keychain (a throwaway one in the CI workflow's macOS job); on Linux
// they are only type-checked.

func TestSplitGitHost(t *testing.T) {
	for host, want := range map[string]struct {
		server string
		port   int32
	}{
		"example.com":       {"example.com", 0},
		"example.com:8443":  {"example.com", 8443},
		"example.com:0":     {"example.com:0", 0},
		"example.com:08443": {"example.com:08443", 0},
		"example.com:99999": {"example.com:99999", 0},
		"example.com:abc":   {"example.com:abc", 0},
		"[::1]:8080":        {"[::1]", 8080},
		"[::1]":             {"[::1]", 0},
		"::1":               {"::1", 0},
		"":                  {"", 0},
	} {
		s, p := splitGitHost(host)
		if s != want.server || p != want.port {
			t.Errorf("splitGitHost(%q) = %q, %d; want %q, %d", host, s, p, want.server, want.port)
		}
	}
}

func TestGitDataAndID(t *testing.T) {
	pw := backends.GitCredential{Protocol: "https", Host: "example.com:8443", Path: "org/r.git", HasPath: true,
		Username: "alice", HasUser: true, Password: "pw", Expiry: 1700000000, RefreshToken: "rt"}
	if got, want := string(pw.Secret()), "pw\npassword_expiry_utc=1700000000\noauth_refresh_token=rt"; got != want {
		t.Errorf("data = %q, want %q", got, want)
	}
	at := backends.GitCredential{Protocol: "imaps", Host: "example.com", AuthType: "Bearer", Credential: "tok"}
	if got, want := string(at.Secret()), "tok\nauthtype=Bearer"; got != want {
		t.Errorf("authtype data = %q, want %q", got, want)
	}
	g, err := gitItemOf(&pw)
	if want := (gitItem{Protocol: "htps", Server: "example.com", Port: 8443, Account: "alice", Path: "org/r.git"}); err != nil || g != want {
		t.Errorf("gitItemOf = %+v, %v; want %+v", g, err, want)
	}
	if back, err := parseGitID(g.id()); err != nil || back != g {
		t.Errorf("parseGitID(%s) = %+v, %v", g.id(), back, err)
	}
	if g, err := gitItemOf(&at); err != nil || g != (gitItem{AuthType: true, Protocol: "imps", Server: "example.com"}) {
		t.Errorf("gitItemOf(authtype) = %+v, %v", g, err)
	}
	for _, id := range []string{"", "/org/freedesktop/secrets/item", `{"protocol":"ssh ","server":"h"}`} {
		if _, err := parseGitID(id); err == nil {
			t.Errorf("parseGitID(%q): no error", id)
		}
	}
	if _, err := gitItemOf(&backends.GitCredential{Protocol: "ssh", Host: "h"}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("gitItemOf(ssh) = %v", err)
	}
}

// TestRawItem: setRaw reaches go-keychain's attribute map (the layout check holds).
func TestRawItem(t *testing.T) {
	if !rawOK() {
		t.Fatal("rawItem is not go-keychain's Item layout")
	}
	it := kc.NewItem()
	if err := setExactPort(&it, 0); err != nil {
		t.Fatal(err)
	}
	if err := setExact(&it, kc.PathKey, ""); err != nil {
		t.Fatal(err)
	}
	m := (*rawItem)(unsafe.Pointer(&it)).attr
	if p, ok := m[kc.PortKey].(int32); !ok || p != 0 || m[kc.PathKey] != "" || len(m) != 2 {
		t.Errorf("attributes = %v", m)
	}
}

// gitHost returns a fresh host name whose items are all deleted at the end.
func gitHost(t *testing.T) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	h := "git-" + hex.EncodeToString(b) + ".example"
	t.Cleanup(func() {
		q := kc.NewItem()
		q.SetSecClass(kc.SecClassInternetPassword)
		q.SetServer(h) // every port, path, account and type
		_ = kc.DeleteItem(q)
	})
	return h
}

// osxkeychainQuery is git-credential-osxkeychain's query: what git gave, the
// protocol's code and the default authentication type.
func osxkeychainQuery(server string, port int32, account, path string) kc.Item {
	q := kc.NewItem()
	q.SetSecClass(kc.SecClassInternetPassword)
	q.SetServer(server)
	q.SetPort(port)
	q.SetAccount(account)
	q.SetPath(path)
	q.SetProtocol("htps")
	q.SetAuthenticationType("dflt")
	return q
}

func newGitKeyring() *Keyring { return New(backends.Options{Timeout: 20 * time.Second}) }

func gitSearch(t *testing.T, k *Keyring, host string) []backends.GitCredential {
	t.Helper()
	cs, err := k.GitSearch(context.Background(), backends.GitQuery{Protocol: "https", HasProtocol: true, Host: host, HasHost: true})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestGitLayout: a round trip, and the item as git-credential-osxkeychain finds it.
func TestGitLayout(t *testing.T) {
	k := newGitKeyring()
	ctx := context.Background()
	host := gitHost(t)
	c := backends.GitCredential{Protocol: "https", Host: host + ":8443", Path: "org/r.git", HasPath: true,
		Username: "alice", HasUser: true, Password: "pw", Expiry: 9999999999, RefreshToken: "rt"}
	if err := k.GitStore(ctx, c); err != nil {
		t.Fatal(err)
	}
	q := osxkeychainQuery(host, 8443, "alice", "org/r.git")
	q.SetMatchLimit(matchOne)
	q.SetReturnAttributes(true)
	q.SetReturnData(true)
	res, err := kc.QueryItem(q)
	if err != nil || len(res) != 1 {
		t.Fatalf("osxkeychain's query: %d results, %v", len(res), err)
	}
	if r := res[0]; string(r.Data) != "pw\npassword_expiry_utc=9999999999\noauth_refresh_token=rt" ||
		r.Server != host || r.Port != 8443 || r.Account != "alice" || r.Path != "org/r.git" ||
		r.Protocol != "htps" || r.AuthenticationType != "dflt" || r.Comment != gitComment {
		t.Errorf("item = %+v, data %q", r, r.Data)
	}
	cs := gitSearch(t, k, host+":8443")
	if len(cs) == 1 {
		c.ID = cs[0].ID
	}
	if len(cs) != 1 || cs[0] != c {
		t.Fatalf("GitSearch = %+v; want %+v", cs, c)
	}
	// The port is part of the host: no item for the host without it.
	if cs := gitSearch(t, k, host); len(cs) != 0 {
		t.Fatalf("GitSearch without the port = %+v", cs)
	}

	// A store updates the item in place.
	c.Password, c.Expiry, c.RefreshToken = "pw2", 0, ""
	if err := k.GitStore(ctx, c); err != nil {
		t.Fatal(err)
	}
	if cs := gitSearch(t, k, host+":8443"); len(cs) != 1 || cs[0] != c {
		t.Fatalf("after the update: %+v", cs)
	}
	if err := k.GitDelete(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := k.GitDelete(ctx, c); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

// TestGitOsxkeychainItem: an item as git-credential-osxkeychain adds it (no path,
// no comment, the data with its metadata lines) is read, and replaced by a store.
func TestGitOsxkeychainItem(t *testing.T) {
	k := newGitKeyring()
	ctx := context.Background()
	host := gitHost(t)
	it := osxkeychainQuery(host, 0, "bob", "")
	it.SetData([]byte("bob-pw\npassword_expiry_utc=garbage\noauth_refresh_token=rt"))
	if err := kc.AddItem(it); err != nil {
		t.Fatal(err)
	}
	cs := gitSearch(t, k, host)
	if len(cs) != 1 {
		t.Fatalf("osxkeychain's item: %+v", cs)
	}
	want := backends.GitCredential{ID: cs[0].ID, Protocol: "https", Host: host, Username: "bob", HasUser: true,
		Password: "bob-pw", RefreshToken: "rt"}
	if len(cs) != 1 || cs[0] != want {
		t.Fatalf("osxkeychain's item read as %+v; want %+v", cs, want)
	}
	// An item without an account: osxkeychain answers username= for it.
	it = osxkeychainQuery(host, 0, "", "")
	it.SetData([]byte("anon"))
	if err := kc.AddItem(it); err != nil {
		t.Fatal(err)
	}
	cs, err := k.GitSearch(ctx, backends.GitQuery{Protocol: "https", HasProtocol: true, Host: host, HasHost: true, Username: "", HasUser: true})
	if err != nil || len(cs) != 1 || cs[0].Password != "anon" || !cs[0].HasUser || cs[0].Username != "" {
		t.Fatalf("item without an account read as %+v, %v", cs, err)
	}
	// A store for bob with a path leaves bob's item without a path alone.
	withPath := backends.GitCredential{Protocol: "https", Host: host, Path: "r.git", HasPath: true, Username: "bob", HasUser: true, Password: "p2"}
	if err := k.GitStore(ctx, withPath); err != nil {
		t.Fatal(err)
	}
	if cs := gitSearch(t, k, host); len(cs) != 3 {
		t.Fatalf("after storing a path: %+v", cs)
	}
	// A store for bob without a path replaces both of bob's items, in place.
	noPath := backends.GitCredential{Protocol: "https", Host: host, Username: "bob", HasUser: true, Password: "p3"}
	if err := k.GitStore(ctx, noPath); err != nil {
		t.Fatal(err)
	}
	cs, _ = k.GitSearch(ctx, backends.GitQuery{Protocol: "https", HasProtocol: true, Host: host, HasHost: true, Username: "bob", HasUser: true})
	if len(cs) != 1 || cs[0].Password != "p3" || cs[0].HasPath {
		t.Fatalf("after storing without a path: %+v", cs)
	}
	q := osxkeychainQuery(host, 0, "bob", "")
	q.SetMatchLimit(matchOne)
	q.SetReturnAttributes(true)
	if res, err := kc.QueryItem(q); err != nil || len(res) != 1 || res[0].Comment != "" {
		t.Errorf("osxkeychain's item not updated in place: %+v, %v", res, err)
	}
}

// TestGitAuthTypeHidden: an authtype item is invisible to osxkeychain's queries.
func TestGitAuthTypeHidden(t *testing.T) {
	k := newGitKeyring()
	ctx := context.Background()
	host := gitHost(t)
	pw := backends.GitCredential{Protocol: "https", Host: host, Username: "alice", HasUser: true, Password: "pw"}
	if err := k.GitStore(ctx, pw); err != nil {
		t.Fatal(err)
	}
	at := backends.GitCredential{Protocol: "https", Host: host, AuthType: "Bearer", Credential: "tok", Expiry: 9999999999}
	if err := k.GitStore(ctx, at); err != nil {
		t.Fatal(err)
	}
	// It replaced every credential of the host (no username: all users).
	cs := gitSearch(t, k, host)
	if len(cs) == 1 {
		at.ID = cs[0].ID
	}
	if len(cs) != 1 || cs[0] != at {
		t.Fatalf("GitSearch = %+v; want %+v", cs, at)
	}
	// osxkeychain's get, store and erase all query with the default type.
	q := osxkeychainQuery(host, 0, "", "")
	q.SetMatchLimit(matchAll)
	q.SetReturnAttributes(true)
	if res, err := kc.QueryItem(q); err != nil || len(res) != 0 {
		t.Fatalf("osxkeychain's query finds %+v, %v", res, err)
	}
	// The item is there, with the DPA type, the comment and the data.
	q = kc.NewItem()
	q.SetSecClass(kc.SecClassInternetPassword)
	q.SetServer(host)
	q.SetMatchLimit(matchOne)
	q.SetReturnAttributes(true)
	q.SetReturnData(true)
	res, err := kc.QueryItem(q)
	if err != nil || len(res) != 1 || res[0].AuthenticationType != "dpaa" || res[0].Comment != gitAuthTypeComment ||
		string(res[0].Data) != "tok\nauthtype=Bearer\npassword_expiry_utc=9999999999" {
		t.Fatalf("authtype item = %+v, %v", res, err)
	}
	// A DPA item without the comment (another program's) is not read.
	other := osxkeychainQuery(host, 0, "x", "")
	other.SetAuthenticationType("dpaa")
	other.SetData([]byte("foreign"))
	if err := kc.AddItem(other); err != nil {
		t.Fatal(err)
	}
	if cs := gitSearch(t, k, host); len(cs) != 1 || cs[0] != at {
		t.Fatalf("with a foreign DPA item: %+v", cs)
	}
}

// TestGitEraseWithPassword: erase as the helper does it (the password compared
// with the data up to the first "\n", as osxkeychain does) deletes exactly the
// matching item, not those of another path or port.
func TestGitEraseWithPassword(t *testing.T) {
	k := newGitKeyring()
	ctx := context.Background()
	host := gitHost(t)
	for _, c := range []backends.GitCredential{
		{Protocol: "https", Host: host, Username: "u", HasUser: true, Password: "pw", Expiry: 9999999999},
		{Protocol: "https", Host: host, Path: "r.git", HasPath: true, Username: "u", HasUser: true, Password: "other"},
		{Protocol: "https", Host: host + ":8443", Username: "u", HasUser: true, Password: "pw"},
	} {
		if err := k.GitStore(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	cs := gitSearch(t, k, host)
	if len(cs) != 2 {
		t.Fatalf("GitSearch = %+v", cs)
	}
	for _, c := range cs {
		if c.Password == "pw" {
			if err := k.GitDelete(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	if cs := gitSearch(t, k, host); len(cs) != 1 || cs[0].Password != "other" || cs[0].Path != "r.git" {
		t.Fatalf("after the erase: %+v", cs)
	}
	if cs := gitSearch(t, k, host+":8443"); len(cs) != 1 {
		t.Fatalf("the item of port 8443: %+v", cs)
	}
}

func TestGitUnsupportedAndCanceled(t *testing.T) {
	k := newGitKeyring()
	host := gitHost(t)
	ctx := context.Background()
	ssh := backends.GitCredential{Protocol: "ssh", Host: host, Username: "u", HasUser: true, Password: "pw"}
	if err := k.GitStore(ctx, ssh); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("GitStore(ssh) = %v", err)
	}
	if cs, err := k.GitSearch(ctx, backends.GitQuery{Protocol: "ssh", HasProtocol: true, Host: host, HasHost: true}); err != nil || len(cs) != 0 {
		t.Fatalf("GitSearch(ssh) = %+v, %v", cs, err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := k.GitSearch(canceled, backends.GitQuery{Protocol: "https", HasProtocol: true, Host: host, HasHost: true}); !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("GitSearch with a canceled ctx: %v", err)
	}
	c := backends.GitCredential{Protocol: "https", Host: host, Username: "u", HasUser: true, Password: "pw"}
	if err := k.GitStore(canceled, c); !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("GitStore with a canceled ctx: %v", err)
	}
}
