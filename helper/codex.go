package helper

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mcpcred/mcpcred/protocol"
)

// This file holds Codex's two storage formats for an MCP token, written exactly as
// Codex (serde_json, compact, declared field order) writes them and read as
// tolerantly as Codex reads them: unknown fields, any order, missing optional fields.
// The fields Codex's structs lack (client_secret, token_endpoint, resource and a
// non-Bearer token_type) follow as extra top-level keys, which Codex ignores.

// KeyringJSON renders the secret of a keyring item: Codex's StoredOAuthTokens.
// expires_in is the lifetime left at now, as Codex's own writes carry the token
// endpoint's relative lifetime; readers use expires_at.
func (t *Token) KeyringJSON(now time.Time) []byte {
	b := t.appendHead(make([]byte, 0, 512), "url")
	b = append(b, `,"token_response":{"access_token":`...)
	b = protocol.AppendJSONString(b, t.AccessToken)
	b = append(b, `,"token_type":`...)
	tokenType := t.TokenType
	if tokenType == "" || strings.EqualFold(tokenType, "bearer") {
		tokenType = "bearer" // oauth2's BasicTokenType::Bearer serialises lowercase
	}
	b = protocol.AppendJSONString(b, tokenType)
	if !t.Expiry.IsZero() {
		if left := t.Expiry.Sub(now); left > 0 {
			b = append(b, `,"expires_in":`...)
			b = strconv.AppendInt(b, int64(left/time.Second), 10)
		}
	}
	if t.RefreshToken != "" {
		b = append(b, `,"refresh_token":`...)
		b = protocol.AppendJSONString(b, t.RefreshToken)
	}
	if t.Scope != "" {
		b = append(b, `,"scope":`...)
		b = protocol.AppendJSONString(b, t.Scope)
	}
	b = append(b, '}')
	if !t.Expiry.IsZero() {
		b = append(b, `,"expires_at":`...)
		b = strconv.AppendInt(b, t.Expiry.UnixMilli(), 10)
	}
	b = t.appendExtras(b, false)
	return append(b, '}')
}

// FileJSON renders the record as an entry of Codex's .credentials.json
// (FallbackTokenEntry): absent expires_at and refresh_token are null, as serde
// writes an Option without skip_serializing_if; scopes is an array.
func (t *Token) FileJSON() []byte {
	b := t.appendHead(make([]byte, 0, 512), "server_url")
	b = append(b, `,"access_token":`...)
	b = protocol.AppendJSONString(b, t.AccessToken)
	b = append(b, `,"expires_at":`...)
	if t.Expiry.IsZero() {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, t.Expiry.UnixMilli(), 10)
	}
	b = append(b, `,"refresh_token":`...)
	if t.RefreshToken == "" {
		b = append(b, "null"...)
	} else {
		b = protocol.AppendJSONString(b, t.RefreshToken)
	}
	b = append(b, `,"scopes":[`...)
	for i, s := range strings.Fields(t.Scope) {
		if i > 0 {
			b = append(b, ',')
		}
		b = protocol.AppendJSONString(b, s)
	}
	b = append(b, ']')
	b = t.appendExtras(b, true)
	return append(b, '}')
}

// appendHead opens the object with the fields both formats start with, in
// Codex's order: server_name, the URL under urlKey, issuer when known, client_id.
func (t *Token) appendHead(b []byte, urlKey string) []byte {
	b = append(b, `{"server_name":`...)
	b = protocol.AppendJSONString(b, t.ServerName)
	b = append(b, `,"`+urlKey+`":`...)
	b = protocol.AppendJSONString(b, t.URL)
	if t.Issuer != "" {
		b = append(b, `,"issuer":`...)
		b = protocol.AppendJSONString(b, t.Issuer)
	}
	b = append(b, `,"client_id":`...)
	return protocol.AppendJSONString(b, t.ClientID)
}

// appendExtras adds the token fields (docs/protocol.md) that Codex's structs have no room for.
func (t *Token) appendExtras(b []byte, withType bool) []byte {
	add := func(k, v string) {
		if v != "" {
			b = append(b, ',')
			b = protocol.AppendJSONString(b, k)
			b = append(b, ':')
			b = protocol.AppendJSONString(b, v)
		}
	}
	add("client_secret", t.ClientSecret)
	if withType && !strings.EqualFold(t.PrintedTokenType(), "Bearer") {
		add("token_type", t.TokenType)
	}
	add("token_endpoint", t.TokenEndpoint)
	add("resource", t.Resource)
	add("grant_type", t.GrantType)
	add("token_endpoint_auth_method", t.AuthMethod)
	return b
}

// codexRecord is the union of both formats' fields, for reading.
type codexRecord struct {
	ServerName    string          `json:"server_name"`
	URL           string          `json:"url"`
	ServerURL     string          `json:"server_url"`
	Issuer        json.RawMessage `json:"issuer"`
	ClientID      string          `json:"client_id"`
	ClientSecret  json.RawMessage `json:"client_secret"`
	TokenEndpoint json.RawMessage `json:"token_endpoint"`
	Resource      json.RawMessage `json:"resource"`
	GrantType     json.RawMessage `json:"grant_type"`
	AuthMethod    json.RawMessage `json:"token_endpoint_auth_method"`
	TokenType     json.RawMessage `json:"token_type"`
	ExpiresAt     *json.Number    `json:"expires_at"`
	// keyring layout
	TokenResponse *struct {
		AccessToken  string          `json:"access_token"`
		TokenType    json.RawMessage `json:"token_type"`
		RefreshToken json.RawMessage `json:"refresh_token"`
		Scope        json.RawMessage `json:"scope"`
	} `json:"token_response"`
	// file layout
	AccessToken  string          `json:"access_token"`
	RefreshToken json.RawMessage `json:"refresh_token"`
	Scopes       []string        `json:"scopes"`
}

// ParseKeyringJSON reads a keyring item's secret.
func ParseKeyringJSON(data []byte) (*Token, error) {
	var r codexRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("the keyring item is not a token record: %w", err)
	}
	if r.TokenResponse == nil {
		return nil, fmt.Errorf("the keyring item is not a token record: no token_response")
	}
	t := &Token{ServerName: r.ServerName, URL: r.URL, ClientID: r.ClientID, AccessToken: r.TokenResponse.AccessToken}
	err := r.common(t)
	for _, f := range []struct {
		dst *string
		raw json.RawMessage
	}{{&t.TokenType, r.TokenResponse.TokenType}, {&t.RefreshToken, r.TokenResponse.RefreshToken}, {&t.Scope, r.TokenResponse.Scope}} {
		if err == nil {
			*f.dst, err = rawString(f.raw)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("the keyring item is not a token record: %w", err)
	}
	return t, nil
}

// ParseFileJSON reads one entry of .credentials.json.
func ParseFileJSON(data []byte) (*Token, error) {
	var r codexRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	t := &Token{ServerName: r.ServerName, URL: r.ServerURL, ClientID: r.ClientID, AccessToken: r.AccessToken, Scope: strings.Join(r.Scopes, " ")}
	err := r.common(t)
	if err == nil {
		t.TokenType, err = rawString(r.TokenType)
	}
	if err == nil {
		t.RefreshToken, err = rawString(r.RefreshToken)
	}
	return t, err
}

// common fills the fields both layouts share.
func (r *codexRecord) common(t *Token) error {
	var err error
	for _, f := range []struct {
		dst *string
		raw json.RawMessage
	}{{&t.Issuer, r.Issuer}, {&t.ClientSecret, r.ClientSecret}, {&t.TokenEndpoint, r.TokenEndpoint}, {&t.Resource, r.Resource}, {&t.GrantType, r.GrantType}, {&t.AuthMethod, r.AuthMethod}} {
		if err == nil {
			*f.dst, err = rawString(f.raw)
		}
	}
	if err == nil && r.ExpiresAt != nil {
		ms, perr := strconv.ParseInt(r.ExpiresAt.String(), 10, 64)
		if perr != nil || ms < 0 {
			return fmt.Errorf("expires_at is not a whole number of milliseconds")
		}
		if ms > 0 {
			t.Expiry = time.UnixMilli(ms)
		}
	}
	return err
}
