// Package oauth is mcpcred's OAuth 2 client side, on golang.org/x/oauth2: the
// refresh-token grant with the MCP rules x/oauth2 leaves out (the RFC 8707
// `resource` parameter, an explicit client authentication style, no redirects),
// and the classification of a token endpoint's answer into what the caller does
// next (log in again, register again, or keep the old token while it lasts).
//
// It knows nothing of stores or records: package helper maps its Token records to
// a TokenClient and back. Login (login*.go) can share TokenClient.Config,
// HTTPClient, FromOAuth2 and Classify.
//
// No function logs, and no error carries a token, a client secret or a response
// body: only the endpoint, the HTTP status and the OAuth error code.
//
// Three rules against hostile servers are each written once here (docs/oauth.md,
// "Hostile servers"): every request carrying a secret goes through HTTPClient,
// whose transport sends nothing that is not https or loopback http
// (SecretURLAllowed, ErrInsecureEndpoint); every token response passes
// CheckTokens before anything keeps it; and every piece of server text a message
// quotes passes ServerText (escaped, at most MaxServerText bytes).
package oauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// TokenClient is a registered OAuth client as its token endpoint sees it.
type TokenClient struct {
	ClientID      string
	ClientSecret  string // empty for a public client
	TokenEndpoint string
	// AuthStyle is how the client authenticates at the token endpoint. Zero means
	// AuthStyleFor(ClientSecret): never x/oauth2's auto-detection, which costs a
	// second request whenever its first guess is refused.
	AuthStyle oauth2.AuthStyle
	// PrivateKey, when set, is the client's private key (EncodeClientKey's
	// form): it authenticates with signed assertions (private_key_jwt), not
	// ClientSecret. Only the client credentials grant uses it (jwtauth.go).
	PrivateKey string
}

// AuthStyleFor is the client authentication a record without a stored method
// uses: a client with a secret sends it in an HTTP Basic header
// (client_secret_basic, RFC 6749 2.3.1's MUST and RFC 7591's default method); a
// public client sends only client_id in the form (token_endpoint_auth_method none).
func AuthStyleFor(secret string) oauth2.AuthStyle {
	if secret != "" {
		return oauth2.AuthStyleInHeader
	}
	return oauth2.AuthStyleInParams
}

func (c TokenClient) style() oauth2.AuthStyle {
	if c.AuthStyle != oauth2.AuthStyleAutoDetect {
		return c.AuthStyle
	}
	return AuthStyleFor(c.ClientSecret)
}

// Config is the x/oauth2 configuration of c: client, token endpoint and an
// explicit auth style. A caller running the authorization code flow fills in
// AuthURL, RedirectURL and Scopes.
func (c TokenClient) Config() *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		Endpoint:     oauth2.Endpoint{TokenURL: c.TokenEndpoint, AuthStyle: c.style()},
	}
}

// Tokens is what a token endpoint issued, as it is kept: an absolute expiry
// (zero when the server gave no lifetime) and the granted scope read at receipt
// (x/oauth2 does not keep it past the response).
type Tokens struct {
	AccessToken  string
	TokenType    string
	RefreshToken string
	Expiry       time.Time
	Scope        string
}

// FromOAuth2 keeps what tok carries, reading scope from the raw response; call it
// on the token a token endpoint call returned, before any copy loses the response.
func FromOAuth2(tok *oauth2.Token) *Tokens {
	t := &Tokens{
		AccessToken:  tok.AccessToken,
		TokenType:    tok.TokenType,
		RefreshToken: tok.RefreshToken,
		Expiry:       tok.Expiry,
	}
	if s, ok := tok.Extra("scope").(string); ok {
		t.Scope = s
	}
	return t
}

// HTTPClient returns the client for every request that carries a secret (token
// exchange, refresh, revocation, registration), based on base (nil: a fresh
// default transport). It never follows a redirect: a POST carrying a refresh
// token or a client secret goes to the configured endpoint or nowhere, and a 3xx
// answer is an error like any other non-2xx. And it sends nothing to a URL that
// is neither https nor http on a loopback host (ErrInsecureEndpoint).
func HTTPClient(base *http.Client) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	if c.Transport == nil {
		c.Transport = http.DefaultTransport
	}
	if _, ok := c.Transport.(secretGuard); !ok {
		c.Transport = secretGuard{base: c.Transport}
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// withResource returns a copy of hc whose requests carry resource in their form
// body when they are refresh-token grants that lack one. x/oauth2 builds the
// refresh request itself and has no option for extra parameters (its
// AuthCodeOptions reach Exchange only), so the parameter is added on the way out.
func withResource(hc *http.Client, resource string) *http.Client {
	c := *hc
	c.Transport = resourceTransport{base: hc.Transport, resource: resource}
	return &c
}

type resourceTransport struct {
	base     http.RoundTripper
	resource string
}

func (rt resourceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || req.Body == nil || req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		return rt.base.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	if form, err := url.ParseQuery(string(body)); err == nil && form.Get("grant_type") == "refresh_token" && !form.Has("resource") {
		form.Set("resource", rt.resource)
		body = []byte(form.Encode())
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return rt.base.RoundTrip(out)
}

// Refresh redeems refreshToken at c's token endpoint (RFC 6749 section 6), sending
// resource (RFC 8707) when it is not empty. hc is the HTTP client (nil: a default
// one); ctx bounds the whole call. The result keeps refreshToken when the server
// issued none; its Scope is empty when the response had none (the caller keeps the
// old one). Every failure is an *Error.
//
// A client with a secret and no explicit AuthStyle authenticates with HTTP Basic;
// if the server answers invalid_client to that, the request is made once more with
// the secret in the form (client_secret_post), since the record does not say which
// of the two the client was registered with. A refused client authentication does
// not consume the refresh token.
func Refresh(ctx context.Context, hc *http.Client, c TokenClient, refreshToken, resource string) (*Tokens, error) {
	hc = HTTPClient(hc)
	if resource != "" {
		hc = withResource(hc, resource)
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
	cfg := c.Config()
	tok, err := refreshOnce(ctx, cfg, refreshToken)
	if e, ok := err.(*Error); ok && e.Kind == InvalidClient && c.AuthStyle == oauth2.AuthStyleAutoDetect && c.ClientSecret != "" {
		cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
		if tok2, err2 := refreshOnce(ctx, cfg, refreshToken); err2 == nil || err2.(*Error).Kind != InvalidClient {
			tok, err = tok2, err2
		}
	}
	if err != nil {
		return nil, err
	}
	t := FromOAuth2(tok)
	if err := CheckTokens(t); err != nil {
		return nil, &Error{Kind: Unavailable, Endpoint: c.TokenEndpoint, Err: err}
	}
	return t, nil
}

func refreshOnce(ctx context.Context, cfg *oauth2.Config, refreshToken string) (*oauth2.Token, error) {
	// An empty access token is never Valid, so the source goes straight to the
	// token endpoint, once.
	tok, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, Classify(ctx, err, cfg.Endpoint.TokenURL)
	}
	return tok, nil
}

// Kind is what a failed token request means for the caller.
type Kind int

const (
	// Unavailable: the endpoint did not answer, answered 5xx or 429, too slowly,
	// or with something that is not a token response. Nothing is known to be wrong
	// with the credentials: keep them.
	Unavailable Kind = iota
	// InvalidGrant: the refresh token (or code) is dead: expired, revoked, or
	// already used. The tokens must go; the client registration stays.
	InvalidGrant
	// InvalidClient: the client is unknown or may not use this grant
	// (invalid_client, unauthorized_client): the registration is gone.
	InvalidClient
	// Rejected: any other OAuth error (invalid_request, invalid_scope,
	// invalid_target, ...): this request will not succeed as it is.
	Rejected
)

// Error is a failed token request. Its message names the endpoint, the HTTP
// status and the OAuth error code, never a token, a secret or the response body.
type Error struct {
	Kind     Kind
	Endpoint string
	Status   int    // HTTP status, 0 when there was no response
	Code     string // RFC 6749 5.2 error code, if any, as ServerText gives it
	Err      error  // the transport or parsing error, if any
	// Name is the endpoint's name in the message; "" is "token endpoint".
	Name string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Name == "" {
		b.WriteString("token endpoint ")
	} else {
		b.WriteString(e.Name + " ")
	}
	b.WriteString(ServerText(e.Endpoint))
	switch {
	case e.Code != "":
		fmt.Fprintf(&b, " answered %s (HTTP %d)", e.Code, e.Status)
	case e.Status != 0:
		fmt.Fprintf(&b, " answered HTTP %d", e.Status)
	case e.Err != nil:
		b.WriteString(": ")
		b.WriteString(describe(e.Err))
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// describe says what went wrong with the call without quoting anything the
// server sent.
func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is in the message already
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer before the deadline"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	s := err.Error()
	if strings.HasPrefix(s, "oauth2: ") {
		// "cannot parse json: ..." and the like quote the body: say only what.
		return "not a token response"
	}
	// A transport error may quote what the server sent ("malformed HTTP
	// response ...").
	return ServerText(s)
}

// transportError is a failed HTTP call whose message may quote what the server
// sent ("malformed HTTP response ..."): shown through ServerText.
type transportError struct{ err error }

func (e transportError) Error() string { return ServerText(e.err.Error()) }
func (e transportError) Unwrap() error { return e.err }

// Classify turns an error of an x/oauth2 token request to endpoint into an
// *Error. ctx is the request's context: its deadline passing counts as
// Unavailable whatever error the transport returned.
func Classify(ctx context.Context, err error, endpoint string) *Error {
	e := &Error{Kind: Unavailable, Endpoint: endpoint}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		e.Err = err
		if errors.Is(err, ErrInsecureEndpoint) {
			// Nothing was sent, and asking again will not change that: the
			// record's endpoint must change, which a new login does.
			e.Kind = Rejected
			return e
		}
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			e.Err = ctx.Err()
		}
		return e
	}
	if re.Response != nil {
		e.Status = re.Response.StatusCode
	}
	switch code := re.ErrorCode; {
	case code == "invalid_grant":
		e.Kind = InvalidGrant
	case code == "invalid_client" || code == "unauthorized_client":
		e.Kind = InvalidClient
	case e.Status >= 500 || e.Status == http.StatusTooManyRequests || code == "temporarily_unavailable" || code == "server_error":
		e.Kind = Unavailable
	case code != "":
		e.Kind = Rejected
	}
	// The code is the server's text: kept only cleaned and bounded, as every
	// message that shows it needs it.
	e.Code = ServerText(re.ErrorCode)
	// A non-2xx answer with no OAuth error (a proxy's page, a 404, a redirect)
	// says nothing about the credentials: Unavailable.
	return e
}
