// Package memory is an in-memory Keyring for tests, with per-account error
// injection: the Go counterpart of Codex's MockKeyringStore. It is never built into
// the mcpcred binary; tests use it next to the real keyrings, to make a keyring fail
// on demand.
package memory

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/mcpcred/mcpcred/backends"
)

// Keyring is a map guarded by a mutex. The zero value is not usable; call New.
type Keyring struct {
	mu     sync.Mutex
	items  map[[2]string][]byte
	errs   map[string]error // by account
	writes int
}

// New returns an empty Keyring.
func New() *Keyring {
	return &Keyring{items: map[[2]string][]byte{}, errs: map[string]error{}}
}

// SetError makes every call on account fail with err, until cleared with nil.
func (k *Keyring) SetError(account string, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err == nil {
		delete(k.errs, account)
		return
	}
	k.errs[account] = err
}

// Writes counts successful Set and Delete calls, so tests can assert "no write".
func (k *Keyring) Writes() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.writes
}

// Contains reports whether an item exists, bypassing injected errors.
func (k *Keyring) Contains(service, account string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.items[[2]string{service, account}]
	return ok
}

// Name implements backends.Keyring.
func (k *Keyring) Name() string { return "memory" }

// Get implements backends.Keyring.
func (k *Keyring) Get(_ context.Context, service, account string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.errs[account]; err != nil {
		return nil, err
	}
	v, ok := k.items[[2]string{service, account}]
	if !ok {
		return nil, backends.ErrNotFound
	}
	return append([]byte(nil), v...), nil
}

// Set implements backends.Keyring.
func (k *Keyring) Set(_ context.Context, service, account string, secret []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.errs[account]; err != nil {
		return err
	}
	k.items[[2]string{service, account}] = append([]byte(nil), secret...)
	k.writes++
	return nil
}

// Delete implements backends.Keyring.
func (k *Keyring) Delete(_ context.Context, service, account string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.errs[account]; err != nil {
		return err
	}
	key := [2]string{service, account}
	if _, ok := k.items[key]; !ok {
		return backends.ErrNotFound
	}
	delete(k.items, key)
	k.writes++
	return nil
}

// List implements backends.Keyring.
func (k *Keyring) List(_ context.Context, service string) ([]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for key := range k.items {
		if key[0] == service {
			out = append(out, key[1])
		}
	}
	sort.Strings(out)
	return out, nil
}

// Doctor implements backends.Keyring.
func (k *Keyring) Doctor(context.Context) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return []string{fmt.Sprintf("memory keyring with %d items", len(k.items))}
}

// Close implements backends.Keyring.
func (k *Keyring) Close() error { return nil }
