//go:build darwin && !cgo

package native

import (
	"errors"

	"github.com/mcpcred/mcpcred/backends"
)

var keyrings = []Opener{noCgoKeychain}

// noCgoKeychain: the Keychain is reached through cgo, which this build lacks.
// mcpcred then uses the file store, and doctor shows the reason.
func noCgoKeychain(backends.Options) (backends.Keyring, error) {
	return nil, errors.New("this build of mcpcred has no cgo, so no macOS Keychain")
}
