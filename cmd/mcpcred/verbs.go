package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mcpcred/mcpcred/helper"
)

// verb is one entry of the verb table: everything mcpcred knows about a verb.
// Dispatch, flag checks and `mcpcred help` all read this table, and so can code
// that writes shell completions or a man page.
type verb struct {
	name    string
	args    string   // positional arguments, for help ("URL")
	summary string   // one line, for help
	request bool     // reads a request (kv or JSON) on stdin
	flags   []string // flags it takes besides --help, from flagSpecs
	run     func(c *call) int
}

// Flag sets several verbs share.
var (
	// storeFlags pick the stores a verb reads and writes.
	storeFlags = []string{"store", "profile", "home", "timeout"}
	// refreshFlags tune refresh on read.
	refreshFlags = []string{"min-ttl", "no-refresh"}
	// loginWaysFlags pick how a login gets its authorization (docs/login.md):
	// login's alone.
	loginWaysFlags = []string{"callback-port", "callback-url", "device", "client-credentials",
		"client-key-file", "client-metadata-url", "resource", "no-resource"}
)

func flagSet(sets ...[]string) []string { return slices.Concat(sets...) }

// verbs is the verb table, in the order help lists them. It is filled in init
// because help, one of its handlers, prints the table.
var verbs []*verb

func init() { verbs = verbTable() }

func verbTable() []*verb {
	return []*verb{
		{name: "get", request: true, run: runRequest,
			summary: "print the record a request names; a token about to expire is refreshed first",
			flags:   flagSet(storeFlags, []string{"format"}, refreshFlags)},
		{name: "store", request: true, run: runRequest,
			summary: "store the record a request describes",
			flags:   flagSet(storeFlags, []string{"format"})},
		{name: "erase", request: true, run: runRequest,
			summary: "erase the records a request names",
			flags:   flagSet(storeFlags, []string{"format"})},
		{name: "list", run: runRequest,
			summary: "list the stored records, without secrets (reads no request)",
			flags:   flagSet(storeFlags, []string{"format"})},
		{name: "login", args: "URL", run: runLoginFlow,
			summary: "log in to an MCP server (browser, pasted answer, device code or client credentials) and store its token",
			flags:   flagSet(storeFlags, []string{"url", "server", "client-id", "client-secret-file", "scope", "no-browser", "login-timeout"}, loginWaysFlags)},
		{name: "logout", args: "URL", run: runLogout,
			summary: "revoke and erase the token of an MCP server",
			flags:   flagSet(storeFlags, []string{"url", "server"})},
		{name: "headers", run: runHeaders,
			summary: `print {"Authorization":"Bearer ..."} as a headers helper (exit 3: log in, 4: keyring unavailable; docs/oauth.md)`,
			flags:   flagSet(storeFlags, []string{"url", "server", "force-refresh"}, refreshFlags)},
		{name: "capability", run: runCapability,
			summary: "print the capabilities git 2.46 asks helpers for"},
		{name: "doctor", run: runDoctor,
			summary: "say which stores exist here and which one a write would use",
			flags:   storeFlags},
		{name: "version", run: runVersion, summary: "print mcpcred's version"},
		{name: "help", run: runHelp, summary: "print this usage"},
	}
}

func findVerb(name string) *verb {
	for _, v := range verbs {
		if v.name == name {
			return v
		}
	}
	return nil
}

func (v *verb) takes(flag string) bool { return flag == "help" || slices.Contains(v.flags, flag) }

// call is one run of a verb.
type call struct {
	verb   *verb
	inv    *invocation
	args   []string // positional arguments after the verb
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// fail prints err as one line on stderr and returns code.
func (c *call) fail(code int, err error) int {
	fmt.Fprintf(c.stderr, "mcpcred: %s\n", oneLine(err.Error()))
	return code
}

// helper builds the Helper the verb's flags describe, sending notices to notices.
func (c *call) helper(notices io.Writer) (*helper.Helper, error) {
	mode, err := helper.ParseMode(c.inv.get("store"))
	if err != nil {
		return nil, usagef("%v", err)
	}
	timeout, err := c.inv.duration("timeout")
	if err != nil {
		return nil, err
	}
	cfg := helper.Config{Mode: mode, Timeout: timeout, Getenv: c.getenv, Notices: notices}
	switch p := c.inv.get("profile"); p {
	case "default":
	case "codex":
		cfg.Codex = true
	default:
		return nil, usagef("unknown profile %q: use default or codex", p)
	}
	// MCPCRED_HOME is mcpcred's own: the codex profile's home is Codex's.
	home, ok := c.inv.flags["home"]
	if !ok && !cfg.Codex {
		home, ok = c.inv.env["home"]
	}
	if ok && home == "" {
		return nil, usagef("--home is empty")
	}
	cfg.Home = home
	if c.verb.takes("min-ttl") {
		if cfg.MinTTL, err = c.inv.duration("min-ttl"); err != nil {
			return nil, err
		}
		cfg.NoRefresh = c.inv.bool("no-refresh")
	}
	h, err := helper.New(cfg)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return h, nil
}

// usage is the text of `mcpcred help`, written from the verb and flag tables.
func usage() string {
	var b strings.Builder
	var protocolVerbs []string
	for _, v := range verbs {
		if v.takes("format") {
			protocolVerbs = append(protocolVerbs, v.name)
		}
	}
	fmt.Fprintf(&b, "usage: mcpcred [flags] %s   (git's credential-helper protocol)\n", strings.Join(protocolVerbs, "|"))
	b.WriteString("       mcpcred [flags] VERB [ARGS]\n\nVerbs:\n")
	for _, v := range verbs {
		fmt.Fprintf(&b, "  %-12s %s\n", strings.TrimSpace(v.name+" "+v.args), v.summary)
	}
	b.WriteString("\nFlags (a verb refuses those it does not take; a flag's environment variable\nsets it too, and the flag wins):\n")
	for _, f := range flagSpecs {
		spec := "--" + f.name
		if f.arg != "" {
			spec += " " + f.arg
		}
		help := f.help
		if f.def != "" {
			help += " (default " + f.def + ")"
		}
		if f.env != "" {
			help += "; " + f.env
		}
		fmt.Fprintf(&b, "  %-30s %s\n", spec, help)
		if f.name == "help" {
			continue
		}
		var takers []string
		for _, v := range verbs {
			if v.takes(f.name) {
				takers = append(takers, v.name)
			}
		}
		fmt.Fprintf(&b, "  %-30s verbs: %s\n", "", strings.Join(takers, " "))
	}
	return b.String()
}

func runHelp(c *call) int {
	fmt.Fprint(c.stdout, usage())
	return exitOK
}

func runVersion(c *call) int {
	fmt.Fprintf(c.stdout, "mcpcred %s\n", version())
	return exitOK
}

// runCapability is git 2.46's report: authtype credentials are kept; state[] is
// not used.
func runCapability(c *call) int {
	fmt.Fprint(c.stdout, "version 0\ncapability authtype\n")
	return exitOK
}
