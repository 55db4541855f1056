package main

// `mcpcred login URL` and `mcpcred logout URL`: docs/login.md.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
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
	if strings.ContainsAny(clientID, "\r\n\x00") {
		return fail(exitBadCall, usagef("--client-id holds a line break or NUL"))
	}

	ctx := context.Background()
	name, err := h.LoginName(ctx, serverURL, inv.get("server"), true)
	if err != nil {
		return fail(exitBadCall, err)
	}
	var prev *oauth.ClientInfo
	if clientID == "" {
		stored, _, err := h.LoadToken(ctx, name, serverURL)
		switch {
		case err != nil:
			say("the stored record could not be read (%s): registering anew", oneLine(err.Error()))
		case stored != nil && stored.ClientID != "":
			prev = &oauth.ClientInfo{Issuer: stored.Issuer, ClientID: stored.ClientID, ClientSecret: stored.ClientSecret}
		}
	}

	say("logging in to %s as server %q", serverURL, name)
	opts := &oauth.LoginOptions{
		ServerURL:    serverURL,
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Scope:        inv.get("scope"),
		Previous:     prev,
		Progress:     func(msg string) { say("%s", msg) },
		HTTPClient:   &http.Client{Timeout: 30 * time.Second},
		Version:      version(),
		Save: func(ctx context.Context, r *oauth.Result) (string, error) {
			return h.SaveLogin(ctx, name, serverURL, r)
		},
	}
	switch ok, why := oauth.BrowserAvailable(); {
	case inv.bool("no-browser"):
	case !ok:
		say("not opening a browser: %s", why)
	default:
		opts.Browser = oauth.OpenBrowser
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
	if r.Tokens.RefreshToken == "" {
		say("the authorization server issued no refresh token: log in again when the token expires")
	}
	say("logged in to %s; the token is stored in %s", serverURL, r.StoredIn)
	return exitOK
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

// readSecret reads a client secret from a file, or from stdin for "-": the first
// line, without its line ending.
func readSecret(path string, stdin io.Reader) (string, error) {
	var data []byte
	var err error
	if path == "-" {
		if stdin == nil {
			return "", usagef("--client-secret-file -: no stdin to read the secret from")
		}
		data, err = io.ReadAll(io.LimitReader(stdin, 64<<10))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return "", usagef("cannot read the client secret: %v", err)
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
