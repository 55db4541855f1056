// Package oauthtest runs the real authorization server of testdata/oauth-as
// (oidc-provider on 127.0.0.1) for tests, and acts as a client against it:
// dynamic registration, authorization code + PKCE with automatic consent, and the
// server's test hooks (token request log, access token lookup), plus RFC 7009
// revocation and RFC 7592 client deletion for the invalid_grant and
// invalid_client cases.
//
// One server runs per test binary (per Options), started by the first Start or
// StartWith and stopped when the binary exits (it quits when its stdin closes).
// Tests share it: each registers its own client and filters the log by client_id.
//
// Node or the npm packages missing is keyringtest.Missing: a skip on a developer
// machine, a failure under CI. `scripts/setup-oauth-as.sh` installs the packages.
package oauthtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/mcpcred/mcpcred/backends/keyringtest"
)

// AS is the running authorization server.
type AS struct {
	// Issuer is the server's URL, http://127.0.0.1:PORT.
	Issuer string
	stderr *SyncBuffer
}

// Log is what the server wrote on stderr so far, for failure messages.
func (as *AS) Log() string { return as.stderr.String() }

// TokenEndpoint is the server's token endpoint.
func (as *AS) TokenEndpoint() string { return as.Issuer + "/token" }

// Options pick the server's behaviour; each distinct Options value gets its own
// server per test binary.
type Options struct {
	// Consent is "auto" (the default: log in and consent without a page) or
	// "interactive" (a page with Allow and Deny buttons at each prompt).
	Consent string
	// NoRequireResource lets token requests without a resource indicator through
	// (resource indicators off, as Microsoft Entra has them).
	NoRequireResource bool
	// DeviceTTL is the lifetime of device codes; zero is 600 s.
	DeviceTTL time.Duration
	// SlowDown answers slow_down to the first poll of each device code.
	SlowDown bool
}

type instance struct {
	once sync.Once
	as   *AS
	err  error
	// missing says the error is a missing dependency, not a failure.
	missing bool
	// stdin is the server's stdin: held open for the life of the test binary,
	// closed by the OS when the binary exits, which stops the server.
	stdin io.WriteCloser
}

var (
	mu        sync.Mutex
	instances = map[Options]*instance{}
)

// Dir is testdata/oauth-as at the module root, found from the working directory.
func Dir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "oauth-as"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Start returns the test binary's authorization server with automatic consent,
// starting it on first use.
func Start(t testing.TB) *AS {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith returns the test binary's server for o, starting it on first use.
func StartWith(t testing.TB, o Options) *AS {
	t.Helper()
	if o.Consent == "" {
		o.Consent = "auto"
	}
	mu.Lock()
	in := instances[o]
	if in == nil {
		in = &instance{}
		instances[o] = in
	}
	mu.Unlock()
	in.once.Do(func() { in.start(o) })
	if in.err != nil {
		if in.missing {
			keyringtest.Missing(t, in.err.Error())
		}
		t.Fatalf("starting the test authorization server: %v", in.err)
	}
	return in.as
}

func (in *instance) start(o Options) {
	dir, err := Dir()
	if err != nil {
		in.err = err
		return
	}
	node, err := exec.LookPath("node")
	if err != nil {
		in.missing, in.err = true, errors.New("node is not installed (the test authorization server needs Node.js 20 or later)")
		return
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider", "package.json")); err != nil {
		in.missing, in.err = true, fmt.Errorf("oidc-provider is not installed in %s: run scripts/setup-oauth-as.sh", dir)
		return
	}
	args := []string{"--port", "0", "--exit-with-stdin", "--consent", o.Consent}
	if o.NoRequireResource {
		args = append(args, "--no-require-resource")
	}
	if o.DeviceTTL > 0 {
		args = append(args, "--device-ttl", fmt.Sprint(int(o.DeviceTTL/time.Second)))
	}
	if o.SlowDown {
		args = append(args, "--slow-down")
	}
	in.as, in.stdin, in.err = run(node, dir, args...)
}

func run(node, dir string, args ...string) (*AS, io.WriteCloser, error) {
	cmd := exec.Command(node, append([]string{"server.js"}, args...)...)
	cmd.Dir = dir
	stderr := &SyncBuffer{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "http://") {
				lines <- l
				break
			}
		}
		close(lines)
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() { _ = cmd.Wait() }()
	select {
	case l, ok := <-lines:
		if !ok {
			return nil, nil, fmt.Errorf("the server exited before it was ready: %s", stderr.String())
		}
		return &AS{Issuer: l, stderr: stderr}, stdin, nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return nil, nil, fmt.Errorf("the server did not say it was ready within 30s: %s", stderr.String())
	}
}

// SyncBuffer is a bytes.Buffer safe to write from a child process's output copier
// while a test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Registration is a client registered at the server (RFC 7591 response).
type Registration struct {
	ClientID                string `json:"client_id"`
	ClientSecret            string `json:"client_secret"`
	RegistrationAccessToken string `json:"registration_access_token"`
	RegistrationClientURI   string `json:"registration_client_uri"`
}

// ClientOptions shape a registration.
type ClientOptions struct {
	// Confidential registers a client with a secret (client_secret_basic);
	// otherwise a public native client (token_endpoint_auth_method none).
	Confidential bool
	// AuthMethod overrides the token endpoint auth method (e.g. client_secret_post).
	AuthMethod string
	// AccessTokenTTL is the lifetime of this client's access tokens; zero is the
	// server's default (2 s).
	AccessTokenTTL time.Duration
	// Machine registers a confidential client of the client credentials grant
	// only: no redirect URIs, no code flow.
	Machine bool
	// JWKS is the client's public keys ({"keys":[...]}), for private_key_jwt.
	JWKS map[string]any
}

// Register registers a native client with the authorization_code and
// refresh_token grants and the loopback redirect http://127.0.0.1/callback (any port).
func (as *AS) Register(t testing.TB, o ClientOptions) *Registration {
	t.Helper()
	meta := map[string]any{
		"application_type":           "native",
		"redirect_uris":              []string{"http://127.0.0.1/callback"},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
	}
	if o.Confidential {
		meta["token_endpoint_auth_method"] = "client_secret_basic"
	}
	if o.Machine {
		meta["application_type"] = "web"
		meta["redirect_uris"] = []string{}
		meta["grant_types"] = []string{"client_credentials"}
		meta["response_types"] = []string{}
		meta["token_endpoint_auth_method"] = "client_secret_basic"
	}
	if o.AuthMethod != "" {
		meta["token_endpoint_auth_method"] = o.AuthMethod
	}
	if o.JWKS != nil {
		meta["jwks"] = o.JWKS
	}
	if o.AccessTokenTTL > 0 {
		meta["x_access_token_ttl"] = int(o.AccessTokenTTL / time.Second)
	}
	body, _ := json.Marshal(meta)
	var reg Registration
	as.do(t, http.MethodPost, as.Issuer+"/reg", "application/json", body, "", http.StatusCreated, &reg)
	if reg.ClientID == "" {
		t.Fatalf("registration returned no client_id")
	}
	return &reg
}

// DeleteClient deletes the client (RFC 7592): its next token request gets
// invalid_client.
func (as *AS) DeleteClient(t testing.TB, reg *Registration) {
	t.Helper()
	as.do(t, http.MethodDelete, reg.RegistrationClientURI, "", nil, "Bearer "+reg.RegistrationAccessToken, http.StatusNoContent, nil)
}

// Revoke revokes token (RFC 7009) as the client; revoking a refresh token
// revokes its grant, so the next refresh gets invalid_grant.
func (as *AS) Revoke(t testing.TB, reg *Registration, token string) {
	t.Helper()
	form := url.Values{"token": {token}}
	auth := ""
	if reg.ClientSecret != "" {
		auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(reg.ClientID)+":"+url.QueryEscape(reg.ClientSecret)))
	} else {
		form.Set("client_id", reg.ClientID)
	}
	as.do(t, http.MethodPost, as.Issuer+"/token/revocation", "application/x-www-form-urlencoded", []byte(form.Encode()), auth, http.StatusOK, nil)
}

// Login runs the authorization code flow with PKCE for reg, asking for scope
// and resource, as a browser would (the server consents by itself), and returns
// the tokens and the granted scope.
func (as *AS) Login(t testing.TB, reg *Registration, resource, scope string) (*oauth2.Token, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := &oauth2.Config{
		ClientID:     reg.ClientID,
		ClientSecret: reg.ClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: as.Issuer + "/auth", TokenURL: as.TokenEndpoint()},
		RedirectURL:  "http://127.0.0.1:1/callback",
		Scopes:       strings.Fields(scope),
	}
	if reg.ClientSecret == "" {
		cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	} else {
		cfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	}
	verifier := oauth2.GenerateVerifier()
	state := rand.Text()
	authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", resource))

	jar, _ := cookiejar.New(nil)
	var callback *url.URL
	browser := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), cfg.RedirectURL) {
			callback = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatalf("authorization request: %v", err)
	}
	resp.Body.Close()
	if callback == nil {
		t.Fatalf("the authorization flow did not come back to the redirect URI (last status %s)", resp.Status)
	}
	q := callback.Query()
	if q.Get("state") != state || q.Get("code") == "" || q.Get("iss") != as.Issuer {
		t.Fatalf("bad authorization response: state ok %v, code %v, iss %q, error %q", q.Get("state") == state, q.Get("code") != "", q.Get("iss"), q.Get("error"))
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier), oauth2.SetAuthURLParam("resource", resource))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	granted, _ := tok.Extra("scope").(string)
	return tok, granted
}

// TokenRequest is one POST /token the server saw.
type TokenRequest struct {
	GrantType string  `json:"grant_type"`
	ClientID  string  `json:"client_id"`
	Resource  *string `json:"resource"`
	Scope     *string `json:"scope"`
	Status    int     `json:"status"`
	Error     *string `json:"error"`
	// At is when the server saw it, in milliseconds since the epoch.
	At int64 `json:"at"`
}

// TokenRequests returns the token requests of clientID, oldest first.
func (as *AS) TokenRequests(t testing.TB, clientID string) []TokenRequest {
	t.Helper()
	var out []TokenRequest
	as.do(t, http.MethodGet, as.Issuer+"/admin/token-requests?client_id="+url.QueryEscape(clientID), "", nil, "", http.StatusOK, &out)
	return out
}

// Refreshes returns clientID's refresh_token grant requests.
func (as *AS) Refreshes(t testing.TB, clientID string) []TokenRequest {
	t.Helper()
	var out []TokenRequest
	for _, r := range as.TokenRequests(t, clientID) {
		if r.GrantType == "refresh_token" {
			out = append(out, r)
		}
	}
	return out
}

// ClientRegistration is a client the server registered at /reg.
type ClientRegistration struct {
	ClientID                string   `json:"client_id"`
	RedirectURIs            []string `json:"redirect_uris"`
	ApplicationType         string   `json:"application_type"`
	GrantTypes              []string `json:"grant_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
}

// Registrations returns every client registered at /reg, oldest first.
func (as *AS) Registrations(t testing.TB) []ClientRegistration {
	t.Helper()
	var out []ClientRegistration
	as.do(t, http.MethodGet, as.Issuer+"/admin/registrations", "", nil, "", http.StatusOK, &out)
	return out
}

// AccessTokenInfo is what the server knows of an access token.
type AccessTokenInfo struct {
	Active   bool   `json:"active"`
	Audience string `json:"aud"`
	ClientID string `json:"client_id"`
	Exp      int64  `json:"exp"`
}

// AccessToken looks token up at the server: active means issued, not expired,
// and its grant not revoked.
func (as *AS) AccessToken(t testing.TB, token string) AccessTokenInfo {
	t.Helper()
	var info AccessTokenInfo
	as.do(t, http.MethodGet, as.Issuer+"/admin/access-token?token="+url.QueryEscape(token), "", nil, "", http.StatusOK, &info)
	return info
}

func (as *AS) do(t testing.TB, method, u, ctype string, body []byte, auth string, want int, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %s, want %d: %s", method, u, resp.Status, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
	}
}
