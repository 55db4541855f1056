//go:build !linux && !freebsd && !openbsd && !netbsd && !dragonfly && !windows && !darwin

package native

import "github.com/mcpcred/mcpcred/backends"

// New returns nil: mcpcred has no keyring backend for this OS; the file store is used.
func New(backends.Options) (backends.Keyring, string) {
	return nil, "mcpcred has no keyring backend for this operating system"
}
