// Package keyutils caches a small secret in the Linux kernel's persistent keyring of
// the calling user, with an expiry, so that a later process of the same user can read
// it without asking again. A reboot, the expiry, or Drop forgets it.
//
// Contract:
//   - Put adds or replaces the "user" key with the given description in the user's
//     persistent keyring (_persistent.<uid>) and sets its timeout; ttl must be
//     positive, and the key lives at least ttl and less than ttl plus 2 s (the
//     kernel counts whole seconds). The persistent keyring itself
//     expires when unused for /proc/sys/kernel/keys/persistent_keyring_expiry
//     (3 days by default), which bounds any ttl.
//   - Get returns the payload; an absent, expired, revoked or invalidated key is an
//     error matching backends.ErrNotFound.
//   - Drop invalidates the key at once; an absent key matches backends.ErrNotFound.
//   - The persistent keyring is linked into the caller's session keyring on every
//     call (KEYCTL_GET_PERSISTENT), so the caller possesses it and its keys even in
//     a fresh session that does not link the user keyring (the "possession trap":
//     a key found through @u but not possessed cannot be read).
//   - Where keyctl is refused (Docker's default seccomp profile answers EPERM, an
//     old or filtered kernel ENOSYS), every function returns an error matching
//     ErrRefused; a kernel without persistent keyrings, and every OS but Linux,
//     gives ErrUnsupported. Both match backends.ErrUnavailable.
//   - Payloads are 1 to 32,767 bytes (the kernel's limit for "user" keys); a
//     non-root user has about 20,000 bytes of key quota in total, so keep them small.
//   - No error contains a payload.
package keyutils

import (
	"fmt"

	"github.com/mcpcred/mcpcred/backends"
)

var (
	// ErrRefused reports that the kernel refused keyctl or add_key for this process,
	// as Docker's default seccomp profile does.
	ErrRefused = fmt.Errorf("the kernel keyring is not allowed here (keyctl refused, as under Docker's default seccomp profile): %w", backends.ErrUnavailable)
	// ErrUnsupported reports that there is no persistent kernel keyring on this OS
	// or kernel.
	ErrUnsupported = fmt.Errorf("no persistent kernel keyring on this system: %w", backends.ErrUnavailable)
)

// MaxPayload is the largest payload of a "user" key.
const MaxPayload = 32767
