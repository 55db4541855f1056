//go:build !linux

package encrypted

import "testing"

// requireKeyring skips: the store unlocks through Linux's kernel keyring, which
// this OS does not have (TestNoKernelKeyring checks what the store says then).
func requireKeyring(t testing.TB) {
	t.Helper()
	t.Skip("no kernel keyring on this OS: the unlocked store is tested on Linux")
}
