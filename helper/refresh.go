package helper

// Refresh on read: docs/oauth.md. `get` of an MCP token and
// `mcpcred headers` read through ReadToken, which refreshes a token that is about
// to expire, at most once per credential across all processes at a time.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/mcpcred/mcpcred/backends/lockfile"
	"github.com/mcpcred/mcpcred/helper/oauth"
)

// defaultRefreshTimeout bounds a token endpoint call when Timeout is not set.
const defaultRefreshTimeout = 3 * time.Second

// LoginRequiredError says there is no usable token and logging in again is the
// fix; Command is the exact command to run.
type LoginRequiredError struct {
	ServerName, URL string
	Reason          string
	Command         string
}

func (e *LoginRequiredError) Error() string { return e.Reason + ": run " + e.Command }

// LoginCommand is the command that logs (serverName, url) in again into the
// stores this Helper uses.
func (h *Helper) LoginCommand(serverName, url string) string {
	return "mcpcred login " + ShellQuote(url) + " --server " + ShellQuote(serverName) + h.LoginArgs
}

func (h *Helper) loginRequired(serverName, url, format string, args ...any) error {
	return &LoginRequiredError{
		ServerName: serverName,
		URL:        url,
		Reason:     fmt.Sprintf(format, args...),
		Command:    h.LoginCommand(serverName, url),
	}
}

// ShellQuote quotes s for sh when it holds anything but plain characters.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// HasTokens reports whether the record holds an access token. A record without
// one is a client registration kept after its tokens died (invalid_grant), for
// the next login to the same issuer to reuse.
func (t *Token) HasTokens() bool { return t.AccessToken != "" }

// Refreshable reports whether the record holds what a refresh needs.
func (t *Token) Refreshable() bool { return t.MissingForRefresh() == "" }

// MissingForRefresh names the fields a refresh needs that the record lacks
// ("refresh_token and client_id"), or "". A missing token_endpoint (Codex stores
// none) is found from the server's URL at the first refresh.
func (t *Token) MissingForRefresh() string {
	var m []string
	need := []struct{ k, v string }{{"refresh_token", t.RefreshToken}, {"client_id", t.ClientID}}
	if t.GrantType == GrantClientCredentials {
		// A machine client mints a new token with its secret.
		need = []struct{ k, v string }{{"client_id", t.ClientID}, {"client_secret", t.ClientSecret}}
	}
	for _, f := range need {
		if f.v == "" {
			m = append(m, f.k)
		}
	}
	return strings.Join(m, " and ")
}

// registrationOnly is t without its tokens: server, issuer, client registration,
// token endpoint, resource and scope.
func (t *Token) registrationOnly() *Token {
	r := *t
	r.AccessToken, r.RefreshToken, r.TokenType, r.Expiry = "", "", "", time.Time{}
	return &r
}

// usable reports whether t's access token has not expired at now.
func (t *Token) usable(now time.Time) bool {
	return t.HasTokens() && (t.Expiry.IsZero() || now.Before(t.Expiry))
}

// RefreshLockPath is the per-credential lock of the store key: in the home's
// mcp-oauth-locks directory, named as Codex names it, so that in the codex
// profile it is Codex's own lock.
func (h *Helper) RefreshLockPath(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(filepath.Dir(h.Tokens.LockPath()), hex.EncodeToString(sum[:])+".lock")
}

// ReadToken loads the token stored for (serverName, url) and, unless NoRefresh,
// refreshes it first when it expires within MinTTL (with force, whatever its
// expiry) and the record can be refreshed. Nothing stored is (nil, nil). A record
// without tokens, and a refresh that showed the tokens or the client dead, are a
// *LoginRequiredError. A token endpoint that fails otherwise leaves the stored
// token, returned with a notice while it is still valid; once it has expired
// that is an error. Without force, an expired token that cannot be refreshed is
// returned as it is (`get` prints it; `headers` refuses it).
func (h *Helper) ReadToken(ctx context.Context, serverName, url string, force bool) (*Token, error) {
	t, _, err := h.LoadToken(ctx, serverName, url)
	if err != nil || t == nil {
		return nil, err
	}
	if !t.HasTokens() {
		return nil, h.loginRequired(serverName, url, "no token is stored for %s (%s), only its client registration", serverName, url)
	}
	if h.NoRefresh || (!force && !t.expiresWithin(h.now(), h.MinTTL)) {
		return t, nil
	}
	if !t.Refreshable() {
		if force {
			return nil, h.loginRequired(serverName, url, "the token for %s cannot be refreshed: the record has no %s", serverName, t.MissingForRefresh())
		}
		return t, nil
	}
	return h.refresh(ctx, t)
}

func (t *Token) expiresWithin(now time.Time, d time.Duration) bool {
	return !t.Expiry.IsZero() && !t.Expiry.After(now.Add(d))
}

// refresh runs under the credential's lock: the record is read again, and if
// another process changed it since first was read, that record is the answer as
// it is (not tested against MinTTL again: a server may issue tokens that live
// less than the margin). Otherwise the token endpoint is asked once, and the new
// tokens are stored before they are returned.
func (h *Helper) refresh(ctx context.Context, first *Token) (*Token, error) {
	name, url := first.ServerName, first.URL
	call := h.Timeout
	if call <= 0 {
		call = defaultRefreshTimeout
	}
	// The holder of the lock may spend a token endpoint call and a store.
	unlock, err := lockfile.Lock(h.RefreshLockPath(first.Key()), budget(ctx, 2*call, 500*time.Millisecond))
	if err != nil {
		return h.fallback(first, fmt.Errorf("another process is refreshing it (%v)", err))
	}
	defer func() { _ = unlock() }()

	cur, _, err := h.LoadToken(ctx, name, url)
	switch {
	case err != nil:
		return h.fallback(first, err)
	case cur == nil:
		return nil, nil // erased meanwhile (logout)
	case !cur.Equal(first):
		if !cur.HasTokens() {
			return nil, h.loginRequired(name, url, "no token is stored for %s (%s), only its client registration", name, url)
		}
		return cur, nil
	}

	next := *cur
	if next.TokenEndpoint == "" {
		dctx, cancel := context.WithTimeout(ctx, budget(ctx, call, time.Second))
		ep, err := oauth.DiscoverTokenEndpoint(dctx, h.HTTPClient, cur.URL, cur.Issuer)
		cancel()
		if err != nil {
			// As a record that cannot be refreshed: the token as stored (`get`
			// prints it, `headers` refuses it once expired), with a notice.
			h.notice("could not refresh the token for %s: the record has no token_endpoint, and finding it from %s failed: %s", cur.ServerName, cur.URL, oneLine(err))
			return cur, nil
		}
		// Kept in the record (in the codex profile as the extra keys Codex
		// ignores), so discovery runs once.
		next.TokenEndpoint = ep.TokenEndpoint
		if next.Resource == "" {
			next.Resource = ep.Resource
		}
	}

	cctx, cancel := context.WithTimeout(ctx, budget(ctx, call, time.Second))
	defer cancel()
	client := oauth.TokenClient{ClientID: next.ClientID, ClientSecret: next.ClientSecret, TokenEndpoint: next.TokenEndpoint}
	if next.AuthMethod == oauth.AuthPrivateKeyJWT {
		client.ClientSecret, client.PrivateKey = "", next.ClientSecret
	}
	var got *oauth.Tokens
	if next.GrantType == GrantClientCredentials {
		got, err = oauth.ClientCredentials(cctx, h.HTTPClient, client, next.Scope, next.Resource)
	} else {
		got, err = oauth.Refresh(cctx, h.HTTPClient, client, next.RefreshToken, next.Resource)
	}
	if err != nil {
		return h.refreshFailed(ctx, cur, err)
	}
	next.AccessToken = got.AccessToken
	next.RefreshToken = got.RefreshToken // the old one when none was issued
	next.Expiry = got.Expiry.Truncate(time.Millisecond)
	if got.TokenType != "" {
		next.TokenType = got.TokenType
	}
	if got.Scope != "" {
		next.Scope = got.Scope
	}
	if _, err := h.saveToken(ctx, &next, !next.Equal(cur)); err != nil { // cur was read under the lock
		return nil, fmt.Errorf("the token for %s was refreshed, but the new one could not be stored (%s); if the server rotated the refresh token, the stored one is spent: run %s", name, oneLine(err), h.LoginCommand(name, url))
	}
	return &next, nil
}

// refreshFailed acts on a failed refresh of cur, still under the lock.
func (h *Helper) refreshFailed(ctx context.Context, cur *Token, err error) (*Token, error) {
	name, url := cur.ServerName, cur.URL
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		return h.fallback(cur, err)
	}
	switch oe.Kind {
	case oauth.InvalidGrant, oauth.InvalidClient:
		// Drop what died only if the store still holds the refresh token that
		// failed: a login may have stored new tokens meanwhile (login does not take
		// this lock), and those are the answer then.
		now, _, lerr := h.LoadToken(ctx, name, url)
		if lerr == nil && now != nil && now.HasTokens() && (now.RefreshToken != cur.RefreshToken || now.ClientID != cur.ClientID) {
			return now, nil
		}
		if lerr == nil && now != nil {
			if oe.Kind == oauth.InvalidGrant {
				_, lerr = h.saveToken(ctx, now.registrationOnly(), now.HasTokens())
			} else {
				_, lerr = h.DeleteToken(ctx, name, url)
			}
		}
		if lerr != nil {
			h.notice("the dead tokens of %s could not be removed: %s", name, oneLine(lerr))
		}
		if oe.Kind == oauth.InvalidGrant {
			return nil, h.loginRequired(name, url, "the authorization server refused the refresh token of %s (invalid_grant: the login expired or was revoked); its tokens are removed, its client registration kept", name)
		}
		return nil, h.loginRequired(name, url, "the authorization server no longer accepts the client registration of %s (%s): the record is removed", name, oe.Code)
	case oauth.Rejected:
		if cur.usable(h.now()) {
			return h.fallback(cur, err)
		}
		return nil, h.loginRequired(name, url, "the token for %s expired and the refresh was refused (%s)", name, oneLine(err))
	}
	return h.fallback(cur, err)
}

// fallback returns t, with a notice, while its access token is still valid;
// afterwards, an error saying why it could not be refreshed.
func (h *Helper) fallback(t *Token, cause error) (*Token, error) {
	now := h.now()
	if t.usable(now) {
		left := "no stated expiry"
		if !t.Expiry.IsZero() {
			left = "valid for " + t.Expiry.Sub(now).Truncate(time.Second).String() + " more"
		}
		h.notice("could not refresh the token for %s (%s): using the stored one (%s)", t.ServerName, oneLine(cause), left)
		return t, nil
	}
	return nil, fmt.Errorf("the token for %s expired and could not be refreshed: %s; try again later, or run %s", t.ServerName, oneLine(cause), h.LoginCommand(t.ServerName, t.URL))
}

// budget is want, cut so that reserve is left before ctx's deadline; never
// below a millisecond.
func budget(ctx context.Context, want, reserve time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		want = min(want, time.Until(dl)-reserve)
	}
	return max(want, time.Millisecond)
}
