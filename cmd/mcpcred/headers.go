package main

// `mcpcred headers`: the headers helper of Codex (http_headers_helper) and Claude
// Code (headersHelper). Spec section 7; docs/oauth.md.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/helper"
	"github.com/mcpcred/mcpcred/protocol"
)

// Exit statuses of headers beyond exitOK, exitFailed and exitBadCall.
const (
	exitLogin   = 3 // no usable token: run the login command named on stderr
	exitKeyring = 4 // the keyring that holds (or must hold) the token is unavailable
)

// headersBudget is how long headers may work; headersDeadline is when it gives up
// whatever it is doing. Both tools kill a helper at 10 s.
const (
	headersBudget   = 7 * time.Second
	headersDeadline = 7500 * time.Millisecond
)

// runHeaders prints {"Authorization":"Bearer <token>"} for the server that the
// flags or Claude Code's variables name. It never reads stdin. On failure stdout
// stays empty and stderr gets exactly one line.
func runHeaders(c *call) int {
	stdout, stderr, getenv := c.stdout, c.stderr, c.getenv
	// Notices are held back: on failure only the error is printed.
	var notices bytes.Buffer
	var mu sync.Mutex
	finished := false
	claim := func() bool { // the first caller writes the outcome, once
		mu.Lock()
		defer mu.Unlock()
		won := !finished
		finished = true
		return won
	}
	fail := func(code int, err error) int {
		if claim() {
			fmt.Fprintf(stderr, "mcpcred: %s\n", oneLine(err.Error()))
		}
		return code
	}
	// Whatever blocks (a keyring that does not answer, a lock), the process ends
	// before the tools' 10 s kill, with a line saying so.
	watchdog := time.AfterFunc(headersDeadline, func() {
		if claim() {
			fmt.Fprintf(stderr, "mcpcred: headers gave up after %v\n", headersDeadline)
			os.Exit(exitFailed)
		}
	})
	defer watchdog.Stop()

	if len(c.args) > 0 {
		return fail(exitBadCall, usagef("headers takes no arguments, got %q: use --url URL and --server NAME", c.args[0]))
	}
	if c.inv.bool("force-refresh") && c.inv.bool("no-refresh") {
		return fail(exitBadCall, usagef("--force-refresh and --no-refresh contradict each other"))
	}
	url := c.inv.get("url")
	if url == "" {
		url = getenv("CLAUDE_CODE_MCP_SERVER_URL")
	}
	if url == "" {
		return fail(exitBadCall, usagef("headers needs the MCP server's URL: --url URL (Codex passes nothing: put it in http_headers_helper), or CLAUDE_CODE_MCP_SERVER_URL (set by Claude Code)"))
	}
	h, err := c.helper(&notices)
	if err != nil {
		return fail(exitBadCall, err)
	}
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), headersBudget)
	defer cancel()

	name, t, err := h.HeaderToken(ctx, url, c.inv.get("server"), getenv("CLAUDE_CODE_MCP_SERVER_NAME"), c.inv.bool("force-refresh"))
	if err != nil {
		return fail(exitCode(err), err)
	}
	if t == nil {
		return fail(exitLogin, h.NoToken(ctx, name, url))
	}
	if !t.Expiry.IsZero() && !time.Now().Before(t.Expiry) {
		var why string
		switch missing := t.MissingForRefresh(); {
		case h.NoRefresh:
			why = "and refresh is off (--no-refresh)"
		case missing != "":
			why = "and the record has no " + missing + " to refresh it"
		case t.TokenEndpoint == "":
			why = "and the record has no token_endpoint, which could not be found from the server's URL"
		default:
			why = "(another process stored it so while this one waited)"
		}
		return fail(exitLogin, fmt.Errorf("the token for %s expired %s: run %s", name, why, h.LoginCommand(name, url)))
	}
	if strings.IndexFunc(t.AccessToken, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
		return fail(exitFailed, fmt.Errorf("the stored token for %s holds characters no HTTP header may carry: run %s", name, h.LoginCommand(name, url)))
	}
	header := protocol.NewMessage()
	header.Set("Authorization", "Bearer "+t.AccessToken)
	if !claim() {
		return exitFailed
	}
	_, _ = stderr.Write(notices.Bytes())
	if err := protocol.JSON.Write(stdout, header); err != nil {
		return exitFailed
	}
	return exitOK
}

// exitCode maps an error to headers' exit status.
func exitCode(err error) int {
	var lr *helper.LoginRequiredError
	var ue *usageError
	switch {
	case errors.As(err, &lr):
		return exitLogin
	case errors.As(err, &ue), helper.IsBadRequest(err):
		return exitBadCall
	case errors.Is(err, backends.ErrUnavailable):
		return exitKeyring
	}
	return exitFailed
}
