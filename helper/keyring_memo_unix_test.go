//go:build unix

package helper

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A record in a lock directory others can write is not honoured: it could turn
// the keyring off and send secrets to the plaintext file.
func TestMemoInUnsafeDirIsIgnored(t *testing.T) {
	clock := &memoClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	dir := filepath.Join(t.TempDir(), "locks")
	m := &keyringMemo{path: filepath.Join(dir, "keyring-unanswered.json"), now: clock.now}
	m.observe("secret-service", context.DeadlineExceeded)
	if (&keyringMemo{path: m.path, now: clock.now}).live() == nil {
		t.Fatal("a fresh failure is not in force")
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if (&keyringMemo{path: m.path, now: clock.now}).live() != nil {
		t.Fatal("a failure remembered in a world-writable directory is in force")
	}
}
