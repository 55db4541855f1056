// Package codexsecrets reads and writes Codex's encrypted MCP token store,
// CODEX_HOME/secrets/mcp_oauth.age, exactly as Codex (0.171) does, as a
// backends.Keyring holding Codex's MCP token records (service Service, account the
// store key). Codex uses this store instead of direct keyring entries on Windows, and
// elsewhere with `[features] secret_auth_storage = true`; InUse says which applies.
//
// The format (docs/codex-secrets.md describes it for users):
//
//   - The file is age v1 encrypted to a scrypt passphrase. The passphrase is the
//     standard base64 of 32 random bytes, kept in the OS keyring under service
//     "codex", account PassphraseAccount(CODEX_HOME). If there is neither file nor
//     passphrase, the first Set creates the passphrase, as Codex does.
//   - The plaintext is serde_json's compact rendering of
//     {"version":1,"secrets":{<name>:<value>,...}} with the names in byte order
//     (a Rust BTreeMap). A token's name is SecretName(store key); its value is the
//     StoredOAuthTokens JSON that a direct keyring entry would hold, as a string.
//     Other names in the file (Codex may add some) are kept as they are.
//   - Every read-modify-write holds CODEX_HOME/mcp-oauth-locks/secrets-store.lock,
//     Codex's lock for this file, and writes crash-safely (package agefile).
//   - Delete removes the record and also a legacy direct entry (service Service in
//     the OS keyring), as Codex does; it keeps the passphrase.
//   - Secrets are non-empty valid UTF-8 (they are JSON strings; Codex refuses empty
//     ones). A file of a newer version than 1 is refused, not rewritten.
package codexsecrets

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"filippo.io/age"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/agefile"
	"github.com/mcpcred/mcpcred/protocol"
)

const (
	// Service is the only service this store holds: Codex's MCP token records.
	Service = "Codex MCP Credentials"
	// PassphraseService is the OS keyring service of the passphrase entry.
	PassphraseService = "codex"
	// DefaultWorkFactor is the scrypt work factor (log2 N) of our writes. Codex
	// tunes it per machine (17 to 19 seen) and reads any up to age's limit.
	DefaultWorkFactor = 18

	namePrefix     = "global/MCP_OAUTH_"
	fileVersion    = 1
	passphraseSize = 32
)

// Config is what a Store needs.
type Config struct {
	// CodexHome is Codex's home as Codex resolves it: $CODEX_HOME if set (which
	// must exist), else ~/.codex.
	CodexHome string
	// Keyring is the OS keyring that holds the passphrase entry and legacy direct
	// entries, opened with Codex's layout (backends.Options.CodexLayout).
	Keyring backends.Keyring
	// Timeout bounds the wait for Codex's lock.
	Timeout time.Duration
	// WorkFactor is the scrypt work factor of writes; 0 means DefaultWorkFactor.
	WorkFactor int
	// Account returns the store key of a record (Codex's compute_store_key of its
	// server_name and url), for List: names in the file are hashes of store keys.
	Account func(record []byte) (string, error)
}

// Store is Codex's secrets file as a backends.Keyring. It is safe for concurrent use.
type Store struct {
	cfg     Config
	file    *agefile.File
	account string // of the passphrase entry
}

// New returns the Store of cfg.CodexHome. Nothing is touched on disk or in the keyring.
func New(cfg Config) *Store {
	if cfg.WorkFactor == 0 {
		cfg.WorkFactor = DefaultWorkFactor
	}
	return &Store{
		cfg: cfg,
		file: agefile.New(filepath.Join(cfg.CodexHome, "secrets", "mcp_oauth.age"),
			filepath.Join(cfg.CodexHome, "mcp-oauth-locks", "secrets-store.lock"), cfg.Timeout),
		account: PassphraseAccount(cfg.CodexHome),
	}
}

// Path returns the secrets file's path.
func (s *Store) Path() string { return s.file.Path() }

// PassphraseAccount is Codex's compute_keyring_account: "secrets|" and the first 16
// lowercase hex digits of sha256 of the canonical CODEX_HOME (the path as given when
// it cannot be canonicalized).
func PassphraseAccount(codexHome string) string {
	sum := sha256.Sum256([]byte(canonical(codexHome)))
	return "secrets|" + hex.EncodeToString(sum[:8])
}

// resolve makes p absolute with symlinks resolved, as Rust's fs::canonicalize does
// (which on Windows also adds the verbatim prefix, see canonical); ok is
// false when that fails (the path does not exist).
func resolve(p string) (string, bool) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p, false
	}
	c, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return p, false
	}
	return c, true
}

// SecretName is the name of a store key's record in the file: "global/MCP_OAUTH_"
// and the first 32 uppercase hex digits of sha256(store key).
func SecretName(storeKey string) string {
	sum := sha256.Sum256([]byte(storeKey))
	return namePrefix + strings.ToUpper(hex.EncodeToString(sum[:16]))
}

// Name implements backends.Keyring.
func (s *Store) Name() string { return "codex-secrets" }

// Close implements backends.Keyring; the OS keyring is the caller's to close.
func (s *Store) Close() error { return nil }

// Get returns the record of store key account.
func (s *Store) Get(ctx context.Context, service, account string) ([]byte, error) {
	if service != Service {
		return nil, fmt.Errorf("%s holds only %q records: %w", s.file.Path(), Service, backends.ErrNotFound)
	}
	secrets, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	v, ok := secrets[SecretName(account)]
	if !ok {
		return nil, fmt.Errorf("%s in %s: %w", account, s.file.Path(), backends.ErrNotFound)
	}
	return []byte(v), nil
}

// Set stores secret as the record of store key account.
func (s *Store) Set(ctx context.Context, service, account string, secret []byte) error {
	if service != Service {
		return fmt.Errorf("%s holds only %q records, not %q", s.file.Path(), Service, service)
	}
	if len(secret) == 0 || !utf8.Valid(secret) {
		return fmt.Errorf("a record in %s must be non-empty UTF-8 text", s.file.Path())
	}
	name := SecretName(account)
	return s.file.Update(s.keys(ctx), func(plain []byte) ([]byte, bool, error) {
		secrets, err := s.parse(plain)
		if err != nil {
			return nil, false, err
		}
		secrets[name] = string(secret)
		return Encode(secrets), true, nil
	})
}

// Delete removes the record of store key account, and a legacy direct entry for it
// in the OS keyring. It returns ErrNotFound only when there was neither.
func (s *Store) Delete(ctx context.Context, service, account string) error {
	if service != Service {
		return fmt.Errorf("%s holds only %q records: %w", s.file.Path(), Service, backends.ErrNotFound)
	}
	removed := false
	if s.file.Exists() {
		name := SecretName(account)
		err := s.file.Update(s.keys(ctx), func(plain []byte) ([]byte, bool, error) {
			secrets, err := s.parse(plain)
			if err != nil {
				return nil, false, err
			}
			if _, ok := secrets[name]; !ok {
				return nil, false, nil
			}
			delete(secrets, name)
			removed = true
			return Encode(secrets), true, nil
		})
		if err != nil {
			return err
		}
	}
	err := s.cfg.Keyring.Delete(ctx, Service, account)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, backends.ErrNotFound):
		if removed {
			return nil
		}
		return fmt.Errorf("%s in %s: %w", account, s.file.Path(), backends.ErrNotFound)
	}
	return fmt.Errorf("removing the legacy keyring entry of %s: %w", account, err)
}

// List returns the store keys of the MCP records whose key cfg.Account recovers;
// a record stored under a key Account cannot recompute (one whose server config
// had headers) is left out.
func (s *Store) List(ctx context.Context, service string) ([]string, error) {
	if service != Service {
		return nil, nil
	}
	if s.cfg.Account == nil {
		return nil, errors.New("codexsecrets: List needs Config.Account")
	}
	secrets, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for name, v := range secrets {
		if !strings.HasPrefix(name, namePrefix) {
			continue
		}
		if acct, err := s.cfg.Account([]byte(v)); err == nil && SecretName(acct) == name {
			out = append(out, acct)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Doctor describes the file and the passphrase entry, never a secret.
func (s *Store) Doctor(ctx context.Context) []string {
	lines := []string{"codex secrets file: " + s.file.Path()}
	entry := fmt.Sprintf("codex secrets passphrase: %s entry %s / %s", s.cfg.Keyring.Name(), PassphraseService, s.account)
	switch _, err := s.cfg.Keyring.Get(ctx, PassphraseService, s.account); {
	case err == nil:
		lines = append(lines, entry+": present")
	case errors.Is(err, backends.ErrNotFound):
		lines = append(lines, entry+": absent")
	default:
		lines = append(lines, entry+": "+err.Error())
	}
	if !s.file.Exists() {
		return append(lines, "codex secrets file: absent (created on the first store)")
	}
	secrets, err := s.read(ctx)
	if err != nil {
		return append(lines, "codex secrets file: "+err.Error())
	}
	n := 0
	for name := range secrets {
		if strings.HasPrefix(name, namePrefix) {
			n++
		}
	}
	return append(lines, fmt.Sprintf("codex secrets file: decrypts; %d MCP token records", n))
}

// read returns the file's secrets; no file is an empty map.
func (s *Store) read(ctx context.Context) (map[string]string, error) {
	raw, err := s.file.ReadRaw()
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	id, err := s.identity(ctx)
	if err != nil {
		return nil, err
	}
	plain, err := agefile.Decrypt(raw, id)
	if err != nil {
		return nil, fmt.Errorf("decrypting %s with the passphrase of %s / %s: %w", s.file.Path(), PassphraseService, s.account, err)
	}
	return s.parse(plain)
}

func (s *Store) identity(ctx context.Context) (age.Identity, error) {
	pass, err := s.cfg.Keyring.Get(ctx, PassphraseService, s.account)
	if errors.Is(err, backends.ErrNotFound) {
		return nil, fmt.Errorf("%s exists but its passphrase (%s entry %s / %s) is missing; the file cannot be read", s.file.Path(), s.cfg.Keyring.Name(), PassphraseService, s.account)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the passphrase of %s: %w", s.file.Path(), err)
	}
	id, err := age.NewScryptIdentity(string(pass))
	if err != nil {
		return nil, fmt.Errorf("the passphrase of %s: %w", s.file.Path(), err)
	}
	return id, nil
}

// keys gets the passphrase under the lock, creating it when there is no file and
// no passphrase yet, as Codex does.
func (s *Store) keys(ctx context.Context) agefile.Keys {
	return func(exists bool) ([]age.Identity, age.Recipient, error) {
		pass, err := s.cfg.Keyring.Get(ctx, PassphraseService, s.account)
		switch {
		case errors.Is(err, backends.ErrNotFound) && !exists:
			var raw [passphraseSize]byte
			_, _ = rand.Read(raw[:]) // never fails
			pass = []byte(base64.StdEncoding.EncodeToString(raw[:]))
			if err := s.cfg.Keyring.Set(ctx, PassphraseService, s.account, pass); err != nil {
				return nil, nil, fmt.Errorf("saving a new passphrase for %s: %w", s.file.Path(), err)
			}
		case err != nil:
			_, ierr := s.identity(ctx) // the same message as a read
			return nil, nil, ierr
		}
		id, err := age.NewScryptIdentity(string(pass))
		if err != nil {
			return nil, nil, err
		}
		r, err := age.NewScryptRecipient(string(pass))
		if err != nil {
			return nil, nil, err
		}
		r.SetWorkFactor(s.cfg.WorkFactor)
		return []age.Identity{id}, r, nil
	}
}

func (s *Store) parse(plain []byte) (map[string]string, error) {
	if plain == nil {
		return map[string]string{}, nil
	}
	var f struct {
		Version int               `json:"version"`
		Secrets map[string]string `json:"secrets"`
	}
	// Unmarshal's error can quote content: name the file only.
	if err := json.Unmarshal(plain, &f); err != nil {
		return nil, fmt.Errorf("%s decrypts but does not hold Codex's secrets JSON", s.file.Path())
	}
	if f.Version > fileVersion {
		return nil, fmt.Errorf("%s has version %d, newer than the supported %d; update mcpcred", s.file.Path(), f.Version, fileVersion)
	}
	if f.Secrets == nil {
		f.Secrets = map[string]string{}
	}
	return f.Secrets, nil
}

// Encode renders secrets as Codex's plaintext: compact, names in byte order, strings
// escaped as serde_json escapes them.
func Encode(secrets map[string]string) []byte {
	names := make([]string, 0, len(secrets))
	size := 32
	for n, v := range secrets {
		names = append(names, n)
		size += len(n) + len(v) + 8
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.Grow(size)
	b.WriteString(`{"version":1,"secrets":{`)
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(protocol.AppendJSONString(b.AvailableBuffer(), n))
		b.WriteByte(':')
		b.Write(protocol.AppendJSONString(b.AvailableBuffer(), secrets[n]))
	}
	b.WriteString(`}}`)
	return b.Bytes()
}
