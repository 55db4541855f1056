package protocol

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string // substring; the error must match ErrBadRequest
	}{
		{"simple", `{"protocol":"https","host":"example.com"}`, []string{"protocol=https", "host=example.com"}, ""},
		{"order kept", `{"b":"1","a":"2"}`, []string{"b=1", "a=2"}, ""},
		{"white space", " \t\r\n{ \"a\" : \"1\" ,\n \"c[]\" : [ \"x\" , \"y\" ] }\n", []string{"a=1", "c[]=x", "c[]=y"}, ""},
		{"empty object", `{}`, nil, ""},
		{"empty value", `{"username":""}`, []string{"username="}, ""},
		{"equals in value", `{"a":"b=c"}`, []string{"a=b=c"}, ""},
		{"empty key", `{"":"v"}`, []string{"=v"}, ""},
		{"list", `{"capability[]":["authtype","state"]}`, []string{"capability[]=authtype", "capability[]=state"}, ""},
		{"empty array is absent", `{"capability[]":[],"a":"1"}`, []string{"a=1"}, ""},
		{"null is absent", `{"password":null,"a":"1","s[]":null}`, []string{"a=1"}, ""},
		{"integer", `{"expires_at":1700000000}`, []string{"expires_at=1700000000"}, ""},
		{"negative and zero", `{"a":-5,"b":0,"c":-0}`, []string{"a=-5", "b=0", "c=-0"}, ""},
		{"big integer kept as text", `{"a":123456789012345678901234567890}`, []string{"a=123456789012345678901234567890"}, ""},
		{"integer in array", `{"a[]":[1,"x"]}`, []string{"a[]=1", "a[]=x"}, ""},
		{"escapes", `{"a":"\"\\\/\b\f\t\u00e9\u20AC\ud83d\ude00<>&"}`, []string{"a=\"\\/\b\f\té€😀<>&"}, ""},
		{"raw utf8", `{"é":"日本"}`, []string{"é=日本"}, ""},
		{"control escape kept", `{"a":"\u001b[31m"}`, []string{"a=\x1b[31m"}, ""},

		{"empty input", ``, nil, "empty input"},
		{"white space only", " \n ", nil, "unexpected end of input"},
		{"top array", `["a"]`, nil, "expected a JSON object"},
		{"top string", `"a"`, nil, "expected a JSON object"},
		{"top null", `null`, nil, "expected a JSON object"},
		{"truncated", `{"a":"1"`, nil, "unexpected end of input"},
		{"truncated string", `{"a":"1`, nil, "unexpected end of input"},
		{"trailing comma", `{"a":"1",}`, nil, "expected a string key"},
		{"missing colon", `{"a" "1"}`, nil, `expected ":"`},
		{"missing comma", `{"a":"1" "b":"2"}`, nil, `expected "," or "}"`},
		{"unquoted key", `{a:"1"}`, nil, "expected a string key"},
		{"unquoted value", `{"password":` + secret + `}`, nil, "invalid value"},
		{"single quotes", `{'a':'1'}`, nil, "expected a string key"},
		{"duplicate", `{"a":"1","a":"2"}`, nil, `key "a": duplicate key`},
		{"duplicate null", `{"a":null,"a":"2"}`, nil, `duplicate key`},
		{"bool", `{"ephemeral":true}`, nil, `key "ephemeral": a boolean is not allowed`},
		{"false", `{"ephemeral":false}`, nil, "a boolean"},
		{"nested object", `{"a":{"b":"c"}}`, nil, "a nested object"},
		{"fraction", `{"expires_in":1.5}`, nil, "only integer numbers"},
		{"exponent", `{"expires_in":1e3}`, nil, "only integer numbers"},
		{"exponent upper", `{"expires_in":1E3}`, nil, "only integer numbers"},
		{"leading zero", `{"a":01}`, nil, "invalid number"},
		{"minus alone", `{"a":-}`, nil, "invalid number"},
		{"plus", `{"a":+1}`, nil, "invalid value"},
		{"bad null", `{"a":nul}`, nil, "invalid value"},
		{"array for scalar", `{"capability":["authtype"]}`, nil, `key "capability": an array is only allowed for a key ending in "[]"`},
		{"string for list", `{"capability[]":"authtype"}`, nil, `takes an array`},
		{"number for list", `{"capability[]":1}`, nil, `takes an array`},
		{"empty string in array", `{"a[]":["x",""]}`, nil, "empty string in an array"},
		{"null in array", `{"a[]":[null]}`, nil, "only strings and integers"},
		{"nested array", `{"a[]":[["x"]]}`, nil, "only strings and integers"},
		{"object in array", `{"a[]":[{}]}`, nil, "only strings and integers"},
		{"array trailing comma", `{"a[]":["x",]}`, nil, "invalid value"},
		{"array missing comma", `{"a[]":["x" "y"]}`, nil, `expected "," or "]"`},
		{"lf escape in value", `{"password":"` + secret + `\nhost=evil"}`, nil, `key "password": the value holds LF, CR or NUL`},
		{"cr escape in value", `{"a":"x\ry"}`, nil, "the value holds LF, CR or NUL"},
		{"nul escape in value", `{"a":"x\u0000y"}`, nil, "the value holds LF, CR or NUL"},
		{"lf in array value", `{"a[]":["x\ny"]}`, nil, "the value holds LF, CR or NUL"},
		{"equals in key", `{"a=b":"1"}`, nil, `a key holds "="`},
		{"lf in key", `{"a\nb":"1"}`, nil, `a key holds`},
		{"raw control char", "{\"a\":\"x\ty\"}", nil, "control character must be escaped"},
		{"raw lf in string", "{\"a\":\"x\ny\"}", nil, "control character must be escaped"},
		{"invalid utf8", "{\"a\":\"\xff\"}", nil, "not valid UTF-8"},
		{"invalid utf8 key", "{\"\xc3\":\"1\"}", nil, "not valid UTF-8"},
		{"raw surrogate utf8", "{\"a\":\"\xed\xa0\x80\"}", nil, "not valid UTF-8"},
		{"lone high surrogate", `{"a":"\ud83dx"}`, nil, "lone surrogate"},
		{"lone high at end", `{"a":"\ud83d"}`, nil, "lone surrogate"},
		{"high then non-low", `{"a":"\ud83d\u0041"}`, nil, "lone surrogate"},
		{"lone low surrogate", `{"a":"\ude00"}`, nil, "lone surrogate"},
		{"bad escape", `{"a":"\x"}`, nil, "invalid escape"},
		{"bad hex", `{"a":"\u12g4"}`, nil, `invalid \u escape`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ReadJSON(strings.NewReader(tt.in))
			checkRead(t, "ReadJSON", tt.in, m, err, tt.want, tt.wantErr, secret, "hunter")
		})
	}
}

func TestReadJSONStopsAfterObject(t *testing.T) {
	// Nothing after the closing brace is read, so a caller that keeps its end of the
	// pipe open does not hang us, and a *bufio.Reader can go on.
	br := bufio.NewReader(strings.NewReader(`{"a":"1"}{"b":2}` + "\n" + `not json`))
	for _, want := range [][]string{{"a=1"}, {"b=2"}} {
		m, err := ReadJSON(br)
		if err != nil {
			t.Fatal(err)
		}
		if got := dump(m); !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != "\nnot json" {
		t.Errorf("rest = %q", rest)
	}

	// A number right before the brace is not over-read.
	pr, pw := io.Pipe()
	go func() { _, _ = pw.Write([]byte(`{"expires_in":3600}`)) }() // never closed
	m, err := ReadJSON(pr)
	if err != nil || !slices.Equal(dump(m), []string{"expires_in=3600"}) {
		t.Fatalf("got %q, %v", dump(m), err)
	}
}

func TestReadJSONSizeLimit(t *testing.T) {
	obj := func(n int) string { // an object of exactly n bytes
		return `{"a":"` + strings.Repeat("v", n-8) + `"}`
	}
	if len(obj(100)) != 100 {
		t.Fatal("bad helper")
	}
	if _, err := ReadJSON(strings.NewReader(obj(MaxRequestSize) + strings.Repeat(" ", 1<<20))); err != nil {
		t.Errorf("exactly 1 MiB: %v", err)
	}
	for _, in := range []string{obj(MaxRequestSize + 1), " " + obj(MaxRequestSize)} {
		_, err := ReadJSON(strings.NewReader(in))
		if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "over 1048576 bytes") {
			t.Errorf("over 1 MiB: got %v", err)
		}
	}
	src := &endless{b: ' '}
	if _, err := ReadJSON(src); !errors.Is(err, ErrBadRequest) || src.n > MaxRequestSize+2*4096 {
		t.Errorf("endless white space: %v after %d bytes", err, src.n)
	}
}

func TestReadJSONIOError(t *testing.T) {
	boom := errors.New("boom")
	_, err := ReadJSON(io.MultiReader(strings.NewReader(`{"a":`), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) || errors.Is(err, ErrBadRequest) {
		t.Fatalf("got %v, want the read error, not a bad request", err)
	}
	m, err := ReadJSON(iotest.OneByteReader(strings.NewReader(`{"a":"1","b[]":["x",2]}`)))
	if err != nil || !slices.Equal(dump(m), []string{"a=1", "b[]=x", "b[]=2"}) {
		t.Fatalf("one byte at a time: %q, %v", dump(m), err)
	}
}

func TestWriteJSON(t *testing.T) {
	m := NewMessage()
	m.Set("server_name", "q")
	m.Set("url", "https://x.test/mcp?a=1&b=<2>")
	m.Add("capability[]", "authtype")
	m.Add("capability[]", "state")
	m.Set("username", "")
	m.Set("ctl", "\x01\x1f\x7f\t\"\\/\u2028\u2029é")
	m.Set("gone", "x")
	m.Del("gone")
	var buf bytes.Buffer
	if err := m.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	want := `{"server_name":"q","url":"https://x.test/mcp?a=1&b=<2>","capability[]":["authtype","state"],` +
		`"username":"","ctl":"\u0001\u001f` + "\x7f" + `\t\"\\/` + "\u2028\u2029é" + `"}` + "\n"
	if buf.String() != want {
		t.Errorf("WriteJSON =\n%q\nwant\n%q", buf.String(), want)
	}
	if !json.Valid(bytes.TrimSpace(buf.Bytes())) {
		t.Error("not valid JSON")
	}
	back, err := ReadJSON(&buf)
	if err != nil || !slices.Equal(dump(back), dump(m)) {
		t.Errorf("round trip: %q, %v", dump(back), err)
	}

	buf.Reset()
	if err := NewMessage().WriteJSON(&buf); err != nil || buf.String() != "{}\n" {
		t.Errorf("empty: %q, %v", buf.String(), err)
	}
	buf.Reset()
	var nilMsg *Message
	if err := nilMsg.WriteJSON(&buf); err != nil || buf.String() != "{}\n" {
		t.Errorf("nil: %q, %v", buf.String(), err)
	}
}

func TestWriteJSONRefusesInvalidUTF8(t *testing.T) {
	for _, kv := range [][2]string{{"a", "\xff" + secret}, {"\xff", "v"}, {"l[]", "\xc3"}} {
		m := NewMessage()
		m.Set(kv[0], kv[1])
		var buf bytes.Buffer
		err := m.WriteJSON(&buf)
		if !errors.Is(err, ErrUnwritable) || !strings.Contains(err.Error(), "not valid UTF-8") || buf.Len() != 0 {
			t.Errorf("%q: got %v, wrote %q", kv, err, buf.String())
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q holds the value", err)
		}
		if err := m.Write(&buf); err != nil { // kv carries bytes as they are
			t.Errorf("%q: kv Write: %v", kv, err)
		}
	}
}

func BenchmarkReadJSON(b *testing.B) {
	m, err := Read(strings.NewReader(typicalRequest))
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.WriteJSON(&buf); err != nil {
		b.Fatal(err)
	}
	in := buf.String()
	r := strings.NewReader(in)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		r.Reset(in)
		if _, err := ReadJSON(r); err != nil {
			b.Fatal(err)
		}
	}
}
