package oauth

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxServerText is how many bytes of one piece of server text a message shows;
// the rest is cut and replaced by a marker saying how long it was.
const MaxServerText = 200

// ServerText is s, a piece of text a server chose (an OAuth error or
// error_description, a metadata field, a redirect parameter, a URL it named), made
// safe to quote in a one-line message on a terminal or a browser page: printable
// characters are kept; a backslash, every control character (ESC, BEL, CR, LF,
// C1 controls), every other non-printable rune (bidirectional overrides, zero
// widths, line separators) and every byte that is not UTF-8 are written as Go
// escapes (\\, \x1b, \u202e, \xff); and the result is cut to about MaxServerText
// bytes, ending in "...(N bytes)" when it was longer. Every message in this
// package that quotes a server passes the quoted text through ServerText, so no
// server can move the cursor, retitle the terminal, or fill the screen.
func ServerText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		var piece string
		switch {
		case r == utf8.RuneError && n == 1:
			piece = `\x` + strconv.FormatUint(uint64(s[i])|0x100, 16)[1:]
		case r == '\\':
			piece = `\\`
		case r < 0x80 && !unicode.IsPrint(r):
			piece = `\x` + strconv.FormatUint(uint64(r)|0x100, 16)[1:]
		case !unicode.IsPrint(r):
			piece = strconv.QuoteRuneToASCII(r)
			piece = piece[1 : len(piece)-1]
		default:
			piece = s[i : i+n]
		}
		if b.Len()+len(piece) > MaxServerText {
			b.WriteString("...(")
			b.WriteString(strconv.Itoa(len(s)))
			b.WriteString(" bytes)")
			return b.String()
		}
		b.WriteString(piece)
		i += n
	}
	return b.String()
}

// quote is ServerText in double quotes, for a value whose ends matter.
func quote(s string) string { return `"` + ServerText(s) + `"` }
