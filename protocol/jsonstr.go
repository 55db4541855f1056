package protocol

// AppendJSONString appends s as a JSON string the way Rust's serde_json writes it, so
// that files and keyring items mcpcred writes are byte for byte what Codex writes:
// only '"', '\\' and control characters below U+0020 are escaped (\b \f \n \r \t, the
// rest as \u00xx in lowercase hex); '&', '<', '>', '/', U+2028 and U+2029 are not.
// s must be valid UTF-8 (Rust strings always are); callers reject other input first.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
