package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// flagSpec describes one flag: its value's placeholder in help ("" for a
// switch), its environment variable, its default and a one-line help text.
type flagSpec struct {
	name string
	arg  string // "" for a switch (true/false)
	env  string
	def  string
	help string
}

// flagSpecs are every flag mcpcred knows. Which verb takes which is the verb
// table's (verbs.go); a flag known here but not taken by the verb is refused.
var flagSpecs = []flagSpec{
	{name: "store", arg: "auto|file|keyring", env: "MCPCRED_STORE", def: "auto", help: "where records live"},
	{name: "profile", arg: "default|codex", env: "MCPCRED_PROFILE", def: "default", help: "codex: share Codex's keyring items and files"},
	{name: "home", arg: "DIR", env: "MCPCRED_HOME", help: "where the file store and locks live"},
	{name: "timeout", arg: "DUR", env: "MCPCRED_TIMEOUT", def: "3s", help: "longest keyring or lock wait"},
	{name: "format", arg: "kv|json", env: "MCPCRED_FORMAT", def: "kv", help: "wire format of the request and response"},
	{name: "min-ttl", arg: "DUR", env: "MCPCRED_MIN_TTL", def: "60s", help: "refresh a token expiring within it"},
	{name: "no-refresh", env: "MCPCRED_NO_REFRESH", help: "never refresh on read"},
	{name: "url", arg: "URL", help: "the MCP server's URL"},
	{name: "server", arg: "NAME", help: "the server name the record is kept under"},
	{name: "force-refresh", help: "refresh the token whatever its expiry"},
	{name: "client-id", arg: "ID", help: "a pre-registered client instead of dynamic registration"},
	// A pre-registered client's secret is never on the command line ("-" is stdin).
	{name: "client-secret-file", arg: "FILE|-", help: "read that client's secret from FILE, or stdin"},
	{name: "scope", arg: "S", help: "the scope to ask for"},
	{name: "no-browser", help: "print the authorization URL instead of opening a browser"},
	{name: "login-timeout", arg: "DUR", env: "MCPCRED_LOGIN_TIMEOUT", def: "5m", help: "how long to wait for the browser"},
	// Where the redirect comes back, other ways in, the resource indicator
	// (docs/login.md).
	{name: "callback-port", arg: "N", help: "listen for the redirect on this loopback port (for an ssh -L forward)"},
	{name: "callback-url", arg: "URL", help: "the exact redirect URI to register and send (non-loopback: https, with --callback-port)"},
	{name: "device", help: "log in with the device grant (RFC 8628): a code to enter on any device"},
	{name: "client-credentials", help: "a machine client's token from its secret or key, minted again on expiry"},
	{name: "client-key-file", arg: "FILE|-", help: "with --client-credentials: the client's PEM private key (private_key_jwt)"},
	{name: "client-metadata-url", arg: "URL", help: "an https client ID metadata document to use as the client_id"},
	{name: "resource", arg: "URL", help: "the RFC 8707 resource indicator to send instead of the server's"},
	{name: "no-resource", help: "send no resource indicator (servers that refuse it)"},
	{name: "help", help: "print the usage"},
}

func lookupFlag(name string) (flagSpec, bool) {
	for _, f := range flagSpecs {
		if f.name == name {
			return f, true
		}
	}
	return flagSpec{}, false
}

// invocation is a parsed command line: the flags given (on the line or through
// their environment variables) and the positional words.
type invocation struct {
	flags map[string]string // set on the command line
	env   map[string]string // set by environment variables
	args  []string
}

// usageError is bad usage: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// parseArgs reads flags anywhere on the line, as --flag value, --flag=value, or a
// single dash; "--" ends the flags. Environment variables fill in flags not given.
func parseArgs(args []string, getenv func(string) string) (*invocation, error) {
	inv := &invocation{flags: map[string]string{}, env: map[string]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			inv.args = append(inv.args, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			inv.args = append(inv.args, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		value, hasValue := "", false
		if eq := strings.IndexByte(name, '='); eq >= 0 {
			name, value, hasValue = name[:eq], name[eq+1:], true
		}
		if name == "h" {
			name = "help"
		}
		spec, ok := lookupFlag(name)
		if !ok {
			return nil, usagef("unknown flag --%s: see 'mcpcred help'", name)
		}
		switch {
		case spec.arg == "" && hasValue:
			if _, err := strconv.ParseBool(value); err != nil {
				return nil, usagef("--%s takes true or false, not %q", name, value)
			}
		case spec.arg == "":
			value = "true"
		case !hasValue:
			if i+1 >= len(args) {
				return nil, usagef("--%s needs a value", name)
			}
			i++
			value = args[i]
		}
		inv.flags[name] = value
	}
	for _, spec := range flagSpecs {
		if spec.env != "" {
			if v := getenv(spec.env); v != "" {
				inv.env[spec.name] = v
			}
		}
	}
	return inv, nil
}

// get returns a flag's value, else its environment variable's, else its default.
func (inv *invocation) get(name string) string {
	if v, ok := inv.flags[name]; ok {
		return v
	}
	if v, ok := inv.env[name]; ok {
		return v
	}
	spec, _ := lookupFlag(name)
	return spec.def
}

func (inv *invocation) bool(name string) bool {
	b, _ := strconv.ParseBool(inv.get(name))
	return b
}

// duration reads a Go duration or a bare number of seconds.
func (inv *invocation) duration(name string) (time.Duration, error) {
	v := inv.get(name)
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 && secs < 1e6 {
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, usagef("--%s %q is not a duration: use 2s, 500ms or a number of seconds", name, v)
	}
	return d, nil
}
