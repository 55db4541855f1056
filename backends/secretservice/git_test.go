//go:build linux || freebsd || openbsd || netbsd || (dragonfly && cgo)

package secretservice

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends"
)

func TestSplitGitHost(t *testing.T) {
	for host, want := range map[string][2]string{
		"example.com":       {"example.com", ""},
		"example.com:8443":  {"example.com", "8443"},
		"example.com:0":     {"example.com:0", ""},
		"example.com:08443": {"example.com:08443", ""},
		"example.com:99999": {"example.com:99999", ""},
		"example.com:abc":   {"example.com:abc", ""},
		"example.com:":      {"example.com:", ""},
		"[::1]:8080":        {"[::1]", "8080"},
		"[::1]":             {"[::1]", ""},
		"::1":               {"::1", ""},
		"":                  {"", ""},
	} {
		s, p := splitGitHost(host)
		if s != want[0] || p != want[1] {
			t.Errorf("splitGitHost(%q) = %q, %q; want %q, %q", host, s, p, want[0], want[1])
		}
	}
}

func TestGitItemLayout(t *testing.T) {
	pw := backends.GitCredential{Protocol: "https", Host: "example.com:8443", Path: "org/r.git", HasPath: true,
		Username: "alice", HasUser: true, Password: "pw", Expiry: 1700000000, RefreshToken: "rt"}
	if got, want := gitItemAttrs(&pw), map[string]string{"xdg:schema": "org.git.Password", "protocol": "https",
		"server": "example.com", "port": "8443", "object": "org/r.git", "user": "alice"}; !mapsEqual(got, want) {
		t.Errorf("attributes = %v, want %v", got, want)
	}
	if got, want := gitLabel(&pw), "Git: https://example.com:8443/org/r.git"; got != want {
		t.Errorf("label = %q, want %q", got, want)
	}
	if got, want := string(pw.Secret()), "pw\npassword_expiry_utc=1700000000\noauth_refresh_token=rt"; got != want {
		t.Errorf("secret = %q, want %q", got, want)
	}
	at := backends.GitCredential{Protocol: "https", Host: "example.com", AuthType: "Bearer", Credential: "tok"}
	if got, want := gitItemAttrs(&at), map[string]string{"xdg:schema": "org.git.Password", "authtype_protocol": "https",
		"server": "example.com"}; !mapsEqual(got, want) {
		t.Errorf("authtype attributes = %v, want %v", got, want)
	}
	if got, want := gitLabel(&at), "Git: https://example.com/ (authtype Bearer)"; got != want {
		t.Errorf("label = %q, want %q", got, want)
	}
	if got, want := string(at.Secret()), "tok\nauthtype=Bearer"; got != want {
		t.Errorf("secret = %q, want %q", got, want)
	}
	// Round trip through parseGitItem.
	for _, c := range []backends.GitCredential{pw, at} {
		got, ok := parseGitItem(&Item{Path: "/p", Attributes: gitItemAttrs(&c), Secret: c.Secret()})
		c.ID = "/p"
		if !ok || got != c {
			t.Errorf("parseGitItem = %+v, %v; want %+v", got, ok, c)
		}
	}
}

func TestParseGitItemForeign(t *testing.T) {
	// As git-credential-libsecret writes it: only what was given.
	c, ok := parseGitItem(&Item{Attributes: map[string]string{"xdg:schema": "org.git.Password", "protocol": "https", "server": "h"},
		Secret: []byte("pw\nunknown=1\npassword_expiry_utc=garbage")})
	if !ok || c.Host != "h" || c.HasUser || c.HasPath || c.Password != "pw" || c.Expiry != 0 {
		t.Errorf("libsecret item = %+v, %v", c, ok)
	}
	for name, attrs := range map[string]map[string]string{
		"no server":        {"protocol": "https"},
		"both protocols":   {"protocol": "https", "authtype_protocol": "https", "server": "h", "xdg:schema": "org.git.Password"},
		"foreign authtype": {"authtype_protocol": "https", "server": "h", "xdg:schema": "other"},
	} {
		if _, ok := parseGitItem(&Item{Attributes: attrs, Secret: []byte("x\nauthtype=Bearer")}); ok {
			t.Errorf("%s: parsed", name)
		}
	}
	// An authtype item without its authtype line is not a credential.
	if _, ok := parseGitItem(&Item{Attributes: map[string]string{"authtype_protocol": "https", "server": "h", "xdg:schema": "org.git.Password"},
		Secret: []byte("tok")}); ok {
		t.Error("authtype item without authtype parsed")
	}
}

// TestGitStoreReplaces: on the real service, a store replaces what git's rule
// says (path, other kind) and keeps what it does not (another port).
func TestGitStoreReplaces(t *testing.T) {
	kr := realKeyring(t, Config{})
	ctx := tctx(t)
	host := unique("gitstore-") + ".example"
	q := backends.GitQuery{Protocol: "https", HasProtocol: true, Host: host, HasHost: true}
	qPort := backends.GitQuery{Protocol: "https", HasProtocol: true, Host: host + ":8443", HasHost: true}
	t.Cleanup(func() {
		for _, q := range []backends.GitQuery{q, qPort} {
			cs, _ := kr.GitSearch(context.Background(), q)
			for _, c := range cs {
				_ = kr.GitDelete(context.Background(), c)
			}
		}
	})
	store := func(c backends.GitCredential) {
		t.Helper()
		if err := kr.GitStore(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	user := func(h string) backends.GitCredential {
		return backends.GitCredential{Protocol: "https", Host: h, Username: "alice", HasUser: true}
	}
	withPort := user(host + ":8443")
	withPort.Password = "port-pw"
	store(withPort)
	withPath := user(host)
	withPath.Path, withPath.HasPath, withPath.Password = "r.git", true, "path-pw"
	store(withPath)
	token := user(host)
	token.AuthType, token.Credential = "Bearer", "tok"
	store(token) // replaces the path item (git's rule), keeps the port one
	cs, err := kr.GitSearch(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.Host+"|"+c.Path+"|"+c.Password+c.Credential)
	}
	// The port credential's two items (org.git.Password, and the compatibility
	// item for git 2.39) are one credential.
	slices.Sort(got)
	if len(got) != 2 || !contains(got, host+"||tok") || !contains(got, host+":8443||port-pw") {
		t.Fatalf("after the token store: %q", got)
	}
	plain := user(host)
	plain.Password = "pw"
	store(plain) // replaces the token: one item per identity
	cs, _ = kr.GitSearch(ctx, q)
	got = nil
	for _, c := range cs {
		got = append(got, c.Host+"|"+c.Password+c.Credential+"|"+c.AuthType)
	}
	slices.Sort(got)
	if len(got) != 2 || !contains(got, host+"|pw|") || !contains(got, host+":8443|port-pw|") {
		t.Fatalf("after the password store: %q", got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestGitTwoSchemas: on the real service, a password credential is two items
// (org.git.Password with expiry and refresh token, org.gnome.keyring.NetworkPassword
// with the bare password) that GitSearch returns as one credential, named by the
// org.git.Password item; a compatibility item written later (an older git storing
// a new password) is the one read, without expiry; GitDelete removes both.
func TestGitTwoSchemas(t *testing.T) {
	kr := realKeyring(t, Config{})
	ctx := tctx(t)
	host := unique("gittwo-") + ".example"
	c := backends.GitCredential{Protocol: "https", Host: host, Username: "bob", HasUser: true,
		Password: "pw", Expiry: 4102444800, RefreshToken: "rt"}
	t.Cleanup(func() {
		for _, schema := range []string{gitSchema, legacySchema} {
			ps, _ := kr.SearchItems(context.Background(), map[string]string{attrSchema: schema, "server": host})
			for _, p := range ps {
				_ = kr.DeleteItem(context.Background(), p)
			}
		}
	})
	items := func(schema string) []*Item {
		t.Helper()
		ps, err := kr.SearchItems(ctx, map[string]string{attrSchema: schema, "server": host})
		if err != nil {
			t.Fatal(err)
		}
		var out []*Item
		for _, p := range ps {
			it, err := kr.ReadItem(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, it)
		}
		return out
	}
	if err := kr.GitStore(ctx, c); err != nil {
		t.Fatal(err)
	}
	ours, compat := items(gitSchema), items(legacySchema)
	if len(ours) != 1 || len(compat) != 1 || string(compat[0].Secret) != "pw" ||
		string(ours[0].Secret) != "pw\npassword_expiry_utc=4102444800\noauth_refresh_token=rt" {
		t.Fatalf("after GitStore: %d org.git.Password and %d compatibility items; want one each with their secrets", len(ours), len(compat))
	}
	q := c.Query()
	cs, err := kr.GitSearch(ctx, q)
	if err != nil || len(cs) != 1 || cs[0].ID != string(ours[0].Path) || cs[0].Password != "pw" ||
		cs[0].Expiry != c.Expiry || cs[0].RefreshToken != "rt" || cs[0].Foreign {
		t.Fatalf("GitSearch = %+v, %v; want one credential named by the org.git.Password item, with its expiry", cs, err)
	}
	// git 2.39 stores a new password over the compatibility item, a second later
	// (Modified counts seconds).
	time.Sleep(1100 * time.Millisecond)
	if _, err := kr.StoreItem(ctx, compat[0].Label, compat[0].Attributes, []byte("newer")); err != nil {
		t.Fatal(err)
	}
	cs, err = kr.GitSearch(ctx, q)
	if err != nil || len(cs) != 1 || cs[0].ID != string(ours[0].Path) || cs[0].Password != "newer" || cs[0].Expiry != 0 || cs[0].RefreshToken != "" {
		t.Fatalf("GitSearch after the old helper's store = %+v, %v; want its password, no expiry, named by the org.git.Password item", cs, err)
	}
	if err := kr.GitDelete(ctx, cs[0]); err != nil {
		t.Fatal(err)
	}
	if n, m := len(items(gitSchema)), len(items(legacySchema)); n != 0 || m != 0 {
		t.Fatalf("after GitDelete: %d org.git.Password and %d compatibility items left; want none", n, m)
	}
	if err := kr.GitDelete(ctx, cs[0]); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("GitDelete again: err = %v, want ErrNotFound", err)
	}
}
