// Package helper answers mcpcred's requests: it routes each one to the stores the
// mode selects, with the behaviour of Codex's MCP OAuth credential module (the
// three modes, the keyring-to-file fallback and migration, erase's error rules), and
// holds the record model of an MCP token (spec section 4.1).
//
// A Helper is built once per process by cmd/mcpcred and answers one request. It
// never prints a secret anywhere but the response: notices go to Notices, one line
// each, naming stores and reasons only.
package helper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/file"
)

// Mode is where records are read and written: spec section 6.
type Mode string

// The three modes of Codex's mcp_oauth_credentials_store.
const (
	// Auto reads the keyring then the file, and writes the keyring, falling back
	// to the file when the keyring fails.
	Auto Mode = "auto"
	// File uses only the file store.
	File Mode = "file"
	// Keyring uses only the keyring and fails when there is none.
	Keyring Mode = "keyring"
)

// ParseMode checks a --store value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Auto, File, Keyring:
		return m, nil
	}
	return "", fmt.Errorf("unknown store %q: use auto, file or keyring", s)
}

// Helper holds one process's stores and settings.
type Helper struct {
	Mode Mode
	// Service is the keyring service name of the profile ("mcpcred" or
	// "Codex MCP Credentials").
	Service string
	// Keyring is the OS keyring, nil when this build or machine has none;
	// NoKeyring then says why.
	Keyring   backends.Keyring
	NoKeyring string
	// Tokens is the .credentials.json file store.
	Tokens *file.Store
	// Notices receives one-line notices (stderr).
	Notices io.Writer
	// Timeout bounds each keyring call.
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Refresh on read (refresh.go): the margin below which a token is refreshed,
	// whether refresh is off, the HTTP client of token requests (nil: a default
	// one), and the flags that `mcpcred login` needs to reach these same stores.
	MinTTL     time.Duration
	NoRefresh  bool
	HTTPClient *http.Client
	LoginArgs  string
}

func (h *Helper) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Helper) notice(format string, args ...any) {
	if h.Notices != nil {
		fmt.Fprintf(h.Notices, "mcpcred: "+format+"\n", args...)
	}
}

// Close releases the keyring's connection, if one was made.
func (h *Helper) Close() error {
	if h.Keyring == nil {
		return nil
	}
	return h.Keyring.Close()
}

// Where a record was found or put.
const (
	InKeyring = "keyring"
	InFile    = "file"
)

// errNoKeyring is the keyring error when this build or OS has none.
func (h *Helper) errNoKeyring() error {
	return fmt.Errorf("%w: %s", backends.ErrUnavailable, h.NoKeyring)
}

// keyringCall runs fn against the keyring with the per-call deadline.
func (h *Helper) keyringCall(ctx context.Context, fn func(ctx context.Context, kr backends.Keyring) error) error {
	if h.Keyring == nil {
		return h.errNoKeyring()
	}
	if h.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.Timeout)
		defer cancel()
	}
	return fn(ctx, h.Keyring)
}

// LoadToken finds the token stored for (serverName, url), as the mode says, and
// where it was found. A token that is absent everywhere is (nil, "", nil).
func (h *Helper) LoadToken(ctx context.Context, serverName, url string) (*Token, string, error) {
	key := StoreKey(serverName, url)
	switch h.Mode {
	case File:
		t, err := h.loadFile(key)
		return t, InFile, err
	case Keyring:
		t, err := h.loadKeyring(ctx, key)
		if err != nil {
			return nil, "", fmt.Errorf("failed to read the token from the keyring: %w", err)
		}
		return t, InKeyring, nil
	}
	t, kerr := h.loadKeyring(ctx, key)
	if kerr == nil && t != nil {
		return t, InKeyring, nil
	}
	t, err := h.loadFile(key)
	if err != nil {
		if kerr != nil {
			return nil, "", fmt.Errorf("failed to read the token from the keyring (%v) and from the file: %w", kerr, err)
		}
		return nil, "", err
	}
	return t, InFile, nil
}

func (h *Helper) loadKeyring(ctx context.Context, key string) (*Token, error) {
	var data []byte
	err := h.keyringCall(ctx, func(ctx context.Context, kr backends.Keyring) (err error) {
		data, err = kr.Get(ctx, h.Service, key)
		return err
	})
	if errors.Is(err, backends.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseKeyringJSON(data)
}

// loadFile finds the entry whose own server_name and server_url give key, as
// Codex does: the map key itself is not trusted. The entry under key is looked up
// first without decoding the others, which is all a file mcpcred or Codex wrote
// needs; only a miss decodes the whole file to search by identity.
func (h *Helper) loadFile(key string) (*Token, error) {
	raw, found, err := h.Tokens.Lookup(key)
	if err != nil {
		return nil, err
	}
	if found {
		if t, err := ParseFileJSON(raw); err == nil && t.Key() == key {
			return t, nil
		}
	}
	entries, err := h.Tokens.Read()
	if err != nil {
		return nil, err
	}
	t, _, err := findFileEntry(entries, key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", h.Tokens.Path(), err)
	}
	return t, nil
}

// findFileEntry looks the direct map key up first, then every other entry.
func findFileEntry(entries map[string]json.RawMessage, key string) (*Token, string, error) {
	if raw, ok := entries[key]; ok {
		t, err := ParseFileJSON(raw)
		if err == nil && t.Key() == key {
			return t, key, nil
		}
	}
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		t, err := ParseFileJSON(entries[k])
		if err != nil {
			return nil, "", fmt.Errorf("entry %q is not a token record: %w", k, err)
		}
		if t.Key() == key {
			return t, k, nil
		}
	}
	return nil, "", nil
}

// SaveToken stores t as the mode says and reports where it went. A record stored
// byte for byte as it already is writes nothing.
func (h *Helper) SaveToken(ctx context.Context, t *Token) (string, error) {
	switch h.Mode {
	case File:
		return InFile, h.saveFile(t)
	case Keyring:
		if err := h.saveKeyring(ctx, t); err != nil {
			return "", fmt.Errorf("failed to write the token to the keyring: %w", err)
		}
		return InKeyring, nil
	}
	kerr := h.saveKeyring(ctx, t)
	if kerr == nil {
		return InKeyring, nil
	}
	h.notice("%s; stored in the plaintext file %s", keyringFailure(kerr), h.Tokens.Path())
	if err := h.saveFile(t); err != nil {
		return "", fmt.Errorf("failed to write the token to the keyring (%s) and to the file: %w", oneLine(kerr), err)
	}
	return InFile, nil
}

// saveKeyring writes the keyring item unless it already holds this record, then
// removes the file's copy: a successful keyring write migrates the record.
func (h *Helper) saveKeyring(ctx context.Context, t *Token) error {
	key := t.Key()
	old, err := h.loadKeyring(ctx, key)
	if err != nil && !isBadRecord(err) {
		return err
	}
	if old == nil || !old.Equal(t) {
		err = h.keyringCall(ctx, func(ctx context.Context, kr backends.Keyring) error {
			return kr.Set(ctx, h.Service, key, t.KeyringJSON(h.now()))
		})
		if err != nil {
			return err
		}
	}
	if _, err := h.deleteFile(key); err != nil {
		h.notice("stored in the keyring, but the old copy in %s could not be removed: %s", h.Tokens.Path(), oneLine(err))
	}
	return nil
}

// isBadRecord tells a keyring item that does not parse (overwritten by a store)
// from a keyring that failed.
func isBadRecord(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te)
}

func (h *Helper) saveFile(t *Token) error {
	_, err := h.Tokens.Put(t.Key(), t.FileJSON(), func(raw []byte) bool {
		old, err := ParseFileJSON(raw)
		return err == nil && old.Equal(t)
	})
	return err
}

// deleteFile removes key and any entry whose own identity gives key.
func (h *Helper) deleteFile(key string) (bool, error) {
	if !h.Tokens.Exists() {
		// The common case once the keyring holds everything: no lock to take.
		return false, nil
	}
	removed := false
	err := h.Tokens.Update(func(entries map[string]json.RawMessage) (bool, error) {
		for k, raw := range entries {
			if k == key {
				delete(entries, k)
				removed = true
				continue
			}
			if t, err := ParseFileJSON(raw); err == nil && t.Key() == key {
				delete(entries, k)
				removed = true
			}
		}
		return removed, nil
	})
	return removed, err
}

// DeleteToken erases the token from the keyring and the file, by the seed's rules:
// a keyring error fails auto and keyring modes before the file is touched, and is
// ignored in file mode. A machine with no keyring at all (none built, no bus, no
// Secret Service) holds nothing there, so that is not an error in auto mode: unlike
// Codex (openai/codex#25002), the file copy is still erased. It reports whether
// anything was removed.
func (h *Helper) DeleteToken(ctx context.Context, serverName, url string) (bool, error) {
	key := StoreKey(serverName, url)
	removedKeyring := false
	err := h.keyringCall(ctx, func(ctx context.Context, kr backends.Keyring) error {
		return kr.Delete(ctx, h.Service, key)
	})
	switch {
	case err == nil:
		removedKeyring = true
	case errors.Is(err, backends.ErrNotFound):
	case h.Mode == File:
	case h.Mode == Auto && errors.Is(err, backends.ErrUnavailable) && !errors.Is(err, backends.ErrLocked):
	default:
		return false, fmt.Errorf("failed to delete the token from the keyring: %w", err)
	}
	removedFile, err := h.deleteFile(key)
	if err != nil {
		return removedKeyring, err
	}
	return removedKeyring || removedFile, nil
}

// Listed is one record of `list`: identity and expiry, never a secret.
type Listed struct {
	ServerName string
	URL        string
	Expiry     time.Time
	Where      string
}

// ListTokens lists the tokens of the stores the mode reads. A record in both
// stores is listed once per store. An unusable keyring in auto mode is skipped with
// a notice.
func (h *Helper) ListTokens(ctx context.Context) ([]Listed, error) {
	var out []Listed
	if h.Mode != File {
		var accounts []string
		err := h.keyringCall(ctx, func(ctx context.Context, kr backends.Keyring) (err error) {
			accounts, err = kr.List(ctx, h.Service)
			return err
		})
		if err != nil && h.Mode == Keyring {
			return nil, fmt.Errorf("failed to list the keyring: %w", err)
		}
		if err != nil && h.Keyring != nil {
			h.notice("keyring not listed: %s", oneLine(err))
		}
		sort.Strings(accounts)
		for _, a := range accounts {
			t, err := h.loadKeyring(ctx, a)
			if err != nil || t == nil {
				continue
			}
			out = append(out, Listed{t.ServerName, t.URL, t.Expiry, InKeyring})
		}
	}
	if h.Mode != Keyring {
		entries, err := h.Tokens.Read()
		if err != nil {
			return out, err
		}
		for _, k := range slices.Sorted(maps.Keys(entries)) {
			t, err := ParseFileJSON(entries[k])
			if err != nil {
				return out, fmt.Errorf("%s: entry %q is not a token record: %w", h.Tokens.Path(), k, err)
			}
			out = append(out, Listed{t.ServerName, t.URL, t.Expiry, InFile})
		}
	}
	return out, nil
}

// keyringFailure says, in a few words and the keyring's own error, why a write
// went to the file instead.
func keyringFailure(err error) string {
	return "keyring not used (" + oneLine(err) + ")"
}

// ServerNames lists, sorted, the server names of the records stored for url, read
// from the store keys alone: a key is name + "|" + a hash of url, so no record is
// read or decrypted (on macOS, no Keychain access dialog either). A keyring that
// cannot be listed counts as empty unless the mode is keyring.
func (h *Helper) ServerNames(ctx context.Context, url string) ([]string, error) {
	var keys []string
	if h.Mode != File && h.Keyring != nil {
		err := h.keyringCall(ctx, func(ctx context.Context, kr backends.Keyring) (err error) {
			keys, err = kr.List(ctx, h.Service)
			return err
		})
		if err != nil && h.Mode == Keyring {
			return nil, fmt.Errorf("failed to list the keyring: %w", err)
		}
	}
	if h.Mode != Keyring {
		entries, err := h.Tokens.Read()
		if err != nil {
			return nil, err
		}
		keys = slices.AppendSeq(keys, maps.Keys(entries))
	}
	var names []string
	for _, k := range keys {
		i := strings.LastIndexByte(k, '|')
		if i >= 0 && StoreKey(k[:i], url) == k && !slices.Contains(names, k[:i]) {
			names = append(names, k[:i])
		}
	}
	slices.Sort(names)
	return names, nil
}

// oneLine keeps an error message to one line for stderr.
func oneLine(err error) string {
	s := err.Error()
	b := []byte(s)
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}
