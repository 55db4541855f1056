//go:build linux || freebsd || openbsd || netbsd || dragonfly

package native

import (
	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/secretservice"
)

// New returns the keyring of this OS, or nil and the reason there is none.
// It connects lazily: nothing is contacted before the first call.
//
// Here it is the freedesktop Secret Service on the session bus. Prompts (unlocking a
// locked collection) are shown only when DISPLAY or WAYLAND_DISPLAY is set; otherwise
// a locked collection is backends.ErrLocked, so auto mode falls back to the file.
func New(opts backends.Options) (backends.Keyring, string) {
	return secretservice.New(secretservice.Config{Options: opts, Prompt: secretservice.PromptAuto}), ""
}
