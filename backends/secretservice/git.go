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
// whose secret is the password alone. Reads prefer the org.git.Password item; an
// erase removes both (a search finds both); a store rewrites both. An authtype
// credential has no compatibility item: the old helper has no field for it.

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

var _ backends.GitKeyring = (*Keyring)(nil)

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

// gitFound is one credential a search found, with its item's schema and age.
type gitFound struct {
	c        backends.GitCredential
	schema   string
	modified uint64
}

// gitSearch runs the searches for q: password items (by protocol when q has one,
// like libsecret, else by schema, ours and the compatibility one) and authtype
// items (always by schema). It returns the credentials read, newest first, and of
// equally old ones org.git.Password items first: so a credential that an older
// git stored over the compatibility item, or a newer git over the
// org.git.Password one, is the one read, and otherwise the item that keeps expiry
// and refresh token is.
func (k *Keyring) gitSearch(ctx context.Context, q backends.GitQuery) ([]gitFound, error) {
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
	// A compatibility item no newer than the org.git.Password item of the same
	// credential is that item's mirror: it has its expiry and refresh token too
	// (else, once the credential expires, the mirror would still hand it out).
	for i := range found {
		f := &found[i]
		if f.schema != legacySchema {
			continue
		}
		for _, g := range found {
			if g.schema == gitSchema && g.c.AuthType == "" && g.modified >= f.modified && sameGitIdentity(&f.c, &g.c) {
				f.c.Expiry, f.c.RefreshToken = g.c.Expiry, g.c.RefreshToken
				break
			}
		}
	}
	return found, nil
}

func sameGitIdentity(a, b *backends.GitCredential) bool {
	return a.Protocol == b.Protocol && a.Host == b.Host && a.HasPath == b.HasPath && a.Path == b.Path &&
		a.HasUser == b.HasUser && a.Username == b.Username
}

// GitSearch implements backends.GitKeyring.
func (k *Keyring) GitSearch(ctx context.Context, q backends.GitQuery) ([]backends.GitCredential, error) {
	found, err := k.gitSearch(ctx, q)
	out := make([]backends.GitCredential, len(found))
	for i := range found {
		out[i] = found[i].c
	}
	return out, err
}

// GitStore implements backends.GitKeyring. It writes c's item and, for a password
// credential, its compatibility item, each updating in place the one with exactly
// those attributes, then deletes the other org.git.Password and
// org.gnome.keyring.NetworkPassword items that c's identity matches (such as the
// item of the other kind, or one with a path when c has none).
func (k *Keyring) GitStore(ctx context.Context, c backends.GitCredential) error {
	attrs := gitItemAttrs(&c)
	q := c.Query()
	written := map[ItemPath]bool{}
	if c.AuthType == "" {
		// The compatibility item first: of equally old items the org.git.Password
		// one is read, and a later write is never older.
		compat := maps.Clone(attrs)
		compat[attrSchema] = legacySchema
		p, err := k.StoreItem(ctx, gitLabel(&c), compat, []byte(c.Password))
		if err != nil {
			return err
		}
		written[p] = true
	}
	path, err := k.StoreItem(ctx, gitLabel(&c), attrs, c.Secret())
	if err != nil {
		return err
	}
	written[path] = true
	found, err := k.gitSearch(ctx, q)
	if err != nil {
		return err
	}
	for i := range found {
		o := &found[i]
		if written[ItemPath(o.c.ID)] || (o.schema != gitSchema && o.schema != legacySchema) || !q.Matches(&o.c) {
			continue
		}
		if err := k.DeleteItem(ctx, ItemPath(o.c.ID)); err != nil && !errors.Is(err, backends.ErrNotFound) {
			return err
		}
	}
	return nil
}

// GitDelete implements backends.GitKeyring.
func (k *Keyring) GitDelete(ctx context.Context, c backends.GitCredential) error {
	return k.DeleteItem(ctx, ItemPath(c.ID))
}
