//go:build windows

package wincred

// Git credentials in the layout of git-credential-wincred (git's contrib helper),
// so that either program finds what the other stored:
//
//   - a generic credential with TargetName "git:" + protocol + "://" +
//     [username "@"] + host + ["/" path], UserName the username,
//     Persist CRED_PERSIST_LOCAL_MACHINE;
//   - the blob is the password in UTF-16LE, then "\r\noauth_refresh_token=T" when
//     there is a refresh token;
//   - password_expiry_utc is the credential attribute "git_password_expiry_utc",
//     its value the decimal number in UTF-16LE.
//
// git-credential-wincred lists "git:*" and matches the parts of the target (with
// the username also compared with UserName). An authtype credential (git 2.46),
// which it cannot hold, gets the target prefix "git-authtype:" instead, so it
// never lists it; its blob is the credential then "\r\nauthtype=A" and the same
// optional line, its attribute the same.

import (
	"context"
	"errors"
	"strconv"
	"strings"

	wc "github.com/danieljoos/wincred"

	"github.com/mcpcred/mcpcred/backends"
)

const (
	gitPrefix         = "git:"
	gitAuthTypePrefix = "git-authtype:"
	gitExpiryAttr     = "git_password_expiry_utc"
	gitComment        = "saved by mcpcred (git-credential-wincred layout)"
	maxBlob           = 2560  // CRED_MAX_CREDENTIAL_BLOB_SIZE
	maxGitTarget      = 32767 // CRED_MAX_GENERIC_TARGET_NAME_LENGTH
)

var _ backends.GitKeyring = (*Keyring)(nil)

func gitTarget(c *backends.GitCredential) string {
	var b strings.Builder
	if c.AuthType != "" {
		b.WriteString(gitAuthTypePrefix)
	} else {
		b.WriteString(gitPrefix)
	}
	b.WriteString(c.Protocol + "://")
	if c.HasUser {
		b.WriteString(c.Username + "@")
	}
	b.WriteString(c.Host)
	if c.HasPath {
		b.WriteString("/" + c.Path)
	}
	return b.String()
}

// gitText decodes a UTF-16LE blob or attribute value as git-credential-wincred
// wrote it; one that does not decode gives "" and false.
func gitText(b []byte) (string, bool) {
	t, err := decodeUTF16LE(b)
	return string(t), err == nil
}

// parseGitCred reads a credential of the git layout; ok is false for one that is
// not (another prefix, a target that does not parse).
func parseGitCred(g *wc.Credential) (c backends.GitCredential, ok bool) {
	rest, isAuthType := strings.CutPrefix(g.TargetName, gitAuthTypePrefix)
	if !isAuthType {
		if rest, ok = strings.CutPrefix(g.TargetName, gitPrefix); !ok {
			return c, false
		}
	}
	proto, rest, ok := strings.Cut(rest, "://")
	if !ok {
		return c, false
	}
	c.ID, c.Protocol = g.TargetName, proto
	// The username is what UserName says, when the target starts with it and "@".
	if r, ok := strings.CutPrefix(rest, g.UserName+"@"); ok {
		c.Username, c.HasUser, rest = g.UserName, true, r
	}
	c.Host, c.Path, c.HasPath = strings.Cut(rest, "/")
	blob, ok := gitText(g.CredentialBlob)
	if !ok {
		return c, false
	}
	// The first line is the secret; git-credential-wincred splits the rest at CR
	// and LF (wcstok "\r\n").
	first, rest := blob, ""
	if i := strings.IndexAny(blob, "\r\n"); i >= 0 {
		first, rest = blob[:i], blob[i:]
	}
	lines := append([]string{first}, strings.FieldsFunc(rest, func(r rune) bool { return r == '\r' || r == '\n' })...)
	if !c.ApplySecret(lines, isAuthType) {
		return c, false
	}
	for _, a := range g.Attributes {
		if a.Keyword == gitExpiryAttr {
			v, _ := gitText(a.Value)
			c.Expiry = backends.ParseGitExpiry(v)
		}
	}
	return c, true
}

func (k *Keyring) gitList(ctx context.Context) ([]backends.GitCredential, error) {
	var out []backends.GitCredential
	for _, prefix := range []string{gitPrefix, gitAuthTypePrefix} {
		if err := alive(ctx); err != nil {
			return nil, err
		}
		list, err := wc.FilteredList(prefix + "*")
		if err != nil {
			return nil, mapErr(err)
		}
		for _, g := range list {
			if g == nil {
				continue
			}
			if c, ok := parseGitCred(g); ok {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// GitSearch implements backends.GitKeyring: it lists every git credential; the
// caller filters.
func (k *Keyring) GitSearch(ctx context.Context, q backends.GitQuery) ([]backends.GitCredential, error) {
	ctx, cancel, err := k.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	all, err := k.gitList(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for i := range all {
		if q.Matches(&all[i]) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// GitStore implements backends.GitKeyring.
func (k *Keyring) GitStore(ctx context.Context, c backends.GitCredential) error {
	return backends.StoreGit(ctx, k, c)
}

// GitPut implements backends.GitLayout: the target names the identity and the
// kind, so a write replaces the credential of that identity and kind.
func (k *Keyring) GitPut(ctx context.Context, c backends.GitCredential) (string, error) {
	_, cancel, err := k.begin(ctx)
	if err != nil {
		return "", err
	}
	defer cancel()
	secret := c.Password
	if c.AuthType != "" {
		secret = c.Credential + "\r\nauthtype=" + c.AuthType
	}
	if c.RefreshToken != "" {
		secret += "\r\noauth_refresh_token=" + c.RefreshToken
	}
	blob := encodeUTF16LE(secret)
	if len(blob) > maxBlob {
		return "", &backends.TooLongError{What: "git credential", Len: len(blob), Limit: maxBlob}
	}
	target := gitTarget(&c)
	if n := utf16Len(target); n > maxGitTarget {
		return "", &backends.TooLongError{What: "target name", Len: n, Limit: maxGitTarget}
	}
	g := wc.NewGenericCredential(target)
	g.UserName = c.Username
	g.Comment = gitComment
	g.CredentialBlob = blob
	g.Persist = wc.PersistLocalMachine
	if c.Expiry != 0 {
		g.Attributes = []wc.CredentialAttribute{{Keyword: gitExpiryAttr, Value: encodeUTF16LE(strconv.FormatInt(c.Expiry, 10))}}
	}
	if err := g.Write(); err != nil {
		return "", mapErr(err)
	}
	return target, nil
}

// GitDelete implements backends.GitKeyring.
func (k *Keyring) GitDelete(ctx context.Context, c backends.GitCredential) error {
	_, cancel, err := k.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	err = mapErr(wc.NewGenericCredential(c.ID).Delete())
	if errors.Is(err, errNoCred) {
		return backends.ErrNotFound
	}
	return err
}
