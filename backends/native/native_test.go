package native

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/keyringtest"
)

// toyKeyring is a keyring a new package could bring: secrets by service, then
// account. It exists to show what adding a keyring takes: this type, and one
// line in the list of an OS file (here, in the test).
type toyKeyring struct {
	mu       sync.Mutex
	services map[string]map[string][]byte
}

func openToy(backends.Options) (backends.Keyring, error) {
	return &toyKeyring{services: map[string]map[string][]byte{}}, nil
}

func (k *toyKeyring) Name() string { return "toy" }

func (k *toyKeyring) Get(_ context.Context, service, account string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if v, ok := k.services[service][account]; ok {
		return slices.Clone(v), nil
	}
	return nil, backends.ErrNotFound
}

func (k *toyKeyring) Set(_ context.Context, service, account string, secret []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.services[service] == nil {
		k.services[service] = map[string][]byte{}
	}
	k.services[service][account] = slices.Clone(secret)
	return nil
}

func (k *toyKeyring) Delete(_ context.Context, service, account string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.services[service][account]; !ok {
		return backends.ErrNotFound
	}
	delete(k.services[service], account)
	return nil
}

func (k *toyKeyring) List(_ context.Context, service string) ([]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Sorted(maps.Keys(k.services[service])), nil
}

func (k *toyKeyring) Doctor(context.Context) []string { return []string{"a map in memory"} }
func (k *toyKeyring) Close() error                    { return nil }

// TestNewKeyringIsOneLine registers the toy keyring first with one line and
// checks that New returns it, and that it passes the keyring conformance suite.
func TestNewKeyringIsOneLine(t *testing.T) {
	saved := keyrings
	t.Cleanup(func() { keyrings = saved })

	keyrings = append([]Opener{openToy}, keyrings...) // the one line

	kr := New(backends.Options{})
	if kr.Name() != "toy" {
		t.Fatalf("New returned %q, want the toy keyring first in order of preference", kr.Name())
	}
	keyringtest.Run(t, kr, "mcpcred-native-toy")
}

// TestNoKeyringIsNone: with no keyring that can exist here, New returns
// backends.None, whose calls fail with ErrNoKeyring and the reasons.
func TestNoKeyringIsNone(t *testing.T) {
	saved := keyrings
	t.Cleanup(func() { keyrings = saved })

	keyrings = nil
	_, err := New(backends.Options{}).Get(context.Background(), "s", "a")
	if err == nil || err.Error() != "keyring unavailable: mcpcred has no keyring backend for this operating system" {
		t.Fatalf("Get on no keyring: %v", err)
	}
	if !errors.Is(err, backends.ErrNoKeyring) || !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("%v does not match ErrNoKeyring and ErrUnavailable", err)
	}
}
