// Package file keeps credentials in a crash-safe, locked file holding one JSON object,
// the format of Codex's `.credentials.json` (a Rust BTreeMap<String, Entry> written by
// serde_json). The caller produces each entry's exact JSON bytes; this package owns
// locking, atomicity, permissions and the bytes of the outer object.
//
// Contract:
//
//   - Format. The file is `{`, then for each key in byte order: the key as
//     protocol.AppendJSONString writes it, `:`, the entry's bytes, joined by `,`, then
//     `}`: no whitespace, no trailing newline. An entry's bytes are written as given
//     except that insignificant whitespace is removed (json.Compact), so compact
//     entries, such as every entry Codex writes, survive byte for byte, and entries
//     someone pretty-printed are compacted on the next write. Keys must be valid UTF-8
//     and entries valid JSON, or Update fails and writes nothing.
//   - Read takes no lock: every write is an atomic rename, so a reader sees the old
//     file or the new one, never a torn one. No file, or a file holding only
//     whitespace, reads as an empty map. A file that does not parse as a JSON object is
//     an error that names the path, never the content; Update refuses to overwrite it.
//     Put, which rewrites one entry of a file in the exact format without decoding
//     the others, refuses a file whose outer object is broken too, but carries an
//     entry whose content alone is broken (its extent clear) byte for byte.
//   - Update holds the exclusive lock on the lock file for the whole
//     read-modify-write, waiting up to the Store's timeout (then an error matching
//     ErrLockTimeout that names the lock file). Every writer of one file must use the
//     same lock file; Codex uses <CODEX_HOME>/mcp-oauth-locks/file-store.lock.
//   - Writes go to a temp file `.<name>.tmp-<random>` created O_EXCL with mode 0600 in
//     the file's directory, then fsync, rename over the file, fsync of the directory.
//     A crash at any instant leaves the old file or the new one. The file is 0600 after
//     every write, whatever mode it had before. On a failed write the temp file is
//     removed. A temp file is only ever present while its writer holds the lock, so
//     one found by a writer holding the lock belongs to a writer that died: Update
//     removes every such file (they hold secrets) before it writes.
//   - An Update that leaves the map empty removes the file.
//   - Missing directories (the file's and the lock file's) are created 0700; the mode
//     of an existing directory is left alone.
//   - Directories someone else controls are refused (ErrUnsafeDir), as ssh
//     refuses them for ~/.ssh: before Update or Lock writes anything, the file's
//     (or lock file's) directory and each directory above it, up to and including
//     the user's home directory (up to / when it is not under the home), with
//     symlinks resolved, must be owned by the user or root and not writable by
//     group or others; a root-owned sticky directory above it (/tmp) is allowed.
//     The error is one line naming the directory and the chown or chmod that
//     fixes it. A lock directory that is a symlink is refused too. Read checks
//     nothing: reading never leaves a secret behind. (Windows: no owner or mode
//     check; access there is the ACL of the user's profile.)
//   - Symlinks are not followed: if the file itself is a symlink (or anything but a
//     regular file), Read and Update fail with an error naming the path, rather than
//     read through it or replace the link with a plain file. Directories above it may
//     be symlinks.
//   - No function logs or prints, and no error contains an entry's content.
//
// Lock is exported for other lock files with the same semantics (the per-credential
// refresh lock): flock(LOCK_EX) on Unix, LockFileEx on Windows, both the locks Rust's
// File::try_lock takes, so Codex and mcpcred exclude each other. The lock dies with
// its holder's process, so a lock file left by a killed process never blocks, and
// lock files are never deleted (deleting one while another process waits on it would
// let two processes hold "the" lock at once).
package file

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mcpcred/mcpcred/backends/dirsafe"
	"github.com/mcpcred/mcpcred/protocol"
)

// Store is one JSON-object file and the lock file that guards it. A Store holds no
// open files and is safe to use from several goroutines; Updates from goroutines,
// Stores or processes that share the lock file run one at a time.
type Store struct {
	path     string
	lockPath string
	timeout  time.Duration
}

// New returns the Store for the file at path, guarded by the lock file at lockPath,
// with Update waiting up to timeout for the lock. Nothing is touched on disk.
func New(path, lockPath string, timeout time.Duration) *Store {
	return &Store{path: path, lockPath: lockPath, timeout: timeout}
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// LockPath returns the lock file's path.
func (s *Store) LockPath() string { return s.lockPath }

// Exists reports whether the file is there now, so that a caller with nothing to
// remove can skip taking the lock.
func (s *Store) Exists() bool {
	_, err := os.Lstat(s.path)
	return err == nil
}

// Read returns the entries of the file, keyed by store key, each the entry's JSON
// bytes as found in the file. No file is an empty map and no error.
func (s *Store) Read() (map[string]json.RawMessage, error) {
	data, err := s.readFile()
	if err != nil {
		return nil, err
	}
	return s.parse(data)
}

// Update runs one locked read-modify-write. It takes the lock, reads the file, and
// calls fn with its entries; fn changes the map in place and reports whether it did.
// If fn returns an error, Update returns it unchanged and writes nothing. If fn
// reports a change, Update writes the map (or removes the file when the map is
// empty) before releasing the lock.
func (s *Store) Update(fn func(entries map[string]json.RawMessage) (changed bool, err error)) (err error) {
	unlock, err := s.lockForWrite()
	if err != nil {
		return err
	}
	defer func() {
		if uerr := unlock(); uerr != nil && err == nil {
			err = fmt.Errorf("unlocking %s: %w", s.lockPath, uerr)
		}
	}()

	data, err := s.readFile()
	if err != nil {
		return err
	}
	return s.updateLocked(data, fn)
}

// lockForWrite is how every write starts: the file's directory is checked by the
// directory rules before the lock (whose own directory Lock checks) is taken.
func (s *Store) lockForWrite() (unlock func() error, err error) {
	if err := dirsafe.Check(filepath.Dir(s.path)); err != nil {
		return nil, err
	}
	return Lock(s.lockPath, s.timeout)
}

// updateLocked is Update once the lock is held and the file's bytes are read.
func (s *Store) updateLocked(data []byte, fn func(entries map[string]json.RawMessage) (bool, error)) error {
	entries, err := s.parse(data)
	if err != nil {
		return err
	}
	changed, err := fn(entries)
	if err != nil || !changed {
		return err
	}
	dir := filepath.Dir(s.path)
	// We hold the lock, so any temp file of ours is a dead writer's.
	RemoveStaleTemps(s.path)
	if len(entries) == 0 {
		if err := os.Remove(s.path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return fmt.Errorf("removing %s: %w", s.path, err)
		}
		return syncDir(dir)
	}
	out, err := Encode(entries)
	if err != nil {
		return fmt.Errorf("writing %s: %w", s.path, err)
	}
	return writeAtomic(s.path, func(tmp *os.File) error {
		_, err := tmp.Write(out)
		return err
	})
}

// Put stores entry under key in one locked write, as Update would with
// entries[key] = entry, but without decoding the file: when the file is in the
// format of the package doc (no whitespace outside strings, keys in strictly
// increasing byte order and written as this package writes them, the common case
// of every file mcpcred or Codex wrote), the new file is the old one's bytes with
// the member under key replaced, or the new member spliced in at its sorted place,
// and nothing else is decoded or re-encoded. The old file is scanned in windows
// (see Lookup) and its bytes are copied file to file, so memory stays bounded by a
// window and the largest entry, whatever the file's size. Entries other than key's
// are carried byte for byte; only their extent is checked, not their content. A
// file in any other form (pretty-printed, hand-edited) goes through Update, which
// decodes, checks and rewrites all of it. keep, when not nil, sees the entry now
// under key and returns true to leave the file as it is. Put reports whether it
// wrote.
func (s *Store) Put(key string, entry []byte, keep func(old []byte) bool) (changed bool, err error) {
	if !utf8.ValidString(key) {
		return false, fmt.Errorf("writing %s: store key %q is not valid UTF-8", s.path, key)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, entry); err != nil {
		return false, fmt.Errorf("writing %s: entry %q is not valid JSON", s.path, key)
	}
	unlock, err := s.lockForWrite()
	if err != nil {
		return false, err
	}
	defer func() {
		if uerr := unlock(); uerr != nil && err == nil {
			err = fmt.Errorf("unlocking %s: %w", s.lockPath, uerr)
		}
	}()
	f, size, err := s.open()
	if err != nil {
		return false, err
	}
	sp, ok := spliced{empty: true}, true // no file
	if f != nil {
		defer f.Close()
		w := &window{r: f, buf: make([]byte, 0, min(size+1, int64(readChunk)))}
		sp, ok = w.splice(key)
		if w.err != nil {
			return false, fmt.Errorf("reading %s: %w", s.path, w.err)
		}
	}
	if f != nil && (!ok || sp.empty) {
		// Closed before the rename over it: Windows may refuse to replace an open file.
		f.Close()
		f = nil
	}
	if !ok {
		data, err := s.readFile()
		if err != nil {
			return false, err
		}
		err = s.updateLocked(data, func(entries map[string]json.RawMessage) (bool, error) {
			if old, in := entries[key]; in && keep != nil && keep(old) {
				return false, nil
			}
			entries[key] = compact.Bytes()
			changed = true
			return true, nil
		})
		return changed, err
	}
	if sp.found && keep != nil && keep(sp.old) {
		return false, nil
	}
	var mid []byte
	if sp.found {
		mid = compact.Bytes()
	} else {
		if sp.comma == commaBefore {
			mid = append(mid, ',')
		}
		mid = protocol.AppendJSONString(mid, key)
		mid = append(mid, ':')
		mid = append(mid, compact.Bytes()...)
		if sp.comma == commaAfter {
			mid = append(mid, ',')
		}
	}
	RemoveStaleTemps(s.path)
	return true, writeAtomic(s.path, func(tmp *os.File) error {
		if f == nil {
			_, err := tmp.Write(slices.Concat([]byte("{"), mid, []byte("}")))
			return err
		}
		// File to file: the kernel copies (copy_file_range) where it can.
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if _, err := io.Copy(tmp, io.LimitReader(f, sp.start)); err != nil {
			return err
		}
		if _, err := tmp.Write(mid); err != nil {
			return err
		}
		if _, err := f.Seek(sp.end, io.SeekStart); err != nil {
			return err
		}
		if _, err := io.Copy(tmp, f); err != nil {
			return err
		}
		// Closed before the rename over it: Windows may refuse to replace an open file.
		return f.Close()
	})
}

// Where splice's new member needs a comma.
const (
	commaNone = iota
	commaBefore
	commaAfter
)

// spliced says where a Put's bytes go: the file's bytes [start, end) are replaced.
// When found, that is the value of the member under the key, and old a copy of it;
// otherwise start == end is where a new member goes, with a comma as comma says.
type spliced struct {
	start, end int64
	found      bool
	old        []byte
	comma      int
	empty      bool // no file, or an empty one: the new member is the object
}

// splice scans the whole file in the window for where key's member is, or goes.
// ok is false unless the file is in the exact format of the package doc (or
// empty), in which case the caller decodes and re-encodes instead.
func (w *window) splice(key string) (sp spliced, ok bool) {
	for len(w.buf) < 2 && w.more(0) {
	}
	if len(w.buf) == 0 {
		return spliced{empty: true}, w.err == nil
	}
	if len(w.buf) < 2 || w.buf[0] != '{' {
		return sp, false
	}
	if w.buf[1] == '}' {
		return spliced{start: 1, end: 1}, w.endsAt(2)
	}
	placed := false
	var prev []byte
	for i := 1; ; {
		m, st := scanMember(w.buf, i)
		if st == short && w.more(i) {
			i = 0
			continue
		}
		if st != done || m.spaced || m.escaped {
			return sp, false
		}
		k := w.buf[m.keyStart+1 : m.keyEnd-1]
		if prev != nil && bytes.Compare(prev, k) >= 0 || !utf8.Valid(k) || hasControl(k) {
			return sp, false // out of order, or not as AppendJSONString writes it
		}
		prev = append(prev[:0], k...)
		if !placed {
			switch c := bytes.Compare(k, []byte(key)); {
			case c == 0:
				sp = spliced{start: w.base + int64(m.valStart), end: w.base + int64(m.valEnd), found: true,
					old: bytes.Clone(w.buf[m.valStart:m.valEnd])}
				placed = true
			case c > 0:
				at := w.base + int64(m.keyStart)
				sp, placed = spliced{start: at, end: at, comma: commaAfter}, true
			}
		}
		if m.last {
			if !placed {
				at := w.base + int64(m.next) - 1 // the closing '}'
				sp = spliced{start: at, end: at, comma: commaBefore}
			}
			return sp, w.endsAt(m.next)
		}
		i = m.next
	}
}

// endsAt reports whether r ends at buf[i], with nothing (not even whitespace) after.
func (w *window) endsAt(i int) bool {
	if i != len(w.buf) {
		return false
	}
	for w.more(i) {
		if len(w.buf) > 0 {
			return false
		}
		i = 0
	}
	return w.err == nil
}

// hasControl reports a byte AppendJSONString would have escaped (the quote and
// backslash cannot occur in an unescaped key).
func hasControl(k []byte) bool {
	for _, c := range k {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// Encode returns the file's bytes for entries: the format of the package doc.
func Encode(entries map[string]json.RawMessage) ([]byte, error) {
	keys := make([]string, 0, len(entries))
	size := 2
	for k, v := range entries {
		if !utf8.ValidString(k) {
			return nil, fmt.Errorf("store key %q is not valid UTF-8", k)
		}
		keys = append(keys, k)
		size += len(k) + len(v) + 4
	}
	sort.Strings(keys) // byte order, as Rust's BTreeMap<String, _>
	buf := bytes.NewBuffer(make([]byte, 0, size))
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(protocol.AppendJSONString(buf.AvailableBuffer(), k))
		buf.WriteByte(':')
		if err := json.Compact(buf, entries[k]); err != nil {
			// json's message may quote a byte of the entry: leave it out.
			return nil, fmt.Errorf("entry %q is not valid JSON", k)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// readFile reads the whole file in one read of its size (and one more to see its
// end). No file is nil and no error.
func (s *Store) readFile() ([]byte, error) {
	f, size, err := s.open()
	if err != nil || f == nil {
		return nil, err
	}
	defer f.Close()
	w := &window{r: f, buf: make([]byte, 0, size+1)}
	for w.more(0) {
	}
	if w.err != nil {
		return nil, fmt.Errorf("reading %s: %w", s.path, w.err)
	}
	return w.buf, nil
}

func checkRegular(path string, fi fs.FileInfo) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symlink; refusing to follow it (replace it with the file it points to)", path)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", path)
	}
	return nil
}

func (s *Store) parse(data []byte) (map[string]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	var m map[string]json.RawMessage
	// The error of Unmarshal can quote content: report the path only.
	if trimmed[0] != '{' || json.Unmarshal(trimmed, &m) != nil || m == nil {
		return nil, fmt.Errorf("%s is not a valid JSON object; fix or move it aside", s.path)
	}
	return m, nil
}

func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// WriteAtomic replaces path with data so that a crash at any instant leaves
// either the old file or the new one, whole: the data goes to a temp file beside
// it (".<name>.tmp-<random>", 0600 exactly), is fsynced, renamed over path, and
// the directory is fsynced. The directory is created 0700 if missing, and the
// temp files of writers that died are removed first. The caller holds path's
// lock: every writer of path must, or a live writer's temp file could go.
func WriteAtomic(path string, data []byte) error {
	RemoveStaleTemps(path)
	return writeAtomic(path, func(tmp *os.File) error {
		_, err := tmp.Write(data)
		return err
	})
}

// writeAtomic makes path's new content what fill writes to a temp file beside
// it, as WriteAtomic says; it removes no stale temp file (the caller does, under
// the lock).
func writeAtomic(path string, fill func(tmp *os.File) error) (err error) {
	dir := filepath.Dir(path)
	if err := mkdirPrivate(dir); err != nil {
		return err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:]) // never fails
	tmp := filepath.Join(dir, tempPrefix(path)+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("creating temp file in %s: %w", dir, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if unixPerms {
		// The umask may have taken bits away; 0600 exactly.
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("chmod %s: %w", tmp, err)
		}
	}
	if err := fill(f); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	if err := renameReplace(tmp, path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	renamed = true
	return syncDir(dir)
}

// RemoveStaleTemps removes the temp files WriteAtomic left beside path when its
// writer died. The caller holds path's lock. Errors are ignored: a leftover is
// retried by the next writer.
func RemoveStaleTemps(path string) {
	dir := filepath.Dir(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := tempPrefix(path)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) && !e.IsDir() {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// Status describes the file for `doctor`. It never reads entries.
type Status struct {
	Path      string
	Exists    bool
	Mode      fs.FileMode // permission bits of the file, when it exists
	DirExists bool
	DirMode   fs.FileMode // permission bits of its directory, when it exists
	DirOwner  string      // its directory's owner ("uid 1000 (alice)"), where the OS has owners
	Problems  []string    // what is wrong with the file, one sentence each, or none
	// DirProblems is what is wrong with its directory, apart from Problems:
	// stores that share a directory share these, and doctor says them once.
	DirProblems []string
}

// Status reports whether the file exists and what is wrong with its type and
// permissions (group or other access, a symlink, not a regular file). Unix
// permissions are checked only where the OS has them (unixPerms, per OS file).
func (s *Store) Status() Status {
	st := Status{Path: s.path}
	checkPerm := unixPerms
	dir := filepath.Dir(s.path)
	if fi, err := os.Stat(dir); err == nil {
		st.DirExists = true
		st.DirMode = fi.Mode().Perm()
		st.DirOwner = dirsafe.Owner(fi)
		if err := dirsafe.Check(dir); err != nil {
			st.DirProblems = append(st.DirProblems, err.Error())
		} else if checkPerm && st.DirMode&0o077 != 0 {
			st.DirProblems = append(st.DirProblems, fmt.Sprintf("directory %s has mode %04o; others can list it (0700 recommended)", dir, st.DirMode))
		}
	}
	fi, err := os.Lstat(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return st
	case err != nil:
		st.Problems = append(st.Problems, err.Error())
		return st
	}
	st.Exists = true
	st.Mode = fi.Mode().Perm()
	if err := checkRegular(s.path, fi); err != nil {
		st.Problems = append(st.Problems, err.Error())
	} else if checkPerm && st.Mode&0o077 != 0 {
		st.Problems = append(st.Problems, fmt.Sprintf("%s has mode %04o; others can read it (0600 expected)", s.path, st.Mode))
	}
	return st
}
