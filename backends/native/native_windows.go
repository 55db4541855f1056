//go:build windows

package native

import (
	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/wincred"
)

// New returns Windows Credential Manager. It connects lazily: nothing is
// contacted before the first call. The reason is empty: Windows always has one.
func New(opts backends.Options) (backends.Keyring, string) {
	return wincred.New(opts), ""
}
