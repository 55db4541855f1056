package oauth

// Issue 12's three rules on the ways in of issue 15: the device grant, client
// credentials (secret or private_key_jwt), the client metadata document and the
// token endpoint discovery of a record that lacks one.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"
)

// Nothing of the new requests goes to a plain-http host that is not loopback:
// the device authorization request, client credentials with a secret or a
// signed assertion, the metadata document fetch, discovery.
func TestNewWaysOnlyToHTTPSOrLoopback(t *testing.T) {
	hc, sent := countingProxy(t)
	ctx := discCtx(t)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	key, err := EncodeClientKey(pem.EncodeToMemory(pkcs8(t, ec)))
	if err != nil {
		t.Fatal(err)
	}
	const endpoint = "http://token.example/token"
	for _, c := range []TokenClient{
		{ClientID: "bot", ClientSecret: "client-secret", TokenEndpoint: endpoint},
		{ClientID: "bot", PrivateKey: key, TokenEndpoint: endpoint},
	} {
		_, err := ClientCredentials(ctx, hc, c, "mcp:tools", "https://mcp.test/")
		var oe *Error
		if !errors.As(err, &oe) || oe.Kind != Rejected || !errors.Is(err, ErrInsecureEndpoint) {
			t.Fatalf("client credentials (key %v): %v", c.PrivateKey != "", err)
		}
	}
	l := &login{o: &LoginOptions{}, c: hc}
	cfg := &oauth2.Config{ClientID: "c", Endpoint: oauth2.Endpoint{DeviceAuthURL: "http://as.example/device", TokenURL: endpoint}}
	if _, err := l.deviceAuth(ctx, cfg, nil); !errors.Is(err, ErrInsecureEndpoint) {
		t.Fatalf("device authorization: %v", err)
	}
	if _, err := DiscoverTokenEndpoint(ctx, hc, "http://mcp.example/mcp", ""); err == nil {
		t.Fatal("discovery from a plain-http server that is not loopback")
	}
	if n := sent.Load(); n != 0 {
		t.Fatalf("%d requests left for a plain-http host that is not loopback", n)
	}
}

// redirecting answers every request with a redirect to a server that counts the
// requests reaching it.
func redirecting(t *testing.T) (string, *atomic.Int32) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{}`)
	}))
	t.Cleanup(target.Close)
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(src.Close)
	return src.URL, &hits
}

// The metadata document fetch and discovery go through HTTPClient: a redirect
// is an answer, never followed.
func TestNewWaysFollowNoRedirect(t *testing.T) {
	base, hits := redirecting(t)
	l := &login{o: &LoginOptions{}}
	if _, err := l.fetchClientMetadata(discCtx(t), base+"/client.json"); err == nil || !strings.Contains(err.Error(), "answered HTTP 302") {
		t.Fatalf("client metadata document behind a redirect: %v", err)
	}
	if _, err := DiscoverTokenEndpoint(discCtx(t), nil, base+"/mcp", ""); err == nil {
		t.Fatal("discovery through redirects")
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d requests followed a redirect", n)
	}
}

// A client credentials token answered poisoned is refused before anything keeps
// it (Unavailable: the stored record stays), as a refresh's is.
func TestClientCredentialsRefusesPoisonedTokens(t *testing.T) {
	for body, want := range map[string]string{
		`{"access_token":"AT\r\nX-Evil: 1","token_type":"Bearer","expires_in":60}`:              "access_token holds a control",
		`{"access_token":"AT","token_type":"DPoP"}`:                                             `token_type is "DPoP"`,
		`{"access_token":"` + strings.Repeat("A", MaxTokenBytes+1) + `","token_type":"Bearer"}`: "over the 16384",
	} {
		_, err := ClientCredentials(discCtx(t), nil, TokenClient{ClientID: "bot", ClientSecret: "s", TokenEndpoint: answering(t, 200, body)}, "", "")
		var oe *Error
		if !errors.As(err, &oe) || oe.Kind != Unavailable || !strings.Contains(err.Error(), want) {
			t.Errorf("%.60s: %v", body, err)
		}
		noTerminalControl(t, "the error", err.Error(), 300)
	}
}

// A device authorization answer whose user code ServerText would change is
// refused, and its error code reaches the message cleaned.
func TestDeviceAnswerCleaned(t *testing.T) {
	l := &login{o: &LoginOptions{}}
	for _, c := range []struct {
		status     int
		body, want string
	}{
		{200, `{"device_code":"d","user_code":"AB\u001b]0;PWNED\u0007","verification_uri":"https://as.test/device","expires_in":60}`, "user_code that is unprintable"},
		{200, `{"device_code":"d","user_code":"` + strings.Repeat("A", MaxServerText+1) + `","verification_uri":"https://as.test/device","expires_in":60}`, "over 200 bytes"},
		{400, `{"error":"\u001b[2Jinvalid_scope"}`, `answered \x1b[2Jinvalid_scope (HTTP 400)`},
	} {
		ep := answering(t, c.status, c.body)
		cfg := &oauth2.Config{ClientID: "c", Endpoint: oauth2.Endpoint{DeviceAuthURL: ep, TokenURL: ep}}
		_, err := l.deviceAuth(discCtx(t), cfg, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.60s: %v", c.body, err)
			continue
		}
		noTerminalControl(t, "the error", err.Error(), 400)
	}
}
