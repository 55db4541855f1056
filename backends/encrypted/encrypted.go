// Package encrypted is mcpcred's own encrypted credential store, for machines where
// no OS keyring is usable (SSH sessions, containers, WSL, CI). It is a
// backends.Keyring whose secrets never sit on disk in clear.
//
// The model (docs/encrypted-store.md explains it for users):
//
//   - Each record is age-encrypted on its own to an X25519 recipient whose public
//     key is kept in the records file next to the records, so storing or refreshing
//     a token never needs the user.
//   - The matching identity (the private key) is kept in identity.age, encrypted
//     with a passphrase the user chooses (age scrypt). Init creates both.
//   - Unlock(passphrase, ttl) decrypts the identity once and caches it in the Linux
//     kernel's persistent keyring of the user (package keyutils) for ttl; Get reads
//     it from there, so no scrypt runs on the read path. Lock drops it. A reboot,
//     the expiry or Lock forgets the unlock, never the records.
//   - Get while locked returns an error matching ErrLocked, which names
//     `mcpcred unlock`; where the kernel keyring is refused (Docker's default
//     seccomp profile) Unlock and Get return ErrRefused, and where there is none
//     (other OSes) ErrNoKernelKeyring. None of these matches
//     backends.ErrUnavailable: a caller must not fall back to a plain file silently.
//     Set, Delete and List work while locked.
//
// On disk, in Dir (created 0700):
//
//   - records.json: one JSON object, written by package file (the same lock,
//     crash-safe writes, 0600 and stale temp removal as the plain file store):
//     "recipient" is the public key (age1…), "version" is 1, and each record is
//     "<service>\n<account>": the standard base64 of the secret's age file. Service
//     and account names are in clear, secrets are not. A flat object lets Get look
//     one key up without decoding the others (file.Store.Lookup), as the plain
//     store's get does. Services must not contain a
//     newline.
//   - identity.age: the identity's text (AGE-SECRET-KEY-1…), age-encrypted to the
//     passphrase, written once by package agefile.
//   - store.lock: the lock of both.
//
// No function logs or prints; no error contains a secret, the identity or the
// passphrase.
package encrypted

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"filippo.io/age"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/agefile"
	"github.com/mcpcred/mcpcred/backends/file"
	"github.com/mcpcred/mcpcred/backends/keyutils"
)

var (
	// ErrLocked reports that the store is locked: the identity is not in the
	// kernel keyring (never unlocked, expired, locked, or the machine rebooted).
	ErrLocked = errors.New("the encrypted store is locked; run `mcpcred unlock`")
	// ErrNoPassphrase reports that no passphrase was set yet: there is no identity.
	ErrNoPassphrase = errors.New("the encrypted store has no passphrase yet; run `mcpcred unlock` to set one")
	// ErrWrongPassphrase reports that the passphrase does not open identity.age.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrRefused reports that the kernel keyring is refused here, so the store
	// cannot be unlocked.
	ErrRefused = errors.New("the kernel keyring is not allowed here (keyctl refused, as under Docker's default seccomp profile), so the encrypted store cannot be unlocked; choose the plain file with --store file, or allow keyctl")
	// ErrNoKernelKeyring reports that this system has no persistent kernel keyring
	// (an OS other than Linux, or a kernel built without it), so the store cannot
	// be unlocked.
	ErrNoKernelKeyring = errors.New("the encrypted store is unlocked through the Linux kernel's persistent keyring, which this system does not have; use the OS keyring, or the plain file with --store file")
)

// DefaultWorkFactor is the scrypt work factor (log2 N) of identity.age: about a
// second on a laptop, paid only by Init and Unlock.
const DefaultWorkFactor = 18

// Config is what a Store needs.
type Config struct {
	Dir string
	// Timeout bounds the wait for the lock.
	Timeout time.Duration
	// WorkFactor is the scrypt work factor Init uses; 0 means DefaultWorkFactor.
	WorkFactor int
}

// Store is the encrypted store in one directory. It is safe for concurrent use.
type Store struct {
	cfg      Config
	records  *file.Store
	identity *agefile.File
	desc     string // of the cached identity in the kernel keyring
}

// The kernel keyring calls, as variables so that tests can make the kernel refuse
// them next to the real calls.
var (
	cachePut  = keyutils.Put
	cacheGet  = keyutils.Get
	cacheDrop = keyutils.Drop
)

// New returns the Store in cfg.Dir. Nothing is touched on disk.
func New(cfg Config) *Store {
	if cfg.WorkFactor == 0 {
		cfg.WorkFactor = DefaultWorkFactor
	}
	lock := filepath.Join(cfg.Dir, "store.lock")
	abs, err := filepath.Abs(cfg.Dir)
	if err != nil {
		abs = cfg.Dir
	}
	sum := sha256.Sum256([]byte(abs))
	return &Store{
		cfg:      cfg,
		records:  file.New(filepath.Join(cfg.Dir, "records.json"), lock, cfg.Timeout),
		identity: agefile.New(filepath.Join(cfg.Dir, "identity.age"), lock, cfg.Timeout),
		desc:     "mcpcred:identity:" + hex.EncodeToString(sum[:8]),
	}
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.cfg.Dir }

// Initialized reports whether a passphrase was set (identity.age exists).
func (s *Store) Initialized() bool { return s.identity.Exists() }

// Init creates the identity, encrypted with passphrase, and records its recipient.
// It fails with an error matching fs.ErrExist if there is one already.
func (s *Store) Init(passphrase []byte) error {
	if len(passphrase) == 0 {
		return errors.New("the passphrase is empty")
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	r, err := age.NewScryptRecipient(string(passphrase))
	if err != nil {
		return err
	}
	r.SetWorkFactor(s.cfg.WorkFactor)
	// The identity first: a crash before the recipient is recorded leaves a store
	// that Unlock repairs, never records encrypted to a key that is not kept.
	if err := s.identity.Create(r, []byte(id.String())); err != nil {
		return fmt.Errorf("creating the identity: %w", err)
	}
	return s.setRecipient(id.Recipient())
}

// Unlock decrypts the identity with passphrase and caches it in the kernel
// keyring for ttl.
func (s *Store) Unlock(passphrase []byte, ttl time.Duration) error {
	if !s.Initialized() {
		return ErrNoPassphrase
	}
	sid, err := age.NewScryptIdentity(string(passphrase))
	if err != nil {
		return ErrWrongPassphrase // an empty passphrase
	}
	text, err := s.identity.Read(sid)
	if errors.Is(err, agefile.ErrWrongKey) {
		return ErrWrongPassphrase
	}
	if err != nil {
		return err
	}
	id, err := age.ParseX25519Identity(strings.TrimSpace(string(text)))
	if err != nil {
		return fmt.Errorf("%s does not hold an age identity", s.identity.Path())
	}
	if err := s.setRecipient(id.Recipient()); err != nil {
		return err
	}
	if err := cachePut(s.desc, text, ttl); err != nil {
		return cacheError(err)
	}
	return nil
}

// Lock forgets the cached identity. Locking a locked store is not an error.
func (s *Store) Lock() error {
	err := cacheDrop(s.desc)
	if errors.Is(err, backends.ErrNotFound) {
		return nil
	}
	return cacheError(err)
}

// Unlocked reports whether the identity is cached now: nil, or an error matching
// ErrLocked, ErrNoPassphrase, ErrRefused or ErrNoKernelKeyring.
func (s *Store) Unlocked() error {
	_, err := s.cachedIdentity()
	return err
}

// setRecipient records r, or checks that the recorded one is r.
func (s *Store) setRecipient(r *age.X25519Recipient) error {
	return s.records.Update(func(m map[string]json.RawMessage) (bool, error) {
		have, err := recipientOf(m)
		switch {
		case err != nil:
			return false, err
		case have == nil:
			raw, _ := json.Marshal(r.String())
			m["recipient"] = raw
			m["version"] = json.RawMessage(`1`)
			return true, nil
		case have.String() != r.String():
			return false, fmt.Errorf("%s names another recipient than the key in %s; records written to it cannot be read with this passphrase", s.records.Path(), s.identity.Path())
		}
		return false, nil
	})
}

func recipientOf(m map[string]json.RawMessage) (*age.X25519Recipient, error) {
	raw, ok := m["recipient"]
	if !ok {
		return nil, nil
	}
	var str string
	if err := json.Unmarshal(raw, &str); err != nil {
		return nil, errors.New("the recipient in the records file is not a string")
	}
	r, err := age.ParseX25519Recipient(str)
	if err != nil {
		return nil, fmt.Errorf("the recipient in the records file: %w", err)
	}
	return r, nil
}

// recordKey is the records file's key of (service, account). The keys "recipient"
// and "version" hold no newline, so they never collide with one.
func recordKey(service, account string) string { return service + "\n" + account }

func checkNames(service, account string) error {
	switch {
	case strings.Contains(service, "\n"):
		return fmt.Errorf("service %q contains a newline", service)
	case !utf8.ValidString(service) || !utf8.ValidString(account):
		return errors.New("service and account must be valid UTF-8")
	}
	return nil
}

// Name implements backends.Keyring.
func (s *Store) Name() string { return "encrypted" }

// Close implements backends.Keyring.
func (s *Store) Close() error { return nil }

// Get decrypts the record of (service, account) with the cached identity.
func (s *Store) Get(ctx context.Context, service, account string) ([]byte, error) {
	// One key looked up, the other records skipped undecoded: a get from a
	// thousand records costs little more than from one (as the plain store's).
	raw, ok, err := s.records.Lookup(recordKey(service, account))
	if err != nil {
		return nil, err
	}
	if !ok || strings.Contains(service, "\n") {
		return nil, fmt.Errorf("%s / %s: %w", service, account, backends.ErrNotFound)
	}
	id, err := s.cachedIdentity()
	if err != nil {
		return nil, err
	}
	var b64 string
	blob, err := []byte(nil), json.Unmarshal(raw, &b64)
	if err == nil {
		blob, err = base64.StdEncoding.DecodeString(b64)
	}
	if err != nil {
		return nil, fmt.Errorf("the record of %s / %s in %s is damaged", service, account, s.records.Path())
	}
	plain, err := agefile.Decrypt(blob, id)
	if err != nil {
		return nil, fmt.Errorf("the record of %s / %s in %s: %w", service, account, s.records.Path(), err)
	}
	return plain, nil
}

func (s *Store) cachedIdentity() (age.Identity, error) {
	text, err := cacheGet(s.desc)
	if errors.Is(err, backends.ErrNotFound) {
		if !s.Initialized() {
			return nil, ErrNoPassphrase
		}
		return nil, ErrLocked
	}
	if err != nil {
		return nil, cacheError(err)
	}
	id, err := age.ParseX25519Identity(strings.TrimSpace(string(text)))
	if err != nil {
		return nil, fmt.Errorf("the kernel keyring key %s does not hold an age identity; run `mcpcred lock` and `mcpcred unlock`", s.desc)
	}
	return id, nil
}

// cacheError turns keyutils' refusals into the store's, with the kernel's
// errno as the only detail: the sentence says the rest.
func cacheError(err error) error {
	var sentinel error
	switch {
	case errors.Is(err, keyutils.ErrRefused):
		sentinel = ErrRefused
	case errors.Is(err, keyutils.ErrUnsupported):
		sentinel = ErrNoKernelKeyring
	default:
		return err
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return fmt.Errorf("%w (keyctl: %v)", sentinel, errno)
	}
	return sentinel
}

// Set encrypts secret to the recorded recipient and stores it; it never needs
// the passphrase or the unlock.
func (s *Store) Set(ctx context.Context, service, account string, secret []byte) error {
	if err := checkNames(service, account); err != nil {
		return err
	}
	return s.records.Update(func(m map[string]json.RawMessage) (bool, error) {
		r, err := recipientOf(m)
		if err != nil {
			return false, err
		}
		if r == nil {
			if s.Initialized() {
				return false, fmt.Errorf("%s has no recipient; run `mcpcred unlock` to restore it", s.records.Path())
			}
			return false, ErrNoPassphrase
		}
		blob, err := agefile.Encrypt(r, secret)
		if err != nil {
			return false, err
		}
		m[recordKey(service, account)] = json.RawMessage(`"` + base64.StdEncoding.EncodeToString(blob) + `"`)
		return true, nil
	})
}

// Delete removes the record of (service, account).
func (s *Store) Delete(ctx context.Context, service, account string) error {
	if !s.records.Exists() {
		return fmt.Errorf("%s / %s: %w", service, account, backends.ErrNotFound)
	}
	k := recordKey(service, account)
	return s.records.Update(func(m map[string]json.RawMessage) (bool, error) {
		if _, ok := m[k]; !ok || strings.Contains(service, "\n") {
			return false, fmt.Errorf("%s / %s: %w", service, account, backends.ErrNotFound)
		}
		delete(m, k)
		return true, nil
	})
}

// List returns the accounts stored under service; it works while locked.
func (s *Store) List(ctx context.Context, service string) ([]string, error) {
	m, err := s.records.Read()
	if err != nil {
		return nil, err
	}
	var out []string
	for k := range m {
		if a, ok := strings.CutPrefix(k, service+"\n"); ok && !strings.Contains(service, "\n") {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Doctor describes the store: where it is, whether it has a passphrase, how many
// records, and whether it is unlocked.
func (s *Store) Doctor(ctx context.Context) []string {
	lines := []string{"encrypted store: " + s.cfg.Dir}
	if !s.Initialized() {
		return append(lines, "encrypted store: no passphrase set (`mcpcred unlock` sets one)")
	}
	m, err := s.records.Read()
	if err != nil {
		lines = append(lines, "encrypted store: "+err.Error())
	} else {
		n := 0
		for k := range m {
			if strings.Contains(k, "\n") {
				n++
			}
		}
		lines = append(lines, fmt.Sprintf("encrypted store: %d records", n))
	}
	if st := s.records.Status(); len(st.Problems) > 0 {
		lines = append(lines, st.Problems...)
	}
	switch err := s.Unlocked(); {
	case err == nil:
		lines = append(lines, "encrypted store: unlocked (identity cached in the kernel keyring as "+s.desc+")")
	default:
		lines = append(lines, "encrypted store: "+err.Error())
	}
	return lines
}
