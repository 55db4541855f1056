//go:build linux || freebsd || openbsd || netbsd || (dragonfly && cgo)

package secretservice

// Git credentials in the layout of git-credential-libsecret (git's contrib helper),
// so that either program finds what the other stored.
//
// A password credential is an item with libsecret's schema org.git.Password:
// attributes xdg:schema=org.git.Password, protocol, server (the host without its
// port), port (decimal, only when the host has one), user and object (the path),
// each only when the credential has it; label "Git: proto://server[:port]/path";
// secret the password, then "\npassword_expiry_utc=N" and
// "\noauth_refresh_token=T" when set (libsecret's format since git 2.43).
//
// An authtype credential (git 2.46), which libsecret cannot hold, is an item with
// the same schema and attributes except that "authtype_protocol" takes the place
// of "protocol". git-credential-libsecret puts protocol in every search, store and
// erase, so it never finds, replaces or erases these items, and never takes their
// secret for a password. The secret is the credential, then "\nauthtype=A" and the
// same optional lines; the label ends in " (authtype A)".
//
// Searches put only the present fields in the attributes, as libsecret does; with
// a protocol they also find items of other schemas with those attributes (libsecret
// searches with SECRET_SCHEMA_DONT_MATCH_NAME, to find git-credential-gnome-keyring's
// org.gnome.keyring.NetworkPassword items), without one org.git.Password and
// org.gnome.keyring.NetworkPassword items.
//
// Older git (2.39 and before: Debian 12) has git-credential-libsecret look up and
// store only org.gnome.keyring.NetworkPassword items, with the same attributes and
// the bare password as the secret. So that it finds what mcpcred stores, a
// password credential is written twice: the org.git.Password item above (with
// expiry and refresh token, which the newer helper reads), and a compatibility
// item with the same attributes under xdg:schema=org.gnome.keyring.NetworkPassword
// whose secret is the password alone. The two items of one identity are one
// credential to GitSearch, GitPut and GitDelete: it reads the newer item (of
// equally old ones the org.git.Password item), GitPut rewrites both and GitDelete
// removes both. So backends.StoreGit, which keeps what GitPut wrote and deletes
// the other matches, never separates them. An authtype credential has no
// compatibility item: the old helper has no field for it. Items of any other
// schema that a search finds are Foreign.

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpcred/mcpcred/backends"
)

const (
	attrSchema           = "xdg:schema"
	gitSchema            = "org.git.Password"
	legacySchema         = "org.gnome.keyring.NetworkPassword"
	attrProtocol         = "protocol"
	attrAuthTypeProtocol = "authtype_protocol"
)

var (
	_ backends.GitKeyring = (*Keyring)(nil)
	_ backends.GitLayout  = (*Keyring)(nil)
)

// splitGitHost splits host into libsecret's server and port attributes. The port
// is what follows the last ":" when that is a decimal number from 1 to 65535 and
// what precedes it has no other ":" (or is a bracketed IPv6 address); otherwise
// the whole host is the server. libsecret splits at the first ":" instead, which
// gives the same result for every host name with or without a port.
func splitGitHost(host string) (server, port string) {
	i := strings.LastIndexByte(host, ':')
	if i < 0 {
		return host, ""
	}
	name, p := host[:i], host[i+1:]
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != p {
		return host, ""
	}
	if strings.IndexByte(name, ':') >= 0 && !(strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]")) {
		return host, ""
	}
	return name, p
}

// gitAttrs returns the attributes that select q's fields (server, port, user,
// object), without protocol or schema.
func gitAttrs(q backends.GitQuery) map[string]string {
	a := map[string]string{}
	if q.HasHost {
		server, port := splitGitHost(q.Host)
		a["server"] = server
		if port != "" {
			a["port"] = port
		}
	}
	if q.HasUser {
		a["user"] = q.Username
	}
	if q.HasPath {
		a["object"] = q.Path
	}
	return a
}

// gitItemAttrs is the exact attribute set of c's item.
func gitItemAttrs(c *backends.GitCredential) map[string]string {
	a := gitAttrs(backends.GitQuery{Host: c.Host, HasHost: true, Path: c.Path, HasPath: c.HasPath, Username: c.Username, HasUser: c.HasUser})
	a[attrSchema] = gitSchema
	if c.AuthType != "" {
		a[attrAuthTypeProtocol] = c.Protocol
	} else {
		a[attrProtocol] = c.Protocol
	}
	return a
}

// gitLabel is libsecret's make_label, plus the authtype for authtype items.
func gitLabel(c *backends.GitCredential) string {
	server, port := splitGitHost(c.Host)
	l := "Git: " + c.Protocol + "://" + server
	if port != "" {
		l += ":" + port
	}
	l += "/" + c.Path
	if c.AuthType != "" {
		l += " (authtype " + c.AuthType + ")"
	}
	return l
}

// parseGitItem reads an item as a git credential; ok is false for an item that is
// not one (no protocol, no server, an authtype item without its authtype line).
func parseGitItem(it *Item) (c backends.GitCredential, ok bool) {
	a := it.Attributes
	proto, isPassword := a[attrProtocol]
	aproto, isAuthType := a[attrAuthTypeProtocol]
	server, hasServer := a["server"]
	if isPassword == isAuthType || !hasServer {
		return c, false
	}
	if isAuthType && a[attrSchema] != gitSchema {
		return c, false
	}
	c.ID = string(it.Path)
	c.Protocol, c.Host = proto, server
	if isAuthType {
		c.Protocol = aproto
	}
	// libsecret writes port only when it is not 0, as a decimal integer.
	if p, ok := a["port"]; ok && p != "" && p != "0" {
		c.Host += ":" + p
	}
	c.Path, c.HasPath = a["object"]
	c.Username, c.HasUser = a["user"]
	return c, c.ApplySecret(strings.Split(string(it.Secret), "\n"), isAuthType)
}

// gitFound is one item a search found, as a credential, with its schema and age.
type gitFound struct {
	c        backends.GitCredential
	schema   string
	modified uint64
}

// ownLayout reports whether f is one of the two items this layout writes for a
// password credential (rather than an authtype item or another program's item).
func (f *gitFound) ownLayout() bool {
	return f.c.AuthType == "" && (f.schema == gitSchema || f.schema == legacySchema)
}

// gitSearch runs the searches for q: password items (by protocol when q has one,
// like libsecret, else by schema, ours and the compatibility one) and authtype
// items (always by schema). It returns the credentials read, newest first, and of
// equally old ones org.git.Password items first, each password credential's two
// items as one (gitFold).
func (k *Keyring) gitSearch(ctx context.Context, q backends.GitQuery) ([]backends.GitCredential, error) {
	var searches []map[string]string
	if q.HasProtocol {
		pw := gitAttrs(q)
		pw[attrProtocol] = q.Protocol
		at := gitAttrs(q)
		at[attrSchema] = gitSchema
		at[attrAuthTypeProtocol] = q.Protocol
		searches = append(searches, pw, at)
	} else {
		for _, schema := range []string{gitSchema, legacySchema} {
			bySchema := gitAttrs(q)
			bySchema[attrSchema] = schema
			searches = append(searches, bySchema)
		}
	}
	seen := map[ItemPath]bool{}
	var found []gitFound
	for _, attrs := range searches {
		paths, err := k.SearchItems(ctx, attrs)
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			if seen[p] {
				continue
			}
			seen[p] = true
			it, err := k.ReadItem(ctx, p)
			if errors.Is(err, backends.ErrNotFound) {
				continue // deleted meanwhile
			}
			if err != nil {
				return nil, err
			}
			if c, ok := parseGitItem(it); ok {
				found = append(found, gitFound{c, it.Attributes[attrSchema], it.Modified})
			}
		}
	}
	slices.SortStableFunc(found, func(a, b gitFound) int {
		switch {
		case a.modified != b.modified:
			return cmp.Compare(b.modified, a.modified)
		case a.schema == gitSchema && b.schema != gitSchema:
			return -1
		case b.schema == gitSchema && a.schema != gitSchema:
			return 1
		}
		return 0
	})
	return gitFold(found), nil
}

// gitFold makes the items of one password credential (its org.git.Password item,
// its compatibility item, and any duplicate of either) one credential, in the
// place of the newest: its fields are the newest item's, so a password an older
// git stored over the compatibility item is the one read, without expiry as that
// git keeps none, and otherwise the item that keeps expiry and refresh token is.
// Its ID is the org.git.Password item's when there is one, the item GitPut
// returns. found is newest first; other items are left as they are.
func gitFold(found []gitFound) []backends.GitCredential {
	type group struct {
		at    int  // index in out
		ourID bool // out[at].ID is an org.git.Password item's
	}
	var out []backends.GitCredential
	groups := map[backends.GitQuery]*group{}
	for i := range found {
		f := &found[i]
		if !f.ownLayout() {
			c := f.c
			c.Foreign = f.schema != gitSchema
			out = append(out, c)
			continue
		}
		g, ok := groups[f.c.Query()]
		if !ok {
			groups[f.c.Query()] = &group{at: len(out), ourID: f.schema == gitSchema}
			out = append(out, f.c)
		} else if !g.ourID && f.schema == gitSchema {
			out[g.at].ID, g.ourID = f.c.ID, true
		}
	}
	return out
}

// GitSearch implements backends.GitLayout.
func (k *Keyring) GitSearch(ctx context.Context, q backends.GitQuery) ([]backends.GitCredential, error) {
	return k.gitSearch(ctx, q)
}

// GitStore implements backends.GitKeyring.
func (k *Keyring) GitStore(ctx context.Context, c backends.GitCredential) error {
	return backends.StoreGit(ctx, k, c)
}

// GitPut implements backends.GitLayout. It writes c's item and, for a password
// credential, first its compatibility item, each updating in place the one with
// exactly those attributes (StoreItem never overwrites an item with more), and
// returns the org.git.Password item's path.
func (k *Keyring) GitPut(ctx context.Context, c backends.GitCredential) (string, error) {
	attrs := gitItemAttrs(&c)
	if c.AuthType == "" {
		// The compatibility item first: of equally old items the org.git.Password
		// one is read, and a later write is never older.
		if _, err := k.StoreItem(ctx, gitLabel(&c), compatAttrs(attrs), []byte(c.Password)); err != nil {
			return "", err
		}
	}
	path, err := k.StoreItem(ctx, gitLabel(&c), attrs, c.Secret())
	return string(path), err
}

// compatAttrs are the attributes of the compatibility item beside the
// org.git.Password item with attrs.
func compatAttrs(attrs map[string]string) map[string]string {
	a := maps.Clone(attrs)
	a[attrSchema] = legacySchema
	return a
}

// GitDelete implements backends.GitLayout. For a password credential of this
// layout it removes both of its items (and any duplicate of either): the one
// GitSearch named, and those with exactly its attributes under either schema.
func (k *Keyring) GitDelete(ctx context.Context, c backends.GitCredential) error {
	err := k.DeleteItem(ctx, ItemPath(c.ID))
	if err != nil && !errors.Is(err, backends.ErrNotFound) || c.Foreign || c.AuthType != "" {
		return err
	}
	attrs := gitItemAttrs(&c)
	for _, want := range []map[string]string{attrs, compatAttrs(attrs)} {
		paths, serr := k.SearchItems(ctx, want)
		if serr != nil {
			return serr
		}
		for _, p := range paths {
			it, rerr := k.ReadItem(ctx, p)
			if errors.Is(rerr, backends.ErrNotFound) {
				continue
			}
			if rerr != nil {
				return rerr
			}
			if !maps.Equal(it.Attributes, want) {
				continue // another credential: a path, a user or a port more
			}
			switch derr := k.DeleteItem(ctx, p); {
			case derr == nil:
				err = nil // the credential was there
			case !errors.Is(derr, backends.ErrNotFound):
				return derr
			}
		}
	}
	return err
}
