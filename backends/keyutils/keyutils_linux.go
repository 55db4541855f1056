//go:build linux

package keyutils

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mcpcred/mcpcred/backends"
)

// The system calls, as variables so that tests can make the kernel refuse them
// (error injection next to the real calls; see keyutils_linux_test.go).
var (
	keyctlInt    = unix.KeyctlInt
	keyctlBuffer = unix.KeyctlBuffer
	keyctlSearch = unix.KeyctlSearch
	addKey       = unix.AddKey
)

// pin keeps the calling goroutine on its OS thread until unpin is called. Keyrings
// belong to a thread's credentials: KEYCTL_GET_PERSISTENT gives a thread that has
// no session keyring a new one and links the persistent keyring there, so the
// calls that follow must run on the same thread to possess it (on another thread,
// reads fail with EACCES).
func pin() (unpin func()) {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}

// Check reports whether the persistent keyring can be used here: nil, or an error
// matching ErrRefused or ErrUnsupported. For `doctor`.
func Check() error {
	defer pin()()
	_, err := persistent()
	return err
}

// Put stores payload under desc in the persistent keyring, expiring after ttl.
func Put(desc string, payload []byte, ttl time.Duration) error {
	defer pin()()
	if err := checkPayload(payload); err != nil {
		return err
	}
	if ttl <= 0 {
		return fmt.Errorf("keyutils: expiry %v is not positive", ttl)
	}
	ring, err := persistent()
	if err != nil {
		return err
	}
	id, err := addKey("user", desc, payload, ring)
	if err != nil {
		return classify("adding key "+desc, err)
	}
	// The kernel expires a key when the clock's whole seconds pass its expiry, so
	// a timeout of n seconds lasts between n-1 and n: one more second makes it at
	// least ttl.
	secs := int((ttl+time.Second-1)/time.Second) + 1
	if _, err := keyctlInt(unix.KEYCTL_SET_TIMEOUT, id, secs, 0, 0); err != nil {
		// A key that would not expire is worse than none.
		_, _ = keyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
		return classify("setting the expiry of key "+desc, err)
	}
	return nil
}

// Get returns the payload stored under desc.
func Get(desc string) ([]byte, error) {
	defer pin()()
	id, err := find(desc)
	if err != nil {
		return nil, err
	}
	for {
		n, err := keyctlBuffer(unix.KEYCTL_READ, id, nil, 0)
		if err != nil {
			return nil, classify("reading key "+desc, err)
		}
		buf := make([]byte, n)
		m, err := keyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
		if err != nil {
			return nil, classify("reading key "+desc, err)
		}
		if m <= n { // else the key was updated between the calls: read again
			return buf[:m], nil
		}
	}
}

// Drop invalidates the key stored under desc.
func Drop(desc string) error {
	defer pin()()
	id, err := find(desc)
	if err != nil {
		return err
	}
	if _, err := keyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0); err != nil {
		return classify("invalidating key "+desc, err)
	}
	return nil
}

func find(desc string) (int, error) {
	ring, err := persistent()
	if err != nil {
		return 0, err
	}
	id, err := keyctlSearch(ring, "user", desc, 0)
	if err != nil {
		return 0, classify("looking up key "+desc, err)
	}
	return id, nil
}

// persistent links the caller's persistent keyring into its session keyring (so
// that the caller possesses it) and returns its id.
func persistent() (int, error) {
	id, err := keyctlInt(unix.KEYCTL_GET_PERSISTENT, -1, unix.KEY_SPEC_SESSION_KEYRING, 0, 0)
	if err != nil {
		return 0, classify("getting the persistent keyring", err)
	}
	return id, nil
}

func classify(op string, err error) error {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.ENOSYS):
		return fmt.Errorf("%s: %w (%w)", op, ErrRefused, err)
	case errors.Is(err, unix.EOPNOTSUPP):
		return fmt.Errorf("%s: %w (%w)", op, ErrUnsupported, err)
	case errors.Is(err, unix.ENOKEY), errors.Is(err, unix.EKEYEXPIRED), errors.Is(err, unix.EKEYREVOKED):
		return fmt.Errorf("%s: %w (%v)", op, backends.ErrNotFound, err)
	case errors.Is(err, unix.EDQUOT):
		return fmt.Errorf("%s: the kernel keyring quota of this user is full (see /proc/sys/kernel/keys/maxbytes): %w", op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func checkPayload(payload []byte) error {
	if len(payload) == 0 {
		return errors.New("keyutils: empty payload (the kernel refuses it)")
	}
	if len(payload) > MaxPayload {
		return &backends.TooLongError{What: "kernel keyring payload", Len: len(payload), Limit: MaxPayload}
	}
	return nil
}
