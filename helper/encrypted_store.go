package helper

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/encrypted"
)

// encryptedStore is auto mode's fallback in the default profile once the user
// has set a passphrase (docs/encrypted-store.md): MCP tokens in mcpcred's
// encrypted store, kept as the keyring store keeps them (it is a
// backends.Keyring), and git credentials still in the plain git file. Git's
// layout is searched by its fields (protocol, host, path, user), which the
// encrypted store could answer only by decrypting every record on each git call,
// with the user's unlock; git's own helpers (git-credential-store) keep the same
// plaintext file, so git's fallback stays it. Docker credentials, looked up by
// server URL, stay in their plain file for the same reason, as docker's own
// config.json keeps them when no helper is set.
type encryptedStore struct {
	*keyringStore
	store *encrypted.Store
	git   *fileStore
}

func (s *encryptedStore) where() string { return InEncrypted }

// tokens fails while the store is locked, rather than listing nothing: the
// records are there, and their names and URLs are inside the ciphertext.
func (s *encryptedStore) tokens(ctx context.Context) ([]*Token, error) {
	if err := s.store.Unlocked(); err != nil {
		return nil, err
	}
	return s.keyringStore.tokens(ctx)
}

func (s *encryptedStore) gitSearch(ctx context.Context, q backends.GitQuery) ([]backends.GitCredential, error) {
	return s.git.gitSearch(ctx, q)
}

func (s *encryptedStore) gitPut(ctx context.Context, c backends.GitCredential) error {
	return s.git.gitPut(ctx, c)
}

func (s *encryptedStore) gitDelete(ctx context.Context, c backends.GitCredential) error {
	return s.git.gitDelete(ctx, c)
}

func (s *encryptedStore) dockerSearch(ctx context.Context, serverURL string) ([]backends.DockerCredential, error) {
	return s.git.dockerSearch(ctx, serverURL)
}

func (s *encryptedStore) dockerPut(ctx context.Context, c backends.DockerCredential) error {
	return s.git.dockerPut(ctx, c)
}

func (s *encryptedStore) dockerDelete(ctx context.Context, c backends.DockerCredential) error {
	return s.git.dockerDelete(ctx, c)
}

// fallbackStore is auto mode's second store: the encrypted store once it has a
// passphrase (default profile), else the plain files.
func (h *Helper) fallbackStore() recordStore {
	plain := &fileStore{tokenFile: h.Tokens, gitFile: h.gitFile(), dockerFile: h.dockerFile(), now: h.now}
	if h.Encrypted == nil || h.Mode != Auto || !h.Encrypted.Initialized() {
		return plain
	}
	return &encryptedStore{
		keyringStore: newKeyringStore(h.Encrypted, h.Service, h.Timeout, h.now),
		store:        h.Encrypted,
		git:          plain,
	}
}

// describe names the store a fallback write of kind k went to, for the notice.
func describe(s recordStore, k recordKind) string {
	if e, ok := s.(*encryptedStore); ok && !k.plain {
		return "the encrypted store " + e.store.Dir()
	}
	return "the plaintext file " + k.file
}

// gitWhere is what git's list prints for a store: the encrypted fallback keeps
// git credentials in the plain file.
func gitWhere(s recordStore) string {
	if e, ok := s.(*encryptedStore); ok {
		return e.git.where()
	}
	return s.where()
}

// encryptHint is said once per run, on the first write that falls back to the
// plaintext token file while the encrypted store has no passphrase.
const encryptHint = "; `mcpcred unlock` sets a passphrase, and tokens are encrypted from then on"

// PlainTokens counts the tokens in the plaintext token file, for unlock's offer
// to move them.
func (h *Helper) PlainTokens() (int, error) {
	entries, err := h.Tokens.Read()
	return len(entries), err
}

// MigratePlain moves every token of the plaintext token file into the encrypted
// store, each one removed from the file only once the encrypted store holds it,
// and reports how many moved. The encrypted store needs its passphrase set, not
// the unlock: it encrypts to its public key.
func (h *Helper) MigratePlain(ctx context.Context) (int, error) {
	if h.Encrypted == nil || !h.Encrypted.Initialized() {
		return 0, encrypted.ErrNoPassphrase
	}
	plain := &fileStore{tokenFile: h.Tokens, now: h.now}
	enc := newKeyringStore(h.Encrypted, h.Service, h.Timeout, h.now)
	entries, err := h.Tokens.Read()
	if err != nil {
		return 0, err
	}
	moved := 0
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		t, err := ParseFileJSON(entries[k])
		if err != nil {
			return moved, fmt.Errorf("%s: entry %q is not a token record (nothing after it moved): %w", h.Tokens.Path(), k, err)
		}
		if err := enc.putToken(ctx, t, true); err != nil {
			return moved, fmt.Errorf("moving %s to the encrypted store: %w", t.ServerName, err)
		}
		if _, err := plain.deleteToken(ctx, t.Key()); err != nil {
			return moved, fmt.Errorf("removing %s from %s after moving it: %w", t.ServerName, h.Tokens.Path(), err)
		}
		moved++
	}
	return moved, nil
}

// cannotUnlock reports whether err says the encrypted store is locked or cannot
// be unlocked here: one sentence that names the remedy, which the keyring's miss
// before it would only bury.
func cannotUnlock(err error) bool {
	return errors.Is(err, encrypted.ErrLocked) || errors.Is(err, encrypted.ErrRefused) ||
		errors.Is(err, encrypted.ErrNoKernelKeyring)
}
