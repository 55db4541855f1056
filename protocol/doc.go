// Package protocol is mcpcred's wire format: the request read on stdin and the
// response written on stdout, as ordered key/value pairs in git's credential-helper
// "kv" format (docs/protocol.md, Wire format) or as one JSON object (--format json).
//
// # Message
//
// A Message holds ordered key/value pairs. A key that ends in "[]" (capability[],
// state[], wwwauth[]) is a list key: it holds values in the order added. Any other key
// is a scalar key: it holds one value, the last one set. A scalar key set to "" is
// present and empty, which is not the same as absent. A list with no values is absent.
// Keys keep the position where they were first added, also when deleted and added again.
// The zero Message is empty and ready to use.
//
// # kv format (Read, Write)
//
//   - One key=value per line, split at the first "=": the value may hold "=".
//     Lines end in LF; one CR right before the LF is dropped (CRLF input), and so is
//     one CR at the very end of the input. Nothing is trimmed or unquoted.
//   - The request ends at the first blank line or at EOF. Read does not look past the
//     blank line except for what its buffer already holds; pass a *bufio.Reader to
//     keep reading the same stream afterwards.
//   - A list key's line adds a value; an empty value ("capability[]=") clears the list.
//     A scalar key's line replaces its value (the last one wins).
//   - An empty key ("=value") is the key "", as in git; callers ignore it like any
//     other unknown key.
//   - The whole request is rejected, with an error matching ErrBadRequest, for: a NUL
//     byte anywhere; a CR anywhere in a key or a value (other than the dropped one); a
//     line with no "="; a request over MaxRequestSize bytes. Only the bytes up to the
//     blank line or EOF that ends the request count, line endings included, the blank
//     line not; reading stops as soon as the limit is passed. A long line is
//     never split.
//   - Write prints one key=value line per value, LF only, keys in order, the values of
//     a list key together. It writes nothing and returns an error matching ErrUnwritable
//     if any key or value holds LF, CR or NUL or a key holds "=". It writes no blank
//     line after the message.
//
// # JSON format (ReadJSON, WriteJSON)
//
// The same keys and values as one JSON object, the JSON names being the kv keys
// exactly: {"protocol":"https","host":"example.com","capability[]":["authtype"]}.
//
//   - A scalar key's value is a JSON string. As a convenience an integer
//     (-?(0|[1-9][0-9]*), no fraction or exponent) is also taken, as its decimal
//     text: "expires_at":1700000000 is the same as "expires_at":"1700000000". null
//     means absent (for a list key too). Booleans, objects, fractions and exponents are rejected.
//   - A list key's value is a JSON array of strings (or integers); an empty array means
//     absent. An array for a key without "[]", a non-array for a key with "[]", and an
//     empty string in an array are rejected (JSON has no "clear the list" entry).
//   - Duplicate names are rejected, so that no two JSON parsers can disagree.
//   - The input must be UTF-8, with no lone surrogate escapes. Keys and values obey
//     the kv rules after unescaping: no NUL, LF or CR anywhere, no "=" in a key. So
//     every message ReadJSON accepts can be written in both formats.
//   - ReadJSON reads exactly one object, up to its closing brace, and nothing after it
//     (beyond buffering; pass a *bufio.Reader to keep reading). Empty input is an
//     error. The object, with any leading white space, may be at most MaxRequestSize
//     bytes.
//   - WriteJSON prints one compact object and "\n", keys in order, strings escaped the
//     way serde_json does (AppendJSONString: no HTML escaping). It refuses, like Write,
//     what kv cannot carry, and also strings that are not valid UTF-8.
//
// # Errors
//
// Every error Read and ReadJSON return for bad input is an *Error matching
// ErrBadRequest (exit status 2); an error reading the stream itself is returned as
// it is (wrapped) and does not match. Every error Write and WriteJSON return for a
// message they refuse is an *Error matching ErrUnwritable (exit status 1: a record
// that cannot be printed safely). No error message ever holds a value; some name a
// key (quoted, escaped, shortened) or a line number or byte offset.
package protocol
