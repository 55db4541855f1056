package protocol

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// refRead is the spec's section 3 written as plainly as possible, to check Read
// against. It returns the dump of the message, or ok == false for a bad request.
func refRead(in string) (out []string, ok bool) {
	// Find the request: lines up to the first blank line or EOF.
	var lines []string
	size := 0
	for in != "" {
		i := strings.IndexByte(in, '\n')
		raw := in
		if i >= 0 {
			raw = in[:i+1]
		}
		in = in[len(raw):]
		line := strings.TrimSuffix(strings.TrimSuffix(raw, "\n"), "\r")
		if line == "" && strings.HasSuffix(raw, "\n") {
			break // blank line, not counted
		}
		size += len(raw)
		if line == "" {
			break // a lone CR at EOF
		}
		lines = append(lines, line)
	}
	if size > MaxRequestSize {
		return nil, false
	}
	var order []string
	vals := map[string][]string{}
	for _, line := range lines {
		key, val, found := strings.Cut(line, "=")
		if !found || strings.ContainsAny(line, "\x00\r") {
			return nil, false
		}
		_, seen := vals[key]
		switch {
		case !strings.HasSuffix(key, "[]"):
			vals[key] = []string{val}
		case val == "":
			if !seen {
				continue // clearing a list never seen does not add the key
			}
			vals[key] = []string{}
		default:
			vals[key] = append(vals[key], val)
		}
		if !seen {
			order = append(order, key) // a key keeps its first position
		}
	}
	for _, k := range order {
		for _, v := range vals[k] {
			out = append(out, k+"="+v)
		}
	}
	return out, true
}

var kvSeeds = []string{
	"", "\n", "\r", "\r\n", "a=1", "a=1\n", "a=1\r\n\r\nb=2", "a=b=c\n=\n",
	"c[]=x\nc[]=\nc[]=y\nd=1\nd=2\n", "a\x00=1", "a=1\r2", "noequals\n", "a=1\r\r\n",
	typicalRequest, "wwwauth[]=" + strings.Repeat("x", 40) + "host=evil\n",
	"a=\xff\xfe\n", "k[]=1\nk=2\nk[]=3\n",
}

func FuzzRead(f *testing.F) {
	for _, s := range kvSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := Read(bytes.NewReader(in))
		want, wantOK := refRead(string(in))
		// A 16-byte buffer reads long lines in pieces: same result.
		m16, err16 := Read(bufio.NewReaderSize(bytes.NewReader(in), 16))
		if (err == nil) != (err16 == nil) || err == nil && !slices.Equal(dump(m), dump(m16)) {
			t.Fatalf("Read(%q) = %q, %v; with a 16-byte buffer: %q, %v", in, dump(m), err, dump(m16), err16)
		}
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not match ErrBadRequest", err)
			}
			if wantOK {
				t.Fatalf("Read(%q) failed (%v), the reference accepts it: %q", in, err, want)
			}
			return
		}
		got := dump(m)
		if !wantOK || !slices.Equal(got, want) {
			t.Fatalf("Read(%q) = %q, reference: %q, %v", in, got, want, wantOK)
		}

		// kv round trip.
		var buf bytes.Buffer
		if err := m.Write(&buf); err != nil {
			t.Fatalf("Write of what Read accepted: %v", err)
		}
		first := buf.String()
		back, err := Read(&buf)
		if err != nil || !slices.Equal(dump(back), got) {
			t.Fatalf("kv round trip of %q: %q, %v", first, dump(back), err)
		}
		buf.Reset()
		if err := back.Write(&buf); err != nil || buf.String() != first {
			t.Fatalf("second Write differs: %q vs %q", buf.String(), first)
		}

		// JSON round trip: refused only for invalid UTF-8.
		buf.Reset()
		err = m.WriteJSON(&buf)
		validUTF8 := utf8.Valid(in)
		if err != nil {
			if !errors.Is(err, ErrUnwritable) || validUTF8 {
				t.Fatalf("WriteJSON: %v", err)
			}
			return
		}
		if !json.Valid(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))) {
			t.Fatalf("WriteJSON wrote invalid JSON: %q", buf.String())
		}
		back, err = ReadJSON(&buf)
		if err != nil || !slices.Equal(dump(back), got) {
			t.Fatalf("JSON round trip of %q: %q, %v", in, dump(back), err)
		}
	})
}

func FuzzReadJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":"1","b[]":["x","y"]}`, `{"a":null}`, `{"a":12}`, `{"a":-0}`, `{"a":1.5}`,
		`{"a":"\ud83d\ude00\u00e9\n"}`, `{"a":"1","a":"2"}`, ` {"a" : "1" } trailing`,
		`{"a[]":[]}`, `{"a[]":[1,"2"]}`, `{"a":true}`, `{"a":{}}`, `{"":""}`, "{\"a\":\"\xff\"}",
		`{"a":"\/\b\f\t\"\\"}`, `[1]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		src := bytes.NewReader(in)
		br := bufio.NewReader(src)
		m, err := ReadJSON(br)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not match ErrBadRequest", err)
			}
			return
		}
		consumed := in[:len(in)-src.Len()-br.Buffered()]

		// encoding/json reads the same object the same way.
		var obj map[string]any
		dec := json.NewDecoder(bytes.NewReader(consumed))
		dec.UseNumber()
		if err := dec.Decode(&obj); err != nil {
			t.Fatalf("ReadJSON accepted %q, encoding/json: %v", consumed, err)
		}
		if dec.More() {
			t.Fatalf("ReadJSON read past the object: %q", consumed)
		}
		n := 0
		for k, v := range obj {
			var want []string
			switch v := v.(type) {
			case nil:
			case string:
				want = []string{v}
			case json.Number:
				want = []string{string(v)}
			case []any:
				for _, e := range v {
					switch e := e.(type) {
					case string:
						want = append(want, e)
					case json.Number:
						want = append(want, string(e))
					default:
						t.Fatalf("ReadJSON accepted %T in an array", e)
					}
				}
			default:
				t.Fatalf("ReadJSON accepted a %T", v)
			}
			if got := m.Values(k); !slices.Equal(got, want) {
				t.Fatalf("key %q: ReadJSON %q, encoding/json %q", k, got, want)
			}
			if want != nil {
				n++
			}
		}
		if m.Len() != n {
			t.Fatalf("ReadJSON has %d keys, encoding/json %d", m.Len(), n)
		}

		// Both writers take everything ReadJSON accepts, and read back the same.
		got := dump(m)
		var buf bytes.Buffer
		if err := m.WriteJSON(&buf); err != nil {
			t.Fatalf("WriteJSON: %v", err)
		}
		back, err := ReadJSON(&buf)
		if err != nil || !slices.Equal(dump(back), got) {
			t.Fatalf("JSON round trip: %q, %v", dump(back), err)
		}
		buf.Reset()
		if err := m.Write(&buf); err != nil {
			t.Fatalf("Write: %v", err)
		}
		back, err = Read(&buf)
		if err != nil || !slices.Equal(dump(back), got) {
			t.Fatalf("kv round trip: %q, %v", dump(back), err)
		}
	})
}
