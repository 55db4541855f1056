//go:build linux || freebsd || openbsd || netbsd || dragonfly

package native

import (
	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/secretservice"
)

var keyrings = []Opener{secretService}

// secretService is the freedesktop Secret Service on the session bus. Prompts
// (unlocking a locked collection) are shown only when DISPLAY or
// WAYLAND_DISPLAY is set; otherwise a locked collection is backends.ErrLocked,
// so auto mode falls back to the file.
func secretService(opts backends.Options) (backends.Keyring, error) {
	return secretservice.New(secretservice.Config{Options: opts, Prompt: secretservice.PromptAuto}), nil
}
