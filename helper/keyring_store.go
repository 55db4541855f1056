package helper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mcpcred/mcpcred/backends"
)

// keyringStore is an OS keyring as a recordStore: tokens are items of one
// service, account = store key, secret = Codex's keyring JSON; git credentials
// are in the OS's git layout when the keyring keeps them. Every call has the
// per-call deadline.
type keyringStore struct {
	kr      backends.Keyring
	git     backends.GitKeyring
	service string
	timeout time.Duration
	now     func() time.Time
}

func newKeyringStore(kr backends.Keyring, service string, timeout time.Duration, now func() time.Time) *keyringStore {
	git, ok := kr.(backends.GitKeyring)
	if !ok {
		git = noGit{kr.Name()}
	}
	return &keyringStore{kr: kr, git: git, service: service, timeout: timeout, now: now}
}

// noGit is the git layout of a keyring that keeps no git credentials.
type noGit struct{ name string }

func (n noGit) err() error {
	return fmt.Errorf("%w: the %s keyring keeps no git credentials in this build", backends.ErrUnavailable, n.name)
}

func (n noGit) GitSearch(context.Context, backends.GitQuery) ([]backends.GitCredential, error) {
	return nil, n.err()
}
func (n noGit) GitStore(context.Context, backends.GitCredential) error  { return n.err() }
func (n noGit) GitDelete(context.Context, backends.GitCredential) error { return n.err() }

func (s *keyringStore) where() string { return InKeyring }

// call runs fn with the per-call deadline.
func (s *keyringStore) call(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	return fn(ctx)
}

func (s *keyringStore) loadToken(ctx context.Context, key string) (*Token, error) {
	var data []byte
	err := s.call(ctx, func(ctx context.Context) (err error) {
		data, err = s.kr.Get(ctx, s.service, key)
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

func (s *keyringStore) putToken(ctx context.Context, t *Token, changed bool) error {
	key := t.Key()
	if !changed {
		old, err := s.loadToken(ctx, key)
		if err != nil && !isBadRecord(err) {
			return err
		}
		if old != nil && old.Equal(t) {
			return nil
		}
	}
	return s.call(ctx, func(ctx context.Context) error {
		return s.kr.Set(ctx, s.service, key, t.KeyringJSON(s.now()))
	})
}

// isBadRecord tells a keyring item that does not parse (overwritten by a store)
// from a keyring that failed.
func isBadRecord(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te)
}

func (s *keyringStore) deleteToken(ctx context.Context, key string) (bool, error) {
	err := s.call(ctx, func(ctx context.Context) error { return s.kr.Delete(ctx, s.service, key) })
	if errors.Is(err, backends.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (s *keyringStore) tokenKeys(ctx context.Context) ([]string, error) {
	var keys []string
	err := s.call(ctx, func(ctx context.Context) (err error) {
		keys, err = s.kr.List(ctx, s.service)
		return err
	})
	return keys, err
}

// tokens skips items that cannot be read or parsed: list shows what it can.
func (s *keyringStore) tokens(ctx context.Context) ([]*Token, error) {
	keys, err := s.tokenKeys(ctx)
	if err != nil {
		return nil, err
	}
	slices.Sort(keys)
	var out []*Token
	for _, k := range keys {
		if t, err := s.loadToken(ctx, k); err == nil && t != nil {
			out = append(out, t)
		}
	}
	return out, nil
}

func (s *keyringStore) gitSearch(ctx context.Context, q backends.GitQuery) ([]backends.GitCredential, error) {
	var out []backends.GitCredential
	err := s.call(ctx, func(ctx context.Context) (err error) {
		out, err = s.git.GitSearch(ctx, q)
		return err
	})
	return out, err
}

func (s *keyringStore) gitPut(ctx context.Context, c backends.GitCredential) error {
	return s.call(ctx, func(ctx context.Context) error { return s.git.GitStore(ctx, c) })
}

func (s *keyringStore) gitDelete(ctx context.Context, c backends.GitCredential) error {
	return s.call(ctx, func(ctx context.Context) error { return s.git.GitDelete(ctx, c) })
}
