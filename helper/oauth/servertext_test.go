package oauth

import (
	"strconv"
	"strings"
	"testing"
)

func TestServerText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"invalid_grant", "invalid_grant"},
		{"caf\u00e9 ok", "caf\u00e9 ok"},
		{"\x1b]0;PWNED\x07\x1b[2J", `\x1b]0;PWNED\x07\x1b[2J`},
		{"a\r\nb\x00c\x7f", `a\x0d\x0ab\x00c\x7f`},
		{"\u0085\u202eevil\u2028", `\u0085\u202eevil\u2028`},
		{"\xff\xfe", `\xff\xfe`},
		{`C:\path`, `C:\\path`},
		{"", ""},
	} {
		if got := ServerText(c.in); got != c.want {
			t.Errorf("ServerText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestServerTextBounded(t *testing.T) {
	for _, in := range []string{
		strings.Repeat("e", 300000),
		strings.Repeat("\x1b", 300000),
		strings.Repeat("\u00e9", 300000),
	} {
		got := ServerText(in)
		if len(got) > MaxServerText+20 {
			t.Errorf("ServerText of %d bytes gave %d bytes: %q", len(in), len(got), got)
		}
		if want := "...(" + strconv.Itoa(len(in)) + " bytes)"; !strings.HasSuffix(got, want) {
			t.Errorf("ServerText of %d bytes ends %q, want %q", len(in), got[len(got)-20:], want)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("control character in %q", got)
			}
		}
	}
	exact := strings.Repeat("x", MaxServerText)
	if got := ServerText(exact); got != exact {
		t.Errorf("text of exactly MaxServerText bytes was cut: %q", got)
	}
}
