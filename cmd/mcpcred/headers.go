package main

// `mcpcred headers`: the headers helper of Codex (http_headers_helper) and Claude
// Code (headersHelper). Spec section 7; docs/oauth.md.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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

// configureRefresh sets the Helper's refresh-on-read settings from the flags.
func configureRefresh(h *helper.Helper, inv *invocation) error {
	minTTL, err := inv.duration("min-ttl")
	if err != nil {
		return err
	}
	h.MinTTL = minTTL
	h.NoRefresh = inv.bool("no-refresh")
	// What login needs to reach the same records: the flags that pick the stores.
	var args strings.Builder
	if p := inv.get("profile"); p != "default" {
		args.WriteString(" --profile " + p)
	}
	if s := inv.get("store"); s != "auto" {
		args.WriteString(" --store " + s)
	}
	if home, ok := inv.flags["home"]; ok {
		args.WriteString(" --home " + helper.ShellQuote(home))
	} else if home, ok := inv.env["home"]; ok && inv.get("profile") == "default" {
		args.WriteString(" --home " + helper.ShellQuote(home))
	}
	h.LoginArgs = args.String()
	return nil
}

// runHeaders prints {"Authorization":"Bearer <token>"} for the server that the
// flags or Claude Code's variables name. It never reads stdin. On failure stdout
// stays empty and stderr gets exactly one line.
func runHeaders(rest []string, inv *invocation, getenv func(string) string, stdout, stderr io.Writer) int {
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

	if len(rest) > 0 {
		return fail(exitBadCall, usagef("headers takes no arguments, got %q: use --url URL and --server NAME", rest[0]))
	}
	if inv.bool("force-refresh") && inv.bool("no-refresh") {
		return fail(exitBadCall, usagef("--force-refresh and --no-refresh contradict each other"))
	}
	url := inv.get("url")
	if url == "" {
		url = getenv("CLAUDE_CODE_MCP_SERVER_URL")
	}
	if url == "" {
		return fail(exitBadCall, usagef("headers needs the MCP server's URL: --url URL (Codex passes nothing: put it in http_headers_helper), or CLAUDE_CODE_MCP_SERVER_URL (set by Claude Code)"))
	}
	h, err := newHelper(inv, getenv, &notices)
	if err != nil {
		return fail(exitBadCall, err)
	}
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), headersBudget)
	defer cancel()

	name, t, err := readHeaderToken(ctx, h, inv, getenv, url)
	if err != nil {
		return fail(exitCode(err), err)
	}
	if t == nil {
		return fail(exitLogin, noToken(ctx, h, name, url))
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
	line := append(append([]byte(`{"Authorization":`), protocol.AppendJSONString(nil, "Bearer "+t.AccessToken)...), "}\n"...)
	if !claim() {
		return exitFailed
	}
	_, _ = stderr.Write(notices.Bytes())
	if _, err := stdout.Write(line); err != nil {
		return exitFailed
	}
	return exitOK
}

// readHeaderToken reads, refreshing it if due, the token of the server named by
// --server, else CLAUDE_CODE_MCP_SERVER_NAME, else the one record stored for url.
// A CLAUDE_CODE_MCP_SERVER_NAME with no record falls back to that one record too:
// the name is Claude Code's label, which need not be the name the login stored.
// Each record is read once; the names stored for url come from the store keys,
// without reading any record. It returns the name used and the token (nil when
// there is none).
func readHeaderToken(ctx context.Context, h *helper.Helper, inv *invocation, getenv func(string) string, url string) (string, *helper.Token, error) {
	force := inv.bool("force-refresh")
	if name := inv.get("server"); name != "" {
		t, err := h.ReadToken(ctx, name, url, force)
		return name, t, err
	}
	env := getenv("CLAUDE_CODE_MCP_SERVER_NAME")
	if env != "" {
		if t, err := h.ReadToken(ctx, env, url, force); err != nil || t != nil {
			return env, t, err
		}
	}
	names, err := h.ServerNames(ctx, url)
	switch {
	case err != nil:
		return "", nil, err
	case len(names) > 1:
		return "", nil, usagef("%d records are stored for %s (%s): say which with --server NAME", len(names), url, strings.Join(names, ", "))
	case len(names) == 1 && names[0] != env:
		t, err := h.ReadToken(ctx, names[0], url, force)
		return names[0], t, err
	case env != "":
		return env, nil, nil
	}
	return defaultServerName(url), nil, nil
}

// noToken explains an absent record, naming a keyring that could not be asked.
func noToken(ctx context.Context, h *helper.Helper, name, url string) error {
	reason := fmt.Sprintf("no token is stored for %s (%s)", name, url)
	if h.Mode == helper.Auto && h.Keyring != nil {
		if _, err := h.Keyring.Get(ctx, h.Service, helper.StoreKey(name, url)); errors.Is(err, backends.ErrUnavailable) {
			reason += fmt.Sprintf(" in the file store, and the keyring could not be asked (%s)", oneLine(err.Error()))
		}
	}
	return &helper.LoginRequiredError{ServerName: name, URL: url, Reason: reason, Command: h.LoginCommand(name, url)}
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
