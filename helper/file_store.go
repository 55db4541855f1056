package helper

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/mcpcred/mcpcred/backends/file"
)

// fileStore is the file fallback as a recordStore: tokens in .credentials.json
// (Codex's fallback file), git credentials in git-credentials.json beside it
// (git_file.go), docker credentials in docker-credentials.json (docker_file.go).
// All three are backends/file stores: locked, atomic, 0600.
type fileStore struct {
	tokenFile  *file.Store
	gitFile    *file.Store
	dockerFile *file.Store
	now        func() time.Time
}

func (s *fileStore) where() string { return InFile }

// loadToken finds the entry whose own server_name and server_url give key, as
// Codex does: the map key itself is not trusted. The entry under key is looked up
// first without decoding the others, which is all a file mcpcred or Codex wrote
// needs; only a miss decodes the whole file to search by identity.
func (s *fileStore) loadToken(_ context.Context, key string) (*Token, error) {
	raw, found, err := s.tokenFile.Lookup(key)
	if err != nil {
		return nil, err
	}
	if found {
		if t, err := ParseFileJSON(raw); err == nil && t.Key() == key {
			return t, nil
		}
	}
	entries, err := s.tokenFile.Read()
	if err != nil {
		return nil, err
	}
	t, _, err := findFileEntry(entries, key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.tokenFile.Path(), err)
	}
	return t, nil
}

// findFileEntry looks the direct map key up first, then every other entry.
func findFileEntry(entries map[string]json.RawMessage, key string) (*Token, string, error) {
	if raw, ok := entries[key]; ok {
		t, err := ParseFileJSON(raw)
		if err == nil && t.Key() == key {
			return t, key, nil
		}
	}
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		t, err := ParseFileJSON(entries[k])
		if err != nil {
			return nil, "", fmt.Errorf("entry %q is not a token record: %w", k, err)
		}
		if t.Key() == key {
			return t, k, nil
		}
	}
	return nil, "", nil
}

// putToken compares inside the write it does anyway (Put's keep): changed
// saves nothing here. Put splices the entry into the file without decoding
// the other records.
func (s *fileStore) putToken(_ context.Context, t *Token, _ bool) error {
	_, err := s.tokenFile.Put(t.Key(), t.FileJSON(), func(raw []byte) bool {
		old, err := ParseFileJSON(raw)
		return err == nil && old.Equal(t)
	})
	return err
}

// deleteToken removes key and any entry whose own identity gives key.
func (s *fileStore) deleteToken(_ context.Context, key string) (bool, error) {
	if !s.tokenFile.Exists() {
		// The common case once the keyring holds everything: no lock to take.
		return false, nil
	}
	removed := false
	err := s.tokenFile.Update(func(entries map[string]json.RawMessage) (bool, error) {
		for k, raw := range entries {
			if k == key {
				delete(entries, k)
				removed = true
				continue
			}
			if t, err := ParseFileJSON(raw); err == nil && t.Key() == key {
				delete(entries, k)
				removed = true
			}
		}
		return removed, nil
	})
	return removed, err
}

func (s *fileStore) tokenKeys(context.Context) ([]string, error) {
	entries, err := s.tokenFile.Read()
	if err != nil {
		return nil, err
	}
	return slices.Collect(maps.Keys(entries)), nil
}

// tokens fails on an entry that is not a token record: the file is mcpcred's
// and Codex's, and a bad entry is worth an error.
func (s *fileStore) tokens(context.Context) ([]*Token, error) {
	entries, err := s.tokenFile.Read()
	if err != nil {
		return nil, err
	}
	var out []*Token
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		t, err := ParseFileJSON(entries[k])
		if err != nil {
			return out, fmt.Errorf("%s: entry %q is not a token record: %w", s.tokenFile.Path(), k, err)
		}
		out = append(out, t)
	}
	return out, nil
}
