//go:build windows

package wincred_test

import (
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/wincred"
	"github.com/mcpcred/mcpcred/helper/helpertest"
)

// Every helper behaviour, with the real Credential Manager as the keyring, in our
// layout and in Codex's.
func TestHelperConformance(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		helpertest.Run(t, wincred.New(backends.Options{Timeout: 10 * time.Second}))
	})
	t.Run("codex", func(t *testing.T) {
		helpertest.Run(t, wincred.New(backends.Options{Timeout: 10 * time.Second, CodexLayout: true}))
	})
}
