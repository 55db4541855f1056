package backends

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
)

// GitCredential is one git credential as an OS keyring holds it, in the layout of
// that OS's own git helper (git-credential-libsecret, -osxkeychain, -wincred). The
// fields are git's credential-helper attributes.
//
// A credential is of one of two kinds. A password credential has AuthType == ""
// and a Password (which may be empty). An authtype credential (git 2.46) has a
// non-empty AuthType and a Credential, and no password.
type GitCredential struct {
	// ID is the backend's name for the item (a D-Bus object path, a target
	// name). GitSearch sets it; GitDelete uses it.
	ID string

	Protocol string
	Host     string // with ":port" when there is one
	Path     string
	HasPath  bool // a path, possibly empty, is part of the credential
	Username string
	HasUser  bool // a username, possibly empty, is part of the credential

	Password   string
	AuthType   string
	Credential string

	// Expiry is password_expiry_utc in Unix seconds; 0 means it never expires.
	Expiry int64
	// RefreshToken is oauth_refresh_token; "" means none.
	RefreshToken string

	// Foreign marks an item of another program's layout that the OS's git helper
	// also reads and erases but never replaces (on the Secret Service, an item of
	// another schema that libsecret's search finds): StoreGit leaves it alone.
	Foreign bool
}

// GitQuery selects git credentials: each field counts only when its Has flag is
// set, and then the credential must have that field, equal. An empty string is a
// value, not a wildcard.
type GitQuery struct {
	Protocol    string
	HasProtocol bool
	Host        string
	HasHost     bool
	Path        string
	HasPath     bool
	Username    string
	HasUser     bool
}

// GitLayout is one store's own layout of git credentials: it finds, writes and
// deletes items, and knows nothing of git's rules. Every method honours ctx's
// deadline; errors follow the Keyring rules (ErrUnavailable, ErrLocked, no
// secret in a message).
type GitLayout interface {
	// GitSearch returns the stored git credentials that may match q: every one
	// that matches, and possibly others (the caller filters), in the layout's
	// order of preference. Items it cannot parse are left out. An empty q lists
	// every git credential.
	GitSearch(ctx context.Context, q GitQuery) ([]GitCredential, error)
	// GitPut writes c as one item, replacing in place the item this layout
	// keeps under c's identity, and returns the item's ID. It leaves every other
	// item alone.
	GitPut(ctx context.Context, c GitCredential) (string, error)
	// GitDelete removes one credential that GitSearch returned. An item already
	// gone is an error matching ErrNotFound.
	GitDelete(ctx context.Context, c GitCredential) error
}

// GitKeyring is implemented by the OS keyrings that also keep git credentials in
// the OS's git layout. Matching, expiry and the choice between matches are the
// caller's.
type GitKeyring interface {
	GitSearch(ctx context.Context, q GitQuery) ([]GitCredential, error)
	// GitStore stores c by git's rule: StoreGit over the keyring's GitLayout.
	GitStore(ctx context.Context, c GitCredential) error
	GitDelete(ctx context.Context, c GitCredential) error
}

// StoreGit stores c in l by the rule of git-credential-store and -cache: c
// replaces every credential of either kind that its identity matches
// (c.Query().Matches), so a credential stored without a path replaces that
// user's credentials for the host with a path too. It puts c first, so a
// failure leaves the old credentials rather than none.
func StoreGit(ctx context.Context, l GitLayout, c GitCredential) error {
	id, err := l.GitPut(ctx, c)
	if err != nil {
		return err
	}
	q := c.Query()
	others, err := l.GitSearch(ctx, q)
	if err != nil {
		return err
	}
	for i := range others {
		if others[i].ID == id || others[i].Foreign || !q.Matches(&others[i]) {
			continue
		}
		if err := l.GitDelete(ctx, others[i]); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// Query is c's identity as a query: protocol and host, and path and username
// when c has them.
func (c *GitCredential) Query() GitQuery {
	return GitQuery{Protocol: c.Protocol, HasProtocol: true, Host: c.Host, HasHost: true,
		Path: c.Path, HasPath: c.HasPath, Username: c.Username, HasUser: c.HasUser}
}

// Matches is git's credential_match(want=q, have=c, match_password=0): every field
// present in q is present in c, and equal.
func (q GitQuery) Matches(c *GitCredential) bool {
	return (!q.HasProtocol || q.Protocol == c.Protocol) &&
		(!q.HasHost || q.Host == c.Host) &&
		(!q.HasPath || c.HasPath && q.Path == c.Path) &&
		(!q.HasUser || c.HasUser && q.Username == c.Username)
}

// ParseGitExpiry reads password_expiry_utc as git does (strtoumax base 10, then
// 0 or overflow meaning "never"): leading white space and a sign are skipped,
// reading stops at the first non-digit, no digits is 0. It returns Unix seconds,
// or 0 for "never expires". A negative number wraps to a huge unsigned one in
// git, which never passes: never here too.
func ParseGitExpiry(s string) int64 {
	i := 0
	for i < len(s) && strings.IndexByte(" \t\n\v\f\r", s[i]) >= 0 {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var v uint64
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0 // ERANGE: never
		}
		v = v*10 + d
	}
	if neg || v > math.MaxInt64 {
		return 0
	}
	return int64(v)
}

// ApplySecret fills the secret fields from the lines of a secret as git's own
// keyring helpers write it (libsecret, wincred): the first line is the password,
// or the credential of an authtype item, and key=value lines follow
// (password_expiry_utc, oauth_refresh_token, and authtype on authtype items). It
// reports false for an authtype item that has no authtype.
func (c *GitCredential) ApplySecret(lines []string, isAuthType bool) bool {
	for _, l := range lines[1:] {
		switch k, v, _ := strings.Cut(l, "="); {
		case k == "password_expiry_utc":
			c.Expiry = ParseGitExpiry(v)
		case k == "oauth_refresh_token":
			c.RefreshToken = v
		case k == "authtype" && isAuthType:
			c.AuthType = v
		}
	}
	if !isAuthType {
		c.Password = lines[0]
		return true
	}
	c.Credential = lines[0]
	return c.AuthType != ""
}

// Secret is the secret as libsecret and osxkeychain keep it, the inverse of
// ApplySecret: the password (or the credential and "\nauthtype=A"), then
// "\npassword_expiry_utc=N" and "\noauth_refresh_token=T" when there are any.
func (c *GitCredential) Secret() []byte {
	var b strings.Builder
	if c.AuthType != "" {
		b.WriteString(c.Credential)
		b.WriteString("\nauthtype=" + c.AuthType)
	} else {
		b.WriteString(c.Password)
	}
	if c.Expiry != 0 {
		b.WriteString("\npassword_expiry_utc=" + strconv.FormatInt(c.Expiry, 10))
	}
	if c.RefreshToken != "" {
		b.WriteString("\noauth_refresh_token=" + c.RefreshToken)
	}
	return []byte(b.String())
}
