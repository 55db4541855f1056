package helper

// The store model. A recordStore is one place records live, the OS keyring or
// the file, and knows only its own layout of each record kind. A storeSet is the
// stores of one mode; its four rules (read, write, erase, list) are the only
// code that knows the modes: the keyring-to-file fallback, the migration of a
// file copy once the keyring holds the record, and erase's error rules, for MCP
// tokens and git credentials alike (docs/protocol.md, "Stores and modes").

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/mcpcred/mcpcred/backends"
)

// recordStore is one place records live. It has no policy: every method acts on
// this store alone, honours ctx's deadline, and returns errors that name no
// secret. A token absent is (nil, nil); a git search returns what matches q.
type recordStore interface {
	where() string // InKeyring or InFile: what list prints

	loadToken(ctx context.Context, key string) (*Token, error)
	// putToken stores t, writing nothing when the store holds t already; with
	// changed the caller knows it does not, and the store writes without looking.
	putToken(ctx context.Context, t *Token, changed bool) error
	// deleteToken removes the record stored under key, reporting whether there
	// was one.
	deleteToken(ctx context.Context, key string) (bool, error)
	// tokenKeys are the store keys of the tokens stored, without reading them.
	tokenKeys(ctx context.Context) ([]string, error)
	// tokens are every token stored, sorted by store key.
	tokens(ctx context.Context) ([]*Token, error)

	gitSearch(ctx context.Context, q backends.GitQuery) ([]backends.GitCredential, error)
	gitPut(ctx context.Context, c backends.GitCredential) error
	// gitDelete removes one credential gitSearch returned; one already gone is
	// an error matching backends.ErrNotFound.
	gitDelete(ctx context.Context, c backends.GitCredential) error

	// dockerSearch returns the docker credentials kept under serverURL exactly
	// (the store's preferred first), or with "" every one.
	dockerSearch(ctx context.Context, serverURL string) ([]backends.DockerCredential, error)
	// dockerPut stores c, leaving one credential under its server URL.
	dockerPut(ctx context.Context, c backends.DockerCredential) error
	// dockerDelete removes one credential dockerSearch returned; one already
	// gone is an error matching backends.ErrNotFound.
	dockerDelete(ctx context.Context, c backends.DockerCredential) error
}

// recordKind is what the rules need to know of a record kind: the words of its
// messages, and whether Codex's rules for MCP tokens apply.
type recordKind struct {
	noun     string // "the token"
	nouns    string // "the token", "git credentials": what a read or an erase looks for
	erase    string // "delete", "erase"
	list     string // "failed to list the keyring"
	listSays string // the notice when the keyring cannot be listed in auto mode; "" says nothing
	file     string // the file's path, for notices
	// quietUnavailable: an unusable keyring is not noticed in list, because the
	// listing before (tokens, then git credentials) said it already.
	quietUnavailable bool
	// codex: the file-mode erase asks the keyring too, and the keyring mode's
	// write and erase also remove the file's copy (Codex's MCP OAuth rules). Git's
	// own helpers use only the store they are told to.
	codex bool
	// plain: git and docker credentials, which stay in their plain files when
	// auto's fallback is the encrypted store (docs/encrypted-store.md).
	plain bool
}

// storeSet is the stores of one mode, chosen when it is built.
type storeSet struct {
	mode    Mode
	keyring recordStore // the primary store of auto mode
	file    recordStore // auto mode's fallback: the plain files, or the encrypted store (encrypted_store.go)
	notices io.Writer
	// hint, when not "", is added once to a fallback notice about the
	// plaintext token file when the keyring is missing or unreachable (not
	// when it is locked): how to encrypt instead. hinted says it was.
	hint   string
	hinted *bool
}

// stores builds the store set of h's mode.
func (h *Helper) stores() *storeSet {
	s := &storeSet{
		mode:    h.Mode,
		keyring: &rememberingStore{inner: h.keyring(), memo: h.keyringMemo()},
		file:    h.fallbackStore(),
		notices: h.Notices,
		hinted:  &h.hinted,
	}
	if h.Encrypted != nil && s.file.where() == InFile {
		s.hint = encryptHint
	}
	return s
}

func (s *storeSet) notice(format string, args ...any) {
	if s.notices != nil {
		fmt.Fprintf(s.notices, "mcpcred: "+format+"\n", args...)
	}
}

// read runs find against the stores the mode reads and returns the record found
// and where. Auto reads the file when the keyring misses or fails, with the one
// notice when it failed (a locked keyring may hold the record: the notice says
// the answer comes from the file only). When the keyring holds the record, auto also looks in
// the file: a copy there beside a keyring copy was written while the keyring
// could not be used (a write that reaches the keyring removes the file's copy),
// so it is the newer one unless fileOlder, from what the two records carry, says
// otherwise (docs/protocol.md, "A keyring that does not answer").
func read[R any](ctx context.Context, s *storeSet, k recordKind,
	find func(context.Context, recordStore) (R, bool, error), fileOlder func(file, keyring R) bool) (R, string, error) {
	var none R
	switch s.mode {
	case File:
		r, _, err := find(ctx, s.file)
		return r, s.file.where(), err
	case Keyring:
		r, _, err := find(ctx, s.keyring)
		if err != nil {
			return none, "", fmt.Errorf("failed to read %s from the keyring: %w", k.nouns, err)
		}
		return r, InKeyring, nil
	}
	kr, found, kerr := find(ctx, s.keyring)
	if kerr == nil && found {
		// The file's copy is a second opinion: when it cannot be read, the
		// keyring's record stands, as it did before the file was looked at.
		if fr, ffound, err := find(ctx, s.file); err == nil && ffound && !fileOlder(fr, kr) {
			return fr, s.file.where(), nil
		}
		return kr, InKeyring, nil
	}
	fr, _, err := find(ctx, s.file)
	if err != nil {
		if kerr != nil && !cannotUnlock(err) {
			return none, "", fmt.Errorf("failed to read %s from the keyring (%v) and from the file: %w", k.nouns, kerr, err)
		}
		return none, "", err
	}
	if kerr != nil && !errors.Is(kerr, backends.ErrNoKeyring) {
		// Said once the fallback answered (its own failure is the one line
		// otherwise). A locked keyring may hold the record (a locked KeePassXC
		// hides its items): say that the answer comes from the fallback only.
		only := ""
		if errors.Is(kerr, backends.ErrLocked) {
			only = " only"
		}
		s.notice("%s; read %s%s", keyringFailure(kerr), describe(s.file, k), only)
	}
	return fr, s.file.where(), nil
}

// write runs put against the store the mode writes and says where the record
// went. Auto falls back to the file, saying so each time. Once the keyring holds
// the record, dropCopy removes the file's copy (auto; keyring mode too for
// tokens).
func (s *storeSet) write(ctx context.Context, k recordKind, put, dropCopy func(context.Context, recordStore) error) (string, error) {
	if s.mode == File {
		return s.file.where(), put(ctx, s.file)
	}
	kerr := put(ctx, s.keyring)
	switch {
	case kerr == nil:
		if s.mode == Auto || k.codex {
			if err := dropCopy(ctx, s.file); err != nil {
				s.notice("stored in the keyring, but the old copy in %s could not be removed: %s", k.file, oneLine(err))
			}
		}
		return InKeyring, nil
	case s.mode == Keyring:
		return "", fmt.Errorf("failed to write %s to the keyring: %w", k.noun, kerr)
	}
	hint := ""
	// A locked OS keyring is one to unlock, not a reason for another store.
	if s.hint != "" && !k.plain && !*s.hinted && !errors.Is(kerr, backends.ErrLocked) {
		hint, *s.hinted = s.hint, true
	}
	s.notice("%s; stored in %s%s", keyringFailure(kerr), describe(s.file, k), hint)
	if err := put(ctx, s.file); err != nil {
		return "", fmt.Errorf("failed to write %s to the keyring (%s) and to the file: %w", k.noun, oneLine(kerr), err)
	}
	return s.file.where(), nil
}

// erase runs del against the stores the mode erases: the keyring first, whose
// error fails auto and keyring modes before the file is touched. A machine with
// no keyring at all, or one that cannot be reached, holds nothing there, so in
// auto mode that is not an error and the file copy is still erased (unlike
// Codex, openai/codex#25002); a locked keyring still fails, since its item would
// survive. For tokens file mode asks the keyring too, ignoring its errors.
func (s *storeSet) erase(ctx context.Context, k recordKind, del func(context.Context, recordStore) error) error {
	if s.mode != File || k.codex {
		err := del(ctx, s.keyring)
		switch {
		case err == nil:
		case s.mode == File:
		case s.mode == Auto && errors.Is(err, backends.ErrUnavailable) && !errors.Is(err, backends.ErrLocked):
		default:
			return fmt.Errorf("failed to %s %s from the keyring: %w", k.erase, k.nouns, err)
		}
	}
	if s.mode == Keyring && !k.codex {
		return nil
	}
	return del(ctx, s.file)
}

// list runs each against the stores the mode reads. In auto mode a keyring that
// cannot be listed is skipped, with k.listSays unless there is no keyring at all.
func (s *storeSet) list(ctx context.Context, k recordKind, each func(context.Context, recordStore) error) error {
	if s.mode != File {
		err := each(ctx, s.keyring)
		switch {
		case err == nil:
		case s.mode == Keyring:
			return fmt.Errorf("%s: %w", k.list, err)
		case errors.Is(err, backends.ErrNoKeyring), k.listSays == "",
			k.quietUnavailable && errors.Is(err, backends.ErrUnavailable):
		default:
			s.notice("%s: %s", k.listSays, oneLine(err))
		}
	}
	if s.mode == Keyring {
		return nil
	}
	return each(ctx, s.file)
}

// keyring is h's keyring as a record store. A Helper without a keyring uses
// backends.None, which fails every call with the reason.
func (h *Helper) keyring() *keyringStore {
	kr := h.Keyring
	if kr == nil {
		kr = backends.None{Reason: h.NoKeyring}
	}
	s := newKeyringStore(kr, h.Service, h.Timeout, h.now)
	if h.Git != nil {
		s.git = h.Git
	}
	return s
}
