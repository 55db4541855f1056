//go:build windows

package codexsecrets

import "strings"

// canonical is Rust's fs::canonicalize, or the path as given when that fails. On
// Windows Rust returns a verbatim path: \\?\C:\... or \\?\UNC\server\share\....
func canonical(p string) string {
	c, ok := resolve(p)
	switch {
	case !ok, strings.HasPrefix(c, `\\?\`):
		return c
	}
	if rest, ok := strings.CutPrefix(c, `\\`); ok {
		return `\\?\UNC\` + rest
	}
	return `\\?\` + c
}
