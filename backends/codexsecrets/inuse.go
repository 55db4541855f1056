package codexsecrets

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/BurntSushi/toml"
)

// Decision says whether Codex keeps MCP tokens in its secrets file, and why, in one
// sentence for `doctor`.
type Decision struct {
	Secrets bool
	Reason  string
}

// InUse reads CODEX_HOME/config.toml as Codex 0.171 does for MCP tokens: with
// mcp_oauth_credentials_store = "file" Codex uses .credentials.json only; otherwise
// ("auto", "keyring" or unset) `[features] secret_auth_storage` picks the secrets
// file (true) or direct keyring entries (false), and when it is unset Codex's
// default for this OS applies (on for Windows, off elsewhere). A config.toml that
// does not parse, or a value of the wrong type, is an error naming the file and
// line, never its content (it may hold headers with tokens).
func InUse(codexHome string) (Decision, error) {
	path := filepath.Join(codexHome, "config.toml")
	var cfg struct {
		Store    *string `toml:"mcp_oauth_credentials_store"`
		Features struct {
			SecretAuthStorage *bool `toml:"secret_auth_storage"`
		} `toml:"features"`
	}
	_, err := toml.DecodeFile(path, &cfg)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Codex's defaults.
	case err != nil:
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return Decision{}, fmt.Errorf("%s line %d: not valid TOML for Codex", path, pe.Position.Line)
		}
		return Decision{}, fmt.Errorf("%s: mcp_oauth_credentials_store must be a string and [features] secret_auth_storage true or false", path)
	}
	if cfg.Store != nil {
		switch *cfg.Store {
		case "file":
			return Decision{false, fmt.Sprintf(`%s sets mcp_oauth_credentials_store = "file": Codex keeps MCP tokens in .credentials.json`, path)}, nil
		case "auto", "keyring":
		default:
			return Decision{}, fmt.Errorf(`%s: mcp_oauth_credentials_store is %q; Codex accepts "auto", "file" or "keyring"`, path, *cfg.Store)
		}
	}
	if v := cfg.Features.SecretAuthStorage; v != nil {
		if *v {
			return Decision{true, fmt.Sprintf("%s sets [features] secret_auth_storage = true: Codex keeps MCP tokens in secrets/mcp_oauth.age", path)}, nil
		}
		return Decision{false, fmt.Sprintf("%s sets [features] secret_auth_storage = false: Codex keeps MCP tokens in direct OS keyring entries", path)}, nil
	}
	if defaultSecrets {
		return Decision{true, fmt.Sprintf("[features] secret_auth_storage is not set in %s, and on %s Codex's default is on: MCP tokens in secrets/mcp_oauth.age", path, defaultOS)}, nil
	}
	return Decision{false, fmt.Sprintf("[features] secret_auth_storage is not set in %s, and on %s Codex's default is off: MCP tokens in direct OS keyring entries", path, defaultOS)}, nil
}
