//go:build !windows

package codexsecrets

// canonical is Rust's fs::canonicalize, or the path as given when that fails.
func canonical(p string) string {
	c, _ := resolve(p)
	return c
}
