//go:build darwin && cgo

package native

import (
	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/keychain"
)

// New returns the macOS Keychain. It connects lazily: nothing is contacted
// before the first call. The reason is empty: every Mac has a keychain.
func New(opts backends.Options) (backends.Keyring, string) {
	return keychain.New(opts), ""
}
