package protocol

import (
	"bytes"
	"fmt"
	"io"
)

// Format is a wire format: kv (git's key=value lines) or json (one object a
// line). Both carry the same Messages, with the same checks.
type Format string

// The two wire formats.
const (
	KV   Format = "kv"
	JSON Format = "json"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case KV, JSON:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q: use kv or json", s)
}

// Read reads one request in format f.
func (f Format) Read(r io.Reader) (*Message, error) {
	if f == JSON {
		return ReadJSON(r)
	}
	return Read(r)
}

// Write writes msgs in format f: kv messages separated by a blank line, JSON
// messages one a line. It writes nothing unless every message can be written,
// and then returns the error of the first that cannot (matching ErrUnwritable).
func (f Format) Write(w io.Writer, msgs ...*Message) error {
	var buf bytes.Buffer
	for i, m := range msgs {
		var err error
		if f == JSON {
			err = m.WriteJSON(&buf)
		} else {
			if i > 0 {
				buf.WriteByte('\n')
			}
			err = m.Write(&buf)
		}
		if err != nil {
			return err
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}
