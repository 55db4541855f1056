// Package native opens the OS keyring this build of mcpcred has: the Secret
// Service on Linux and the BSDs, Windows Credential Manager, the macOS Keychain
// (with cgo).
//
// Each OS family's file lists its keyrings in keyrings, in order of preference;
// New returns the first one that can exist here. A new keyring is one package
// and one line in that list. Shared code never switches on GOOS.
package native

import (
	"strings"

	"github.com/mcpcred/mcpcred/backends"
)

// An Opener returns a keyring without contacting it (keyrings connect at their
// first call), or an error saying why it cannot exist here (a build without
// cgo has no Keychain).
type Opener func(backends.Options) (backends.Keyring, error)

// New returns the first keyring of this OS that can exist here, or, when there
// is none, backends.None with the reasons: every call then fails with
// backends.ErrNoKeyring, and auto mode uses the file.
func New(opts backends.Options) backends.Keyring {
	var why []string
	for _, open := range keyrings {
		kr, err := open(opts)
		if err == nil {
			return kr
		}
		why = append(why, err.Error())
	}
	if len(why) == 0 {
		why = append(why, "mcpcred has no keyring backend for this operating system")
	}
	return backends.None{Reason: strings.Join(why, "; ")}
}
