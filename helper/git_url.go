package helper

import "strings"

// gitURL is what git's credential_from_url takes from a `url` attribute: the
// fields it sets (nil: left absent).
type gitURL struct {
	protocol, host, path, username, password *string
}

// parseGitURL splits a URL as git's credential_from_url_1 does (non-partial):
//
//	proto://<host>/..., proto://<user>@<host>/..., proto://<user>:<pass>@<host>/...
//
// A query or fragment marker before the first slash ends the host; leading and
// trailing slashes of the path are dropped; user, password, host and path are
// percent-decoded ("+" is not a space). It returns ok=false where git refuses the
// URL: no "://", or nothing before it.
func parseGitURL(url string) (u gitURL, ok bool) {
	protoEnd := strings.Index(url, "://")
	if protoEnd <= 0 {
		return u, false
	}
	cp := url[protoEnd+3:]
	at := strings.IndexByte(cp, '@')
	colon := strings.IndexByte(cp, ':')
	slash := strings.IndexAny(cp, "/?#")
	if slash < 0 {
		slash = len(cp)
	}
	hostStart := 0
	switch {
	case at < 0 || slash <= at:
		// proto://<host>/...
	case colon < 0 || at <= colon:
		user := urlDecode(cp[:at])
		u.username = &user
		hostStart = at + 1
	default:
		user, pass := urlDecode(cp[:colon]), urlDecode(cp[colon+1:at])
		u.username, u.password = &user, &pass
		hostStart = at + 1
	}
	proto := url[:protoEnd]
	u.protocol = &proto
	host := urlDecode(cp[hostStart:slash])
	u.host = &host
	rest := strings.TrimLeft(cp[slash:], "/")
	if rest != "" {
		p := urlDecode(rest)
		// git trims trailing slashes but never the first byte.
		end := len(p)
		for end > 1 && p[end-1] == '/' {
			end--
		}
		p = p[:end]
		u.path = &p
	}
	return u, true
}

// urlDecode undoes %XX escapes as git's url_decode_mem does: a "%" not followed
// by two hex digits stays as it is.
func urlDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// parseGitBool reads a boolean as git's git_config_bool does: true, yes, on and
// false, no, off in any case, "" is false, and a decimal integer is true when it
// is not zero. ok is false for anything else (git dies there).
func parseGitBool(s string) (v, ok bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true, true
	case "false", "no", "off", "":
		return false, true
	}
	t := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	if t == "" {
		return false, false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return false, false
		}
	}
	return strings.Trim(t, "0") != "", true
}
