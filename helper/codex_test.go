package helper

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends/file"
)

// The store keys observed from the Codex binary (docs/protocol.md, MCP token records).
func TestStoreKeyVectors(t *testing.T) {
	for _, v := range []struct{ name, url, want string }{
		{"test-server", "https://example.test", "test-server|8c45d89ea13b3919"},
		{"linear", "https://mcp.linear.app/mcp", "linear|638130d5ab3558f4"},
		{"test-server", "http://127.0.0.1:18080/mcp", "test-server|089c68f51447b06b"},
		{"q", "https://x.test/mcp?a=1&b=2", "q|cef1db1b16e44bfa"},
		{"notion", "https://mcp.notion.com/mcp", "notion|eac663db915250e7"},
	} {
		if got := StoreKey(v.name, v.url); got != v.want {
			t.Errorf("StoreKey(%q, %q) = %q, want %q", v.name, v.url, got, v.want)
		}
	}
}

// codexFile is .credentials.json exactly as Codex 0.171 wrote it.
const codexFile = `{"test-server|089c68f51447b06b":{"server_name":"test-server","server_url":"http://127.0.0.1:18080/mcp","issuer":"http://127.0.0.1:18080","client_id":"test-client-id","access_token":"access-token-1","expires_at":1795889123536,"refresh_token":"refresh-token-1","scopes":["scope-a","scope-b"]}}`

// codexKeyring is a Secret Service secret exactly as Codex 0.171 wrote it.
const codexKeyring = `{"server_name":"test-server","url":"http://127.0.0.1:18080/mcp","issuer":"http://127.0.0.1:18080","client_id":"test-client-id","token_response":{"access_token":"access-token-1","token_type":"bearer","expires_in":3600,"refresh_token":"refresh-token-1","scope":"scope-a scope-b"},"expires_at":1795889172727}`

func TestCodexFileRoundTrip(t *testing.T) {
	var entries map[string]json.RawMessage
	if err := json.Unmarshal([]byte(codexFile), &entries); err != nil {
		t.Fatal(err)
	}
	tok, key, err := findFileEntry(entries, "test-server|089c68f51447b06b")
	if err != nil || tok == nil {
		t.Fatalf("findFileEntry = %v, %v", tok, err)
	}
	want := Token{ServerName: "test-server", URL: "http://127.0.0.1:18080/mcp", Issuer: "http://127.0.0.1:18080",
		ClientID: "test-client-id", AccessToken: "access-token-1", RefreshToken: "refresh-token-1",
		Scope: "scope-a scope-b", Expiry: time.UnixMilli(1795889123536)}
	if !tok.Equal(&want) {
		t.Fatalf("read %+v, want %+v", tok, want)
	}
	entries[key] = tok.FileJSON()
	out, err := file.Encode(entries)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != codexFile {
		t.Fatalf("rewritten file differs from Codex's:\n got %s\nwant %s", out, codexFile)
	}
}

func TestCodexKeyringRoundTrip(t *testing.T) {
	tok, err := ParseKeyringJSON([]byte(codexKeyring))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Key() != "test-server|089c68f51447b06b" || tok.Expiry.UnixMilli() != 1795889172727 ||
		tok.Scope != "scope-a scope-b" || tok.PrintedTokenType() != "Bearer" || tok.Issuer != "http://127.0.0.1:18080" {
		t.Fatalf("read %+v", tok)
	}
	// Written an hour before expiry, the bytes are Codex's own.
	now := time.UnixMilli(1795889172727 - 3600*1000)
	if got := string(tok.KeyringJSON(now)); got != codexKeyring {
		t.Fatalf("rewritten secret differs from Codex's:\n got %s\nwant %s", got, codexKeyring)
	}
}

func TestFileJSONNullsAndExtras(t *testing.T) {
	tok := Token{ServerName: "s", URL: "https://a.test/?x=<&>", ClientID: "c", AccessToken: "a",
		ClientSecret: "cs", TokenType: "DPoP", TokenEndpoint: "https://as.test/token", Resource: "https://a.test/"}
	want := `{"server_name":"s","server_url":"https://a.test/?x=<&>","client_id":"c","access_token":"a","expires_at":null,"refresh_token":null,"scopes":[],"client_secret":"cs","token_type":"DPoP","token_endpoint":"https://as.test/token","resource":"https://a.test/"}`
	if got := string(tok.FileJSON()); got != want {
		t.Fatalf("FileJSON:\n got %s\nwant %s", got, want)
	}
	back, err := ParseFileJSON([]byte(want))
	if err != nil || !back.Equal(&tok) {
		t.Fatalf("read back %+v, %v", back, err)
	}
	kj := tok.KeyringJSON(time.Now())
	back, err = ParseKeyringJSON(kj)
	if err != nil || !back.Equal(&tok) {
		t.Fatalf("keyring round trip %s: %+v, %v", kj, back, err)
	}
}

// Reads are as tolerant as Codex's: unknown fields, any order, pretty-printing,
// missing issuer, expires_at and expires_in, extra token-endpoint fields.
func TestKeyringReadIsTolerant(t *testing.T) {
	in := `{
	  "expires_at": null, "client_id": "c", "new_field": [1, {"x": 2}],
	  "token_response": {"id_token": "x", "token_type": "Bearer", "access_token": "a", "custom": {"k": 1}},
	  "url": "u", "server_name": "s"
	}`
	tok, err := ParseKeyringJSON([]byte(in))
	if err != nil || tok.AccessToken != "a" || !tok.Expiry.IsZero() || tok.ServerName != "s" {
		t.Fatalf("ParseKeyringJSON = %+v, %v", tok, err)
	}
	if _, err := ParseKeyringJSON([]byte(`{"server_name":"s"}`)); err == nil {
		t.Fatal("a record with no token_response was accepted")
	}
}
