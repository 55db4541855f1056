package helper

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// memoClock is a settable clock shared by the helpers of one test.
type memoClock struct{ t time.Time }

func (c *memoClock) now() time.Time { return c.t }

// A record dated too far ahead (a clock set back) is not in force.
func TestMemoFromTheFutureIsIgnored(t *testing.T) {
	clock := &memoClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	m := &keyringMemo{path: filepath.Join(t.TempDir(), "locks", "keyring-unanswered.json"), now: clock.now}
	m.observe("secret-service", context.DeadlineExceeded)
	if m.live() == nil {
		t.Fatal("a fresh failure is not in force")
	}
	clock.t = clock.t.Add(-time.Hour)
	if m2 := (&keyringMemo{path: m.path, now: clock.now}); m2.live() != nil {
		t.Fatal("a failure dated an hour ahead is in force")
	}
}
