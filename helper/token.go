package helper

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mcpcred/mcpcred/helper/oauth"
	"github.com/mcpcred/mcpcred/protocol"
)

// Token is an MCP OAuth token record (docs/protocol.md, MCP token records). Absent optional fields are
// empty strings; Expiry is zero when the server gave no lifetime. Expiry keeps the
// millisecond precision of Codex's formats, so a record Codex wrote is rewritten
// with the same bytes.
type Token struct {
	ServerName    string
	URL           string
	Issuer        string
	ClientID      string
	ClientSecret  string
	TokenType     string
	AccessToken   string
	RefreshToken  string
	Expiry        time.Time
	Scope         string
	TokenEndpoint string
	Resource      string
	// GrantType is how a new token is had: "" a refresh (or a new login),
	// GrantClientCredentials minting one with the stored client secret.
	GrantType string
	// AuthMethod is "" or oauth.AuthPrivateKeyJWT: ClientSecret then holds the
	// client's private key, which signs assertions and is sent nowhere.
	AuthMethod string
}

// GrantClientCredentials is the GrantType of a machine client's record
// (`login --client-credentials`).
const GrantClientCredentials = "client_credentials"

// tokenKeys are the keys a token request may carry, in the order `get` prints them.
var tokenKeys = []string{
	"server_name", "url", "issuer", "client_id", "client_secret", "token_type",
	"access_token", "refresh_token", "expires_at", "scope", "token_endpoint", "resource",
	"grant_type", "token_endpoint_auth_method",
}

// StoreKey is Codex's compute_store_key: the account under which the token is kept
// in every store. The hashed payload is serde_json's compact rendering of
// {"type":"http","url":<url>,"headers":{}} in that key order, which is what shipped
// Codex hashes (its serde_json has preserve_order on), with no HTML escaping.
func StoreKey(serverName, url string) string {
	payload := make([]byte, 0, len(url)+48)
	payload = append(payload, `{"type":"http","url":`...)
	payload = protocol.AppendJSONString(payload, url)
	payload = append(payload, `,"headers":{}}`...)
	sum := sha256.Sum256(payload)
	return serverName + "|" + hex.EncodeToString(sum[:8])
}

// Key is the token's store key.
func (t *Token) Key() string { return StoreKey(t.ServerName, t.URL) }

// PrintedTokenType is the token type as `get` prints it: "Bearer" in any case
// prints as Bearer, and an absent one is Bearer too, as oauth2's BasicTokenType.
func (t *Token) PrintedTokenType() string {
	if t.TokenType == "" || strings.EqualFold(t.TokenType, "bearer") {
		return "Bearer"
	}
	return t.TokenType
}

// ExpiresAt is the expiry as Unix seconds, rounded down, and whether there is one.
func (t *Token) ExpiresAt() (int64, bool) {
	if t.Expiry.IsZero() {
		return 0, false
	}
	return t.Expiry.Unix(), true
}

// Equal reports whether two records say the same: the same fields, a token type
// that prints the same, and an expiry in the same second. The wire carries whole
// seconds, so a record read with `get` and stored back unchanged is equal to the
// one Codex wrote with milliseconds, and that store writes nothing.
func (t *Token) Equal(u *Token) bool {
	a, b := *t, *u
	a.Expiry, b.Expiry = time.Time{}, time.Time{}
	a.TokenType, b.TokenType = t.PrintedTokenType(), u.PrintedTokenType()
	return a == b && t.Expiry.IsZero() == u.Expiry.IsZero() && t.Expiry.Unix() == u.Expiry.Unix()
}

// BadRequestError is a request mcpcred refuses: exit status 2, nothing stored.
type BadRequestError struct{ msg string }

func (e *BadRequestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &BadRequestError{msg: fmt.Sprintf(format, args...)}
}

// IsBadRequest reports whether err is the caller's fault (exit status 2).
func IsBadRequest(err error) bool {
	var b *BadRequestError
	return errors.As(err, &b) || errors.Is(err, protocol.ErrBadRequest)
}

// identity reads server_name and url, both required for every token verb.
func identity(m *protocol.Message) (name, url string, err error) {
	name, okName := m.Get("server_name")
	url, okURL := m.Get("url")
	switch {
	case !okName || name == "":
		return "", "", badRequest("server_name is empty: a token request needs server_name and url")
	case !okURL || url == "":
		return "", "", badRequest("url is missing: a token request needs server_name and url")
	case !utf8.ValidString(name) || !utf8.ValidString(url):
		return "", "", badRequest("server_name and url must be UTF-8 text")
	}
	return name, url, nil
}

// tokenFromStore builds the record a `store` request describes, as of now.
func tokenFromStore(m *protocol.Message, now time.Time) (*Token, error) {
	known := map[string]bool{"expires_in": true}
	for _, k := range tokenKeys {
		known[k] = true
	}
	for _, k := range m.Keys() {
		if !known[k] {
			return nil, badRequest("unknown key %q in a token store: known keys are %s and expires_in", k, strings.Join(tokenKeys, ", "))
		}
		if v, _ := m.Get(k); !utf8.ValidString(v) {
			return nil, badRequest("%s is not UTF-8 text", k)
		}
	}
	name, url, err := identity(m)
	if err != nil {
		return nil, err
	}
	get := func(k string) string { v, _ := m.Get(k); return v }
	t := &Token{
		ServerName:    name,
		URL:           url,
		Issuer:        get("issuer"),
		ClientID:      get("client_id"),
		ClientSecret:  get("client_secret"),
		TokenType:     get("token_type"),
		AccessToken:   get("access_token"),
		RefreshToken:  get("refresh_token"),
		Scope:         get("scope"),
		TokenEndpoint: get("token_endpoint"),
		Resource:      get("resource"),
		GrantType:     get("grant_type"),
		AuthMethod:    get("token_endpoint_auth_method"),
	}
	if t.AuthMethod != "" && t.AuthMethod != oauth.AuthPrivateKeyJWT {
		return nil, badRequest("token_endpoint_auth_method must be %s or absent", oauth.AuthPrivateKeyJWT)
	}
	if t.GrantType != "" && t.GrantType != GrantClientCredentials {
		return nil, badRequest("grant_type must be %s or absent", GrantClientCredentials)
	}
	if t.ClientID == "" {
		return nil, badRequest("client_id is missing: a token store needs client_id and access_token")
	}
	if t.AccessToken == "" {
		return nil, badRequest("access_token is missing: a token store needs client_id and access_token")
	}
	at, hasAt := m.Get("expires_at")
	in, hasIn := m.Get("expires_in")
	switch {
	case hasAt && hasIn:
		return nil, badRequest("expires_at and expires_in both given: send one")
	case hasAt && at != "":
		secs, err := parseSeconds("expires_at", at)
		if err != nil {
			return nil, err
		}
		t.Expiry = time.Unix(secs, 0)
	case hasIn && in != "":
		secs, err := parseSeconds("expires_in", in)
		if err != nil {
			return nil, err
		}
		t.Expiry = now.Add(time.Duration(secs) * time.Second).Truncate(time.Millisecond)
	}
	return t, nil
}

// maxSeconds keeps expiry arithmetic inside time.Duration and Codex's u64 ms.
const maxSeconds = 1 << 40

func parseSeconds(key, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > maxSeconds {
		// Never the value: a caller that put a secret on the wrong line must not
		// find it on stderr (docs/protocol.md: errors name keys, not values).
		return 0, badRequest("%s must be a whole number of seconds from 0 to %d", key, int64(maxSeconds))
	}
	return n, nil
}

// message renders the record as `get` prints it.
func (t *Token) message() *protocol.Message {
	m := protocol.NewMessage()
	set := func(k, v string) {
		if v != "" {
			m.Set(k, v)
		}
	}
	set("server_name", t.ServerName)
	set("url", t.URL)
	set("issuer", t.Issuer)
	set("client_id", t.ClientID)
	set("client_secret", t.ClientSecret)
	m.Set("token_type", t.PrintedTokenType())
	set("access_token", t.AccessToken)
	set("refresh_token", t.RefreshToken)
	if secs, ok := t.ExpiresAt(); ok {
		m.Set("expires_at", strconv.FormatInt(secs, 10))
	}
	set("scope", t.Scope)
	set("token_endpoint", t.TokenEndpoint)
	set("resource", t.Resource)
	set("grant_type", t.GrantType)
	set("token_endpoint_auth_method", t.AuthMethod)
	return m
}

// rawString decodes a JSON string field that may be absent or null.
func rawString(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}
