package main

// `mcpcred login URL` and `mcpcred logout URL`: spec section 7, docs/login.md.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mcpcred/mcpcred/helper"
	"github.com/mcpcred/mcpcred/helper/oauth"
)

// revokeTimeout bounds logout's token revocation, which is best effort.
const revokeTimeout = 10 * time.Second

// runAuth runs login or logout and returns the exit status.
func runAuth(verb string, rest []string, inv *invocation, getenv func(string) string, stdin io.Reader, stderr io.Writer) int {
	say := func(format string, args ...any) {
		fmt.Fprintf(stderr, "mcpcred: "+format+"\n", args...)
	}
	fail := func(code int, err error) int {
		say("%s", oneLine(err.Error()))
		return code
	}
	serverURL := inv.get("url")
	switch {
	case len(rest) == 1 && serverURL == "":
		serverURL = rest[0]
	case len(rest) > 1 || (len(rest) == 1 && serverURL != ""):
		return fail(exitBadCall, usagef("%s takes one URL, the MCP server's: mcpcred %s URL", verb, verb))
	case serverURL == "":
		return fail(exitBadCall, usagef("%s needs the MCP server's URL: mcpcred %s URL", verb, verb))
	}
	if _, err := oauth.CheckURL("the MCP server URL", serverURL); err != nil {
		return fail(exitBadCall, err)
	}
	h, err := newHelper(inv, getenv, stderr)
	if err != nil {
		return fail(exitBadCall, err)
	}
	defer h.Close()
	if verb == "logout" {
		return runLogout(inv, h, serverURL, say, fail)
	}

	timeout, err := inv.duration("login-timeout")
	if err != nil {
		return fail(exitBadCall, err)
	}
	if timeout <= 0 {
		return fail(exitBadCall, usagef("--login-timeout must be more than zero"))
	}
	flow, err := loginFlow(inv)
	if err != nil {
		return fail(exitBadCall, err)
	}
	clientID := inv.get("client-id")
	var clientSecret string
	if f := inv.get("client-secret-file"); f != "" {
		if clientID == "" {
			return fail(exitBadCall, usagef("--client-secret-file needs --client-id: a secret belongs to a pre-registered client"))
		}
		if clientSecret, err = readSecret(f, stdin); err != nil {
			return fail(exitBadCall, err)
		}
	}
	var clientKey string
	if f := inv.get("client-key-file"); f != "" {
		if clientKey, err = readClientKey(f, stdin); err != nil {
			return fail(exitBadCall, err)
		}
	}
	if strings.ContainsAny(clientID, "\r\n\x00") {
		return fail(exitBadCall, usagef("--client-id holds a line break or NUL"))
	}

	ctx := context.Background()
	name := inv.get("server")
	if name == "" {
		if name, err = storedName(ctx, h, serverURL); err != nil {
			return fail(exitBadCall, err)
		}
	}
	if name == "" {
		name = defaultServerName(serverURL)
	}
	var prev *oauth.ClientInfo
	var prevScope string
	stored, _, err := h.LoadToken(ctx, name, serverURL)
	switch {
	case err != nil:
		say("the stored record could not be read (%s): registering anew", oneLine(err.Error()))
	case stored != nil && stored.ClientID != "":
		prevScope = stored.Scope
		if clientID == "" {
			prev = &oauth.ClientInfo{Issuer: stored.Issuer, ClientID: stored.ClientID, ClientSecret: stored.ClientSecret}
		} else {
			prev = &oauth.ClientInfo{Issuer: stored.Issuer}
		}
	}

	say("logging in to %s as server %q", serverURL, name)
	opts := &oauth.LoginOptions{
		ServerURL:    serverURL,
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Scope:        inv.get("scope"),
		Previous:     prev,
		// A stored record is kept until the new tokens are stored over it: a
		// login that fails, times out or is abandoned leaves it as it was.
		PreviousScope:     prevScope,
		CallbackPort:      flow.callbackPort,
		CallbackURL:       flow.callbackURL,
		Device:            flow.device,
		ClientCredentials: flow.clientCredentials,
		ClientKey:         clientKey,
		ClientMetadataURL: inv.get("client-metadata-url"),
		Resource:          flow.resource,
		NoResource:        flow.noResource,
		Progress:          func(msg string) { say("%s", msg) },
		HTTPClient:        &http.Client{Timeout: 30 * time.Second},
		Version:           version(),
		Save: func(ctx context.Context, r *oauth.Result) (string, error) {
			t := loginRecord(name, serverURL, r)
			if flow.clientCredentials {
				t.GrantType = helper.GrantClientCredentials
			}
			return saveLogin(ctx, h, t)
		},
	}
	switch ok, why := oauth.BrowserAvailable(); {
	case flow.device, flow.clientCredentials:
	case inv.bool("no-browser"):
	case !ok:
		say("not opening a browser: %s", why)
	default:
		opts.Browser = oauth.OpenBrowser
	}
	if opts.Browser == nil && !flow.device && !flow.clientCredentials && inv.get("client-secret-file") != "-" && inv.get("client-key-file") != "-" {
		// The browser is elsewhere: the address it ends on may be pasted here.
		opts.Paste = stdin
	}
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r, err := oauth.Login(lctx, opts)
	if err != nil {
		if errors.Is(err, oauth.ErrClientRejected) && r != nil && prev != nil && !r.Registered && r.Client.ClientID == prev.ClientID {
			if _, derr := h.DeleteToken(ctx, name, serverURL); derr == nil {
				return fail(exitFailed, fmt.Errorf("login failed: %v; the stored client registration is no longer valid and was removed: run 'mcpcred login %s' again to register anew", err, serverURL))
			}
		}
		if errors.Is(err, oauth.ErrTimeout) {
			return fail(exitFailed, fmt.Errorf("login failed: %v (it waited %s)", err, timeout))
		}
		return fail(exitFailed, fmt.Errorf("login failed: %v", err))
	}
	switch {
	case flow.clientCredentials:
		say("the client secret is kept with the token: get and headers mint a new token when it expires")
	case r.Tokens.RefreshToken == "":
		say("the authorization server issued no refresh token: log in again when the token expires")
	}
	say("logged in to %s; the token is stored in %s", serverURL, r.StoredIn)
	return exitOK
}

// flowFlags are login's flags that pick how the authorization comes back.
type flowFlags struct {
	clientCredentials bool
	callbackPort      int
	callbackURL       string
	device            bool
	resource          string
	noResource        bool
}

// loginFlow reads and checks them.
func loginFlow(inv *invocation) (*flowFlags, error) {
	f := &flowFlags{
		callbackURL:       inv.get("callback-url"),
		device:            inv.bool("device"),
		clientCredentials: inv.bool("client-credentials"),
		resource:          inv.get("resource"),
		noResource:        inv.bool("no-resource"),
	}
	if p := inv.get("callback-port"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, usagef("--callback-port %q is not a port number (1-65535)", p)
		}
		f.callbackPort = n
	}
	switch {
	case inv.get("client-key-file") != "" && (!f.clientCredentials || inv.get("client-secret-file") != ""):
		return nil, usagef("--client-key-file goes with --client-credentials, in place of --client-secret-file")
	case f.clientCredentials && (inv.get("client-id") == "" || inv.get("client-secret-file") == "" && inv.get("client-key-file") == ""):
		return nil, usagef("--client-credentials needs --client-id and --client-secret-file (a file, or - for stdin): the secret is never taken from the command line")
	case f.clientCredentials && (f.device || f.callbackPort != 0 || f.callbackURL != "" || inv.bool("no-browser")):
		return nil, usagef("--client-credentials involves no browser: it takes no --device, --no-browser, --callback-port or --callback-url")
	case f.device && (f.callbackPort != 0 || f.callbackURL != ""):
		return nil, usagef("--device has no redirect: it takes no --callback-port or --callback-url")
	case f.device && inv.bool("no-browser"):
		return nil, usagef("--device and --no-browser: pick one (the device grant needs no browser here either way)")
	case f.resource != "" && f.noResource:
		return nil, usagef("--resource and --no-resource: pick one")
	}
	if f.callbackURL != "" {
		if _, err := oauth.CheckCallbackURL(f.callbackURL, f.callbackPort); err != nil {
			return nil, usagef("%v", err)
		}
	}
	if u := inv.get("client-metadata-url"); u != "" {
		if inv.get("client-id") != "" {
			return nil, usagef("--client-metadata-url and --client-id: pick one (the document's URL is the client id)")
		}
		if err := oauth.CheckClientMetadataURL(u); err != nil {
			return nil, usagef("%v", err)
		}
	}
	if f.resource != "" {
		if _, err := oauth.CheckURL("the --resource", f.resource); err != nil {
			return nil, usagef("%v", err)
		}
	}
	return f, nil
}

// loginRecord is the whole record of a login under (name, serverURL).
func loginRecord(name, serverURL string, r *oauth.Result) *helper.Token {
	t := &helper.Token{
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
	if r.AuthMethod == oauth.AuthPrivateKeyJWT {
		t.AuthMethod = r.AuthMethod
	}
	return t
}

// saveLogin stores t and says where it went.
func saveLogin(ctx context.Context, h *helper.Helper, t *helper.Token) (string, error) {
	where, err := h.SaveToken(ctx, t)
	if err != nil {
		return "", err
	}
	if where == helper.InFile {
		return "the file " + h.Tokens.Path(), nil
	}
	return fmt.Sprintf("the keyring (service %q)", h.Service), nil
}

// runLogout erases the record of serverURL, revoking its tokens first where the
// authorization server offers revocation (RFC 7009; best effort, bounded).
func runLogout(inv *invocation, h *helper.Helper, serverURL string, say func(string, ...any), fail func(int, error) int) int {
	ctx := context.Background()
	name := inv.get("server")
	if name == "" {
		var err error
		if name, err = storedName(ctx, h, serverURL); err != nil {
			return fail(exitBadCall, err)
		}
	}
	if name == "" {
		say("no token is stored for %s: nothing to do", serverURL)
		return exitOK
	}
	t, _, err := h.LoadToken(ctx, name, serverURL)
	if err != nil {
		say("the stored record could not be read (%s): erasing it without revoking", oneLine(err.Error()))
	}
	if t != nil && t.Issuer != "" && (t.RefreshToken != "" || t.AccessToken != "") {
		revoke(ctx, t, say)
	}
	removed, err := h.DeleteToken(ctx, name, serverURL)
	if err != nil {
		return fail(exitFailed, fmt.Errorf("logout failed: %v", err))
	}
	if !removed {
		say("no token is stored for %s as server %q: nothing to erase", serverURL, name)
		return exitOK
	}
	say("logged out of %s: the record of server %q is erased", serverURL, name)
	return exitOK
}

// revoke revokes the refresh token, then the access token, when the issuer's
// metadata lists a revocation endpoint. Failures are reported, not fatal.
func revoke(ctx context.Context, t *helper.Token, say func(string, ...any)) {
	ctx, cancel := context.WithTimeout(ctx, revokeTimeout)
	defer cancel()
	c := &http.Client{Timeout: revokeTimeout}
	md, err := oauth.FetchServerMetadata(ctx, c, t.Issuer)
	if err != nil {
		say("not revoking the tokens: %s", oneLine(err.Error()))
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
			failed = append(failed, fmt.Sprintf("%s: %s", strings.ReplaceAll(tok.hint, "_", " "), oneLine(err.Error())))
		}
	}
	if len(failed) > 0 {
		say("revocation at %s failed (%s): the tokens are erased here anyway", md.RevocationEndpoint, strings.Join(failed, "; "))
		return
	}
	say("revoked the tokens at %s", t.Issuer)
}

// storedName is the server name of the one record stored for serverURL: "" when
// there is none, an error (usage) when there are several.
func storedName(ctx context.Context, h *helper.Helper, serverURL string) (string, error) {
	names, _ := h.ServerNames(ctx, serverURL) // what cannot be listed is not this verb's business
	switch len(names) {
	case 0:
		return "", nil
	case 1:
		return names[0], nil
	}
	return "", usagef("several records are stored for %s (servers %s): pass --server NAME", serverURL, strings.Join(names, ", "))
}

// readFlagFile reads the file a --<flag> names, or stdin for "-" (at most 64
// KiB): what is a secret's name in the messages ("client secret").
func readFlagFile(flag, what, path string, stdin io.Reader) ([]byte, error) {
	if path != "-" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, usagef("cannot read the %s: %v", what, err)
		}
		return data, nil
	}
	if stdin == nil {
		return nil, usagef("--%s -: no stdin to read the %s from", flag, what)
	}
	data, err := io.ReadAll(io.LimitReader(stdin, 64<<10))
	if err != nil {
		return nil, usagef("cannot read the %s: %v", what, err)
	}
	return data, nil
}

// readSecret reads a client secret from a file, or from stdin for "-": the first
// line, without its line ending.
func readSecret(path string, stdin io.Reader) (string, error) {
	data, err := readFlagFile("client-secret-file", "client secret", path, stdin)
	if err != nil {
		return "", err
	}
	s, _, _ := strings.Cut(string(data), "\n")
	s = strings.TrimSuffix(s, "\r")
	if s == "" {
		return "", usagef("the client secret file %s is empty", path)
	}
	if strings.ContainsRune(s, 0) {
		return "", usagef("the client secret holds a NUL")
	}
	return s, nil
}

// readClientKey reads a PEM private key from a file, or from stdin for "-", and
// returns it in the form a record keeps.
func readClientKey(path string, stdin io.Reader) (string, error) {
	data, err := readFlagFile("client-key-file", "client key", path, stdin)
	if err != nil {
		return "", err
	}
	key, err := oauth.EncodeClientKey(data)
	if err != nil {
		return "", usagef("%v", err)
	}
	return key, nil
}

// defaultServerName derives a readable server name from the URL's host, for
// records stored without --server: the host's most specific label that is not a
// generic one (mcp, api, www, ...) nor the top-level domain, so mcp.linear.app is
// "linear" and api.githubcopilot.com is "githubcopilot"; an IP address or a
// one-label host keeps its port: "localhost-8080" (any loopback address too),
// "10-0-0-5-3000".
// Only letters, digits, '-' and '_' remain, as Codex's server names allow.
func defaultServerName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "mcp"
	}
	host := strings.ToLower(u.Hostname())
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	var name string
	if ip := net.ParseIP(host); ip != nil || len(labels) < 2 {
		name = host
		if ip != nil && ip.IsLoopback() {
			name = "localhost"
		}
		if p := u.Port(); p != "" {
			name += "-" + p
		}
	} else {
		generic := map[string]bool{"mcp": true, "api": true, "www": true, "app": true, "server": true, "remote": true, "gateway": true}
		rest := labels[:len(labels)-1]
		name = rest[len(rest)-1]
		for _, l := range rest {
			if !generic[l] {
				name = l
				break
			}
		}
	}
	var b strings.Builder
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-':
			b.WriteRune(c)
		case c >= 'A' && c <= 'Z':
			b.WriteRune(c + 'a' - 'A')
		default:
			b.WriteByte('-')
		}
	}
	if s := strings.Trim(b.String(), "-"); s != "" {
		return s
	}
	return "mcp"
}
