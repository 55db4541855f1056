package wincred

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Limits of Windows Credential Manager (wincred.h) and of mcpcred's split format.
const (
	// MaxBlob is CRED_MAX_CREDENTIAL_BLOB_SIZE: the bytes one credential holds.
	// Real Windows rejects more with error 1783; Wine does not check, so we do.
	MaxBlob = 5 * 512
	// MaxParts is the most credentials one split secret occupies.
	MaxParts = 64
	// MaxSecret is the largest secret the default layout stores.
	MaxSecret = MaxParts * MaxBlob
	// MaxTargetName is CRED_MAX_GENERIC_TARGET_NAME_LENGTH, in UTF-16 units.
	MaxTargetName = 32767
	// MaxUserName is CRED_MAX_USERNAME_LENGTH, in UTF-16 units.
	MaxUserName = 513

	// partSuffixMax is the longest suffix of a part's target name: "#" gen "-" 64.
	partSuffixMax = 1 + genLen + 1 + 2
	genLen        = 8 // hex digits of a generation
)

// Comments mark the credentials mcpcred writes; they are how a reader knows the
// layout of a blob for certain. Anything else is read by its content (decodeBlob).
const (
	commentUTF8     = "mcpcred: secret, UTF-8"
	commentUTF16    = "mcpcred: secret, UTF-16LE (keyring-rs layout)"
	commentManifest = "mcpcred: secret split over several credentials; this one lists them"
	commentPart     = "mcpcred: one part of a split secret"
)

// manifest is the blob of a split record's main credential, in JSON.
type manifest struct {
	V      int    `json:"v"`
	Gen    string `json:"gen"`
	Parts  int    `json:"parts"`
	Len    int    `json:"len"`
	SHA256 string `json:"sha256"`
}

func newManifest(gen string, secret []byte) manifest {
	sum := sha256.Sum256(secret)
	return manifest{
		V:      1,
		Gen:    gen,
		Parts:  (len(secret) + MaxBlob - 1) / MaxBlob,
		Len:    len(secret),
		SHA256: hex.EncodeToString(sum[:]),
	}
}

func (m manifest) encode() []byte {
	b, _ := json.Marshal(m) // cannot fail: fixed, plain struct
	return b
}

func parseManifest(b []byte) (manifest, error) {
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return m, errors.New("its index of parts is not valid JSON")
	}
	switch {
	case m.V != 1:
		return m, fmt.Errorf("its index of parts has version %d; this mcpcred reads version 1", m.V)
	case !validGen(m.Gen):
		return m, errors.New("its index of parts has no valid generation")
	case m.Parts < 1 || m.Parts > MaxParts:
		return m, fmt.Errorf("its index of parts names %d parts (1 to %d allowed)", m.Parts, MaxParts)
	case m.Len < 0 || m.Len > m.Parts*MaxBlob || m.Len <= (m.Parts-1)*MaxBlob:
		return m, fmt.Errorf("its index of parts gives a length of %d for %d parts", m.Len, m.Parts)
	case len(m.SHA256) != 64:
		return m, errors.New("its index of parts has no valid SHA-256")
	}
	return m, nil
}

// check reports whether data is the secret m describes.
func (m manifest) check(data []byte) bool {
	sum := sha256.Sum256(data)
	return len(data) == m.Len && hex.EncodeToString(sum[:]) == m.SHA256
}

func validGen(g string) bool {
	if len(g) != genLen {
		return false
	}
	for _, c := range g {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// partTarget is the target name of part i (1-based) of generation gen.
func partTarget(main, gen string, i int) string {
	return main + "#" + gen + "-" + strconv.Itoa(i)
}

// parsePartTarget reports whether target names a part of main, and which.
// Windows compares target names without regard to case, and so does this.
func parsePartTarget(main, target string) (gen string, i int, ok bool) {
	if len(target) <= len(main)+1 || !strings.EqualFold(target[:len(main)], main) || target[len(main)] != '#' {
		return "", 0, false
	}
	gen, num, found := strings.Cut(target[len(main)+1:], "-")
	gen = strings.ToLower(gen)
	if !found || !validGen(gen) || num == "" || num[0] == '0' || len(num) > 2 {
		return "", 0, false
	}
	i, err := strconv.Atoi(num)
	if err != nil || i < 1 || i > MaxParts {
		return "", 0, false
	}
	return gen, i, true
}

// utf16Len is the length of s in UTF-16 code units, as Windows counts.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// encodeUTF16LE encodes text as keyring-rs does: UTF-16LE, no BOM, no NUL.
func encodeUTF16LE(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i] = byte(c)
		b[2*i+1] = byte(c >> 8)
	}
	return b
}

// decodeUTF16LE decodes b strictly, as keyring-rs (String::from_utf16) does.
func decodeUTF16LE(b []byte) ([]byte, error) {
	if len(b)%2 != 0 {
		return nil, fmt.Errorf("its blob of %d bytes has an odd length, so it is not UTF-16LE", len(b))
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	for i := 0; i < len(u); i++ {
		switch c := u[i]; {
		case c >= 0xD800 && c < 0xDC00:
			if i+1 < len(u) && u[i+1] >= 0xDC00 && u[i+1] < 0xE000 {
				i++
				continue
			}
			return nil, errors.New("its blob is not valid UTF-16LE (an unpaired surrogate)")
		case c >= 0xDC00 && c < 0xE000:
			return nil, errors.New("its blob is not valid UTF-16LE (an unpaired surrogate)")
		}
	}
	return []byte(string(utf16.Decode(u))), nil
}

// looksUTF16LE is the content test for a credential no comment identifies: a blob
// of even length that decodes as UTF-16 and contains a zero byte. Text in UTF-16LE
// has a zero high byte for every ASCII or Latin-1 character, so any JSON does;
// UTF-8 text never contains a zero byte. The test misreads only a UTF-16 text made
// entirely of characters above U+00FF, or a binary UTF-8-layout secret with zero
// bytes that also happens to be valid UTF-16, both written by a program other
// than keyring-rs (which its comment identifies) and mcpcred.
func looksUTF16LE(b []byte) bool {
	if len(b) == 0 || len(b)%2 != 0 {
		return false
	}
	zero := false
	for i := 0; i < len(b); i += 2 {
		if b[i] == 0 && b[i+1] == 0 {
			return false // a NUL character: neither keyring-rs nor text
		}
		if b[i+1] == 0 || b[i] == 0 {
			zero = true
		}
	}
	if !zero {
		return false
	}
	_, err := decodeUTF16LE(b)
	return err == nil
}

// isKeyringRSComment recognises the comment keyring-rs 3.x writes:
// "<user>@<service>:<target> (keyring v3.6.3)".
func isKeyringRSComment(comment, account, service string) bool {
	return strings.HasPrefix(comment, account+"@"+service+":") || strings.Contains(comment, "(keyring v")
}

// blobKind is what a main credential holds.
type blobKind int

const (
	kindUTF8 blobKind = iota
	kindUTF16
	kindManifest
	kindPart
)

// classify decides the layout of a credential found at a record's target name:
// by mcpcred's comment when there is one, then by keyring-rs's comment, then by
// content (looksUTF16LE).
func classify(c *cred, account, service string) blobKind {
	switch c.Comment {
	case commentUTF8:
		return kindUTF8
	case commentUTF16:
		return kindUTF16
	case commentManifest:
		return kindManifest
	case commentPart:
		return kindPart
	}
	if isKeyringRSComment(c.Comment, account, service) || looksUTF16LE(c.Blob) {
		return kindUTF16
	}
	return kindUTF8
}

// validText reports whether secret can be stored as keyring-rs text.
func validText(secret []byte) bool { return utf8.Valid(secret) }
