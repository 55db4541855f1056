package main

// `mcpcred login URL` and `mcpcred logout URL`: docs/login.md.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mcpcred/mcpcred/helper"
	"github.com/mcpcred/mcpcred/helper/oauth"
)

// serverURL is the MCP server's URL a login or logout names, as its one
// argument or --url.
func (c *call) serverURL() (string, error) {
	verb, serverURL := c.verb.name, c.inv.get("url")
	switch {
	case len(c.args) == 1 && serverURL == "":
		serverURL = c.args[0]
	case len(c.args) > 1 || (len(c.args) == 1 && serverURL != ""):
		return "", usagef("%s takes one URL, the MCP server's: mcpcred %s URL", verb, verb)
	case serverURL == "":
		return "", usagef("%s needs the MCP server's URL: mcpcred %s URL", verb, verb)
	}
	if _, err := oauth.CheckURL("the MCP server URL", serverURL); err != nil {
		return "", err
	}
	return serverURL, nil
}

// say writes one progress line on stderr.
func (c *call) say(format string, args ...any) {
	fmt.Fprintf(c.stderr, "mcpcred: "+format+"\n", args...)
}

// runLoginFlow logs in to an MCP server and stores the record (docs/login.md).
func runLoginFlow(c *call) int {
	inv, stdin, say, fail := c.inv, c.stdin, c.say, c.fail
	serverURL, err := c.serverURL()
	if err != nil {
		return fail(exitBadCall, err)
	}
	h, err := c.helper(c.stderr)
	if err != nil {
		return fail(exitBadCall, err)
	}
	defer h.Close()

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
	name, err := h.LoginName(ctx, serverURL, inv.get("server"), true)
	if err != nil {
		return fail(exitBadCall, err)
	}
	prev, prevScope, err := h.PreviousLogin(ctx, name, serverURL, clientID)
	if err != nil {
		say("the stored record could not be read (%s): registering anew", oneLine(err.Error()))
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
			return h.SaveLogin(ctx, name, serverURL, r)
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

// runLogout erases the record of serverURL, revoking its tokens first where the
// authorization server offers revocation (RFC 7009; best effort, bounded).
func runLogout(c *call) int {
	say, fail := c.say, c.fail
	serverURL, err := c.serverURL()
	if err != nil {
		return fail(exitBadCall, err)
	}
	h, err := c.helper(c.stderr)
	if err != nil {
		return fail(exitBadCall, err)
	}
	defer h.Close()
	ctx := context.Background()
	name, err := h.LoginName(ctx, serverURL, c.inv.get("server"), false)
	if err != nil {
		return fail(exitBadCall, err)
	}
	if name == "" {
		say("no token is stored for %s: nothing to do", serverURL)
		return exitOK
	}
	t, _, err := h.LoadToken(ctx, name, serverURL)
	if err != nil {
		say("the stored record could not be read (%s): erasing it without revoking", oneLine(err.Error()))
	}
	helper.Revoke(ctx, t, say)
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
