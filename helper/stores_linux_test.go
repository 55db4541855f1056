package helper

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends/encrypted"
	"github.com/mcpcred/mcpcred/backends/file"
)

// addOSRecordStores adds the encrypted fallback, which needs the kernel keyring
// for its unlock.
func addOSRecordStores(stores map[string]func(t *testing.T) recordStore, now func() time.Time) {
	stores["encrypted"] = func(t *testing.T) recordStore {
		dir := t.TempDir()
		enc := encrypted.New(encrypted.Config{Dir: filepath.Join(dir, "encrypted"), Timeout: time.Second, WorkFactor: 10})
		pass := []byte("conformance")
		if err := enc.Init(pass); err != nil {
			t.Fatal(err)
		}
		if err := enc.Unlock(pass, time.Minute); err != nil {
			t.Fatalf("unlock (the kernel keyring is needed here): %v", err)
		}
		t.Cleanup(func() { enc.Lock() })
		locks := filepath.Join(dir, "mcp-oauth-locks")
		return &encryptedStore{
			keyringStore: newKeyringStore(enc, "mcpcred", time.Second, now),
			store:        enc,
			git: &fileStore{
				tokenFile: file.New(filepath.Join(dir, ".credentials.json"), filepath.Join(locks, "file-store.lock"), time.Second),
				gitFile:   file.New(filepath.Join(dir, gitFileName), filepath.Join(locks, gitLockName), time.Second),
				now:       now,
			},
		}
	}
}
