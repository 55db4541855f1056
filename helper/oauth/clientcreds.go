package oauth

// The client credentials grant (RFC 6749 section 4.4, the MCP client-credentials
// extension): a machine client with a secret gets tokens without a person, at
// login and again whenever the token expires. The secret comes from a file or
// stdin at login and then from the store, never from argv or the environment.

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// clientCredentialsToken asks c's token endpoint for a token with the client
// credentials grant, for scope and resource (each omitted when empty). ctx
// carries the HTTP client (oauth2.HTTPClient).
func clientCredentialsToken(ctx context.Context, c TokenClient, scope, resource string) (*oauth2.Token, error) {
	cfg := &clientcredentials.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		TokenURL:     c.TokenEndpoint,
		Scopes:       strings.Fields(scope),
		AuthStyle:    c.style(),
	}
	cfg.EndpointParams = url.Values{}
	if resource != "" {
		cfg.EndpointParams.Set("resource", resource)
	}
	if c.PrivateKey != "" {
		assertion, err := clientAssertion(c.PrivateKey, c.ClientID, c.TokenEndpoint, time.Now())
		if err != nil {
			return nil, err
		}
		cfg.ClientSecret, cfg.AuthStyle = "", oauth2.AuthStyleInParams
		cfg.EndpointParams.Set("client_assertion_type", assertionType)
		cfg.EndpointParams.Set("client_assertion", assertion)
	}
	return cfg.Token(ctx)
}

// ClientCredentials mints a token for a stored machine client: the refresh of
// a record whose grant is client_credentials. As Refresh, it goes through
// HTTPClient, its answer passes CheckTokens (a bad one is Unavailable: the
// stored record is kept), and failures are *Error.
func ClientCredentials(ctx context.Context, hc *http.Client, c TokenClient, scope, resource string) (*Tokens, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, HTTPClient(hc))
	tok, err := clientCredentialsToken(ctx, c, scope, resource)
	if err != nil {
		return nil, Classify(ctx, err, c.TokenEndpoint)
	}
	t := FromOAuth2(tok)
	if err := CheckTokens(t); err != nil {
		return nil, &Error{Kind: Unavailable, Endpoint: c.TokenEndpoint, Err: err}
	}
	return t, nil
}

// clientCredentials is `login --client-credentials`: the given client, no
// browser, one token request.
func (l *login) clientCredentials(ctx context.Context, r *Result) error {
	o, md := l.o, r.Server
	if gts := md.GrantTypesSupported; len(gts) > 0 && !slices.Contains(gts, "client_credentials") {
		return refuse("the authorization server %s does not offer the client credentials grant (grant_types_supported %s)", md.Issuer, quote(strings.Join(gts, " ")))
	}
	r.ClientCredentials = true
	r.Client = ClientInfo{Issuer: md.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret}
	var tc TokenClient
	if o.ClientKey != "" {
		if !slices.Contains(md.TokenEndpointAuthMethodsSupported, AuthPrivateKeyJWT) {
			return refuse("the authorization server %s does not list private_key_jwt in token_endpoint_auth_methods_supported: use --client-secret-file", md.Issuer)
		}
		// The record keeps the key where a secret would be.
		r.Client.ClientSecret, r.AuthMethod = o.ClientKey, AuthPrivateKeyJWT
		tc = TokenClient{ClientID: o.ClientID, TokenEndpoint: md.TokenEndpoint, PrivateKey: o.ClientKey}
	} else {
		cfg := l.config(r, "")
		tc = TokenClient{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TokenEndpoint: md.TokenEndpoint, AuthStyle: cfg.Endpoint.AuthStyle}
	}
	l.progress("asking %s for a token with the client credentials of %s", md.Issuer, o.ClientID)
	return l.exchange(ctx, r, "the client credentials were not accepted", func(hctx context.Context) (*oauth2.Token, error) {
		return clientCredentialsToken(hctx, tc, r.RequestedScope, r.ResourceParam)
	})
}
