// Command mcpcred keeps OAuth tokens of MCP servers, and git credentials, in the OS
// keyring, speaking git's credential-helper protocol on stdin and stdout.
//
// Usage and behaviour are documented in README.md and by `mcpcred help`; the
// contract is docs/protocol.md. Every verb is one entry of the verb table
// (verbs.go); the domain is package helper's.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/helper"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// Exit statuses of docs/protocol.md.
const (
	exitOK      = 0
	exitFailed  = 1
	exitBadCall = 2
)

// run is the whole program, apart from the process: testscript calls it in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	c := &call{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	inv, err := parseArgs(args, getenv)
	if err != nil {
		return c.fail(exitBadCall, err)
	}
	c.inv = inv
	if inv.bool("help") {
		return runHelp(c)
	}
	if len(inv.args) == 0 {
		fmt.Fprint(stderr, usage())
		return exitBadCall
	}
	c.verb, c.args = findVerb(inv.args[0]), inv.args[1:]
	if c.verb == nil {
		// git asks helpers to ignore operations they do not know.
		fmt.Fprintf(stderr, "mcpcred: unknown operation %q ignored: see 'mcpcred help'\n", inv.args[0])
		return exitOK
	}
	for _, f := range flagSpecs {
		if _, given := inv.flags[f.name]; given && !c.verb.takes(f.name) {
			return c.fail(exitBadCall, usagef("%s does not take --%s: see 'mcpcred help'", c.verb.name, f.name))
		}
	}
	return c.verb.run(c)
}

// runRequest answers get, store, erase and list.
func runRequest(c *call) int {
	if len(c.args) > 0 {
		return c.fail(exitBadCall, usagef("%s takes no arguments, got %q", c.verb.name, c.args[0]))
	}
	h, err := c.helper(c.stderr)
	if err != nil {
		return c.fail(exitBadCall, err)
	}
	defer h.Close()
	format, err := helper.ParseFormat(c.inv.get("format"))
	if err != nil {
		return c.fail(exitBadCall, err)
	}
	var in io.Reader
	if c.verb.request {
		in = c.stdin // list takes no request: don't wait for one, from a pipe or a person
	}
	if err := h.Serve(context.Background(), c.verb.name, in, c.stdout, format); err != nil {
		if helper.IsBadRequest(err) {
			return c.fail(exitBadCall, err)
		}
		if errors.Is(err, backends.ErrUnavailable) {
			err = fmt.Errorf("%w; 'mcpcred doctor' says why, '--store file' does without it", err)
		}
		return c.fail(exitFailed, err)
	}
	return exitOK
}

func runDoctor(c *call) int {
	if len(c.args) > 0 {
		return c.fail(exitBadCall, usagef("%s takes no arguments, got %q", c.verb.name, c.args[0]))
	}
	h, err := c.helper(c.stderr)
	if err != nil {
		return c.fail(exitBadCall, err)
	}
	defer h.Close()
	h.Doctor(context.Background(), c.stdout)
	return exitOK
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
