package oauth

// The token endpoint of a record that lacks one: Codex stores no token endpoint
// with its tokens, so the first refresh of a token Codex logged in finds it from
// the MCP server's URL, as login does (RFC 9728, then RFC 8414).

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// Endpoint is where a record's refresh goes, as discovery found it.
type Endpoint struct {
	Issuer        string
	TokenEndpoint string
	// Resource is the protected resource metadata's resource: the RFC 8707
	// indicator of the server.
	Resource string
}

// DiscoverTokenEndpoint finds the token endpoint for the MCP server at
// serverURL. issuer, when not empty, is the authorization server the tokens came
// from: only its metadata is used, and only if the server still names it (the
// client is bound to its issuer). c nil is a default client; ctx bounds it all.
func DiscoverTokenEndpoint(ctx context.Context, c *http.Client, serverURL, issuer string) (*Endpoint, error) {
	// The token endpoint found here receives the record's refresh token or
	// client secret: discovery goes through the same guarded client.
	c = HTTPClient(c)
	res, err := DiscoverResource(ctx, c, serverURL)
	if err != nil {
		return nil, err
	}
	issuers := res.Metadata.AuthorizationServers
	if issuer != "" {
		if !slices.Contains(issuers, issuer) {
			return nil, refuse("%s no longer names %s as its authorization server (it names %s): the stored client belongs to %s", serverURL, issuer, quote(strings.Join(issuers, " ")), issuer)
		}
		issuers = []string{issuer}
	}
	var errs []error
	for _, iss := range issuers {
		md, err := FetchServerMetadata(ctx, c, iss)
		if err == nil {
			return &Endpoint{Issuer: md.Issuer, TokenEndpoint: md.TokenEndpoint, Resource: res.Metadata.Resource}, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}
