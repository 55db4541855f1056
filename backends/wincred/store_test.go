package wincred

import (
	"strings"
	"sync"
)

// memStore stands in for Credential Manager in tests that run on any OS. Like
// Windows, it ignores case in target names.
type memStore struct {
	mu    sync.Mutex
	creds map[string]cred
}

func newMemStore() *memStore { return &memStore{creds: map[string]cred{}} }

func (m *memStore) read(target string) (*cred, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.creds[strings.ToLower(target)]
	if !ok {
		return nil, errNoCred
	}
	c.Blob = append([]byte{}, c.Blob...)
	return &c, nil
}

func (m *memStore) write(c *cred) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cc := *c
	cc.Blob = append([]byte{}, c.Blob...)
	m.creds[strings.ToLower(c.Target)] = cc
	return nil
}

func (m *memStore) remove(target string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.creds[strings.ToLower(target)]; !ok {
		return errNoCred
	}
	delete(m.creds, strings.ToLower(target))
	return nil
}

func (m *memStore) enum(prefix string) ([]*cred, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*cred
	for k, c := range m.creds {
		if strings.HasPrefix(k, strings.ToLower(prefix)) {
			c.Blob = append([]byte{}, c.Blob...)
			out = append(out, &c)
		}
	}
	return out, nil
}
