//go:build !windows

package codexsecrets

import "path/filepath"

// canonical is Rust's fs::canonicalize, or the path as given when that fails.
func canonical(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	c, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return p
	}
	return c
}
