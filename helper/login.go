package helper

// What `mcpcred login` and `mcpcred logout` do to the stores (docs/login.md);
// the OAuth flow itself is package oauth's.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mcpcred/mcpcred/helper/oauth"
)

// revokeTimeout bounds logout's token revocation, which is best effort.
const revokeTimeout = 10 * time.Second

// LoginName is the server name a login or logout of serverURL acts on: name when
// given, else the one record stored for serverURL, else (login only, orDefault)
// DefaultServerName. "" means none (logout with nothing stored).
func (h *Helper) LoginName(ctx context.Context, serverURL, name string, orDefault bool) (string, error) {
	if name != "" {
		return name, nil
	}
	name, err := h.StoredName(ctx, serverURL)
	if err != nil {
		return "", err
	}
	if name == "" && orDefault {
		name = DefaultServerName(serverURL)
	}
	return name, nil
}

// PreviousLogin is what a new login of (name, serverURL) takes from the record
// stored there: its client registration, to reuse unless clientID names another
// client (then only its issuer, which tells a registration that changed issuer),
// and its scope, for a step-up to ask for the union. A record that cannot be
// read is returned as the error, for the caller to say so and register anew.
func (h *Helper) PreviousLogin(ctx context.Context, name, serverURL, clientID string) (*oauth.ClientInfo, string, error) {
	stored, _, err := h.LoadToken(ctx, name, serverURL)
	if err != nil || stored == nil || stored.ClientID == "" {
		return nil, "", err
	}
	if clientID != "" {
		return &oauth.ClientInfo{Issuer: stored.Issuer}, stored.Scope, nil
	}
	return &oauth.ClientInfo{Issuer: stored.Issuer, ClientID: stored.ClientID, ClientSecret: stored.ClientSecret}, stored.Scope, nil
}

// SaveLogin stores the whole record of a login under (name, serverURL) and says
// where it went, for the login's last line.
func (h *Helper) SaveLogin(ctx context.Context, name, serverURL string, r *oauth.Result) (string, error) {
	t := &Token{
		ServerName:    name,
		URL:           serverURL,
		Issuer:        r.Client.Issuer,
		ClientID:      r.Client.ClientID,
		ClientSecret:  r.Client.ClientSecret,
		TokenType:     r.Tokens.TokenType,
		AccessToken:   r.Tokens.AccessToken,
		RefreshToken:  r.Tokens.RefreshToken,
		Expiry:        r.Tokens.Expiry.Truncate(time.Millisecond),
		Scope:         r.Scope,
		TokenEndpoint: r.Server.TokenEndpoint,
		Resource:      r.ResourceParam,
	}
	if t.TokenType == "" {
		t.TokenType = "Bearer"
	}
	if r.ClientCredentials {
		t.GrantType = GrantClientCredentials
	}
	if r.AuthMethod == oauth.AuthPrivateKeyJWT {
		t.AuthMethod = r.AuthMethod
	}
	where, err := h.SaveToken(ctx, t)
	if err != nil {
		return "", err
	}
	if where == InFile {
		return "the file " + h.Tokens.Path(), nil
	}
	return fmt.Sprintf("the keyring (service %q)", h.Service), nil
}

// Revoke revokes t's refresh token, then its access token, when the issuer's
// metadata lists a revocation endpoint (RFC 7009). It is best effort: what
// happened is said through say, one sentence each, never an error.
func Revoke(ctx context.Context, t *Token, say func(string, ...any)) {
	if t == nil || t.Issuer == "" || t.RefreshToken == "" && t.AccessToken == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, revokeTimeout)
	defer cancel()
	c := &http.Client{Timeout: revokeTimeout}
	md, err := oauth.FetchServerMetadata(ctx, c, t.Issuer)
	if err != nil {
		say("not revoking the tokens: %s", oneLine(err))
		return
	}
	if md.RevocationEndpoint == "" {
		say("%s offers no token revocation: the tokens are only erased here", t.Issuer)
		return
	}
	var failed []string
	for _, tok := range []struct{ value, hint string }{{t.RefreshToken, "refresh_token"}, {t.AccessToken, "access_token"}} {
		if tok.value == "" {
			continue
		}
		secret := t.ClientSecret
		if t.AuthMethod == oauth.AuthPrivateKeyJWT {
			secret = "" // a private key, which is sent nowhere
		}
		if err := oauth.Revoke(ctx, c, md.RevocationEndpoint, t.ClientID, secret, tok.value, tok.hint); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %s", strings.ReplaceAll(tok.hint, "_", " "), oneLine(err)))
		}
	}
	if len(failed) > 0 {
		say("revocation at %s failed (%s): the tokens are erased here anyway", md.RevocationEndpoint, strings.Join(failed, "; "))
		return
	}
	say("revoked the tokens at %s", t.Issuer)
}
