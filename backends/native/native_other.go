//go:build !linux && !freebsd && !openbsd && !netbsd && !dragonfly && !windows && !darwin

package native

// mcpcred has no keyring backend for this OS: New returns backends.None and
// the file store is used.
var keyrings []Opener
