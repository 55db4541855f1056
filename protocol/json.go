package protocol

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ReadJSON reads one request in JSON format from r: one object, read up to its
// closing brace and no further (beyond buffering). See the package doc for the
// rules. Errors for bad input match ErrBadRequest.
func ReadJSON(r io.Reader) (*Message, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	p := jsonParser{br: br}
	m, err := p.object()
	clear(p.buf)
	return m, err
}

type jsonParser struct {
	br    *bufio.Reader
	n     int    // bytes consumed
	buf   []byte // scratch for strings
	key   string // key being read, for messages
	inKey bool
}

func (p *jsonParser) fail(reason string) error {
	e := &Error{Err: ErrBadRequest, Offset: p.n, Reason: reason}
	if p.inKey {
		e.Key, e.HasKey = p.key, true
	}
	return e
}

func (p *jsonParser) next() (byte, error) {
	c, err := p.br.ReadByte()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, p.fail("unexpected end of input")
		}
		return 0, fmt.Errorf("reading request: %w", err)
	}
	p.n++
	if p.n > MaxRequestSize {
		return 0, &Error{Err: ErrBadRequest, Reason: fmt.Sprintf("request is over %d bytes (1 MiB)", MaxRequestSize)}
	}
	return c, nil
}

// nextToken skips white space and returns the next byte.
func (p *jsonParser) nextToken() (byte, error) {
	for {
		c, err := p.next()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c, nil
	}
}

func (p *jsonParser) object() (*Message, error) {
	c, err := p.nextToken()
	if err != nil {
		var e *Error
		if errors.As(err, &e) && p.n == 0 {
			return nil, p.fail("empty input: expected one JSON object")
		}
		return nil, err
	}
	if c != '{' {
		return nil, p.fail("expected a JSON object")
	}
	m := &Message{}
	var seen map[string]struct{}
	c, err = p.nextToken()
	if err != nil {
		return nil, err
	}
	if c == '}' {
		return m, nil
	}
	for {
		if c != '"' {
			return nil, p.fail("expected a string key")
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if strings.ContainsAny(key, "=\n\r\x00") {
			return nil, p.fail(`a key holds "=", LF, CR or NUL`)
		}
		p.key, p.inKey = key, true
		if _, dup := seen[key]; dup {
			return nil, p.fail("duplicate key")
		}
		if seen == nil {
			seen = make(map[string]struct{})
		}
		seen[key] = struct{}{}
		if c, err = p.nextToken(); err != nil {
			return nil, err
		}
		if c != ':' {
			return nil, p.fail(`expected ":" after the key`)
		}
		if c, err = p.nextToken(); err != nil {
			return nil, err
		}
		if err := p.value(m, key, c); err != nil {
			return nil, err
		}
		p.inKey = false
		if c, err = p.nextToken(); err != nil {
			return nil, err
		}
		switch c {
		case '}':
			return m, nil
		case ',':
			if c, err = p.nextToken(); err != nil {
				return nil, err
			}
		default:
			return nil, p.fail(`expected "," or "}"`)
		}
	}
}

// value reads the value of key, whose first byte is c, into m.
func (p *jsonParser) value(m *Message, key string, c byte) error {
	list := IsList(key)
	switch {
	case c == '[':
		if !list {
			return p.fail(`an array is only allowed for a key ending in "[]"`)
		}
		return p.array(m, key)
	case c == 'n':
		return p.literal("ull") // null: absent
	case c == 't' || c == 'f':
		return p.fail("a boolean is not allowed: use a string")
	case c == '{':
		return p.fail("a nested object is not allowed")
	case list:
		return p.fail(`a key ending in "[]" takes an array`)
	}
	v, err := p.scalar(c)
	if err != nil {
		return err
	}
	m.Set(key, v)
	return nil
}

func (p *jsonParser) array(m *Message, key string) error {
	c, err := p.nextToken()
	if err != nil {
		return err
	}
	if c == ']' {
		return nil
	}
	for {
		if c == '[' || c == '{' || c == 'n' || c == 't' || c == 'f' {
			return p.fail("an array may hold only strings and integers")
		}
		v, err := p.scalar(c)
		if err != nil {
			return err
		}
		if v == "" {
			return p.fail("empty string in an array")
		}
		m.Add(key, v)
		if c, err = p.nextToken(); err != nil {
			return err
		}
		switch c {
		case ']':
			return nil
		case ',':
			if c, err = p.nextToken(); err != nil {
				return err
			}
		default:
			return p.fail(`expected "," or "]"`)
		}
	}
}

// scalar reads a string or an integer starting with c and checks it as a value.
func (p *jsonParser) scalar(c byte) (string, error) {
	var v string
	var err error
	switch {
	case c == '"':
		v, err = p.str()
	case c == '-' || c >= '0' && c <= '9':
		v, err = p.integer(c)
	default:
		return "", p.fail("invalid value: expected a string")
	}
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(v, "\n\r\x00") {
		return "", p.fail("the value holds LF, CR or NUL")
	}
	return v, nil
}

func (p *jsonParser) literal(rest string) error {
	for i := 0; i < len(rest); i++ {
		c, err := p.next()
		if err != nil {
			return err
		}
		if c != rest[i] {
			return p.fail("invalid value")
		}
	}
	return nil
}

// integer reads -?(0|[1-9][0-9]*) whose first byte is c, and refuses a fraction or
// an exponent. It leaves the byte after the number unread.
func (p *jsonParser) integer(c byte) (string, error) {
	p.buf = append(p.buf[:0], c)
	if c == '-' {
		var err error
		if c, err = p.next(); err != nil {
			return "", err
		}
		if c < '0' || c > '9' {
			return "", p.fail("invalid number")
		}
		p.buf = append(p.buf, c)
	}
	leadingZero := c == '0'
	for {
		c, err := p.next()
		if err != nil {
			return "", err
		}
		switch {
		case c >= '0' && c <= '9':
			if leadingZero {
				return "", p.fail("invalid number")
			}
			p.buf = append(p.buf, c)
		case c == '.' || c == 'e' || c == 'E':
			return "", p.fail("only integer numbers are allowed: use a string")
		default:
			_ = p.br.UnreadByte() // cannot fail right after ReadByte
			p.n--
			return string(p.buf), nil
		}
	}
}

// str reads a string after its opening quote: UTF-8 only, escapes decoded, lone
// surrogates refused.
func (p *jsonParser) str() (string, error) {
	p.buf = p.buf[:0]
	ascii := true
	for {
		c, err := p.next()
		if err != nil {
			return "", err
		}
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(p.buf) {
				return "", p.fail("a string is not valid UTF-8")
			}
			return string(p.buf), nil
		case c < 0x20:
			return "", p.fail("a control character must be escaped in a JSON string")
		case c >= 0x80:
			ascii = false
			p.buf = append(p.buf, c)
		case c != '\\':
			p.buf = append(p.buf, c)
		default:
			if c, err = p.next(); err != nil {
				return "", err
			}
			switch c {
			case '"', '\\', '/':
				p.buf = append(p.buf, c)
			case 'b':
				p.buf = append(p.buf, '\b')
			case 'f':
				p.buf = append(p.buf, '\f')
			case 'n':
				p.buf = append(p.buf, '\n')
			case 'r':
				p.buf = append(p.buf, '\r')
			case 't':
				p.buf = append(p.buf, '\t')
			case 'u':
				r, err := p.hex4()
				if err != nil {
					return "", err
				}
				if utf16.IsSurrogate(r) {
					if r >= 0xDC00 {
						return "", p.fail("lone surrogate in a \\u escape")
					}
					if err := p.literal(`\u`); err != nil {
						var e *Error
						if errors.As(err, &e) && e.Reason == "invalid value" {
							return "", p.fail("lone surrogate in a \\u escape")
						}
						return "", err
					}
					r2, err := p.hex4()
					if err != nil {
						return "", err
					}
					if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
						return "", p.fail("lone surrogate in a \\u escape")
					}
				}
				p.buf = utf8.AppendRune(p.buf, r)
			default:
				return "", p.fail("invalid escape in a string")
			}
		}
	}
}

func (p *jsonParser) hex4() (rune, error) {
	var r rune
	for range 4 {
		c, err := p.next()
		if err != nil {
			return 0, err
		}
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, p.fail("invalid \\u escape")
		}
		r = r<<4 | rune(c)
	}
	return r, nil
}

// WriteJSON writes m to w as one compact JSON object and "\n", keys in order, a
// list key as an array, strings escaped as serde_json does. It writes nothing and
// returns an error matching ErrUnwritable for what Write refuses and for a key or
// value that is not valid UTF-8.
func (m *Message) WriteJSON(w io.Writer) error {
	if err := m.check(true); err != nil {
		return err
	}
	n := 3
	if m != nil {
		for i := range m.ents {
			e := &m.ents[i]
			n += len(e.key) + len(e.val) + 6
			for _, v := range e.list {
				n += len(v) + 3
			}
		}
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	first := true
	if m != nil {
		for i := range m.ents {
			e := &m.ents[i]
			if !e.present() {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = AppendJSONString(b, e.key)
			b = append(b, ':')
			if !IsList(e.key) {
				b = AppendJSONString(b, e.val)
				continue
			}
			b = append(b, '[')
			for j, v := range e.list {
				if j > 0 {
					b = append(b, ',')
				}
				b = AppendJSONString(b, v)
			}
			b = append(b, ']')
		}
	}
	b = append(b, '}', '\n')
	_, err := w.Write(b)
	return err
}
