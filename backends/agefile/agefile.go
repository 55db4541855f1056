// Package agefile keeps one age-encrypted file (filippo.io/age, format v1) safe
// against crashes and concurrent writers, and encrypts and decrypts age blobs. Codex's
// secrets file (CODEX_HOME/secrets/mcp_oauth.age) and the passphrase-encrypted
// identity of mcpcred's encrypted store are such files.
//
// Contract:
//
//   - Read takes no lock: every write is an atomic rename, so a reader sees the old
//     file or the new one. An absent file is an error matching fs.ErrNotExist.
//   - Update and Create hold the exclusive lock on the lock file (file.Lock: flock on
//     Unix, LockFileEx on Windows, the lock Rust's File::try_lock takes) for the
//     whole read-modify-write, waiting up to the File's timeout.
//   - Writes are file.WriteAtomic's, the plain file store's: a temp file
//     `.<name>.tmp-<random>` created O_EXCL with mode 0600 beside the file, fsync,
//     rename over the file, fsync of the directory. A crash at any instant leaves the
//     old file or the new one. The file is 0600 after every write. A temp file is
//     only present while its writer holds the lock, so one found by a writer holding
//     the lock belongs to a writer that died, and is removed (it is ciphertext, but
//     no one will ever rename it into place). Codex's own temp files
//     (`.<name>.tmp-<pid>-<nanos>`) share the prefix and are removed alike.
//   - A missing directory is created 0700; an existing one is left alone.
//   - The file itself must be a regular file: a symlink is refused, not followed.
//   - A key or passphrase that opens nothing is an error matching ErrWrongKey.
//   - No function logs or prints; no error contains plaintext.
package agefile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"filippo.io/age"

	"github.com/mcpcred/mcpcred/backends/file"
)

// ErrWrongKey reports that no identity given (key or passphrase) opens the file.
var ErrWrongKey = errors.New("the key or passphrase does not open it")

// maxSize bounds what Read loads: far above any credential file, far below memory.
const maxSize = 64 << 20

// File is one age file and the lock file that guards it. It holds no open files
// and is safe for concurrent use.
type File struct {
	path     string
	lockPath string
	timeout  time.Duration
}

// New returns the File at path, guarded by the lock file at lockPath, with Update
// waiting up to timeout for the lock. Nothing is touched on disk.
func New(path, lockPath string, timeout time.Duration) *File {
	return &File{path: path, lockPath: lockPath, timeout: timeout}
}

// Path returns the file's path.
func (f *File) Path() string { return f.path }

// LockPath returns the lock file's path.
func (f *File) LockPath() string { return f.lockPath }

// Exists reports whether the file is there now.
func (f *File) Exists() bool {
	_, err := os.Lstat(f.path)
	return err == nil
}

// ReadRaw returns the file's ciphertext.
func (f *File) ReadRaw() ([]byte, error) {
	fi, err := os.Lstat(f.path)
	if err != nil {
		return nil, err // names the path; matches fs.ErrNotExist when absent
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (a symlink is not followed)", f.path)
	}
	fh, err := os.Open(f.path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", f.path, err)
	}
	if len(data) > maxSize {
		return nil, fmt.Errorf("%s is over %d bytes; not a credential file", f.path, maxSize)
	}
	return data, nil
}

// Read returns the file's plaintext, decrypted with the first identity that opens it.
func (f *File) Read(ids ...age.Identity) ([]byte, error) {
	data, err := f.ReadRaw()
	if err != nil {
		return nil, err
	}
	plain, err := Decrypt(data, ids...)
	if err != nil {
		return nil, fmt.Errorf("decrypting %s: %w", f.path, err)
	}
	return plain, nil
}

// Keys returns, while the lock is held, the identities that open the file and the
// recipient to write it to; exists reports whether there is a file now. Getting
// them under the lock lets a caller create a key on first use without racing
// another writer that creates a different one.
type Keys func(exists bool) (ids []age.Identity, r age.Recipient, err error)

// Update runs one locked read-modify-write. fn gets the plaintext (nil when there
// is no file) and returns the new plaintext and whether it changed; if it changed,
// it is encrypted to the recipient from keys and written. An error of keys or fn
// is returned unchanged and nothing is written.
func (f *File) Update(keys Keys, fn func(plain []byte) ([]byte, bool, error)) (err error) {
	return f.locked(func() error {
		ids, r, err := keys(f.Exists())
		if err != nil {
			return err
		}
		plain, err := f.Read(ids...)
		if errors.Is(err, fs.ErrNotExist) {
			plain, err = nil, nil
		}
		if err != nil {
			return err
		}
		next, changed, err := fn(plain)
		if err != nil || !changed {
			return err
		}
		return f.write(r, next)
	})
}

// With returns Keys that always give id and r.
func With(id age.Identity, r age.Recipient) Keys {
	return func(bool) ([]age.Identity, age.Recipient, error) { return []age.Identity{id}, r, nil }
}

// Create writes plain encrypted to r, under the lock, only if there is no file yet;
// otherwise it returns an error matching fs.ErrExist and leaves the file alone.
func (f *File) Create(r age.Recipient, plain []byte) error {
	return f.locked(func() error {
		if _, err := os.Lstat(f.path); err == nil {
			return fmt.Errorf("%s: %w", f.path, fs.ErrExist)
		}
		return f.write(r, plain)
	})
}

func (f *File) locked(fn func() error) (err error) {
	unlock, err := file.Lock(f.lockPath, f.timeout)
	if err != nil {
		return err
	}
	defer func() {
		if uerr := unlock(); uerr != nil && err == nil {
			err = fmt.Errorf("unlocking %s: %w", f.lockPath, uerr)
		}
	}()
	return fn()
}

// Encrypt returns plain encrypted to r, in age's binary format.
func Encrypt(r age.Recipient, plain []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		return nil, fmt.Errorf("encrypting: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("encrypting: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypting: %w", err)
	}
	return buf.Bytes(), nil
}

// Decrypt returns the plaintext of an age blob (binary or armored is not
// distinguished: binary only), opened by the first identity that fits.
func Decrypt(data []byte, ids ...age.Identity) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(data), ids...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, ErrWrongKey
		}
		return nil, fmt.Errorf("not a readable age file: %w", err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("damaged age file: %w", err)
	}
	return plain, nil
}

func (f *File) write(r age.Recipient, plain []byte) error {
	data, err := Encrypt(r, plain)
	if err != nil {
		return err
	}
	if fi, err := os.Lstat(f.path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file (a symlink is not replaced)", f.path)
	}
	return file.WriteAtomic(f.path, data)
}
