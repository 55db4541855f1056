package helper

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/file"
)

// The git credential file: <home>/git-credentials.json, beside .credentials.json,
// a JSON object kept by backends/file (locked, atomic, 0600). Each key is the
// credential's identity written as a URL without password,
// protocol://[username@]host[/path] (see gitFileKey); each value is one entry:
//
//	{"protocol":"https","host":"example.com","path":"org/repo.git","username":"alice",
//	 "password":"...","password_expiry_utc":1700000000,"oauth_refresh_token":"..."}
//
// or, for an authtype credential, "authtype" and "credential" instead of
// "password". Absent fields are left out; an empty string is a value. The entry's
// own fields are what counts: the key is only there to keep one entry per
// identity and to make the file readable. Entries that do not parse are skipped
// and kept, as git-credential-store keeps lines it cannot read.
const (
	gitFileName = "git-credentials.json"
	gitLockName = "git-credentials.lock"
)

// gitFile is the git credential file store, beside the token file, with its own
// lock file beside the token file's lock.
func (h *Helper) gitFile() *file.Store {
	return file.New(
		filepath.Join(filepath.Dir(h.Tokens.Path()), gitFileName),
		filepath.Join(filepath.Dir(h.Tokens.LockPath()), gitLockName),
		h.Timeout)
}

type gitFileEntry struct {
	Protocol     *string `json:"protocol"`
	Host         *string `json:"host"`
	Path         *string `json:"path,omitempty"`
	Username     *string `json:"username,omitempty"`
	Password     *string `json:"password,omitempty"`
	AuthType     string  `json:"authtype,omitempty"`
	Credential   *string `json:"credential,omitempty"`
	Expiry       int64   `json:"password_expiry_utc,omitempty"`
	RefreshToken string  `json:"oauth_refresh_token,omitempty"`
}

func (e *gitFileEntry) cred() (backends.GitCredential, bool) {
	var c backends.GitCredential
	if e.Protocol == nil || e.Host == nil || e.Expiry < 0 {
		return c, false
	}
	c.Protocol, c.Host = *e.Protocol, *e.Host
	if e.Path != nil {
		c.Path, c.HasPath = *e.Path, true
	}
	if e.Username != nil {
		c.Username, c.HasUser = *e.Username, true
	}
	switch {
	case e.AuthType != "" && e.Credential != nil && e.Password == nil:
		c.AuthType, c.Credential = e.AuthType, *e.Credential
	case e.AuthType == "" && e.Credential == nil && e.Password != nil:
		c.Password = *e.Password
	default:
		return c, false
	}
	c.Expiry, c.RefreshToken = e.Expiry, e.RefreshToken
	return c, true
}

func gitEntryJSON(c *backends.GitCredential) (json.RawMessage, error) {
	e := gitFileEntry{Protocol: &c.Protocol, Host: &c.Host, AuthType: c.AuthType,
		Expiry: c.Expiry, RefreshToken: c.RefreshToken}
	if c.HasPath {
		e.Path = &c.Path
	}
	if c.HasUser {
		e.Username = &c.Username
	}
	if c.AuthType != "" {
		e.Credential = &c.Credential
	} else {
		e.Password = &c.Password
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&e); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// gitFileKey writes c's identity as protocol://[username@]host[/path]. "%" is
// escaped everywhere, and so is each part's separator ("://" in the protocol, "@"
// and ":" and "/" in the username, "@" and "/" in the host), so different
// identities never share a key. A username that is present but empty gives
// "@host"; a path that is present but empty a trailing "/".
func gitFileKey(c *backends.GitCredential) string {
	var b strings.Builder
	b.WriteString(escapeKeyPart(c.Protocol, ":/"))
	b.WriteString("://")
	if c.HasUser {
		b.WriteString(escapeKeyPart(c.Username, "@:/"))
		b.WriteByte('@')
	}
	b.WriteString(escapeKeyPart(c.Host, "@/"))
	if c.HasPath {
		b.WriteByte('/')
		b.WriteString(escapeKeyPart(c.Path, ""))
	}
	return b.String()
}

func escapeKeyPart(s, special string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' || strings.IndexByte(special, c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func parseGitEntry(raw json.RawMessage) (backends.GitCredential, bool) {
	var e gitFileEntry
	if json.Unmarshal(raw, &e) != nil {
		return backends.GitCredential{}, false
	}
	return e.cred()
}

// gitFileRead returns the credentials in the git credential file, in key order.
func (h *Helper) gitFileRead() ([]backends.GitCredential, error) {
	return h.stores().file.gitSearch(context.Background(), backends.GitQuery{})
}

// gitLayout is the git credential file as a backends.GitLayout; ID is the
// entry's key.
type gitLayout struct {
	f   *file.Store
	now func() time.Time
}

// GitSearch returns the credentials q matches, in key order.
func (l gitLayout) GitSearch(_ context.Context, q backends.GitQuery) ([]backends.GitCredential, error) {
	entries, err := l.f.Read()
	if err != nil {
		return nil, err
	}
	var out []backends.GitCredential
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		if c, ok := parseGitEntry(entries[k]); ok && q.Matches(&c) {
			c.ID = k
			out = append(out, c)
		}
	}
	return out, nil
}

// GitPut writes c's entry under its key. It also drops expired entries, while
// it rewrites the file anyway: the one other change it makes.
func (l gitLayout) GitPut(_ context.Context, c backends.GitCredential) (string, error) {
	raw, err := gitEntryJSON(&c)
	if err != nil {
		return "", err
	}
	key := gitFileKey(&c)
	now := l.now()
	return key, l.f.Update(func(entries map[string]json.RawMessage) (bool, error) {
		changed := false
		for k, v := range entries {
			if old, ok := parseGitEntry(v); ok && k != key && gitExpired(&old, now) {
				delete(entries, k)
				changed = true
			}
		}
		if old, ok := entries[key]; ok && bytes.Equal(old, raw) {
			return changed, nil
		}
		entries[key] = raw
		return true, nil
	})
}

// GitDelete removes the entry c.ID names.
func (l gitLayout) GitDelete(_ context.Context, c backends.GitCredential) error {
	found := false
	err := l.f.Update(func(entries map[string]json.RawMessage) (bool, error) {
		_, found = entries[c.ID]
		delete(entries, c.ID)
		return found, nil
	})
	if err == nil && !found {
		return backends.ErrNotFound
	}
	return err
}

func (s *fileStore) gitLayout() gitLayout { return gitLayout{s.gitFile, s.now} }

func (s *fileStore) gitSearch(ctx context.Context, q backends.GitQuery) ([]backends.GitCredential, error) {
	return s.gitLayout().GitSearch(ctx, q)
}

func (s *fileStore) gitPut(ctx context.Context, c backends.GitCredential) error {
	return backends.StoreGit(ctx, s.gitLayout(), c)
}

func (s *fileStore) gitDelete(ctx context.Context, c backends.GitCredential) error {
	return s.gitLayout().GitDelete(ctx, c)
}
