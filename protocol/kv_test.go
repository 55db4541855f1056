package protocol

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// dump lists m as key=value strings in write order; a present empty scalar shows
// as "k=", an absent key not at all.
func dump(m *Message) []string {
	var out []string
	for _, k := range m.Keys() {
		for _, v := range m.Values(k) {
			out = append(out, k+"="+v)
		}
	}
	return out
}

const secret = "hunter2-SECRET"

func TestReadKV(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // nil with wantErr
		// wantErr is a substring of the error; it must match ErrBadRequest.
		wantErr string
	}{
		{"simple", "protocol=https\nhost=example.com\n\n", []string{"protocol=https", "host=example.com"}, ""},
		{"eof ends", "a=1\nb=2", []string{"a=1", "b=2"}, ""},
		{"eof after lf", "a=1\nb=2\n", []string{"a=1", "b=2"}, ""},
		{"first equals", "a=b=c\n", []string{"a=b=c"}, ""},
		{"empty value", "username=\n", []string{"username="}, ""},
		{"no trimming", " a = b \t\n", []string{" a = b \t"}, ""},
		{"crlf", "a=1\r\nb=2\r\n\r\n", []string{"a=1", "b=2"}, ""},
		{"cr at eof", "a=1\r", []string{"a=1"}, ""},
		{"crlf blank ends", "a=1\r\n\r\nb=2\n", []string{"a=1"}, ""},
		{"lone cr at eof", "a=1\n\r", []string{"a=1"}, ""},
		{"only cr", "\r", nil, ""},
		{"empty", "", nil, ""},
		{"blank", "\n", nil, ""},
		{"blank crlf", "\r\n", nil, ""},
		{"last wins", "a=1\nb=2\na=3\n", []string{"a=3", "b=2"}, ""},
		{"last wins empty", "a=1\na=\n", []string{"a="}, ""},
		{"list order", "c[]=x\nd=1\nc[]=y\n", []string{"c[]=x", "c[]=y", "d=1"}, ""},
		{"list clear", "c[]=x\nc[]=\nc[]=y\n", []string{"c[]=y"}, ""},
		{"list clear to absent", "c[]=x\nc[]=\n", nil, ""},
		{"list clear absent", "c[]=\na=1\n", []string{"a=1"}, ""},
		{"list and scalar differ", "c=1\nc[]=2\n", []string{"c=1", "c[]=2"}, ""},
		{"empty key", "=v\n", []string{"=v"}, ""},
		{"bare equals", "=\n", []string{"="}, ""},
		{"brackets only", "[]=v\n", []string{"[]=v"}, ""},
		{"control chars kept", "a=\x01\x1b[31m\t\x7f\n", []string{"a=\x01\x1b[31m\t\x7f"}, ""},
		{"invalid utf8 kept", "a=\xff\xfe\n", []string{"a=\xff\xfe"}, ""},
		{"after blank not read", "a=1\n\nno equals\x00\r\n", []string{"a=1"}, ""},

		{"nul in value", "a=1\nb=x\x00y\n", nil, "line 2: NUL byte"},
		{"nul in key", "a\x00=1\n", nil, "line 1: NUL byte"},
		{"nul at eof", "a=1\n\x00", nil, "line 2: NUL byte"},
		{"no equals", "a=1\n" + secret + "\nb=2\n", nil, `line 2: no "="`},
		{"no equals last", "a=1\nbogus", nil, `line 2: no "="`},
		{"cr in value", "a=1\nb=x\ry\n", nil, `line 2: key "b": CR inside the value`},
		{"cr then crlf", "a=" + secret + "\r\r\n", nil, "CR inside the value"},
		{"cr cr eof", "a=1\r\r", nil, "CR inside the value"},
		{"bare cr splits nothing", "wwwauth[]=x\rhost=evil\n", nil, "CR inside the value"},
		{"cr in key", "a\rb=1\n", nil, "line 1: CR inside a key"},
		{"cr alone line", "a=1\n\r\r\n", nil, `line 2: no "="`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Read(strings.NewReader(tt.in))
			checkRead(t, "Read", tt.in, m, err, tt.want, tt.wantErr, secret, "x\ry")
		})
	}
}

func TestReadAbsentVsEmpty(t *testing.T) {
	m, err := Read(strings.NewReader("username=\npassword=p\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := m.Get("username"); !ok || v != "" {
		t.Errorf("Get(username) = %q, %v; want \"\", true", v, ok)
	}
	if v, ok := m.Get("path"); ok || v != "" {
		t.Errorf("Get(path) = %q, %v; want \"\", false", v, ok)
	}
}

func TestReadLongLineNotSplit(t *testing.T) {
	// git's "not confused by long header" test: a long value must not spill over
	// into a new line.
	for _, n := range []int{1023, 1024, 4095, 4096, 4097, 65535, 65536, 200000} {
		long := strings.Repeat("x", n)
		in := "protocol=https\nwwwauth[]=" + long + "host=victim\nhost=example.com\n"
		for _, size := range []int{16, 4096} {
			m, err := Read(bufio.NewReaderSize(strings.NewReader(in), size))
			if err != nil {
				t.Fatalf("n=%d size=%d: %v", n, size, err)
			}
			want := []string{"protocol=https", "wwwauth[]=" + long + "host=victim", "host=example.com"}
			if got := dump(m); !slices.Equal(got, want) {
				t.Fatalf("n=%d size=%d: long line split or changed", n, size)
			}
		}
	}
}

func TestReadSizeLimit(t *testing.T) {
	line := func(n int) string { // one line of exactly n bytes, LF included
		return "k=" + strings.Repeat("v", n-3) + "\n"
	}
	exact := line(MaxRequestSize)
	over := line(MaxRequestSize + 1)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"exactly 1 MiB, eof", exact, true},
		{"exactly 1 MiB, blank line not counted", exact + "\n", true},
		{"exactly 1 MiB, crlf blank line not counted", exact + "\r\n" + strings.Repeat("z", 3<<20), true},
		{"exactly 1 MiB then more", exact + "a=1\n", false},
		{"one over", over, false},
		{"one over without lf", strings.TrimSuffix(over, "\n") + "v", false},
		{"small, big tail after blank", "a=1\n\n" + strings.Repeat("\x00junk", 1<<20), true},
		{"many short lines", strings.Repeat("a=1\n", MaxRequestSize/4+1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.in))
			if tt.ok && err != nil {
				t.Fatalf("got %v, want ok", err)
			}
			if !tt.ok {
				if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "over 1048576 bytes") {
					t.Fatalf("got %v, want a size error", err)
				}
			}
		})
	}
}

// endless is an endless stream of one byte, counting what was read.
type endless struct {
	b byte
	n int
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.b
	}
	e.n += len(p)
	return len(p), nil
}

func TestReadBoundedOnEndlessInput(t *testing.T) {
	for _, b := range []byte{'x', '\n' - 0, '='} {
		src := &endless{b: b}
		if b == '\n' {
			src.b = 'x' // endless LF would be a blank line; use endless "x" lines instead
		}
		_, err := Read(src)
		if !errors.Is(err, ErrBadRequest) {
			t.Fatalf("endless %q: got %v, want a bad request", b, err)
		}
		if src.n > MaxRequestSize+2*4096 {
			t.Errorf("endless %q: read %d bytes, want at most the limit plus a buffer", b, src.n)
		}
	}
}

func TestReadStopsAtBlankLine(t *testing.T) {
	br := bufio.NewReader(strings.NewReader("a=1\r\n\r\nb=2\n\nc=3"))
	for _, want := range [][]string{{"a=1"}, {"b=2"}, {"c=3"}, nil} {
		m, err := Read(br)
		if err != nil {
			t.Fatal(err)
		}
		if got := dump(m); !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestReadIOError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Read(io.MultiReader(strings.NewReader("a=1\n"), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) || errors.Is(err, ErrBadRequest) {
		t.Fatalf("got %v, want the read error, not a bad request", err)
	}
	// One byte at a time, and data together with EOF, read the same.
	in := "a=1\r\nb[]=x\nb[]=y\nc=" + strings.Repeat("z", 5000) + "\r"
	want, _ := Read(strings.NewReader(in))
	for _, r := range []io.Reader{iotest.OneByteReader(strings.NewReader(in)), iotest.DataErrReader(strings.NewReader(in))} {
		got, err := Read(r)
		if err != nil || !slices.Equal(dump(got), dump(want)) {
			t.Fatalf("got %q, %v", dump(got), err)
		}
	}
}

func TestWriteKV(t *testing.T) {
	m := NewMessage()
	m.Set("protocol", "https")
	m.Add("capability[]", "authtype")
	m.Set("host", "example.com")
	m.Set("username", "")
	m.Add("capability[]", "state")
	m.Set("path", "a=b")
	m.Set("", "empty key")
	var buf bytes.Buffer
	if err := m.Write(&buf); err != nil {
		t.Fatal(err)
	}
	want := "protocol=https\ncapability[]=authtype\ncapability[]=state\nhost=example.com\nusername=\npath=a=b\n=empty key\n"
	if buf.String() != want {
		t.Errorf("Write = %q, want %q", buf.String(), want)
	}
	back, err := Read(&buf)
	if err != nil || !slices.Equal(dump(back), dump(m)) {
		t.Errorf("round trip: %q, %v", dump(back), err)
	}

	buf.Reset()
	if err := NewMessage().Write(&buf); err != nil || buf.Len() != 0 {
		t.Errorf("empty message wrote %q, %v", buf.String(), err)
	}
	var nilMsg *Message
	if err := nilMsg.Write(&buf); err != nil || buf.Len() != 0 {
		t.Errorf("nil message wrote %q, %v", buf.String(), err)
	}
}

func TestWriteRefuses(t *testing.T) {
	tests := []struct {
		name, key, value, wantErr string
	}{
		{"lf in value", "password", "a\nhost=evil", `key "password": the value holds LF, CR or NUL`},
		{"cr in value", "password", "a\rhost=evil", "the value holds LF, CR or NUL"},
		{"nul in value", "password", "a\x00b", "the value holds LF, CR or NUL"},
		{"lf in list value", "state[]", "a\nb", `key "state[]": the value holds`},
		{"equals in key", "a=b", "v", `a key holds "="`},
		{"lf in key", "a\nb", "v", "a key holds"},
		{"cr in key", "a\r", "v", "a key holds"},
		{"nul in key", "a\x00", "v", "a key holds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMessage()
			m.Set("host", "example.com")
			m.Set(tt.key, tt.value)
			for _, write := range []func(io.Writer) error{m.Write, m.WriteJSON} {
				var buf bytes.Buffer
				err := write(&buf)
				if !errors.Is(err, ErrUnwritable) || errors.Is(err, ErrBadRequest) {
					t.Fatalf("got %v, want ErrUnwritable", err)
				}
				if buf.Len() != 0 {
					t.Errorf("wrote %q before failing", buf.String())
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), tt.value) {
					t.Errorf("error %q holds the value", err)
				}
			}
		})
	}
}

func TestWriteNoEmptyListEntry(t *testing.T) {
	m := NewMessage()
	m.Add("wwwauth[]", "")
	m.Add("state[]", "a")
	m.Add("state[]", "")
	m.Set("capability[]", "")
	var buf bytes.Buffer
	if err := m.Write(&buf); err != nil || buf.Len() != 0 {
		t.Fatalf("wrote %q, %v; want nothing", buf.String(), err)
	}
}

func TestErrorKeyQuoted(t *testing.T) {
	_, err := Read(strings.NewReader("\x1b[2J" + strings.Repeat("é", 100) + "=x\ry\n"))
	msg := err.Error()
	if strings.ContainsAny(msg, "\x1b\r\n") || !strings.Contains(msg, `\x1b[2J`) || !strings.Contains(msg, `"...:`) {
		t.Errorf("error %q: want the key escaped and shortened", msg)
	}
}

// A typical `git credential` request of 12 lines.
const typicalRequest = "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=github.com\n" +
	"path=mcpcred/mcpcred.git\nusername=octocat\npassword=ghp_16C7e42F292c6912E7710c838347Ae178B4a\n" +
	"password_expiry_utc=1893456000\noauth_refresh_token=ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c\n" +
	"wwwauth[]=Bearer realm=\"GitHub\"\nstate[]=helper:mcpcred\nephemeral=0\n\n"

func BenchmarkRead(b *testing.B) {
	r := strings.NewReader(typicalRequest)
	b.ReportAllocs()
	b.SetBytes(int64(len(typicalRequest)))
	for b.Loop() {
		r.Reset(typicalRequest)
		if _, err := Read(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	m, err := Read(strings.NewReader(typicalRequest))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Write(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// checkRead checks one table case of Read or ReadJSON: the message it wants, or an
// error matching ErrBadRequest that contains wantErr, comes with no message, and
// holds none of the values in leaks.
func checkRead(t *testing.T, fn, in string, m *Message, err error, want []string, wantErr string, leaks ...string) {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatalf("%s(%q): %v", fn, in, err)
		}
		if got := dump(m); !slices.Equal(got, want) {
			t.Errorf("%s(%q) = %q, want %q", fn, in, got, want)
		}
		return
	}
	if err == nil {
		t.Fatalf("%s(%q) = %q, want error %q", fn, in, dump(m), wantErr)
	}
	if m != nil {
		t.Errorf("%s(%q) returned a message with its error", fn, in)
	}
	if !errors.Is(err, ErrBadRequest) {
		t.Errorf("error %v does not match ErrBadRequest", err)
	}
	if !strings.Contains(err.Error(), wantErr) {
		t.Errorf("error %q, want it to contain %q", err, wantErr)
	}
	for _, v := range leaks {
		if strings.Contains(err.Error(), v) {
			t.Errorf("error %q holds a value", err)
		}
	}
}
