//go:build darwin && cgo

package native

import (
	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/keychain"
)

var keyrings = []Opener{macKeychain}

// macKeychain is the macOS Keychain, which every Mac has.
func macKeychain(opts backends.Options) (backends.Keyring, error) {
	return keychain.New(opts), nil
}
