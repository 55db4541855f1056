package oauth

// `mcpcred login`: the MCP authorization flow (revision 2026-07-28) from a server
// URL to tokens, with a loopback redirect on 127.0.0.1. Storage is the caller's:
// this package does not import package helper, which imports it.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// CallbackPath is the path of the loopback redirect URI.
const CallbackPath = "/callback"

// ClientInfo is an OAuth client at one authorization server: a pre-registered
// one, or one that dynamic registration created and the last login stored.
type ClientInfo struct {
	Issuer       string
	ClientID     string
	ClientSecret string
}

// LoginOptions configure Login.
type LoginOptions struct {
	// ServerURL is the MCP server's URL.
	ServerURL string
	// ClientID and ClientSecret are a pre-registered client (--client-id); an empty
	// ClientID means the stored registration or dynamic registration.
	ClientID, ClientSecret string
	// Scope is the scope to ask for (--scope); empty means the 401 challenge's,
	// else the protected resource metadata's scopes_supported.
	Scope string
	// Previous is the client stored by the last login to this server, if any. It is
	// reused when its issuer is the authorization server's issuer.
	Previous *ClientInfo
	// Browser opens the authorization URL; nil only prints it.
	Browser func(authURL string) error
	// Progress receives one plain sentence per step (never a token or secret).
	Progress func(msg string)
	// Save stores the result; it runs before the browser page says the login is
	// done, and its string says where the tokens went ("the keyring").
	Save func(ctx context.Context, r *Result) (string, error)
	// HTTPClient makes every request; nil means one with a 30 s timeout.
	HTTPClient *http.Client
	// Version is mcpcred's version, sent as the registration's software_version.
	Version string
	// CallbackPorts are the loopback ports to try first; nil means three derived
	// from the issuer, so that a stored registration's redirect URIs stay valid.
	CallbackPorts []int
	// CallbackPort (--callback-port) is the one port to listen on, or 0.
	// CallbackURL (--callback-url) is the redirect URI to register and send, or ""
	// (redirect.go).
	CallbackPort int
	CallbackURL  string
	// Paste is the terminal, read for the address the browser ended on or the
	// bare code (paste.go); nil when login may not read it.
	Paste io.Reader
	// ClientCredentials logs the client ClientID/ClientSecret in with the client
	// credentials grant: no person, no browser (clientcreds.go).
	ClientCredentials bool
	// ClientKey is a machine client's private key (EncodeClientKey's form), for
	// private_key_jwt in place of ClientSecret.
	ClientKey string
	// ClientMetadataURL (--client-metadata-url) is a client ID metadata
	// document's URL, the client_id where the server accepts those (cimd.go).
	ClientMetadataURL string
	// Device asks for the device authorization grant (RFC 8628) instead of a
	// browser redirect (device.go).
	Device bool
	// Resource overrides the RFC 8707 resource indicator (--resource);
	// NoResource omits it from every request (--no-resource).
	Resource   string
	NoResource bool
	// PreviousScope is the scope of the stored record: an explicit Scope asks
	// for the union of both (step-up), when Previous is for the same issuer.
	PreviousScope string
}

// Result is a finished login.
type Result struct {
	Resource *Resource
	Server   *ServerMetadata
	Client   ClientInfo
	// AuthMethod is the client's token endpoint authentication: the registration's
	// token_endpoint_auth_method, else what the metadata suggests.
	AuthMethod string
	// Registered reports a new dynamic registration.
	Registered bool
	// RequestedScope was asked for; Scope was granted (the token response's scope,
	// else the requested one, as RFC 6749 section 5.1 says).
	RequestedScope, Scope string
	// ClientCredentials reports a client credentials login: the record's later
	// tokens are minted with the client's secret or key, not refreshed.
	ClientCredentials bool
	// ResourceParam is the resource indicator sent, "" when none was.
	ResourceParam string
	Tokens        *Tokens
	// StoredIn is what Save returned.
	StoredIn string
}

// Errors a caller may want to tell apart.
var (
	// ErrClientRejected: the token endpoint does not know the client (invalid_client
	// or unauthorized_client).
	ErrClientRejected = errors.New("the authorization server rejected the client")
	// ErrTimeout: the deadline passed before the browser came back.
	ErrTimeout = errors.New("the login was not finished in time")
)

// AuthorizationError is an error response on the redirect (RFC 6749 section
// 4.1.2.1), such as the user denying consent (access_denied). Code and
// Description are the redirect's parameters as sent; Error shows them through
// ServerText.
type AuthorizationError struct {
	Code, Description string
}

func (e *AuthorizationError) Error() string {
	var msg string
	if e.Code == "access_denied" {
		msg = "access was denied at the authorization server (access_denied"
	} else {
		msg = "the authorization server refused the login (" + ServerText(e.Code)
	}
	if e.Description != "" {
		msg += ": " + ServerText(e.Description)
	}
	return msg + ")"
}

// Login runs the whole flow: discovery, the client, the browser, the loopback
// redirect, the token request and Save. ctx bounds all of it.
func Login(ctx context.Context, o *LoginOptions) (*Result, error) {
	l := &login{o: o, c: o.HTTPClient}
	if l.c == nil {
		l.c = &http.Client{Timeout: 30 * time.Second}
	}
	return l.run(ctx)
}

type login struct {
	o *LoginOptions
	c *http.Client
	// cimd is the client metadata document's URL when it is this login's client.
	cimd string
	mu   sync.Mutex // serialises Progress: the callback runs on the server's goroutine
}

func (l *login) progress(format string, args ...any) {
	if l.o.Progress != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.o.Progress(fmt.Sprintf(format, args...))
	}
}

func (l *login) run(ctx context.Context) (*Result, error) {
	o := l.o
	r := &Result{}
	l.progress("asking %s how to log in", o.ServerURL)
	res, err := DiscoverResource(ctx, l.c, o.ServerURL)
	if err != nil {
		return nil, timeoutOr(ctx, err)
	}
	r.Resource = res
	md, err := l.serverMetadata(ctx, res)
	if err != nil {
		return nil, timeoutOr(ctx, err)
	}
	r.Server = md
	l.progress("authorization server: %s", md.Issuer)

	r.RequestedScope = o.Scope
	if r.RequestedScope == "" {
		r.RequestedScope = res.ChallengeScope
	}
	if r.RequestedScope == "" {
		r.RequestedScope = strings.Join(res.Metadata.ScopesSupported, " ")
	}
	if o.Scope != "" && o.Previous != nil && o.Previous.Issuer == md.Issuer {
		r.RequestedScope = unionScope(o.PreviousScope, o.Scope)
	}
	resourceOpts := l.resource(r)

	switch {
	case o.ClientCredentials:
		return r, l.clientCredentials(ctx, r)
	case o.Device:
		return r, l.device(ctx, r, resourceOpts)
	}

	if err := l.useClientMetadata(ctx, md); err != nil {
		return r, timeoutOr(ctx, err)
	}
	rd, err := l.redirect(md.Issuer)
	if err != nil {
		return nil, err
	}
	defer rd.ln.Close()

	if err := l.client(ctx, r, rd.registerURIs, rd.reuseOK, nil); err != nil {
		return r, timeoutOr(ctx, err)
	}

	state := randomString()
	verifier := oauth2.GenerateVerifier()
	cfg := l.config(r, rd.uri)
	authURL := cfg.AuthCodeURL(state, append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}, resourceOpts...)...)

	cb := &callback{
		l: l, r: r, cfg: cfg, state: state, verifier: verifier,
		resource: resourceOpts, ctx: ctx, done: make(chan error, 1),
	}
	srv := &http.Server{Handler: rd.handler(cb), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(rd.ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	if o.Browser != nil {
		l.progress("opening your browser; if it does not open, visit this URL: %s", authURL)
	} else {
		l.progress("open this URL in your browser to log in: %s", authURL)
	}
	if dl, ok := ctx.Deadline(); ok {
		l.progress("waiting for you to finish in the browser (up to %s)", time.Until(dl).Round(time.Second))
	} else {
		l.progress("waiting for you to finish in the browser")
	}
	if o.Browser != nil {
		if err := o.Browser(authURL); err != nil {
			l.progress("could not open a browser (%v): open the URL above yourself", err)
		}
	}
	if o.Paste != nil {
		l.progress("if that browser cannot reach %s on this machine, paste here the address it ended on (the page fails to load), or the code alone", rd.listening)
		go l.readPasted(cb, o.Paste)
	}
	select {
	case err := <-cb.done:
		if err != nil {
			return r, err
		}
		return r, nil
	case <-ctx.Done():
		return r, timeoutOr(ctx, ctx.Err())
	}
}

// timeoutOr turns an error caused by ctx's deadline into ErrTimeout.
func timeoutOr(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: no answer from the browser before the deadline (raise it with --login-timeout)", ErrTimeout)
	}
	return err
}

// serverMetadata tries the resource's authorization servers in order.
func (l *login) serverMetadata(ctx context.Context, res *Resource) (*ServerMetadata, error) {
	var first error
	for _, issuer := range res.Metadata.AuthorizationServers {
		md, err := FetchServerMetadata(ctx, l.c, issuer)
		if err == nil {
			return md, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// client picks the OAuth client: the one given, the stored one, or a new
// registration.
// redirectURIs are the URIs a new registration lists; reuseOK says whether a
// stored registration's redirect URIs still hold; grants adds grant types to a
// new registration's.
func (l *login) client(ctx context.Context, r *Result, redirectURIs []string, reuseOK bool, grants []string) error {
	o, md := l.o, r.Server
	switch {
	case o.ClientID != "":
		r.Client = ClientInfo{Issuer: md.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret}
		l.progress("using the client id you gave")
		return nil
	case l.cimd != "":
		r.Client = ClientInfo{Issuer: md.Issuer, ClientID: l.cimd}
		r.AuthMethod = "none"
		return nil
	case o.Previous != nil && o.Previous.ClientID != "" && o.Previous.Issuer == md.Issuer && reuseOK:
		r.Client = *o.Previous
		l.progress("reusing the client registration stored for %s", md.Issuer)
		return nil
	case o.Previous != nil && o.Previous.ClientID != "" && o.Previous.Issuer != md.Issuer:
		l.progress("this server's authorization server is now %s (it was %s): registering anew", md.Issuer, quote(o.Previous.Issuer))
	}
	if md.RegistrationEndpoint == "" {
		hint := ""
		if md.ClientIDMetadataDocumentSupported {
			hint = ", or host a client ID metadata document (it accepts those) and pass --client-metadata-url"
		}
		return refuse("the authorization server %s offers no dynamic client registration: register a client there (native app, redirect URI %s) and pass --client-id%s", md.Issuer, "http://127.0.0.1"+CallbackPath, hint)
	}
	req := NativeClient(redirectURIs, o.Version)
	req.GrantTypes = append(req.GrantTypes, grants...)
	reg, err := Register(ctx, l.c, md.RegistrationEndpoint, req)
	if err != nil {
		return err
	}
	r.Client = ClientInfo{Issuer: md.Issuer, ClientID: reg.ClientID, ClientSecret: reg.ClientSecret}
	r.AuthMethod = reg.TokenEndpointAuthMethod
	r.Registered = true
	l.progress("registered mcpcred as a client of %s", md.Issuer)
	return nil
}

// config is the x/oauth2 configuration of the token request. The client
// authentication is chosen, never auto-detected: the registration's method when
// there was one; else a public client sends its id in the form, and a confidential
// one uses HTTP Basic unless the metadata lists only client_secret_post.
func (l *login) config(r *Result, redirectURI string) *oauth2.Config {
	if r.AuthMethod == "" {
		r.AuthMethod = "none"
		if r.Client.ClientSecret != "" {
			r.AuthMethod = "client_secret_basic"
			methods := r.Server.TokenEndpointAuthMethodsSupported
			if len(methods) > 0 && !slices.Contains(methods, "client_secret_basic") && slices.Contains(methods, "client_secret_post") {
				r.AuthMethod = "client_secret_post"
			}
		}
	}
	style := oauth2.AuthStyleInParams
	if r.AuthMethod == "client_secret_basic" {
		style = oauth2.AuthStyleInHeader
	}
	cfg := TokenClient{
		ClientID:      r.Client.ClientID,
		ClientSecret:  r.Client.ClientSecret,
		TokenEndpoint: r.Server.TokenEndpoint,
		AuthStyle:     style,
	}.Config()
	cfg.Endpoint.AuthURL = r.Server.AuthorizationEndpoint
	cfg.RedirectURL = redirectURI
	cfg.Scopes = strings.Fields(r.RequestedScope)
	return cfg
}

// callback serves the loopback redirect.
type callback struct {
	l        *login
	r        *Result
	cfg      *oauth2.Config
	state    string
	verifier string
	resource []oauth2.AuthCodeOption
	ctx      context.Context

	mu       sync.Mutex
	finished bool
	done     chan error
}

func (cb *callback) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != CallbackPath || req.Method != http.MethodGet {
		http.NotFound(w, req)
		return
	}
	q := req.URL.Query()
	if !q.Has("state") && !q.Has("code") && !q.Has("error") {
		writePage(w, http.StatusBadRequest, false, "This is mcpcred's login page, but the request is not an answer from an authorization server.")
		return
	}
	if !cb.ownState(q) {
		cb.l.progress("ignored a request to the login's redirect address that does not carry this login's state; still waiting for the browser")
		writePage(w, http.StatusBadRequest, false, "This answer does not carry the state of the login mcpcred is waiting for, so it was ignored (it may belong to another login, or be forged). The login in progress goes on: finish it in the tab that mcpcred opened.")
		return
	}
	if !cb.claim() {
		writePage(w, http.StatusConflict, false, "This login has already finished. Look at your terminal.")
		return
	}

	err := cb.finish(q)
	if err != nil {
		writePage(w, http.StatusOK, false, "mcpcred could not log you in: "+sentence(err.Error())+" Details are in your terminal.")
	} else {
		r := cb.r
		msg := fmt.Sprintf("mcpcred is logged in to %s through %s", ServerText(r.Resource.Metadata.Resource), ServerText(r.Client.Issuer))
		if r.StoredIn != "" {
			msg += ", and the token is stored in " + r.StoredIn
		}
		writePage(w, http.StatusOK, true, msg+". You can close this tab and go back to your terminal.")
	}
	cb.done <- err
}

// ownState is the one state rule, for the listener's requests and pasted
// answers alike: anything that reaches the port (or the terminal) can send an
// answer, and one without this login's state is not the authorization server's,
// whatever else it says: it is ignored, and the login goes on waiting.
func (cb *callback) ownState(q url.Values) bool {
	return subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(cb.state)) == 1
}

// claim makes the caller the one answer that ends the login: false when another
// (the listener's or a pasted one) already did.
func (cb *callback) claim() bool {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if cb.finished {
		return false
	}
	cb.finished = true
	return true
}

// finish checks the authorization response (iss, then error; ServeHTTP checked
// state), exchanges the code and saves the result.
func (cb *callback) finish(q url.Values) error {
	l, r := cb.l, cb.r
	iss, hasIss := q.Get("iss"), q.Has("iss")
	switch {
	case hasIss && iss != r.Server.Issuer:
		return refuse("the answer comes from issuer %s, not from %s: refusing it (RFC 9207; a mix-up attack, or a misconfigured server)", quote(iss), quote(r.Server.Issuer))
	case !hasIss && r.Server.AuthorizationResponseIssParameterSupported:
		return refuse("the answer carries no iss, though %s says it always sends one: refusing it (RFC 9207)", r.Server.Issuer)
	}
	if code := q.Get("error"); code != "" {
		return &AuthorizationError{Code: code, Description: q.Get("error_description")}
	}
	code := q.Get("code")
	if code == "" {
		return refuse("the answer carries neither a code nor an error")
	}
	l.progress("exchanging the authorization code for tokens")
	return l.exchange(cb.ctx, r, "the authorization code was not accepted", func(ctx context.Context) (*oauth2.Token, error) {
		return cb.cfg.Exchange(ctx, code, append([]oauth2.AuthCodeOption{oauth2.VerifierOption(cb.verifier)}, cb.resource...)...)
	})
}

// exchange makes a token request (request, given a context that carries the
// token endpoint's HTTP client), checks the response and saves the result:
// every grant login uses goes through it. what says which request failed.
func (l *login) exchange(ctx context.Context, r *Result, what string, request func(context.Context) (*oauth2.Token, error)) error {
	hctx := context.WithValue(ctx, oauth2.HTTPClient, HTTPClient(l.c))
	tok, err := request(hctx)
	if err != nil {
		if ctx.Err() != nil {
			return timeoutOr(ctx, err)
		}
		e := Classify(hctx, err, r.Server.TokenEndpoint)
		if e.Kind == InvalidClient {
			return fmt.Errorf("%w: %w", ErrClientRejected, e)
		}
		return fmt.Errorf("%s: %w", what, e)
	}
	r.Tokens = FromOAuth2(tok)
	if err := CheckTokens(r.Tokens); err != nil {
		r.Tokens = nil
		return refuse("the token endpoint %s answered with tokens mcpcred will not keep: %v", ServerText(r.Server.TokenEndpoint), err)
	}
	r.Scope = r.Tokens.Scope
	if r.Scope == "" {
		r.Scope = r.RequestedScope
	}
	if l.o.Save != nil {
		where, err := l.o.Save(ctx, r)
		if err != nil {
			return fmt.Errorf("the login worked, but the token could not be stored: %w", err)
		}
		r.StoredIn = where
	}
	return nil
}

// sentence ends s with a full stop.
func sentence(s string) string {
	if strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

// page is the short answer to the browser: %[1]s the title, %[2]s the heading's
// color, %[3]s the heading, %[4]s the message, each HTML-escaped by writePage.
// A format string, not html/template: this binary is spawned per request, and the
// template package's size and start-up cost would land on every get.
const page = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>%[1]s</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f6f7f9;color:#1d2330;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:2.5rem 3rem;max-width:36rem}
h1{margin:0 0 1rem;font-size:1.6rem;color:%[2]s}
p{line-height:1.5;margin:0;overflow-wrap:anywhere}
small{display:block;margin-top:1.5rem;color:#6b7280}
</style></head>
<body><main><h1 id="status">%[3]s</h1><p id="message">%[4]s</p><small>mcpcred</small></main></body></html>
`

// writePage answers the browser with a short page.
func writePage(w http.ResponseWriter, status int, ok bool, msg string) {
	title, color, heading := "mcpcred: login failed", "#b42318", "Login failed"
	if ok {
		title, color, heading = "mcpcred: logged in", "#067647", "Login complete"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	fmt.Fprintf(w, page, title, color, heading, html.EscapeString(msg))
}

// CallbackPorts are three loopback ports derived from the issuer, in the dynamic
// range: a registration lists a redirect URI for each, so the next login to that
// authorization server finds one of them free and reuses the registration even
// where the server compares redirect URIs exactly, port included.
func CallbackPorts(issuer string) []int {
	sum := sha256.Sum256([]byte("mcpcred loopback redirect\x00" + issuer))
	ports := make([]int, 3)
	for i := range ports {
		ports[i] = 49152 + int(binary.BigEndian.Uint16(sum[2*i:]))%16384
	}
	return ports
}

// listenLoopback listens on 127.0.0.1 on the first free port of ports, else on any
// free port; onCandidate reports the former.
func listenLoopback(ports []int) (ln net.Listener, onCandidate bool, err error) {
	for _, p := range ports {
		if ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
			return ln, true, nil
		}
	}
	ln, err = net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, false, fmt.Errorf("cannot listen on 127.0.0.1 for the browser's redirect: %w", err)
	}
	return ln, false, nil
}

func loopbackURI(port int) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", port, CallbackPath)
}

// randomString is 32 random bytes, base64url: the state.
func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
