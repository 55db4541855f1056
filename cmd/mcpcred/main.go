// Command mcpcred keeps OAuth tokens of MCP servers, and git credentials, in the OS
// keyring, speaking git's credential-helper protocol on stdin and stdout.
//
// Usage and behaviour are documented in README.md and by `mcpcred help`; the
// contract is docs/protocol.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/file"
	"github.com/mcpcred/mcpcred/backends/native"
	"github.com/mcpcred/mcpcred/helper"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

const usage = `usage: mcpcred [flags] get|store|erase|list   (a request on stdin)
       mcpcred [flags] capability|doctor|version|help
       mcpcred [flags] login URL [--server NAME] [--client-id ID [--client-secret-file FILE|-]]
                       [--scope S] [--no-browser | --device] [--login-timeout DUR]
                       [--callback-port N] [--callback-url URL] [--resource URL | --no-resource]
                       [--client-metadata-url URL]
       mcpcred [flags] login URL --client-credentials --client-id ID (--client-secret-file | --client-key-file) FILE|-
       mcpcred [flags] logout URL [--server NAME]
       mcpcred [flags] headers [--url URL] [--server NAME] [--force-refresh]
                       (exit 3: log in, 4: keyring unavailable; docs/oauth.md)

Flags (each also set by its environment variable; the flag wins):
  --store auto|file|keyring   MCPCRED_STORE    where records live (default auto)
  --profile default|codex     MCPCRED_PROFILE  codex: share Codex's keyring items and files
  --home DIR                  MCPCRED_HOME     where the file store and locks live
  --timeout DUR               MCPCRED_TIMEOUT  longest keyring or lock wait (default 3s)
  --format kv|json            MCPCRED_FORMAT   wire format (default kv)
  --min-ttl DUR               MCPCRED_MIN_TTL  get/headers refresh a token expiring within it (default 60s)
  --no-refresh                MCPCRED_NO_REFRESH  never refresh on read
`

// Exit statuses of spec section 2.
const (
	exitOK      = 0
	exitFailed  = 1
	exitBadCall = 2
)

// run is the whole program, apart from the process: testscript calls it in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "mcpcred: %s\n", oneLine(err.Error()))
		return code
	}
	inv, err := parseArgs(args, getenv)
	if err != nil {
		return fail(exitBadCall, err)
	}
	if inv.bool("help") {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	if len(inv.args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitBadCall
	}
	verb, rest := inv.args[0], inv.args[1:]
	switch verb {
	case "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "version":
		fmt.Fprintf(stdout, "mcpcred %s\n", version())
		return exitOK
	case "capability":
		// git 2.46's report: authtype credentials are kept; state[] is not used.
		fmt.Fprint(stdout, "version 0\ncapability authtype\n")
		return exitOK
	case "login", "logout":
		return runAuth(verb, rest, inv, getenv, stdin, stderr)
	case "headers":
		return runHeaders(rest, inv, getenv, stdout, stderr)
	}
	if !helper.IsRequestVerb(verb) && verb != "doctor" {
		// git asks helpers to ignore operations they do not know.
		fmt.Fprintf(stderr, "mcpcred: unknown operation %q ignored: see 'mcpcred help'\n", verb)
		return exitOK
	}
	if len(rest) > 0 {
		return fail(exitBadCall, usagef("%s takes no arguments, got %q", verb, rest[0]))
	}
	h, err := newHelper(inv, getenv, stderr)
	if err != nil {
		return fail(exitBadCall, err)
	}
	defer h.Close()
	format, err := helper.ParseFormat(inv.get("format"))
	if err != nil {
		return fail(exitBadCall, err)
	}
	ctx := context.Background()
	if verb == "doctor" {
		h.Doctor(ctx, stdout)
		return exitOK
	}
	in := stdin
	if verb == "list" {
		in = nil // list takes no request: don't wait for one, from a pipe or a person
	}
	if err := h.Serve(ctx, verb, in, stdout, format); err != nil {
		if helper.IsBadRequest(err) {
			return fail(exitBadCall, err)
		}
		if errors.Is(err, backends.ErrUnavailable) {
			err = fmt.Errorf("%w; 'mcpcred doctor' says why, '--store file' does without it", err)
		}
		return fail(exitFailed, err)
	}
	return exitOK
}

// newHelper builds the helper the flags describe.
func newHelper(inv *invocation, getenv func(string) string, stderr io.Writer) (*helper.Helper, error) {
	mode, err := helper.ParseMode(inv.get("store"))
	if err != nil {
		return nil, usagef("%v", err)
	}
	timeout, err := inv.duration("timeout")
	if err != nil {
		return nil, err
	}
	codex := false
	switch p := inv.get("profile"); p {
	case "default":
	case "codex":
		codex = true
	default:
		return nil, usagef("unknown profile %q: use default or codex", p)
	}
	home, err := homeDir(inv, codex, getenv)
	if err != nil {
		return nil, err
	}
	service := "mcpcred"
	if codex {
		service = "Codex MCP Credentials"
	}
	h := &helper.Helper{
		Mode:    mode,
		Service: service,
		Tokens: file.New(filepath.Join(home, ".credentials.json"),
			filepath.Join(home, "mcp-oauth-locks", "file-store.lock"), timeout),
		Notices: stderr,
		Timeout: timeout,
	}
	// --store file reads and writes no keyring, but erase still asks it (the
	// seed's rule); native keyrings connect only when first called.
	h.Keyring, h.NoKeyring = native.New(backends.Options{Timeout: timeout, CodexLayout: codex})
	if err := configureRefresh(h, inv); err != nil { // headers.go
		return nil, err
	}
	return h, nil
}

// homeDir is where the file store and locks live: --home, else MCPCRED_HOME (not in
// the codex profile), else CODEX_HOME or ~/.codex (codex profile), else the OS's
// user config dir + /mcpcred.
func homeDir(inv *invocation, codex bool, getenv func(string) string) (string, error) {
	v, ok := inv.flags["home"]
	if !ok && !codex {
		v, ok = inv.env["home"]
	}
	if ok {
		if v == "" {
			return "", usagef("--home is empty")
		}
		return v, nil
	}
	if codex {
		if ch := getenv("CODEX_HOME"); ch != "" {
			fi, err := os.Stat(ch)
			if err != nil || !fi.IsDir() {
				return "", usagef("CODEX_HOME %q is not a directory: create it or unset CODEX_HOME", ch)
			}
			return ch, nil
		}
		home, err := os.UserHomeDir()
		if err != nil {
			return "", usagef("no home directory: set CODEX_HOME or --home")
		}
		return filepath.Join(home, ".codex"), nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", usagef("no config directory (%v): set --home or MCPCRED_HOME", err)
	}
	return filepath.Join(dir, "mcpcred"), nil
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}
