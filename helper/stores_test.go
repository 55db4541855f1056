package helper

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/file"
	"github.com/mcpcred/mcpcred/backends/memory"
)

// TestRecordStoreConformance runs the recordStore contract against both
// implementations: an OS keyring's (over the in-memory keyring with git
// credentials) and the file's. The mode rules above them rely on nothing else.
func TestRecordStoreConformance(t *testing.T) {
	now := func() time.Time { return time.Unix(1_700_000_000, 0) }
	for name, open := range map[string]func(t *testing.T) recordStore{
		"keyring": func(t *testing.T) recordStore {
			return newKeyringStore(&memGit{Keyring: memory.New()}, "mcpcred", time.Second, now)
		},
		"file": func(t *testing.T) recordStore {
			dir := t.TempDir()
			locks := filepath.Join(dir, "mcp-oauth-locks")
			return &fileStore{
				tokenFile: file.New(filepath.Join(dir, ".credentials.json"), filepath.Join(locks, "file-store.lock"), time.Second),
				gitFile:   file.New(filepath.Join(dir, gitFileName), filepath.Join(locks, gitLockName), time.Second),
				now:       now,
			}
		},
	} {
		t.Run(name, func(t *testing.T) { runRecordStore(t, open) })
	}
}

func runRecordStore(t *testing.T, open func(t *testing.T) recordStore) {
	ctx := context.Background()
	tok := &Token{ServerName: "srv", URL: "https://mcp.test/mcp", ClientID: "c", TokenType: "Bearer",
		AccessToken: "at", RefreshToken: "rt", Expiry: time.Unix(1_800_000_000, 0)}

	t.Run("TokenRoundTrip", func(t *testing.T) {
		s := open(t)
		if got, err := s.loadToken(ctx, tok.Key()); got != nil || err != nil {
			t.Fatalf("load of an absent token = %v, %v; want nil, nil", got, err)
		}
		if removed, err := s.deleteToken(ctx, tok.Key()); removed || err != nil {
			t.Fatalf("delete of an absent token = %v, %v", removed, err)
		}
		if err := s.putToken(ctx, tok, false); err != nil {
			t.Fatal(err)
		}
		next := *tok
		next.AccessToken = "at2"
		if err := s.putToken(ctx, &next, true); err != nil {
			t.Fatal(err)
		}
		got, err := s.loadToken(ctx, tok.Key())
		if err != nil || got == nil || !got.Equal(&next) {
			t.Fatalf("load = %+v, %v; want the second put", got, err)
		}
		keys, err := s.tokenKeys(ctx)
		if err != nil || !slices.Equal(keys, []string{tok.Key()}) {
			t.Fatalf("tokenKeys = %q, %v", keys, err)
		}
		all, err := s.tokens(ctx)
		if err != nil || len(all) != 1 || !all[0].Equal(&next) {
			t.Fatalf("tokens = %+v, %v", all, err)
		}
		if removed, err := s.deleteToken(ctx, tok.Key()); !removed || err != nil {
			t.Fatalf("delete = %v, %v", removed, err)
		}
		if got, err := s.loadToken(ctx, tok.Key()); got != nil || err != nil {
			t.Fatalf("load after delete = %v, %v", got, err)
		}
	})

	host := backends.GitQuery{Protocol: "https", HasProtocol: true, Host: "example.com", HasHost: true}
	cred := func(user, path, pw string) backends.GitCredential {
		c := backends.GitCredential{Protocol: "https", Host: "example.com", Username: user, HasUser: true, Password: pw}
		if path != "" {
			c.Path, c.HasPath = path, true
		}
		return c
	}
	t.Run("GitPutReplacesWhatItsIdentityMatches", func(t *testing.T) {
		s := open(t)
		for _, c := range []backends.GitCredential{cred("alice", "a.git", "1"), cred("alice", "b.git", "2"), cred("bob", "", "3")} {
			if err := s.gitPut(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		if cs, err := s.gitSearch(ctx, host); err != nil || len(cs) != 3 {
			t.Fatalf("search = %+v, %v; want 3", cs, err)
		}
		// No path: replaces alice's credentials with a path, not bob's.
		if err := s.gitPut(ctx, cred("alice", "", "4")); err != nil {
			t.Fatal(err)
		}
		cs, err := s.gitSearch(ctx, host)
		if err != nil || len(cs) != 2 {
			t.Fatalf("search after the replacing put = %+v, %v; want alice's new one and bob's", cs, err)
		}
		for _, c := range cs {
			if c.Username == "alice" && (c.Password != "4" || c.HasPath) {
				t.Fatalf("alice's credential = %+v", c)
			}
		}
		for _, c := range cs {
			if err := s.gitDelete(ctx, c); err != nil {
				t.Fatal(err)
			}
			if err := s.gitDelete(ctx, c); !errors.Is(err, backends.ErrNotFound) {
				t.Fatalf("second delete = %v, want ErrNotFound", err)
			}
		}
		if cs, err := s.gitSearch(ctx, backends.GitQuery{}); err != nil || len(cs) != 0 {
			t.Fatalf("search after deleting all = %+v, %v", cs, err)
		}
	})
}
