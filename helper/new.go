package helper

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/file"
	"github.com/mcpcred/mcpcred/backends/native"
)

// Config is what a process says about the stores it wants: the settings of the
// command line and environment, already parsed. New turns it into a Helper.
type Config struct {
	Mode Mode
	// Codex selects the codex profile: Codex's keyring service, its home and file
	// layout.
	Codex bool
	// Home is where the file store and locks live, as the user gave it; "" is the
	// profile's default (see New).
	Home string
	// Getenv reads CODEX_HOME for the codex profile's default home; nil is os.Getenv.
	Getenv func(string) string
	// Timeout bounds each keyring call and lock wait.
	Timeout time.Duration
	// MinTTL and NoRefresh are the refresh-on-read settings (refresh.go).
	MinTTL    time.Duration
	NoRefresh bool
	// Notices receives one-line notices (stderr).
	Notices io.Writer
}

// New builds what a process needs from cfg: the file stores under the home, the
// OS keyring (which connects only when first called) and the login command that
// reaches these same stores. Its errors are the caller's (bad usage).
func New(cfg Config) (*Helper, error) {
	home, err := homeDir(cfg)
	if err != nil {
		return nil, err
	}
	service := "mcpcred"
	if cfg.Codex {
		service = "Codex MCP Credentials"
	}
	h := &Helper{
		Mode:    cfg.Mode,
		Service: service,
		Tokens: file.New(filepath.Join(home, ".credentials.json"),
			filepath.Join(home, "mcp-oauth-locks", "file-store.lock"), cfg.Timeout),
		Notices:   cfg.Notices,
		Timeout:   cfg.Timeout,
		MinTTL:    cfg.MinTTL,
		NoRefresh: cfg.NoRefresh,
		LoginArgs: loginArgs(cfg),
	}
	// --store file reads and writes no keyring, but erase still asks it (Codex's
	// rule, docs/protocol.md); native keyrings connect only when first called.
	h.Keyring = native.New(backends.Options{Timeout: cfg.Timeout, CodexLayout: cfg.Codex})
	return h, nil
}

// loginArgs are the flags `mcpcred login` needs to reach the stores cfg names.
func loginArgs(cfg Config) string {
	var b strings.Builder
	if cfg.Codex {
		b.WriteString(" --profile codex")
	}
	if cfg.Mode != Auto && cfg.Mode != "" {
		b.WriteString(" --store " + string(cfg.Mode))
	}
	if cfg.Home != "" {
		b.WriteString(" --home " + ShellQuote(cfg.Home))
	}
	return b.String()
}

// homeDir is where the file store and locks live: cfg.Home, else CODEX_HOME or
// ~/.codex (codex profile), else the OS's user config dir + /mcpcred.
func homeDir(cfg Config) (string, error) {
	if cfg.Home != "" {
		return cfg.Home, nil
	}
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if cfg.Codex {
		if ch := getenv("CODEX_HOME"); ch != "" {
			fi, err := os.Stat(ch)
			if err != nil || !fi.IsDir() {
				return "", fmt.Errorf("CODEX_HOME %q is not a directory: create it or unset CODEX_HOME", ch)
			}
			return ch, nil
		}
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no home directory: set CODEX_HOME or --home")
		}
		return filepath.Join(home, ".codex"), nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config directory (%v): set --home or MCPCRED_HOME", err)
	}
	return filepath.Join(dir, "mcpcred"), nil
}
