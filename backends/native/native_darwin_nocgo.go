//go:build darwin && !cgo

package native

import "github.com/mcpcred/mcpcred/backends"

// New returns nil: the Keychain is reached through cgo, which this build lacks.
// mcpcred then uses the file store, and doctor shows the reason.
func New(backends.Options) (backends.Keyring, string) {
	return nil, "this build of mcpcred has no cgo, so no macOS Keychain"
}
