package oauth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrInsecureEndpoint is matched by the error of every request that would carry
// a secret (a code, a refresh token, a client secret, a token to revoke, a
// registration) to a URL that is neither https nor http on a loopback host. Such
// a request is never sent.
var ErrInsecureEndpoint = errors.New("refusing to send a secret over plain http to a host that is not loopback: only https, or http to 127.0.0.0/8, ::1 or localhost, may receive one")

// secretGuard is the transport of every request that carries a secret: it
// refuses, before any byte leaves, a request whose URL SecretURLAllowed refuses.
// HTTPClient installs it, so every request kind built on HTTPClient (token
// exchange, refresh, revocation, registration, and any grant added later)
// inherits the rule.
type secretGuard struct{ base http.RoundTripper }

func (g secretGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if !SecretURLAllowed(req.URL.Scheme, req.URL.Hostname()) {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper closes the body, even on error
		}
		return nil, ErrInsecureEndpoint
	}
	return g.base.RoundTrip(req)
}

// SecretURLAllowed is the one rule for where a secret may go: https anywhere,
// or http to a loopback host (an IP in 127.0.0.0/8 or ::1, or the name
// localhost).
func SecretURLAllowed(scheme, host string) bool {
	switch strings.ToLower(scheme) {
	case "https":
		return true
	case "http":
		return IsLoopbackHost(host)
	}
	return false
}

// Bounds of a token response's fields, in bytes. Real access tokens, JWTs
// included, run to a few kilobytes; anything past these is not a token mcpcred
// will store or print.
const (
	MaxTokenBytes = 16 << 10 // access_token, refresh_token
	MaxScopeBytes = 8 << 10  // scope
)

// CheckTokens checks what a token endpoint issued before anything keeps it: an
// access token; access_token, refresh_token, token_type and scope of printable
// ASCII only (RFC 6749 appendix A: VSCHAR, NQSCHAR and space), so no CR, LF, NUL
// or other control character can reach a header, a store or a terminal; the
// lengths above; and a token_type of Bearer in any case, or none (read as
// Bearer), since `headers` sends "Authorization: Bearer". The error names the
// field and what is wrong, never its value.
func CheckTokens(t *Tokens) error {
	if t.AccessToken == "" {
		return errors.New("the token response has no access_token")
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"access_token", t.AccessToken, MaxTokenBytes},
		{"refresh_token", t.RefreshToken, MaxTokenBytes},
		{"token_type", t.TokenType, 64},
		{"scope", t.Scope, MaxScopeBytes},
	} {
		if len(f.value) > f.max {
			return fmt.Errorf("the token response's %s is %d bytes, over the %d mcpcred accepts", f.name, len(f.value), f.max)
		}
		for i := 0; i < len(f.value); i++ {
			if c := f.value[i]; c < 0x20 || c > 0x7e {
				return fmt.Errorf("the token response's %s holds a control or non-ASCII character (byte %d)", f.name, i+1)
			}
		}
	}
	if t.TokenType != "" && !strings.EqualFold(t.TokenType, "bearer") {
		return fmt.Errorf("the token response's token_type is %s, not Bearer: mcpcred sends only bearer tokens", quote(t.TokenType))
	}
	return nil
}
