package oauth

// Discovery for `mcpcred login`: from an MCP server URL to its protected resource
// metadata (RFC 9728) and its authorization server's metadata (RFC 8414, OpenID
// Connect Discovery), in the order the MCP authorization specification (revision
// 2026-07-28) gives, with the checks it requires.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ProtocolVersion is the MCP revision whose authorization flow login follows; it is
// sent as MCP-Protocol-Version on discovery requests.
const ProtocolVersion = "2026-07-28"

// maxDocument bounds every JSON document read from a server.
const maxDocument = 1 << 20

// ResourceMetadata is an OAuth 2.0 Protected Resource Metadata document (RFC 9728).
type ResourceMetadata struct {
	Resource             string   `json:"resource"`
	AuthorizationServers []string `json:"authorization_servers"`
	ScopesSupported      []string `json:"scopes_supported,omitempty"`
	ResourceName         string   `json:"resource_name,omitempty"`
}

// ServerMetadata is an authorization server's metadata (RFC 8414; the OpenID
// Connect Discovery document has the same fields).
type ServerMetadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	RegistrationEndpoint                       string   `json:"registration_endpoint,omitempty"`
	RevocationEndpoint                         string   `json:"revocation_endpoint,omitempty"`
	DeviceAuthorizationEndpoint                string   `json:"device_authorization_endpoint,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported,omitempty"`
	GrantTypesSupported                        []string `json:"grant_types_supported,omitempty"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported,omitempty"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
	ClientIDMetadataDocumentSupported          bool     `json:"client_id_metadata_document_supported,omitempty"`
}

// Resource is what discovery learnt about an MCP server.
type Resource struct {
	// Metadata is the protected resource metadata; Metadata.Resource is the RFC 8707
	// resource indicator, sent verbatim.
	Metadata ResourceMetadata
	// MetadataURL is where it came from.
	MetadataURL string
	// ChallengeScope is the scope of the server's 401 challenge, if it gave one.
	ChallengeScope string
	// Challenged reports whether the server answered the probe with a 401.
	Challenged bool
}

// DiscoveryError is a refusal during discovery: a server that does not offer what
// the MCP authorization flow requires, or offers it wrongly.
type DiscoveryError struct{ msg string }

func (e *DiscoveryError) Error() string { return e.msg }

func refuse(format string, args ...any) error {
	return &DiscoveryError{msg: fmt.Sprintf(format, args...)}
}

// maxURL bounds a URL a server names (an issuer, an endpoint, a metadata URL).
const maxURL = 2048

// CheckURL checks a URL that OAuth traffic will go to: at most 2048 bytes of
// printable ASCII (RFC 3986), absolute, http or https, no fragment, and https
// unless the host is a loopback address or localhost (SecretURLAllowed: the MCP
// specification requires https for every authorization endpoint). A URL that
// passed is safe to print as it is; raw in an error is quoted by ServerText.
func CheckURL(what, raw string) (*url.URL, error) {
	if len(raw) > maxURL {
		return nil, refuse("%s %s is over %d bytes", what, quote(raw), maxURL)
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] <= 0x20 || raw[i] >= 0x7f {
			return nil, refuse("%s %s holds a space, a control or a non-ASCII character", what, quote(raw))
		}
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil, refuse("%s %s is not an absolute URL", what, quote(raw))
	}
	switch scheme := strings.ToLower(u.Scheme); {
	case scheme != "http" && scheme != "https":
		return nil, refuse("%s %s is not an http or https URL", what, quote(raw))
	case !SecretURLAllowed(scheme, u.Hostname()):
		return nil, refuse("%s %s uses plain http on a host that is not loopback: MCP authorization needs https", what, quote(raw))
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return nil, refuse("%s %s has a fragment (#...), which OAuth forbids", what, quote(raw))
	}
	return u, nil
}

// IsLoopbackHost reports whether host (no port) is localhost or a loopback IP.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return ip != nil && ip.IsLoopback()
}

// DiscoverResource finds the protected resource metadata of the MCP server at
// serverURL: it sends an unauthenticated MCP initialize request and reads the 401
// challenge (resource_metadata, scope); without a resource_metadata parameter it
// tries the well-known URIs, path insertion first, then the root. The document's
// resource must name serverURL or a prefix of it (RFC 9728 section 3.3, read as the
// TypeScript SDK reads it).
func DiscoverResource(ctx context.Context, c *http.Client, serverURL string) (*Resource, error) {
	su, err := CheckURL("the MCP server URL", serverURL)
	if err != nil {
		return nil, err
	}
	res := &Resource{}
	challengeURL, err := probe(ctx, c, serverURL, res)
	if err != nil {
		return nil, err
	}
	var candidates []string
	if challengeURL != "" {
		candidates = []string{challengeURL}
	} else {
		candidates = ResourceMetadataURLs(su)
	}
	var tried []string
	for _, mu := range candidates {
		var md ResourceMetadata
		status, err := getJSON(ctx, c, mu, &md)
		if err != nil {
			return nil, fmt.Errorf("protected resource metadata %s: %w", mu, err)
		}
		if status != http.StatusOK {
			tried = append(tried, fmt.Sprintf("%s (HTTP %d)", mu, status))
			continue
		}
		if err := checkResourceMetadata(&md, su, mu); err != nil {
			return nil, err
		}
		res.Metadata, res.MetadataURL = md, mu
		return res, nil
	}
	if challengeURL != "" {
		return nil, refuse("the MCP server's 401 challenge points to %s, which has no protected resource metadata", tried[0])
	}
	if !res.Challenged {
		return nil, refuse("%s did not ask for authorization (no 401 to an unauthenticated request) and publishes no OAuth protected resource metadata (tried %s): it may need no login, or another kind", serverURL, strings.Join(tried, ", "))
	}
	return nil, refuse("%s asks for authorization but publishes no OAuth protected resource metadata (tried %s)", serverURL, strings.Join(tried, ", "))
}

// ResourceMetadataURLs are the RFC 9728 well-known URIs for a resource, in the
// MCP specification's order: path insertion, then the root.
func ResourceMetadataURLs(resource *url.URL) []string {
	origin := resource.Scheme + "://" + resource.Host
	const wk = "/.well-known/oauth-protected-resource"
	p := strings.TrimSuffix(resource.EscapedPath(), "/")
	if p == "" {
		return []string{origin + wk}
	}
	return []string{origin + wk + p, origin + wk}
}

// probe sends the MCP initialize request without a token. It returns the challenge's
// resource_metadata URL, if any, and fills res.ChallengeScope and res.Challenged.
func probe(ctx context.Context, c *http.Client, serverURL string, res *Resource) (string, error) {
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"` + ProtocolVersion +
		`","capabilities":{},"clientInfo":{"name":"mcpcred","version":"login"}}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, serverURL, strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", ProtocolVersion)
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("cannot reach the MCP server: %w", transportError{err})
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDocument))
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		return "", nil
	}
	res.Challenged = resp.StatusCode == http.StatusUnauthorized
	for _, ch := range ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate")) {
		if !strings.EqualFold(ch.Scheme, "Bearer") {
			continue
		}
		res.ChallengeScope = ch.Params["scope"]
		if rm := ch.Params["resource_metadata"]; rm != "" {
			if _, err := CheckURL("the resource_metadata URL of the server's 401 challenge", rm); err != nil {
				return "", err
			}
			return rm, nil
		}
		return "", nil
	}
	return "", nil
}

// checkResourceMetadata applies RFC 9728's and the MCP specification's rules.
func checkResourceMetadata(md *ResourceMetadata, server *url.URL, from string) error {
	if md.Resource == "" {
		return refuse("the protected resource metadata at %s has no resource", from)
	}
	ru, err := url.Parse(md.Resource)
	if err != nil || !ru.IsAbs() {
		return refuse("the protected resource metadata at %s names resource %s, which is not an absolute URL", from, quote(md.Resource))
	}
	if !resourceCovers(ru, server) {
		return refuse("the protected resource metadata at %s is for %s, not for %s: refusing it (RFC 9728 section 3.3)", from, quote(md.Resource), server.String())
	}
	if len(md.AuthorizationServers) == 0 {
		return refuse("the protected resource metadata at %s lists no authorization_servers", from)
	}
	for _, as := range md.AuthorizationServers {
		if _, err := CheckURL("the authorization server", as); err != nil {
			return err
		}
	}
	return nil
}

// resourceCovers reports whether the resource identifier r names the server URL s:
// same origin, and r's path is s's path or a segment prefix of it.
func resourceCovers(r, s *url.URL) bool {
	if originOf(r) != originOf(s) {
		return false
	}
	rp := strings.TrimSuffix(r.EscapedPath(), "/")
	sp := strings.TrimSuffix(s.EscapedPath(), "/")
	return rp == "" || sp == rp || strings.HasPrefix(sp, rp+"/")
}

// originOf is scheme://host:port, lowercased, with the default port made explicit.
func originOf(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// ServerMetadataURLs are the metadata URLs of an issuer, in the MCP
// specification's order: for an issuer with a path, RFC 8414 path insertion, OpenID
// Connect path insertion, OpenID Connect path appending; without a path, RFC 8414
// then OpenID Connect. A trailing slash of the issuer is not part of its path.
func ServerMetadataURLs(issuer *url.URL) []string {
	origin := issuer.Scheme + "://" + issuer.Host
	p := strings.TrimSuffix(issuer.EscapedPath(), "/")
	const oauthWK, oidcWK = "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"
	if p == "" {
		return []string{origin + oauthWK, origin + oidcWK}
	}
	return []string{origin + oauthWK + p, origin + oidcWK + p, origin + p + oidcWK}
}

// FetchServerMetadata reads the metadata of the authorization server whose issuer
// identifier is issuer, trying ServerMetadataURLs in order. A document whose issuer
// is not exactly issuer is not used. The server must support the authorization
// code flow and PKCE with S256.
func FetchServerMetadata(ctx context.Context, c *http.Client, issuer string) (*ServerMetadata, error) {
	iu, err := CheckURL("the authorization server issuer", issuer)
	if err != nil {
		return nil, err
	}
	if iu.RawQuery != "" || iu.ForceQuery {
		return nil, refuse("the authorization server issuer %s has a query, which RFC 8414 forbids", quote(issuer))
	}
	var mismatch error
	var tried []string
	for _, mu := range ServerMetadataURLs(iu) {
		var md ServerMetadata
		status, err := getJSON(ctx, c, mu, &md)
		if err != nil {
			return nil, fmt.Errorf("authorization server metadata %s: %w", mu, err)
		}
		if status != http.StatusOK {
			tried = append(tried, fmt.Sprintf("%s (HTTP %d)", mu, status))
			continue
		}
		if md.Issuer != issuer {
			if mismatch == nil {
				mismatch = refuse("the authorization server metadata at %s says its issuer is %s, not %s: refusing it (the issuer must match exactly)", mu, quote(md.Issuer), quote(issuer))
			}
			continue
		}
		if err := checkServerMetadata(&md, mu); err != nil {
			return nil, err
		}
		return &md, nil
	}
	if mismatch != nil {
		return nil, mismatch
	}
	return nil, refuse("no authorization server metadata for issuer %s (tried %s)", issuer, strings.Join(tried, ", "))
}

// checkServerMetadata checks what login needs from the metadata.
func checkServerMetadata(md *ServerMetadata, from string) error {
	if !slices.Contains(md.CodeChallengeMethodsSupported, "S256") {
		listed := "lists no code_challenge_methods_supported"
		if len(md.CodeChallengeMethodsSupported) > 0 {
			listed = "lists code_challenge_methods_supported " + quote(strings.Join(md.CodeChallengeMethodsSupported, " "))
		}
		return refuse("the authorization server %s does not support PKCE with S256 (its metadata %s): MCP requires it, so mcpcred will not log in there", md.Issuer, listed)
	}
	if len(md.ResponseTypesSupported) > 0 && !slices.Contains(md.ResponseTypesSupported, "code") {
		return refuse("the authorization server %s does not offer the authorization code flow (response_types_supported %s)", md.Issuer, quote(strings.Join(md.ResponseTypesSupported, " ")))
	}
	for _, e := range []struct{ name, value string }{
		{"authorization_endpoint", md.AuthorizationEndpoint},
		{"token_endpoint", md.TokenEndpoint},
	} {
		if e.value == "" {
			return refuse("the authorization server metadata at %s has no %s", from, e.name)
		}
		if _, err := CheckURL("the authorization server's "+e.name, e.value); err != nil {
			return err
		}
	}
	for _, e := range []struct{ name, value string }{
		{"registration_endpoint", md.RegistrationEndpoint},
		{"revocation_endpoint", md.RevocationEndpoint},
		{"device_authorization_endpoint", md.DeviceAuthorizationEndpoint},
	} {
		if e.value != "" {
			if _, err := CheckURL("the authorization server's "+e.name, e.value); err != nil {
				return err
			}
		}
	}
	return nil
}

// getJSON GETs a metadata document. A 200 is decoded into v; any other status is
// returned with no error, for the caller to try its next URL.
func getJSON(ctx context.Context, c *http.Client, u string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("MCP-Protocol-Version", ProtocolVersion)
	resp, err := c.Do(req)
	if err != nil {
		return 0, transportError{err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return 0, transportError{err}
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	if len(data) > maxDocument {
		return 0, errors.New("the document is over 1 MiB")
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(v); err != nil {
		return 0, fmt.Errorf("not a JSON metadata document: %s", ServerText(err.Error()))
	}
	return resp.StatusCode, nil
}

// Challenge is one challenge of a WWW-Authenticate header (RFC 9110 section 11.6.1).
type Challenge struct {
	Scheme string
	// Params holds the auth-params, names lowercased.
	Params map[string]string
}

// ParseWWWAuthenticate parses WWW-Authenticate header values into challenges. It
// is lenient: what it cannot read it skips.
func ParseWWWAuthenticate(values []string) []Challenge {
	var out []Challenge
	for _, v := range values {
		p := &authParser{s: v}
		var cur *Challenge
		for {
			p.skipSpaceAndCommas()
			if p.done() {
				break
			}
			tok := p.token()
			if tok == "" {
				p.i++ // not a token character: skip it
				continue
			}
			p.skipSpace()
			if !p.done() && p.s[p.i] == '=' {
				if p.isToken68Tail() {
					// the padding of a token68 credential: nothing to keep
					for !p.done() && p.s[p.i] == '=' {
						p.i++
					}
					continue
				}
				p.i++
				p.skipSpace()
				var val string
				if !p.done() && p.s[p.i] == '"' {
					val = p.quoted()
				} else {
					val = p.token()
				}
				if cur != nil {
					cur.Params[strings.ToLower(tok)] = val
				}
				continue
			}
			out = append(out, Challenge{Scheme: tok, Params: map[string]string{}})
			cur = &out[len(out)-1]
		}
	}
	return out
}

type authParser struct {
	s string
	i int
}

func (p *authParser) done() bool { return p.i >= len(p.s) }

func (p *authParser) skipSpace() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *authParser) skipSpaceAndCommas() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == ',') {
		p.i++
	}
}

// isToken68Tail reports whether the '=' at p.i is the padding of a token68
// ("abc==") rather than an auth-param's equals sign.
func (p *authParser) isToken68Tail() bool {
	j := p.i
	for j < len(p.s) && p.s[j] == '=' {
		j++
	}
	if j-p.i > 1 {
		return true
	}
	for j < len(p.s) && (p.s[j] == ' ' || p.s[j] == '\t') {
		j++
	}
	return j == len(p.s) || p.s[j] == ','
}

func isTokenChar(c byte) bool {
	if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~/:", c) >= 0
}

func (p *authParser) token() string {
	start := p.i
	for !p.done() && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *authParser) quoted() string {
	p.i++ // opening quote
	var b strings.Builder
	for !p.done() {
		c := p.s[p.i]
		p.i++
		switch c {
		case '\\':
			if !p.done() {
				b.WriteByte(p.s[p.i])
				p.i++
			}
		case '"':
			return b.String()
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
