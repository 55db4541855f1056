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
// org.gnome.keyring.NetworkPassword items), without one only org.git.Password items.

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpcred/mcpcred/backends"
)

const (
	attrSchema           = "xdg:schema"
	gitSchema            = "org.git.Password"
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

// gitSearch runs the searches for q: password items (by protocol when q has one,
// like libsecret, else by schema) and authtype items (always by schema). It
// returns the credentials read: org.git.Password items, and others.
func (k *Keyring) gitSearch(ctx context.Context, q backends.GitQuery) (ours, others []backends.GitCredential, err error) {
	var searches []map[string]string
	if q.HasProtocol {
		pw := gitAttrs(q)
		pw[attrProtocol] = q.Protocol
		at := gitAttrs(q)
		at[attrSchema] = gitSchema
		at[attrAuthTypeProtocol] = q.Protocol
		searches = append(searches, pw, at)
	} else {
		bySchema := gitAttrs(q)
		bySchema[attrSchema] = gitSchema
		searches = append(searches, bySchema)
	}
	seen := map[ItemPath]bool{}
	for _, attrs := range searches {
		paths, err := k.SearchItems(ctx, attrs)
		if err != nil {
			return nil, nil, err
		}
		slices.Sort(paths)
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
				return nil, nil, err
			}
			c, ok := parseGitItem(it)
			if !ok {
				continue
			}
			if it.Attributes[attrSchema] == gitSchema {
				ours = append(ours, c)
			} else {
				c.Foreign = true
				others = append(others, c)
			}
		}
	}
	return ours, others, nil
}

// GitSearch implements backends.GitKeyring: org.git.Password items first.
func (k *Keyring) GitSearch(ctx context.Context, q backends.GitQuery) ([]backends.GitCredential, error) {
	ours, others, err := k.gitSearch(ctx, q)
	return append(ours, others...), err
}

// GitStore implements backends.GitKeyring.
func (k *Keyring) GitStore(ctx context.Context, c backends.GitCredential) error {
	return backends.StoreGit(ctx, k, c)
}

// GitPut implements backends.GitLayout. It writes c's item, updating in place
// the one with exactly these attributes.
//
// The service's CreateItem(replace=true), which libsecret uses too, overwrites an
// item whose attributes merely include the new ones. That is git's rule for a path
// or a user the new credential lacks, but not for a port (the host differs): such
// an item, if it is the one overwritten, is written back as it was.
func (k *Keyring) GitPut(ctx context.Context, c backends.GitCredential) (string, error) {
	attrs := gitItemAttrs(&c)
	q := c.Query()
	// What CreateItem could overwrite that git's rule keeps.
	supers, err := k.SearchItems(ctx, attrs)
	if err != nil {
		return "", err
	}
	keep := map[ItemPath]*Item{}
	for _, p := range supers {
		it, err := k.ReadItem(ctx, p)
		if errors.Is(err, backends.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", err
		}
		if o, ok := parseGitItem(it); !ok || !q.Matches(&o) {
			keep[p] = it
		}
	}
	path, err := k.StoreItem(ctx, gitLabel(&c), attrs, c.Secret())
	if err != nil {
		return "", err
	}
	if old, ok := keep[path]; ok {
		if _, err := k.StoreItem(ctx, old.Label, old.Attributes, old.Secret); err != nil {
			return "", err
		}
	}
	return string(path), nil
}

// GitDelete implements backends.GitKeyring.
func (k *Keyring) GitDelete(ctx context.Context, c backends.GitCredential) error {
	return k.DeleteItem(ctx, ItemPath(c.ID))
}
