package protocol

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendJSONString(t *testing.T) {
	// Expected outputs are serde_json's (serde_json::to_string of a &str).
	tests := []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`"`, `"\""`},
		{`\`, `"\\"`},
		{"/", `"/"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x00\x01\x0b\x1f", `"\u0000\u0001\u000b\u001f"`},
		{"\x7f", "\"\x7f\""},
		{"<>&", `"<>&"`},
		{"\u2028\u2029", "\"\u2028\u2029\""},
		{"é日本😀", `"é日本😀"`},
		{`{"type":"http"}`, `"{\"type\":\"http\"}"`},
	}
	for _, tt := range tests {
		if got := string(AppendJSONString(nil, tt.in)); got != tt.want {
			t.Errorf("AppendJSONString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got := string(AppendJSONString([]byte("x:"), "y")); got != `x:"y"` {
		t.Errorf("does not append: %s", got)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c", "\x00\x1f\x7f", "<&>", "\u2028", "😀", "\xff", "\ud7ff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := AppendJSONString(nil, s)
		if !utf8.ValidString(s) {
			return // callers reject invalid UTF-8 first
		}
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("encoding/json rejects %s: %v", b, err)
		}
		if got != s {
			t.Fatalf("encoding/json decodes %s as %q, want %q", b, got, s)
		}
		// Our own reader agrees, whenever the string is a legal value.
		if !strings.ContainsAny(s, "\n\r\x00") && s != "" {
			m, err := ReadJSON(strings.NewReader(`{"k":` + string(b) + `,"l[]":[` + string(b) + `]}`))
			if err != nil {
				t.Fatalf("ReadJSON rejects %s: %v", b, err)
			}
			if v, _ := m.Get("k"); v != s {
				t.Fatalf("ReadJSON decodes %s as %q", b, v)
			}
			if v, _ := m.Get("l[]"); v != s {
				t.Fatalf("ReadJSON decodes [%s] as %q", b, v)
			}
		}
		// Only '"', '\\' and bytes below 0x20 are escaped: the rest is copied.
		if !strings.ContainsAny(s, "\"\\") && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 }) {
			if string(b) != `"`+s+`"` {
				t.Fatalf("%q was changed: %s", s, b)
			}
		}
	})
}
