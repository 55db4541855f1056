package helper

// Git credentials: every request without server_name. The rules are those of git's
// own helpers (matching, expiry, incomplete and ephemeral stores, erase with a
// password); docs/git.md says what a user sees.

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/protocol"
)

// gitRequest is a git credential request, after `url` was expanded.
type gitRequest struct {
	q backends.GitQuery

	password, credential, authType string
	hasPassword, hasCredential     bool
	hasAuthType                    bool
	expiry                         int64 // 0: never
	refreshToken                   string
	capAuthType                    bool // capability[]=authtype
	ephemeral                      bool
}

// gitKeys are the attributes a git request is made of; others are ignored.
var gitKeys = []string{
	"protocol", "host", "path", "username", "password", "password_expiry_utc",
	"oauth_refresh_token", "capability[]", "authtype", "credential", "ephemeral",
}

// parseGitRequest reads a git credential request. A `url` is expanded as git's
// credential_read does: it clears what came before it, and the attributes that
// follow it override what it set. Values decoded from the URL that hold LF, CR or
// NUL make the request bad, as git refuses such a URL.
func parseGitRequest(m *protocol.Message) (*gitRequest, error) {
	vals := map[string]string{}
	has := map[string]bool{}
	keys := m.Keys()
	urlPos := slices.Index(keys, "url")
	if urlPos >= 0 {
		raw, _ := m.Get("url")
		u, ok := parseGitURL(raw)
		if !ok {
			return nil, badRequest(`url has no scheme: a git credential url looks like https://host/path`)
		}
		for k, p := range map[string]*string{"protocol": u.protocol, "host": u.host, "path": u.path, "username": u.username, "password": u.password} {
			if p == nil {
				continue
			}
			if strings.ContainsAny(*p, "\n\r\x00") {
				return nil, badRequest("url: its %s holds LF, CR or NUL once decoded; refusing it as git does", k)
			}
			vals[k], has[k] = *p, true
		}
	}
	for i, k := range keys {
		if i < urlPos || !slices.Contains(gitKeys, k) {
			continue // before the url: git cleared it; or not a git attribute
		}
		if k == "capability[]" {
			vals[k], has[k] = "", slices.Contains(m.Values(k), "authtype")
			continue
		}
		vals[k], _ = m.Get(k)
		has[k] = true
	}
	for k, v := range vals {
		if strings.ContainsAny(v, "\n\r\x00") { // unreachable through protocol.Read
			return nil, badRequest("%s holds LF, CR or NUL", k)
		}
	}
	r := &gitRequest{
		q: backends.GitQuery{
			Protocol: vals["protocol"], HasProtocol: has["protocol"],
			Host: vals["host"], HasHost: has["host"],
			Path: vals["path"], HasPath: has["path"],
			Username: vals["username"], HasUser: has["username"],
		},
		password: vals["password"], hasPassword: has["password"],
		credential: vals["credential"], hasCredential: has["credential"],
		authType: vals["authtype"], hasAuthType: has["authtype"],
		expiry:       backends.ParseGitExpiry(vals["password_expiry_utc"]),
		refreshToken: vals["oauth_refresh_token"],
		capAuthType:  has["capability[]"],
	}
	if has["ephemeral"] {
		v, ok := parseGitBool(vals["ephemeral"])
		if !ok {
			return nil, badRequest("ephemeral must be a boolean (true, false, 1, 0)")
		}
		r.ephemeral = v
	}
	return r, nil
}

// queryUTF8 reports whether every query field is UTF-8: nothing else is ever
// stored, so a query that is not matches nothing.
func queryUTF8(q backends.GitQuery) bool {
	return utf8.ValidString(q.Protocol) && utf8.ValidString(q.Host) &&
		utf8.ValidString(q.Path) && utf8.ValidString(q.Username)
}

func (h *Helper) gitExpired(c *backends.GitCredential) bool { return gitExpired(c, h.now()) }

// gitExpired reports whether c's password_expiry_utc has passed at now.
func gitExpired(c *backends.GitCredential, now time.Time) bool {
	return c.Expiry != 0 && c.Expiry < now.Unix()
}

// gitKind is how the store rules speak of git credentials: git's helpers use
// only the store they are told to.
func (h *Helper) gitKind() recordKind {
	return recordKind{noun: "the git credential", nouns: "git credentials", erase: "erase",
		list: "failed to list git credentials in the keyring", listSays: "git credentials in the keyring not listed",
		file: h.gitFile().Path(), quietUnavailable: true, plain: true}
}

// gitPick returns the credential a get answers with, from one store's
// candidates: the matching, unexpired ones, authtype credentials only when the
// request has the capability (and then before password ones), no path before a
// path, no username before a username, then by path and username.
func (h *Helper) gitPick(r *gitRequest, cands []backends.GitCredential) *backends.GitCredential {
	var ok []*backends.GitCredential
	for i := range cands {
		c := &cands[i]
		if !r.q.Matches(c) || h.gitExpired(c) || c.AuthType != "" && !r.capAuthType {
			continue
		}
		ok = append(ok, c)
	}
	if len(ok) == 0 {
		return nil
	}
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(ok, func(a, b *backends.GitCredential) int {
		return cmp.Or(
			cmp.Compare(b2i(a.AuthType == ""), b2i(b.AuthType == "")),
			cmp.Compare(b2i(a.HasPath), b2i(b.HasPath)),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(b2i(a.HasUser), b2i(b.HasUser)),
			cmp.Compare(a.Username, b.Username),
		)
	})
	return ok[0]
}

// gitAnswer is what get prints for c: capability[]=authtype first for an authtype
// credential, then the fields in git's own order. protocol, host and path are
// not echoed.
func gitAnswer(c *backends.GitCredential) *protocol.Message {
	m := protocol.NewMessage()
	if c.AuthType != "" {
		m.Set("capability[]", "authtype")
		m.Set("authtype", c.AuthType)
		m.Set("credential", c.Credential)
	}
	if c.HasUser {
		m.Set("username", c.Username)
	}
	if c.AuthType == "" {
		m.Set("password", c.Password)
	}
	if c.RefreshToken != "" {
		m.Set("oauth_refresh_token", c.RefreshToken)
	}
	if c.Expiry != 0 {
		m.Set("password_expiry_utc", strconv.FormatInt(c.Expiry, 10))
	}
	return m
}

// gitGet answers a get: nothing without protocol and host, nothing on a miss.
func (h *Helper) gitGet(ctx context.Context, m *protocol.Message) (*protocol.Message, error) {
	r, err := parseGitRequest(m)
	if err != nil {
		return nil, err
	}
	if !r.q.HasProtocol || !r.q.HasHost || !queryUTF8(r.q) {
		return nil, nil
	}
	c, _, err := read(ctx, h.stores(), h.gitKind(), func(ctx context.Context, s recordStore) (*backends.GitCredential, bool, error) {
		cands, err := s.gitSearch(ctx, r.q)
		c := h.gitPick(r, cands)
		return c, c != nil, err
	}, func(file, keyring *backends.GitCredential) bool {
		// A file credential that would not have replaced the keyring's (another
		// user, another path) is a different credential: the keyring's comes first.
		return !file.Query().Matches(keyring) || file.Expiry != 0 && file.Expiry < keyring.Expiry
	})
	if err != nil || c == nil {
		return nil, err
	}
	return gitAnswer(c), nil
}

// gitRecord is the credential a store request describes, or nil when git's helpers
// would store nothing: ephemeral, no protocol or host, neither username and
// password nor (with the capability) authtype and credential, or already expired.
func (h *Helper) gitRecord(r *gitRequest) (*backends.GitCredential, error) {
	if r.ephemeral || !r.q.HasProtocol || !r.q.HasHost {
		return nil, nil
	}
	c := &backends.GitCredential{
		Protocol: r.q.Protocol, Host: r.q.Host,
		Path: r.q.Path, HasPath: r.q.HasPath,
		Username: r.q.Username, HasUser: r.q.HasUser,
		Expiry: r.expiry, RefreshToken: r.refreshToken,
	}
	switch {
	case r.capAuthType && r.hasAuthType && r.authType != "" && r.hasCredential:
		c.AuthType, c.Credential = r.authType, r.credential
	case r.q.HasUser && r.hasPassword:
		c.Password = r.password
	default:
		return nil, nil
	}
	if h.gitExpired(c) {
		return nil, nil
	}
	for k, v := range map[string]string{
		"protocol": c.Protocol, "host": c.Host, "path": c.Path, "username": c.Username,
		"password": c.Password, "authtype": c.AuthType, "credential": c.Credential,
		"oauth_refresh_token": c.RefreshToken,
	} {
		if !utf8.ValidString(v) {
			return nil, badRequest("%s is not UTF-8 text: mcpcred stores git credentials as UTF-8 only", k)
		}
	}
	return c, nil
}

// gitStore answers a store. It prints nothing; on success it says nothing either,
// except the notice when auto mode falls back to the plaintext file.
func (h *Helper) gitStore(ctx context.Context, m *protocol.Message) error {
	r, err := parseGitRequest(m)
	if err != nil {
		return err
	}
	c, err := h.gitRecord(r)
	if err != nil || c == nil {
		return err
	}
	_, err = h.stores().write(ctx, h.gitKind(),
		func(ctx context.Context, s recordStore) error { return s.gitPut(ctx, *c) },
		func(ctx context.Context, s recordStore) error {
			return gitDeleteMatching(ctx, s, c.Query(), c.Query().Matches)
		})
	return err
}

// gitDeleteMatching deletes from s every credential q finds that match accepts.
func gitDeleteMatching(ctx context.Context, s recordStore, q backends.GitQuery, match func(*backends.GitCredential) bool) error {
	cands, err := s.gitSearch(ctx, q)
	if err != nil {
		return err
	}
	for i := range cands {
		if !match(&cands[i]) {
			continue
		}
		if err := s.gitDelete(ctx, cands[i]); err != nil && !errors.Is(err, backends.ErrNotFound) {
			return err
		}
	}
	return nil
}

// gitEraseMatch is credential_match(want=r, have=c, match_password=1): a password
// in the request only erases credentials with that password, a credential only
// those with that credential.
func gitEraseMatch(r *gitRequest, c *backends.GitCredential) bool {
	if !r.q.Matches(c) {
		return false
	}
	if r.hasPassword && (c.AuthType != "" || c.Password != r.password) {
		return false
	}
	if r.hasCredential && (c.AuthType == "" || c.Credential != r.credential) {
		return false
	}
	return true
}

// gitErase answers an erase: every matching credential goes, from the stores the
// mode uses. An empty request erases nothing.
func (h *Helper) gitErase(ctx context.Context, m *protocol.Message) error {
	r, err := parseGitRequest(m)
	if err != nil {
		return err
	}
	if !r.q.HasProtocol && !r.q.HasHost && !r.q.HasPath && !r.q.HasUser || !queryUTF8(r.q) {
		return nil
	}
	return h.stores().erase(ctx, h.gitKind(), func(ctx context.Context, s recordStore) error {
		return gitDeleteMatching(ctx, s, r.q, func(c *backends.GitCredential) bool { return gitEraseMatch(r, c) })
	})
}

// gitList lists the git credentials of the stores the mode reads: identity,
// authtype, expiry and where it is kept, never a secret.
func (h *Helper) gitList(ctx context.Context) ([]*protocol.Message, error) {
	var out []*protocol.Message
	bad := 0
	add := func(cs []backends.GitCredential, where string) {
		slices.SortStableFunc(cs, func(a, b backends.GitCredential) int {
			return cmp.Or(cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Host, b.Host),
				cmp.Compare(a.Path, b.Path), cmp.Compare(a.Username, b.Username))
		})
		for i := range cs {
			c := &cs[i]
			m := protocol.NewMessage()
			m.Set("protocol", c.Protocol)
			m.Set("host", c.Host)
			if c.HasPath {
				m.Set("path", c.Path)
			}
			if c.HasUser {
				m.Set("username", c.Username)
			}
			if c.AuthType != "" {
				m.Set("authtype", c.AuthType)
			}
			if c.Expiry != 0 {
				m.Set("expires_at", strconv.FormatInt(c.Expiry, 10))
			}
			m.Set("store", where)
			if m.Write(discard{}) != nil || m.WriteJSON(discard{}) != nil {
				bad++
				continue
			}
			out = append(out, m)
		}
	}
	err := h.stores().list(ctx, h.gitKind(), func(ctx context.Context, s recordStore) error {
		cs, err := s.gitSearch(ctx, backends.GitQuery{})
		add(cs, gitWhere(s))
		return err
	})
	if err != nil {
		return out, err
	}
	if bad > 0 {
		h.notice("%d git credential(s) not listed: a field holds LF, CR, NUL or bytes that are not UTF-8", bad)
	}
	return out, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
