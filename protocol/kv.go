package protocol

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Read reads one kv request from r, up to the first blank line or EOF. See the
// package doc for the rules. Errors for bad input match ErrBadRequest; nothing of a
// rejected request is returned.
func Read(r io.Reader) (*Message, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	s, err := readRequest(br)
	if err != nil {
		return nil, err
	}
	return parseKV(s)
}

// readRequest returns the bytes of the request: every line up to, not including,
// the blank line or EOF that ends it. It never holds or reads more than
// MaxRequestSize bytes of request plus one buffer.
func readRequest(br *bufio.Reader) (string, error) {
	var raw strings.Builder // its String does not copy
	lineStart := true
	for {
		chunk, err := br.ReadSlice('\n')
		if lineStart && err == nil && (len(chunk) == 1 || len(chunk) == 2 && chunk[0] == '\r') {
			return raw.String(), nil // blank line: "\n" or "\r\n"
		}
		if raw.Len()+len(chunk) > MaxRequestSize {
			return "", badLine(0, fmt.Sprintf("request is over %d bytes (1 MiB): send one credential per request", MaxRequestSize))
		}
		if raw.Cap() == 0 {
			// Usually the whole request is in the buffer already: one allocation.
			raw.Grow(min(len(chunk)+br.Buffered(), MaxRequestSize))
		}
		raw.Write(chunk)
		switch {
		case err == nil:
			lineStart = true
		case errors.Is(err, bufio.ErrBufferFull):
			lineStart = false // a long line: keep reading it, never split it
		case errors.Is(err, io.EOF):
			return raw.String(), nil
		default:
			return "", fmt.Errorf("reading request: %w", err)
		}
	}
}

// parseKV parses the request bytes that readRequest found: no blank line inside.
func parseKV(s string) (*Message, error) {
	m := &Message{ents: make([]entry, 0, strings.Count(s, "\n")+1)}
	for n := 1; s != ""; n++ {
		var line string
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			line, s = s, ""
		}
		// One CR before LF, or at the very end of input, is dropped.
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break // only possible for a lone CR at EOF
		}
		if strings.IndexByte(line, 0) >= 0 {
			return nil, badLine(n, "NUL byte: a request is lines of text")
		}
		eq := strings.IndexByte(line, '=')
		if eq < 0 {
			return nil, badLine(n, `no "=" (every line must be key=value)`)
		}
		key, val := line[:eq], line[eq+1:]
		if strings.IndexByte(key, '\r') >= 0 {
			return nil, badLine(n, "CR inside a key: keys and values cannot hold line breaks")
		}
		if strings.IndexByte(val, '\r') >= 0 {
			return nil, badKeyLine(n, key, "CR inside the value: values cannot hold line breaks")
		}
		m.Add(key, val)
	}
	return m, nil
}

// Write writes m in kv format to w: one key=value line per value, LF only. If any
// key or value cannot be printed safely it writes nothing and returns an error
// matching ErrUnwritable.
func (m *Message) Write(w io.Writer) error {
	if m == nil {
		return nil
	}
	if err := m.check(false); err != nil {
		return err
	}
	n := 0
	for i := range m.ents {
		e := &m.ents[i]
		if e.set {
			n += len(e.key) + len(e.val) + 2
		}
		for _, v := range e.list {
			n += len(e.key) + len(v) + 2
		}
	}
	if n == 0 {
		return nil
	}
	b := make([]byte, 0, n)
	for i := range m.ents {
		e := &m.ents[i]
		if e.set {
			b = append(b, e.key...)
			b = append(b, '=')
			b = append(b, e.val...)
			b = append(b, '\n')
		}
		for _, v := range e.list {
			b = append(b, e.key...)
			b = append(b, '=')
			b = append(b, v...)
			b = append(b, '\n')
		}
	}
	_, err := w.Write(b)
	return err
}

// check reports the first key or value that cannot be printed: LF, CR or NUL
// anywhere, "=" in a key, and, for JSON, invalid UTF-8.
func (m *Message) check(jsonOut bool) error {
	if m == nil {
		return nil
	}
	for i := range m.ents {
		e := &m.ents[i]
		if !e.present() {
			continue
		}
		if strings.ContainsAny(e.key, "=\n\r\x00") {
			return unwritable("", false, `a key holds "=", LF, CR or NUL`)
		}
		if jsonOut && !utf8.ValidString(e.key) {
			return unwritable("", false, "a key is not valid UTF-8")
		}
		if e.set {
			if err := checkValue(e.key, e.val, jsonOut); err != nil {
				return err
			}
		}
		for _, v := range e.list {
			if v == "" {
				return unwritable(e.key, true, "empty list entry") // unreachable through the API
			}
			if err := checkValue(e.key, v, jsonOut); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkValue(key, v string, jsonOut bool) error {
	if strings.ContainsAny(v, "\n\r\x00") {
		return unwritable(key, true, "the value holds LF, CR or NUL")
	}
	if jsonOut && !utf8.ValidString(v) {
		return unwritable(key, true, "the value is not valid UTF-8")
	}
	return nil
}
