package helper

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/file"
)

// The docker credential file: <home>/docker-credentials.json, beside
// git-credentials.json, a JSON object kept by backends/file (locked, atomic,
// 0600). Each key is a server URL exactly as docker gave it; each value is
//
//	{"Username":"alice","Secret":"..."}
//
// (docker's own field names; an identity token has Username "<token>"). Entries
// that do not parse are skipped and kept.
const (
	dockerFileName = "docker-credentials.json"
	dockerLockName = "docker-credentials.lock"
)

// dockerFile is the docker credential file store, with its own lock file beside
// the token file's lock.
func (h *Helper) dockerFile() *file.Store { return h.besideTokens(dockerFileName, dockerLockName) }

type dockerFileEntry struct {
	Username *string
	Secret   *string
}

func dockerEntryJSON(c *backends.DockerCredential) (json.RawMessage, error) {
	return compactJSON(dockerFileEntry{&c.Username, &c.Secret})
}

func parseDockerEntry(server string, raw json.RawMessage) (backends.DockerCredential, bool) {
	var e dockerFileEntry
	if json.Unmarshal(raw, &e) != nil || e.Username == nil || e.Secret == nil {
		return backends.DockerCredential{}, false
	}
	return backends.DockerCredential{ID: server, ServerURL: server, Username: *e.Username, Secret: *e.Secret}, true
}

// dockerSearch returns the entry of serverURL, or with "" every entry in key
// order.
func (s *fileStore) dockerSearch(_ context.Context, serverURL string) ([]backends.DockerCredential, error) {
	if serverURL != "" {
		raw, found, err := s.dockerFile.Lookup(serverURL)
		if err != nil || !found {
			return nil, err
		}
		if c, ok := parseDockerEntry(serverURL, raw); ok {
			return []backends.DockerCredential{c}, nil
		}
		return nil, nil
	}
	entries, err := s.dockerFile.Read()
	if err != nil {
		return nil, err
	}
	var out []backends.DockerCredential
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		if c, ok := parseDockerEntry(k, entries[k]); ok {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *fileStore) dockerPut(_ context.Context, c backends.DockerCredential) error {
	raw, err := dockerEntryJSON(&c)
	if err != nil {
		return err
	}
	return s.dockerFile.Update(func(entries map[string]json.RawMessage) (bool, error) {
		if old, ok := entries[c.ServerURL]; ok && bytes.Equal(old, raw) {
			return false, nil
		}
		entries[c.ServerURL] = raw
		return true, nil
	})
}

func (s *fileStore) dockerDelete(_ context.Context, c backends.DockerCredential) error {
	return deleteEntry(s.dockerFile, c.ID)
}
