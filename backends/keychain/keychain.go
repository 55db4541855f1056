//go:build darwin && cgo

// Package keychain keeps secrets in the macOS Keychain as generic passwords,
// through github.com/keybase/go-keychain (cgo, the Security framework).
//
// An item is what keyring-rs (and so Codex) uses: kSecClassGenericPassword with
// kSecAttrService = service, kSecAttrAccount = account (the store key), and the
// secret's bytes as data. mcpcred sets the label to the service (the default
// keyring-rs leaves) and a comment naming mcpcred, and creates items not
// synchronizable (never in iCloud Keychain). An existing item is updated in
// place with SecItemUpdate, never deleted and re-added, so its access list,
// including an "Always Allow" the user granted, survives.
//
// Keychain calls can block on a dialog (a locked keychain, an access prompt).
// Every call runs in its own goroutine; when ctx expires first, the method
// returns an error matching backends.ErrUnavailable at once, while the OS call
// goes on in the background and may still complete later (a Set that timed out
// may yet be stored). Such a goroutine ends when the OS call returns.
package keychain

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	kc "github.com/keybase/go-keychain"
	"github.com/mcpcred/mcpcred/backends"
)

// Typed forms of go-keychain's enum values: only the first constant of each of
// its enum blocks is typed, so a mixed-up constant would compile silently.
const (
	matchOne kc.MatchLimit     = kc.MatchLimitOne
	matchAll kc.MatchLimit     = kc.MatchLimitAll
	syncNo   kc.Synchronizable = kc.SynchronizableNo
)

// errMissingEntitlement is errSecMissingEntitlement, which go-keychain does not
// name.
const errMissingEntitlement = kc.Error(-34018)

// comment marks items mcpcred created.
const comment = "mcpcred"

// Keyring is the macOS Keychain. It holds no connection; it is safe for
// concurrent use.
type Keyring struct {
	opts   backends.Options
	closed atomic.Bool
}

var _ backends.Keyring = (*Keyring)(nil)

// New returns the Keychain keyring. Nothing is contacted before the first call.
func New(opts backends.Options) *Keyring { return &Keyring{opts: opts} }

// Name implements backends.Keyring.
func (k *Keyring) Name() string { return "keychain" }

// Close implements backends.Keyring. There is nothing to release; calls still
// running in the background (see the package comment) are not stopped.
func (k *Keyring) Close() error {
	k.closed.Store(true)
	return nil
}

type result[T any] struct {
	v   T
	err error
}

// run calls f in a goroutine and waits for it or for ctx (bounded by
// Options.Timeout), whichever comes first.
func run[T any](k *Keyring, ctx context.Context, op string, f func() (T, error)) (T, error) {
	var zero T
	if k.closed.Load() {
		return zero, fmt.Errorf("%w: the keychain keyring is closed", backends.ErrUnavailable)
	}
	if k.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, k.opts.Timeout)
		defer cancel()
	}
	if err := ctx.Err(); err != nil {
		return zero, fmt.Errorf("%w: macOS Keychain: %s: %w", backends.ErrUnavailable, op, err)
	}
	done := make(chan result[T], 1) // buffered: a late answer never blocks
	go func() {
		v, err := f()
		done <- result[T]{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, fmt.Errorf("%w: macOS Keychain did not answer %s in time (a keychain dialog may be waiting; the call may still complete later): %w",
			backends.ErrUnavailable, op, ctx.Err())
	}
}

func check(service, account string) error {
	// go-keychain drops an empty attribute from a query, which would then match
	// every account or service: refuse empty names.
	switch {
	case service == "":
		return errors.New("keychain: the service name is empty")
	case account == "":
		return errors.New("keychain: the account name is empty")
	}
	return nil
}

// query matches the generic password of (service, account); an empty account
// matches every account of service.
func query(service, account string) kc.Item {
	q := kc.NewItem()
	q.SetSecClass(kc.SecClassGenericPassword)
	q.SetService(service)
	if account != "" {
		q.SetAccount(account)
	}
	return q
}

// mapErr turns a Security framework status into the errors of package backends.
// No secret is ever part of err.
func mapErr(op string, err error) error {
	var ke kc.Error
	if errors.As(err, &ke) {
		switch ke {
		case kc.ErrorItemNotFound:
			return fmt.Errorf("keychain: %s: %w", op, backends.ErrNotFound)
		case kc.ErrorInteractionNotAllowed:
			return fmt.Errorf("%w: macOS Keychain: %s: the keychain is locked and cannot ask for the password here (no GUI session?): %w", backends.ErrLocked, op, err)
		case kc.ErrorAuthFailed:
			return fmt.Errorf("%w: macOS Keychain: %s: access refused, or the keychain is locked: %w", backends.ErrLocked, op, err)
		case kc.ErrorUserCanceled:
			return fmt.Errorf("%w: macOS Keychain: %s: the keychain dialog was cancelled: %w", backends.ErrUnavailable, op, err)
		case kc.ErrorNotAvailable, kc.ErrorNoSuchKeychain, kc.ErrorInvalidKeychain, kc.ErrorReadOnly, errMissingEntitlement:
			return fmt.Errorf("%w: macOS Keychain: %s: %w", backends.ErrUnavailable, op, err)
		}
	}
	return fmt.Errorf("keychain: %s: %w", op, err)
}

// Get implements backends.Keyring.
func (k *Keyring) Get(ctx context.Context, service, account string) ([]byte, error) {
	if err := check(service, account); err != nil {
		return nil, err
	}
	return run(k, ctx, "read", func() ([]byte, error) {
		q := query(service, account)
		q.SetMatchLimit(matchOne)
		q.SetReturnData(true)
		res, err := kc.QueryItem(q)
		if err != nil {
			return nil, mapErr("read", err)
		}
		if len(res) == 0 { // go-keychain turns errSecItemNotFound into no result
			return nil, fmt.Errorf("keychain: no item for service %q, account %q: %w", service, account, backends.ErrNotFound)
		}
		if res[0].Data == nil {
			return []byte{}, nil
		}
		return res[0].Data, nil
	})
}

// Set implements backends.Keyring: SecItemUpdate of the existing item's data,
// or SecItemAdd of a new one.
func (k *Keyring) Set(ctx context.Context, service, account string, secret []byte) error {
	if err := check(service, account); err != nil {
		return err
	}
	data := append([]byte{}, secret...) // non-nil: go-keychain drops nil data
	_, err := run(k, ctx, "write", func() (struct{}, error) {
		upd := kc.NewItem()
		upd.SetData(data)
		err := kc.UpdateItem(query(service, account), upd)
		if !errors.Is(err, kc.ErrorItemNotFound) {
			return struct{}{}, err
		}
		item := query(service, account)
		item.SetLabel(service)
		item.SetComment(comment)
		item.SetData(data)
		item.SetSynchronizable(syncNo)
		err = kc.AddItem(item)
		if errors.Is(err, kc.ErrorDuplicateItem) {
			// Another writer added it since our update: update theirs.
			err = kc.UpdateItem(query(service, account), upd)
		}
		return struct{}{}, err
	})
	if err != nil && !errors.Is(err, backends.ErrUnavailable) {
		return mapErr("write", err)
	}
	return err
}

// Delete implements backends.Keyring.
func (k *Keyring) Delete(ctx context.Context, service, account string) error {
	if err := check(service, account); err != nil {
		return err
	}
	_, err := run(k, ctx, "delete", func() (struct{}, error) {
		if err := kc.DeleteItem(query(service, account)); err != nil {
			return struct{}{}, mapErr("delete", err)
		}
		return struct{}{}, nil
	})
	return err
}

// List implements backends.Keyring: the accounts of service's generic passwords.
// Reading attributes does not prompt.
func (k *Keyring) List(ctx context.Context, service string) ([]string, error) {
	if service == "" {
		return nil, errors.New("keychain: the service name is empty")
	}
	return run(k, ctx, "list", func() ([]string, error) {
		q := query(service, "")
		q.SetMatchLimit(matchAll)
		q.SetReturnAttributes(true)
		res, err := kc.QueryItem(q)
		if err != nil {
			return nil, mapErr("list", err)
		}
		seen := map[string]bool{}
		var accounts []string
		for _, r := range res {
			if r.Account != "" && !seen[r.Account] {
				seen[r.Account] = true
				accounts = append(accounts, r.Account)
			}
		}
		return accounts, nil
	})
}

// Doctor implements backends.Keyring. Its probe reads attributes of an item
// that does not exist, which never prompts.
func (k *Keyring) Doctor(ctx context.Context) []string {
	lines := []string{
		"keyring: macOS Keychain (generic passwords in the default keychain search list, not synchronized)",
		"items: service and account as keyring-rs uses them; updated in place, so \"Always Allow\" survives",
	}
	_, err := run(k, ctx, "probe", func() (struct{}, error) {
		q := query("mcpcred-doctor-probe", "probe")
		q.SetMatchLimit(matchOne)
		q.SetReturnAttributes(true)
		_, err := kc.QueryItem(q)
		if err != nil {
			return struct{}{}, mapErr("probe", err)
		}
		return struct{}{}, nil
	})
	if err != nil {
		return append(lines, "state: "+err.Error())
	}
	return append(lines, "state: usable")
}
