//go:build dragonfly && !cgo

package secretservice

import (
	"context"
	"fmt"

	"github.com/mcpcred/mcpcred/backends"
)

// On DragonFly BSD godbus reads peer credentials through cgo, so a build without cgo
// has no Secret Service client: every call is backends.ErrUnavailable.
var errNoCgo = fmt.Errorf("secret service: this DragonFly build has no cgo, which the D-Bus client needs there: %w", backends.ErrUnavailable)

// Keyring is a backends.Keyring that is never available in this build.
type Keyring struct{}

var _ backends.Keyring = (*Keyring)(nil)

// New returns a Keyring whose every call fails with backends.ErrUnavailable.
func New(Config) *Keyring { return &Keyring{} }

// Name implements backends.Keyring.
func (*Keyring) Name() string { return "secret-service" }

// Get implements backends.Keyring.
func (*Keyring) Get(context.Context, string, string) ([]byte, error) { return nil, errNoCgo }

// Set implements backends.Keyring.
func (*Keyring) Set(context.Context, string, string, []byte) error { return errNoCgo }

// Delete implements backends.Keyring.
func (*Keyring) Delete(context.Context, string, string) error { return errNoCgo }

// List implements backends.Keyring.
func (*Keyring) List(context.Context, string) ([]string, error) { return nil, errNoCgo }

// Doctor implements backends.Keyring.
func (*Keyring) Doctor(context.Context) []string { return []string{"error: " + errNoCgo.Error()} }

// Close implements backends.Keyring.
func (*Keyring) Close() error { return nil }

// SearchItems fails: see errNoCgo.
func (*Keyring) SearchItems(context.Context, map[string]string) ([]ItemPath, error) {
	return nil, errNoCgo
}

// ReadItem fails: see errNoCgo.
func (*Keyring) ReadItem(context.Context, ItemPath) (*Item, error) { return nil, errNoCgo }

// StoreItem fails: see errNoCgo.
func (*Keyring) StoreItem(context.Context, string, map[string]string, []byte) (ItemPath, error) {
	return "", errNoCgo
}

// DeleteItem fails: see errNoCgo.
func (*Keyring) DeleteItem(context.Context, ItemPath) error { return errNoCgo }
