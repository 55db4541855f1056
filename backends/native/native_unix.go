//go:build linux || freebsd || openbsd || netbsd || dragonfly

package native

import "github.com/mcpcred/mcpcred/backends"

// New returns the keyring of this OS, or nil and the reason there is none.
// It connects lazily: nothing is contacted before the first call.
// TEMPORARY: replaced by the Secret Service backend.
func New(opts backends.Options) (backends.Keyring, string) {
	return nil, "the Secret Service backend is not built yet"
}
