package file

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"unicode/utf8"
)

// readChunk bounds the bytes a Lookup holds at once, beyond the entry it returns:
// a file up to this size is read in one read of its size, a larger one in windows
// of this size. A variable so that tests can make it small.
var readChunk = 64 << 10

// Lookup returns the entry stored under key and whether there is one. It walks only
// the structure of the outer object, in one read of the file's size (in windows of
// readChunk bytes for a larger file), and stops at the entry: the other entries are
// skipped, not decoded, so a get costs one pass over the bytes before the entry and
// holds in memory a window (grown only for a member larger than it). The entry returned is
// checked to be valid JSON; the rest of the file is only checked to be an object
// up to the entry, or to its end on a miss (Read and Update check the whole file,
// and Update refuses to overwrite a broken one). Of duplicate keys the first wins.
func (s *Store) Lookup(key string) (json.RawMessage, bool, error) {
	f, size, err := s.open()
	if err != nil || f == nil {
		return nil, false, err
	}
	defer f.Close()
	w := &window{r: f, buf: make([]byte, 0, min(size+1, int64(readChunk)))}
	raw, found, ok := w.lookup(key)
	if w.err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", s.path, w.err)
	}
	if !ok {
		return nil, false, fmt.Errorf("%s is not a valid JSON object; fix or move it aside", s.path)
	}
	return raw, found, nil
}

// lookup finds key among the members of the JSON object in data. ok is false when
// the outer structure is broken.
func lookup(data []byte, key string) (raw []byte, found, ok bool) {
	w := &window{buf: data, eof: true}
	return w.lookup(key)
}

// window holds buf, the bytes of r not yet consumed. When a scan runs off its end
// before r's end, more drops what was consumed, reads on, and the scan is retried;
// buf grows only when one member does not fit.
type window struct {
	r    io.Reader
	buf  []byte
	base int64 // the offset in r of buf[0]
	eof  bool  // buf holds everything up to the end of r
	err  error // a read error; it ends the scan
}

// more drops buf[:from] and reads more into buf, growing it if it is full. It
// reports false at the end of r (or on an error, kept in w.err).
func (w *window) more(from int) bool {
	if w.eof {
		return false
	}
	n := copy(w.buf, w.buf[from:])
	w.buf = w.buf[:n]
	w.base += int64(from)
	if n == cap(w.buf) {
		w.buf = append(w.buf, make([]byte, max(cap(w.buf), 4096))...)[:n]
	}
	for n < cap(w.buf) {
		m, err := w.r.Read(w.buf[n:cap(w.buf)])
		n += m
		w.buf = w.buf[:n]
		if errors.Is(err, io.EOF) {
			w.eof = true
			break
		}
		if err != nil {
			w.err = err
			return false
		}
		if m == 0 {
			break
		}
	}
	return true
}

// lookup scans the object in the window for key, reading on as it goes.
func (w *window) lookup(key string) (raw []byte, found, ok bool) {
	i, st := openObject(w.buf)
	for st == short {
		if !w.more(0) {
			// Nothing but whitespace to the end: an empty file holds nothing.
			return nil, false, w.err == nil && skipSpace(w.buf, 0) == len(w.buf)
		}
		i, st = openObject(w.buf)
	}
	if st == bad {
		return nil, false, false
	}
	if i < len(w.buf) && w.buf[i] == '}' {
		return nil, false, w.atEnd(i + 1)
	}
	for {
		m, st := scanMember(w.buf, i)
		switch st {
		case short:
			if !w.more(i) {
				return nil, false, false
			}
			i = 0
			continue
		case bad:
			return nil, false, false
		}
		if m.keyIs(w.buf, key) {
			v := w.buf[m.valStart:m.valEnd]
			return v, true, json.Valid(v)
		}
		if m.last {
			return nil, false, w.atEnd(m.next)
		}
		i = m.next
	}
}

// atEnd reports whether only whitespace follows buf[:i] to the end of r.
func (w *window) atEnd(i int) bool {
	for {
		i = skipSpace(w.buf, i)
		if i < len(w.buf) {
			return false
		}
		if !w.more(i) {
			return w.err == nil
		}
		i = 0
	}
}

// status is the outcome of scanning a piece of the outer object.
type status int

const (
	done  status = iota
	short        // ran off the end of the bytes at hand: read more and retry
	bad          // not a JSON object
)

// openObject skips the whitespace and '{' that open the object, and the whitespace
// after it; i is where the first member (or the closing '}') starts.
func openObject(data []byte) (i int, st status) {
	i = skipSpace(data, 0)
	if i == len(data) {
		return i, short
	}
	if data[i] != '{' {
		return i, bad
	}
	i = skipSpace(data, i+1)
	if i == len(data) {
		return i, short
	}
	return i, done
}

// member locates one "key":value member of the outer object.
type member struct {
	keyStart, keyEnd int  // the key's quotes included
	escaped          bool // the key holds a backslash escape
	valStart, valEnd int
	last             bool // the object's closing '}' follows
	next             int  // past the ',' (and whitespace) or the '}'
	spaced           bool // whitespace outside strings somewhere in the member
}

// keyIs reports whether the member's key decodes to key. A key holding invalid
// UTF-8 is decoded as encoding/json decodes it (each bad byte becomes U+FFFD), so
// that Lookup agrees with Read and Update on which member a key names.
func (m *member) keyIs(data []byte, key string) bool {
	k := data[m.keyStart+1 : m.keyEnd-1]
	if !m.escaped && utf8.Valid(k) {
		return string(k) == key
	}
	var s string
	return json.Unmarshal(data[m.keyStart:m.keyEnd], &s) == nil && s == key
}

// scanMember scans the member that starts at data[i], through the ',' or '}' after
// its value. short means the bytes ran out before that; bad, that the structure is
// broken whatever follows.
func scanMember(data []byte, i int) (m member, st status) {
	if i >= len(data) {
		return m, short
	}
	if data[i] != '"' {
		return m, bad
	}
	m.keyStart = i
	m.keyEnd, m.escaped = skipString(data, i)
	if m.keyEnd < 0 {
		return m, short
	}
	j := skipSpace(data, m.keyEnd)
	m.spaced = j != m.keyEnd
	if j == len(data) {
		return m, short
	}
	if data[j] != ':' {
		return m, bad
	}
	m.valStart = skipSpace(data, j+1)
	m.spaced = m.spaced || m.valStart != j+1
	end, spaced, st := skipValue(data, m.valStart)
	if st != done {
		return m, st
	}
	m.valEnd = end
	m.spaced = m.spaced || spaced
	j = skipSpace(data, end)
	m.spaced = m.spaced || j != end
	if j == len(data) {
		return m, short
	}
	switch data[j] {
	case ',':
		m.next = skipSpace(data, j+1)
		m.spaced = m.spaced || m.next != j+1
		if m.next == len(data) {
			return m, short
		}
	case '}':
		m.last, m.next = true, j+1
	default:
		return m, bad
	}
	return m, done
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

// skipString returns the index just past the string that starts at data[i] ('"'),
// or -1 if it does not end within data, and whether it holds an escape. Strings
// are most of a file's bytes, so it jumps from quote to quote.
func skipString(data []byte, i int) (int, bool) {
	escaped := false
	j := i + 1
	for {
		q := bytes.IndexByte(data[j:], '"')
		if q < 0 {
			return -1, escaped
		}
		q += j
		if bytes.IndexByte(data[j:q], '\\') < 0 {
			return q + 1, escaped
		}
		escaped = true
		// The quote ends the string unless an odd run of backslashes precedes it.
		n := 0
		for k := q - 1; k > i && data[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, escaped
		}
		j = q + 1
	}
}

// skipValue returns the index just past the value that starts at data[i], and
// whether whitespace occurs in it outside strings. Nested objects and arrays are
// skipped by depth, strings by their quotes; the value's own validity is checked
// by the caller if it is used.
func skipValue(data []byte, i int) (end int, spaced bool, st status) {
	if i >= len(data) {
		return 0, false, short
	}
	switch data[i] {
	case '"':
		end, _ := skipString(data, i)
		if end < 0 {
			return 0, false, short
		}
		return end, false, done
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch c := data[j]; c {
			case '"':
				end, _ := skipString(data, j)
				if end < 0 {
					return 0, spaced, short
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, spaced, done
				}
			default:
				spaced = spaced || isSpace(c)
			}
		}
		return 0, spaced, short
	case ',', '}', ']', ':':
		return 0, false, bad
	}
	j := i
	for j < len(data) && data[j] != ',' && data[j] != '}' && data[j] != ']' && !isSpace(data[j]) {
		j++
	}
	if j == len(data) {
		return 0, false, short
	}
	return j, false, done
}

// open opens the file for reading without following a symlink, and returns its
// size. No file is a nil *os.File and no error.
func (s *Store) open() (*os.File, int64, error) {
	fi, err := os.Lstat(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	if err := checkRegular(s.path, fi); err != nil {
		return nil, 0, err
	}
	f, err := openNoFollow(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil // removed since the Lstat
	}
	if err != nil {
		return nil, 0, fmt.Errorf("opening %s: %w", s.path, err)
	}
	if fi, err = f.Stat(); err != nil {
		f.Close()
		return nil, 0, err
	}
	if err := checkRegular(s.path, fi); err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}
