// Package helper answers mcpcred's requests: it routes each one to the stores the
// mode selects, with the behaviour of Codex's MCP OAuth credential module (the
// three modes, the keyring-to-file fallback and migration, erase's error rules), and
// holds the record model of an MCP token (docs/protocol.md, MCP token records).
//
// A Helper is built once per process by New and answers one request: MCP tokens
// (helper.go, token.go, codex.go), git credentials (git*.go) and refresh on read
// (refresh.go) go through the store model of stores.go, whose rules are the only
// code that knows the modes. It
// never prints a secret anywhere but the response: notices go to Notices, one line
// each, naming stores and reasons only.
package helper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/encrypted"
	"github.com/mcpcred/mcpcred/backends/file"
)

// Mode is where records are read and written: docs/protocol.md, Stores and modes.
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
	// Keyring is the OS keyring: from New, backends.None when this build or
	// machine has none. A Helper made without one (nil) uses backends.None
	// with NoKeyring as the reason.
	Keyring   backends.Keyring
	NoKeyring string
	// Git, when not nil, keeps git credentials instead of Keyring (which
	// then keeps none: Codex's secrets file).
	Git backends.GitKeyring
	// Tokens is the .credentials.json file store.
	Tokens *file.Store
	// Encrypted is mcpcred's encrypted store (default profile; nil in the codex
	// profile): auto mode's fallback for tokens once it has a passphrase.
	Encrypted *encrypted.Store
	// CodexStore says which of Codex's token stores is in force and why (codex
	// profile), for doctor.
	CodexStore string
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

	hinted bool         // the encrypt hint was said (storeSet.hint)
	memo   *keyringMemo // keyringMemo
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

// Close releases the keyring's connection, if one was made, and that of the OS
// keyring behind Codex's secrets file (h.Git), which the file's store does not own.
func (h *Helper) Close() error {
	err := h.keyring().kr.Close()
	if kr, ok := h.Git.(backends.Keyring); ok {
		err = errors.Join(err, kr.Close())
	}
	return err
}

// Where a record was found or put.
const (
	InKeyring   = "keyring"
	InFile      = "file"
	InEncrypted = "encrypted"
)

// tokenKind is how the store rules speak of MCP tokens, which follow Codex's
// rules.
func (h *Helper) tokenKind() recordKind {
	return recordKind{noun: "the token", nouns: "the token", erase: "delete",
		list: "failed to list the keyring", listSays: "keyring not listed",
		file: h.Tokens.Path(), codex: true}
}

// LoadToken finds the token stored for (serverName, url), as the mode says, and
// where it was found. A token that is absent everywhere is (nil, "", nil).
func (h *Helper) LoadToken(ctx context.Context, serverName, url string) (*Token, string, error) {
	key := StoreKey(serverName, url)
	t, where, err := read(ctx, h.stores(), h.tokenKind(), func(ctx context.Context, s recordStore) (*Token, bool, error) {
		t, err := s.loadToken(ctx, key)
		return t, t != nil, err
	}, func(file, keyring *Token) bool {
		return !file.Expiry.IsZero() && file.Expiry.Before(keyring.Expiry)
	})
	if err != nil {
		return nil, "", err
	}
	return t, where, nil
}

// SaveToken stores t as the mode says and reports where it went. A record stored
// byte for byte as it already is writes nothing.
func (h *Helper) SaveToken(ctx context.Context, t *Token) (string, error) {
	return h.saveToken(ctx, t, false)
}

// saveToken is SaveToken; changed says the caller knows t differs from what is
// stored (it just read it), so the keyring is not read again to compare.
func (h *Helper) saveToken(ctx context.Context, t *Token, changed bool) (string, error) {
	return h.stores().write(ctx, h.tokenKind(),
		func(ctx context.Context, s recordStore) error { return s.putToken(ctx, t, changed) },
		func(ctx context.Context, s recordStore) error { _, err := s.deleteToken(ctx, t.Key()); return err })
}

// DeleteToken erases the token from the stores the mode erases (storeSet.erase)
// and reports whether anything was removed.
func (h *Helper) DeleteToken(ctx context.Context, serverName, url string) (bool, error) {
	key := StoreKey(serverName, url)
	removed := false
	err := h.stores().erase(ctx, h.tokenKind(), func(ctx context.Context, s recordStore) error {
		r, err := s.deleteToken(ctx, key)
		removed = removed || r
		return err
	})
	return removed, err
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
	err := h.stores().list(ctx, h.tokenKind(), func(ctx context.Context, s recordStore) error {
		ts, err := s.tokens(ctx)
		for _, t := range ts {
			out = append(out, Listed{t.ServerName, t.URL, t.Expiry, s.where()})
		}
		return err
	})
	return out, err
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
	k := h.tokenKind()
	k.listSays = "" // a name is looked for, nothing is listed
	err := h.stores().list(ctx, k, func(ctx context.Context, s recordStore) error {
		ks, err := s.tokenKeys(ctx)
		keys = append(keys, ks...)
		return err
	})
	if err != nil {
		return nil, err
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
