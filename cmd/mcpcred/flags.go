package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// flagSpec describes one flag: its environment variable and whether it takes a value.
type flagSpec struct {
	env    string
	isBool bool
	def    string
}

var flagSpecs = map[string]flagSpec{
	"store":         {env: "MCPCRED_STORE", def: "auto"},
	"profile":       {env: "MCPCRED_PROFILE", def: "default"},
	"home":          {env: "MCPCRED_HOME"},
	"timeout":       {env: "MCPCRED_TIMEOUT", def: "3s"},
	"format":        {env: "MCPCRED_FORMAT", def: "kv"},
	"min-ttl":       {env: "MCPCRED_MIN_TTL", def: "60s"},
	"no-refresh":    {env: "MCPCRED_NO_REFRESH", isBool: true},
	"url":           {},
	"server":        {},
	"force-refresh": {isBool: true},
	"client-id":     {},
	"scope":         {},
	"no-browser":    {isBool: true},
	// login: a pre-registered client's secret, never on the command line ("-" is
	// stdin), and how long to wait for the browser.
	"client-secret-file": {},
	"login-timeout":      {env: "MCPCRED_LOGIN_TIMEOUT", def: "5m"},
	// login: where the redirect comes back, the device grant, the resource
	// indicator (docs/login.md).
	"callback-port":       {},
	"callback-url":        {},
	"device":              {isBool: true},
	"client-credentials":  {isBool: true},
	"client-metadata-url": {},
	"client-key-file":     {},
	"resource":            {},
	"no-resource":         {isBool: true},
	"help":                {isBool: true},
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
		spec, ok := flagSpecs[name]
		if !ok {
			return nil, usagef("unknown flag --%s: see 'mcpcred help'", name)
		}
		switch {
		case spec.isBool && hasValue:
			if _, err := strconv.ParseBool(value); err != nil {
				return nil, usagef("--%s takes true or false, not %q", name, value)
			}
		case spec.isBool:
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
	for name, spec := range flagSpecs {
		if spec.env != "" {
			if v := getenv(spec.env); v != "" {
				inv.env[name] = v
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
	return flagSpecs[name].def
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
