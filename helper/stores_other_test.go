//go:build !linux

package helper

import (
	"testing"
	"time"
)

// addOSRecordStores adds nothing: the encrypted store is unlocked through
// Linux's kernel keyring.
func addOSRecordStores(map[string]func(t *testing.T) recordStore, func() time.Time) {}
