//go:build windows

package native

import (
	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/wincred"
)

var keyrings = []Opener{credentialManager}

// credentialManager is Windows Credential Manager, which every Windows has.
func credentialManager(opts backends.Options) (backends.Keyring, error) {
	return wincred.New(opts), nil
}
