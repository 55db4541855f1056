//go:build linux || freebsd || openbsd || netbsd || (dragonfly && cgo)

package native

import (
	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/secretservice"
)

// The keyring New returns here also keeps git credentials, in the layout of
// git-credential-libsecret (schema org.git.Password): helper finds that through
// the backends.GitKeyring interface of the same value, on the same connection.
var _ backends.GitKeyring = (*secretservice.Keyring)(nil)

// GitLayout names where git credentials go in this OS's keyring, for messages.
const GitLayout = "Secret Service items of schema org.git.Password (git-credential-libsecret's)"
