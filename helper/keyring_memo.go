package helper

// A keyring that hangs costs the whole per-call deadline, and mcpcred is a fresh
// process for every request. So a keyring call that gets no answer in time is
// remembered for a short while in a small file beside the locks, and until it
// expires the keyring is not asked: auto mode goes straight to the file, keyring
// mode fails at once naming the remembered failure (docs/protocol.md, "A keyring
// that does not answer").

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/dirsafe"
	"github.com/mcpcred/mcpcred/backends/lockfile"
)

// unansweredFor is how long a keyring that did not answer is left alone: long
// enough that a burst of requests (an agent's tool calls, a git fetch's helper
// calls) pays the deadline once, short enough that a keyring that comes back is
// used again within a minute.
const unansweredFor = 45 * time.Second

// unanswered is the remembered failure, as stored. It holds no secret: the
// keyring's name, when it failed, until when it is left alone, and its error
// (keyring errors name no secret).
type unanswered struct {
	Keyring string    `json:"keyring"`
	At      time.Time `json:"failed_at"`
	Until   time.Time `json:"until"`
	Error   string    `json:"error"`
}

// keyringMemo is the remembered failure of one home's keyring: one file under the
// lock directory, per user like the home. It is read once per process.
type keyringMemo struct {
	path   string
	now    func() time.Time
	loaded bool
	rec    *unanswered // as read or last written; nil when there is none
}

// live returns the remembered failure that is still in force, or nil. A record
// dated further ahead than unansweredFor (a clock set back, a hand-edited file) is
// not in force.
func (m *keyringMemo) live() *unanswered {
	if !m.loaded {
		m.loaded = true
		if data, err := os.ReadFile(m.path); err == nil {
			// A record is honoured only from a directory the user controls, as
			// the lock beside it is: someone else's would turn the keyring off and
			// send secrets to the plaintext file.
			var r unanswered
			if dirsafe.CheckReal(filepath.Dir(m.path)) == nil && dirsafe.Check(filepath.Dir(m.path)) == nil &&
				json.Unmarshal(data, &r) == nil {
				m.rec = &r
			} else {
				m.rec = &unanswered{}
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			// Unreadable: treated as absent; the next write replaces it.
			m.rec = &unanswered{}
		}
	}
	now := m.now()
	if r := m.rec; r != nil && now.Before(r.Until) && !r.Until.After(now.Add(unansweredFor)) {
		return r
	}
	return nil
}

// refuse returns the error of a call not made because the keyring is
// remembered not to answer, or nil when the keyring is to be asked.
func (m *keyringMemo) refuse() error {
	r := m.live()
	if r == nil {
		return nil
	}
	return fmt.Errorf("%w: the %s keyring did not answer at %s (%s); it is not asked again until %s (%s; 'mcpcred doctor' asks it now)",
		backends.ErrUnavailable, r.Keyring, r.At.Local().Format(time.TimeOnly), r.Error,
		r.Until.Local().Format(time.TimeOnly), m.path)
}

// observe records what a call that was made says about the keyring: no answer
// in time is remembered; any answer (a success, not found, locked, a refusal)
// forgets a remembered failure, so the calls after it ask afresh. Failing to
// write or remove the file only costs the next process a deadline, so it is not
// an error of the request. A prompt to unlock that got no answer in time is a
// locked keyring, which answered: it is not remembered, so that an erase still
// asks it and fails rather than leave its item behind.
func (m *keyringMemo) observe(name string, err error) {
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, backends.ErrLocked) {
		if m.rec != nil || !m.loaded {
			m.live() // a record this process has not seen yet is forgotten too
			if m.rec != nil {
				m.rec = nil
				_ = os.Remove(m.path)
			}
		}
		return
	}
	now := m.now()
	m.loaded = true
	m.rec = &unanswered{Keyring: name, At: now.UTC(), Until: now.Add(unansweredFor).UTC(), Error: oneLine(err)}
	_ = m.write()
}

// write replaces the file atomically: a reader sees the old record or the new.
func (m *keyringMemo) write() error {
	data, err := json.Marshal(m.rec)
	if err != nil {
		return err
	}
	dir := filepath.Dir(m.path)
	if err := lockfile.MkdirPrivate(dir); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, filepath.Base(m.path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), m.path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// rememberingStore is the keyring store behind its memo: a call is refused at
// once while a failure is remembered, and every call made tells the memo what
// happened.
type rememberingStore struct {
	inner *keyringStore
	memo  *keyringMemo
}

// remembering runs fn unless the memo refuses, and tells the memo its outcome.
func remembering[T any](s *rememberingStore, fn func() (T, error)) (T, error) {
	if err := s.memo.refuse(); err != nil {
		var zero T
		return zero, err
	}
	v, err := fn()
	s.memo.observe(s.inner.kr.Name(), err)
	return v, err
}

// rememberingErr is remembering for calls that return only an error.
func rememberingErr(s *rememberingStore, fn func() error) error {
	_, err := remembering(s, func() (struct{}, error) { return struct{}{}, fn() })
	return err
}

func (s *rememberingStore) where() string { return InKeyring }

func (s *rememberingStore) loadToken(ctx context.Context, key string) (*Token, error) {
	return remembering(s, func() (*Token, error) { return s.inner.loadToken(ctx, key) })
}

func (s *rememberingStore) putToken(ctx context.Context, t *Token, changed bool) error {
	return rememberingErr(s, func() error { return s.inner.putToken(ctx, t, changed) })
}

func (s *rememberingStore) deleteToken(ctx context.Context, key string) (bool, error) {
	return remembering(s, func() (bool, error) { return s.inner.deleteToken(ctx, key) })
}

func (s *rememberingStore) tokenKeys(ctx context.Context) ([]string, error) {
	return remembering(s, func() ([]string, error) { return s.inner.tokenKeys(ctx) })
}

func (s *rememberingStore) tokens(ctx context.Context) ([]*Token, error) {
	return remembering(s, func() ([]*Token, error) { return s.inner.tokens(ctx) })
}

func (s *rememberingStore) gitSearch(ctx context.Context, q backends.GitQuery) ([]backends.GitCredential, error) {
	return remembering(s, func() ([]backends.GitCredential, error) { return s.inner.gitSearch(ctx, q) })
}

func (s *rememberingStore) gitPut(ctx context.Context, c backends.GitCredential) error {
	return rememberingErr(s, func() error { return s.inner.gitPut(ctx, c) })
}

func (s *rememberingStore) gitDelete(ctx context.Context, c backends.GitCredential) error {
	return rememberingErr(s, func() error { return s.inner.gitDelete(ctx, c) })
}

func (s *rememberingStore) dockerSearch(ctx context.Context, serverURL string) ([]backends.DockerCredential, error) {
	return remembering(s, func() ([]backends.DockerCredential, error) { return s.inner.dockerSearch(ctx, serverURL) })
}

func (s *rememberingStore) dockerPut(ctx context.Context, c backends.DockerCredential) error {
	return rememberingErr(s, func() error { return s.inner.dockerPut(ctx, c) })
}

func (s *rememberingStore) dockerDelete(ctx context.Context, c backends.DockerCredential) error {
	return rememberingErr(s, func() error { return s.inner.dockerDelete(ctx, c) })
}

// keyringMemo is h's memo, made once: the file keyring-unanswered.json in the
// directory of the file store's lock.
func (h *Helper) keyringMemo() *keyringMemo {
	if h.memo == nil {
		h.memo = &keyringMemo{
			path: filepath.Join(filepath.Dir(h.Tokens.LockPath()), "keyring-unanswered.json"),
			now:  h.now,
		}
	}
	return h.memo
}
