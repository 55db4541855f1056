//go:build darwin && cgo

package native

import (
	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/keychain"
)

// The keyring New returns here also keeps git credentials, in the layout of
// git-credential-osxkeychain (internet passwords of the default authentication
// type): helper finds that through the backends.GitKeyring interface of the same
// value.
var _ backends.GitKeyring = (*keychain.Keyring)(nil)

// GitLayout names where git credentials go in this OS's keyring, for messages.
const GitLayout = "Keychain internet passwords (git-credential-osxkeychain's)"
