package protocol

import (
	"errors"
	"strconv"
	"strings"
)

// MaxRequestSize is the largest request, in bytes, that Read and ReadJSON accept.
const MaxRequestSize = 1 << 20

var (
	// ErrBadRequest is matched by every error Read and ReadJSON return for input that
	// breaks the wire format. The caller exits with status 2.
	ErrBadRequest = errors.New("bad request")
	// ErrUnwritable is matched by every error Write and WriteJSON return for a message
	// they refuse to print: a key or value with LF, CR or NUL, a key with "=", or (JSON
	// only) a string that is not valid UTF-8.
	ErrUnwritable = errors.New("refusing to print")
)

// Error describes bad input or a message that cannot be written. It never holds a
// value, only where the problem is and what it is.
type Error struct {
	Err    error  // ErrBadRequest or ErrUnwritable
	Line   int    // 1-based line of kv input, or 0
	Offset int    // 1-based byte offset in JSON input, or 0
	Key    string // the key concerned, when HasKey
	HasKey bool
	Reason string // what is wrong, without any value
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	b.WriteString(": ")
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Offset > 0 {
		b.WriteString("JSON byte ")
		b.WriteString(strconv.Itoa(e.Offset))
		b.WriteString(": ")
	}
	if e.HasKey {
		b.WriteString("key ")
		b.WriteString(quoteKey(e.Key))
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Unwrap returns ErrBadRequest or ErrUnwritable.
func (e *Error) Unwrap() error { return e.Err }

// quoteKey quotes a key for a message: control characters and invalid UTF-8
// escaped, at most 64 bytes of it shown.
func quoteKey(k string) string {
	const max = 64
	if len(k) > max {
		cut := max
		for cut > 0 && k[cut]&0xC0 == 0x80 { // do not cut inside a rune
			cut--
		}
		return strconv.Quote(k[:cut]) + "..."
	}
	return strconv.Quote(k)
}

func badLine(line int, reason string) error {
	return &Error{Err: ErrBadRequest, Line: line, Reason: reason}
}

func badKeyLine(line int, key, reason string) error {
	return &Error{Err: ErrBadRequest, Line: line, Key: key, HasKey: true, Reason: reason}
}

func unwritable(key string, hasKey bool, reason string) error {
	return &Error{Err: ErrUnwritable, Key: key, HasKey: hasKey, Reason: reason}
}
