package oauth

import (
	"net/url"
	"testing"
)

func TestPastedAnswer(t *testing.T) {
	const state, issuer = "st", "https://as.test"
	for _, c := range []struct {
		line string
		want url.Values // nil: not an answer
	}{
		{"http://127.0.0.1:5000/callback?code=c1&state=st&iss=https%3A%2F%2Fas.test", url.Values{"code": {"c1"}, "state": {"st"}, "iss": {issuer}}},
		{"http://127.0.0.1:5000/callback?code=c1&state=other", url.Values{"code": {"c1"}, "state": {"other"}}},
		{"http://127.0.0.1:5000/callback?error=access_denied&state=st", url.Values{"error": {"access_denied"}, "state": {"st"}}},
		{"/callback?code=c1&state=st", url.Values{"code": {"c1"}, "state": {"st"}}},
		{"c1", url.Values{"code": {"c1"}, "state": {state}, "iss": {issuer}}},
		{"c1#other", url.Values{"code": {"c1"}, "state": {"other"}, "iss": {issuer}}},
		{"http://127.0.0.1:5000/callback", nil},
		{"http://127.0.0.1:5000/callback?state=st", nil},
		{"two words", nil},
		{"code=c1", nil},
		{"#st", nil},
	} {
		got, ok := pastedAnswer(c.line, state, issuer)
		if ok != (c.want != nil) || (ok && got.Encode() != c.want.Encode()) {
			t.Errorf("%q: %v %v, want %v", c.line, got, ok, c.want)
		}
	}
}

func TestUnionScope(t *testing.T) {
	for _, c := range [][3]string{
		{"mcp:tools", "files:write", "mcp:tools files:write"},
		{"a b", "b c a", "a b c"},
		{"", "x", "x"},
		{"a", "", "a"},
	} {
		if got := unionScope(c[0], c[1]); got != c[2] {
			t.Errorf("unionScope(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}
