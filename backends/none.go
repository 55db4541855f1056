package backends

import (
	"context"
	"fmt"
)

// None is the keyring of a machine or build that has none: every call fails
// with ErrNoKeyring and the reason, so callers treat "no keyring" like any
// unusable keyring instead of checking for nil.
type None struct {
	// Reason says why there is no keyring, for messages and doctor.
	Reason string
}

var (
	_ Keyring    = None{}
	_ GitKeyring = None{}
)

func (n None) err() error { return fmt.Errorf("%w: %s", ErrNoKeyring, n.Reason) }

// Name implements Keyring: "none (reason)".
func (n None) Name() string { return "none (" + n.Reason + ")" }

// Get implements Keyring.
func (n None) Get(context.Context, string, string) ([]byte, error) { return nil, n.err() }

// Set implements Keyring.
func (n None) Set(context.Context, string, string, []byte) error { return n.err() }

// Delete implements Keyring.
func (n None) Delete(context.Context, string, string) error { return n.err() }

// List implements Keyring.
func (n None) List(context.Context, string) ([]string, error) { return nil, n.err() }

// Doctor implements Keyring: nothing beyond the name.
func (n None) Doctor(context.Context) []string { return nil }

// Close implements Keyring.
func (n None) Close() error { return nil }

// GitSearch implements GitKeyring.
func (n None) GitSearch(context.Context, GitQuery) ([]GitCredential, error) { return nil, n.err() }

// GitStore implements GitKeyring.
func (n None) GitStore(context.Context, GitCredential) error { return n.err() }

// GitDelete implements GitKeyring.
func (n None) GitDelete(context.Context, GitCredential) error { return n.err() }
