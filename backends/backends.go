// Package backends defines what every OS keyring behind mcpcred provides, and the
// errors a caller can act on.
//
// A Keyring keeps opaque secrets under a (service, account) pair, the model of
// keyring-rs, which Codex uses: the Secret Service item attributes service/username,
// the macOS generic password's service/account, the Windows generic credential's
// "<account>.<service>" target. Implementations live in sub-packages, one per OS
// keyring, each behind build tags; package native lists those of this OS, in order
// of preference, and None stands for "no keyring here".
//
// Contract, checked by the conformance suite in backends/keyringtest:
//   - Get of an absent item returns an error matching ErrNotFound.
//   - Set replaces the secret of an existing item in place; it never leaves two
//     items for one (service, account).
//   - Delete of an absent item returns an error matching ErrNotFound.
//   - List returns the accounts stored under service, in no particular order.
//   - A keyring that cannot be used here (no bus, no daemon, locked, no answer within
//     the deadline) returns an error matching ErrUnavailable, fast.
//   - No method logs or prints; no secret appears in an error message.
package backends

import (
	"context"
	"errors"
	"fmt"
	"time"
)

var (
	// ErrNotFound reports that no item exists for the (service, account) asked for.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable reports that the keyring cannot be used on this machine now.
	// In auto mode it makes mcpcred fall back to the file store.
	ErrUnavailable = errors.New("keyring unavailable")
	// ErrLocked reports that the keyring is locked and could not be unlocked within
	// the deadline. It matches ErrUnavailable too.
	ErrLocked = fmt.Errorf("keyring locked: %w", ErrUnavailable)
	// ErrNoKeyring reports that there is no keyring at all here (none built for
	// this OS, no daemon to talk to): the error of None. It matches ErrUnavailable
	// too; unlike a keyring that failed, it holds nothing a caller could miss.
	ErrNoKeyring = fmt.Errorf("%w", ErrUnavailable)
	// ErrAmbiguous reports that more than one item matches one (service, account).
	ErrAmbiguous = errors.New("more than one keyring item matches")
)

// TooLongError reports that a value exceeds a limit of the keyring, naming it.
type TooLongError struct {
	What  string // "secret", "target name", ...
	Len   int
	Limit int
}

func (e *TooLongError) Error() string {
	return fmt.Sprintf("%s is %d bytes, over the keyring's limit of %d", e.What, e.Len, e.Limit)
}

// Keyring is an OS secret store. Every method honours ctx's deadline.
type Keyring interface {
	// Name is a short word for messages and `doctor`: "secret-service", "wincred",
	// "keychain".
	Name() string
	Get(ctx context.Context, service, account string) ([]byte, error)
	Set(ctx context.Context, service, account string, secret []byte) error
	Delete(ctx context.Context, service, account string) error
	List(ctx context.Context, service string) ([]string, error)
	// Doctor describes the keyring's state for `mcpcred doctor`, one fact per line
	// ("bus: unix:path=/run/user/1000/bus", "session: dh-ietf1024-sha256-aes128-cbc-pkcs7").
	// It never returns an error: what failed is itself a line.
	Doctor(ctx context.Context) []string
	// Close releases connections. The Keyring is unusable afterwards.
	Close() error
}

// Options are the settings every keyring backend takes.
type Options struct {
	// Timeout bounds every call, prompt and connection attempt.
	Timeout time.Duration
	// CodexLayout asks for items exactly as Codex (keyring-rs) writes them, where the
	// backend's own layout would differ (Windows: UTF-16LE in one credential).
	CodexLayout bool
}
