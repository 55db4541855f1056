//go:build windows

package native

import (
	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/wincred"
)

// The keyring New returns here also keeps git credentials, in the layout of
// git-credential-wincred (generic credentials "git:proto://user@host/path"):
// helper finds that through the backends.GitKeyring interface of the same value.
var _ backends.GitKeyring = (*wincred.Keyring)(nil)

// GitLayout names where git credentials go in this OS's keyring, for messages.
const GitLayout = "Windows generic credentials git:<url> (git-credential-wincred's)"
