package encrypted

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends/file"
)

// benchRecord is about the size of a Codex MCP token record.
var benchRecord = `{"server_name":"srv","url":"https://mcp.example.test/mcp","client_id":"client","token_response":{"access_token":"` +
	strings.Repeat("a", 200) + `","token_type":"bearer","refresh_token":"` + strings.Repeat("r", 100) + `"},"expires_at":1795889172727}`

// BenchmarkGet reads one record from the unlocked encrypted store holding n
// records, next to the same read from the plain file store (package file), which
// looks one key up as the helper's file store does. scripts/bench-encrypted.sh
// measures whole processes.
func BenchmarkGet(b *testing.B) {
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("encrypted/records=%d", n), func(b *testing.B) {
			requireKeyring(b)
			s := newStore(b)
			if err := s.Init(pass); err != nil {
				b.Fatal(err)
			}
			if err := s.Unlock(pass, 10*time.Minute); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			for i := range n {
				if err := s.Set(ctx, svc, fmt.Sprintf("srv-%04d", i), []byte(benchRecord)); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.Get(ctx, svc, "srv-0000"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("plain/records=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			fs := file.New(filepath.Join(dir, "credentials.json"), filepath.Join(dir, "lock"), time.Minute)
			if err := fs.Update(func(m map[string]json.RawMessage) (bool, error) {
				for i := range n {
					m[fmt.Sprintf("srv-%04d", i)] = json.RawMessage(benchRecord)
				}
				return true, nil
			}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				raw, found, err := fs.Lookup("srv-0000")
				if err != nil || !found || raw == nil {
					b.Fatal(err)
				}
			}
		})
	}
}
