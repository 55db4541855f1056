// Package mcpfixture is a small MCP resource server on 127.0.0.1 for mcpcred's
// login tests: the authorization layer of a Streamable HTTP MCP server as the MCP
// authorization specification (2026-07-28) describes it, and nothing more.
//
//   - POST /mcp without a usable bearer token answers 401 with
//     `WWW-Authenticate: Bearer resource_metadata="…", scope="…"` (and
//     error="invalid_token" when a token was sent);
//   - with a token the Introspect function accepts (active, and its audience is
//     this resource), it answers a JSON-RPC initialize result;
//   - GET /.well-known/oauth-protected-resource/mcp (and, with RootMetadata, the
//     root path) serves the protected resource metadata (RFC 9728).
//
// It also has FakeAS, an authorization server metadata endpoint whose document a
// test shapes (no PKCE, a wrong issuer), for discovery refusals. Both are Go test
// helpers (httptest servers); the real authorization server is testdata/oauth-as.
package mcpfixture

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options shape the resource server.
type Options struct {
	// Issuer is the authorization server named in the metadata.
	Issuer string
	// Scopes are the metadata's scopes_supported; nil means ["mcp:tools"].
	Scopes []string
	// ChallengeScope is the scope of the 401 challenge; "" leaves it out.
	ChallengeScope string
	// NoResourceMetadata leaves resource_metadata out of the challenge, so
	// clients must find the metadata at the well-known URIs.
	NoResourceMetadata bool
	// RootMetadata serves the metadata only at the root well-known URI
	// (/.well-known/oauth-protected-resource), not at the path-inserted one.
	RootMetadata bool
	// Resource overrides the metadata's resource (default: the /mcp URL).
	Resource string
	// Introspect says whether token is active and for which audience; nil
	// accepts any token.
	Introspect func(token string) (active bool, audience string, err error)
}

// Server is a running fixture.
type Server struct {
	*httptest.Server
	// URL is the MCP endpoint, http://127.0.0.1:PORT/mcp.
	URL string
	// Resource is the resource identifier the metadata names.
	Resource string
	// MetadataURL is where the metadata is served.
	MetadataURL string

	opts Options
	mu   sync.Mutex
	seen []string // Authorization headers' tokens, in order
}

// Start starts a fixture; it stops when t ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{opts: o}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	s.URL = s.Server.URL + "/mcp"
	s.Resource = s.URL
	if o.Resource != "" {
		s.Resource = o.Resource
	}
	s.MetadataURL = s.Server.URL + "/.well-known/oauth-protected-resource/mcp"
	if o.RootMetadata {
		s.MetadataURL = s.Server.URL + "/.well-known/oauth-protected-resource"
	}
	return s
}

// Tokens are the bearer tokens the server was sent, in order.
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/.well-known/oauth-protected-resource/mcp" && !s.opts.RootMetadata,
		r.URL.Path == "/.well-known/oauth-protected-resource" && s.opts.RootMetadata:
		scopes := s.opts.Scopes
		if scopes == nil {
			scopes = []string{"mcp:tools"}
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"resource":                 s.Resource,
			"authorization_servers":    []string{s.opts.Issuer},
			"scopes_supported":         scopes,
			"bearer_methods_supported": []string{"header"},
			"resource_name":            "mcpcred test MCP server",
		})
	case r.URL.Path == "/mcp":
		s.mcp(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) mcp(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	token, isBearer := strings.CutPrefix(auth, "Bearer ")
	if auth != "" {
		s.mu.Lock()
		s.seen = append(s.seen, token)
		s.mu.Unlock()
	}
	if auth == "" || !isBearer || token == "" {
		s.challenge(w, "")
		return
	}
	ok := true
	if s.opts.Introspect != nil {
		active, aud, err := s.opts.Introspect(token)
		if err != nil {
			http.Error(w, "introspection failed: "+err.Error(), http.StatusBadGateway)
			return
		}
		ok = active && aud == s.Resource
	}
	if !ok {
		s.challenge(w, "invalid_token")
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	var req struct {
		ID json.RawMessage `json:"id"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	if len(req.ID) == 0 {
		req.ID = json.RawMessage("1")
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"jsonrpc": "2.0",
		"id":      req.ID,
		"result": map[string]any{
			"protocolVersion": "2026-07-28",
			"capabilities":    map[string]any{"tools": map[string]any{}},
			"serverInfo":      map[string]any{"name": "mcpcred-fixture", "version": "1"},
		},
	})
}

func (s *Server) challenge(w http.ResponseWriter, errCode string) {
	var params []string
	if errCode != "" {
		params = append(params, fmt.Sprintf("error=%q", errCode))
	}
	if !s.opts.NoResourceMetadata {
		params = append(params, fmt.Sprintf("resource_metadata=%q", s.MetadataURL))
	}
	if s.opts.ChallengeScope != "" {
		params = append(params, fmt.Sprintf("scope=%q", s.opts.ChallengeScope))
	}
	h := "Bearer"
	if len(params) > 0 {
		h += " " + strings.Join(params, ", ")
	}
	w.Header().Set("WWW-Authenticate", h)
	writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "unauthorized"})
}

// Call sends an MCP initialize request with token and returns the HTTP status.
func (s *Server) Call(token string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(`{"jsonrpc":"2.0","id":7,"method":"initialize","params":{}}`))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// AdminIntrospect is an Introspect function backed by testdata/oauth-as's
// loopback-only hook GET /admin/access-token.
func AdminIntrospect(issuer string) func(string) (bool, string, error) {
	return func(token string) (bool, string, error) {
		c := &http.Client{Timeout: 10 * time.Second}
		resp, err := c.Get(issuer + "/admin/access-token?token=" + url.QueryEscape(token))
		if err != nil {
			return false, "", err
		}
		defer resp.Body.Close()
		var info struct {
			Active bool   `json:"active"`
			Aud    string `json:"aud"`
		}
		if resp.StatusCode != http.StatusOK {
			return false, "", fmt.Errorf("%s", resp.Status)
		}
		if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
			return false, "", err
		}
		return info.Active, info.Aud, nil
	}
}

// FakeAS serves an authorization server metadata document that a test shapes,
// at /.well-known/oauth-authorization-server: for discovery refusals that the
// real server cannot be made to show.
type FakeAS struct {
	*httptest.Server
	// Issuer is the server's URL.
	Issuer string
	mu     sync.Mutex
	md     map[string]any
}

// StartFakeAS starts a fake whose metadata is that of a good server (S256,
// the right issuer, endpoints on itself), then edit applies the test's change.
func StartFakeAS(t testing.TB, edit func(md map[string]any)) *FakeAS {
	t.Helper()
	f := &FakeAS{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/oauth-authorization-server" {
			http.NotFound(w, r)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		writeJSON(w, http.StatusOK, f.md)
	}))
	t.Cleanup(f.Close)
	f.Issuer = f.Server.URL
	f.md = map[string]any{
		"issuer":                           f.Issuer,
		"authorization_endpoint":           f.Issuer + "/auth",
		"token_endpoint":                   f.Issuer + "/token",
		"registration_endpoint":            f.Issuer + "/reg",
		"response_types_supported":         []string{"code"},
		"code_challenge_methods_supported": []string{"S256"},
	}
	if edit != nil {
		edit(f.md)
	}
	return f
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
