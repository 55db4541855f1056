//go:build windows

package codexsecrets

import (
	"path/filepath"
	"strings"
)

// canonical is Rust's fs::canonicalize, or the path as given when that fails. On
// Windows Rust returns a verbatim path: \\?\C:\... or \\?\UNC\server\share\....
// (Not yet checked against Codex on Windows: the account hash depends on it.)
func canonical(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	c, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return p
	}
	if strings.HasPrefix(c, `\\?\`) {
		return c
	}
	if rest, ok := strings.CutPrefix(c, `\\`); ok {
		return `\\?\UNC\` + rest
	}
	return `\\?\` + c
}
