//go:build linux || freebsd || openbsd || netbsd || (dragonfly && cgo)

package secretservice_test

import (
	"os"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/keyringtest"
	"github.com/mcpcred/mcpcred/backends/secretservice"
	"github.com/mcpcred/mcpcred/helper/helpertest"
)

// TestHelperConformance runs the helper's conformance suite (Codex's storage
// behaviour, mcpcred's modes) on the real Secret Service.
func TestHelperConformance(t *testing.T) {
	if os.Getenv("MCPCRED_TEST_SECRET_SERVICE") != "1" {
		keyringtest.Missing(t, "no private Secret Service (run the tests under scripts/with-secret-service.sh)")
	}
	if os.Getenv("MCPCRED_TEST_SECRET_SERVICE_LOCKED") == "1" {
		keyringtest.Missing(t, "the collection was started locked (--locked); this test needs it unlocked")
	}
	kr := secretservice.New(secretservice.Config{
		Options: backends.Options{Timeout: 10 * time.Second},
	})
	t.Cleanup(func() { _ = kr.Close() })
	helpertest.Run(t, kr)
}
