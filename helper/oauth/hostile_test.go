package oauth

// What a hostile or broken server, or anything that can reach the loopback
// redirect, can do to a login or a refresh, and what it must not.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fetch GETs u and returns the status and body.
func fetch(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// A request to the redirect address without this login's state (a wrong one, or
// none, carrying a code or an error) gets an error page and is ignored: the real
// answer that follows still logs in.
func TestLoginIgnoresForgedCallback(t *testing.T) {
	a, fx := loginSetup(t)
	b := newBrowse()
	var mu sync.Mutex
	var progress []string
	forged := make(chan error, 1)
	browser := func(authURL string) error {
		u, err := url.Parse(authURL)
		if err != nil {
			return err
		}
		redirect := u.Query().Get("redirect_uri")
		for _, q := range []url.Values{
			{"code": {"stolen"}, "state": {"forged"}, "iss": {a.issuer}},
			{"code": {"stolen"}, "iss": {a.issuer}},
			{"error": {"access_denied"}, "state": {"forged"}},
			{"error": {"access_denied"}},
			{"state": {""}, "code": {"x"}},
		} {
			status, page := fetch(t, redirect+"?"+q.Encode())
			if status != http.StatusBadRequest || !strings.Contains(page, "Login failed") || !strings.Contains(page, "was ignored") {
				forged <- fmt.Errorf("forged answer %v: HTTP %d\n%s", q, status, page)
				return nil
			}
		}
		forged <- nil
		return b.open(authURL)
	}
	r, err := Login(discCtx(t), &LoginOptions{ServerURL: fx.URL, Browser: browser, Progress: func(m string) {
		mu.Lock()
		progress = append(progress, m)
		mu.Unlock()
	}})
	if ferr := <-forged; ferr != nil {
		t.Fatal(ferr)
	}
	if err != nil {
		t.Fatalf("the real answer after forged ones: %v", err)
	}
	if r.Tokens == nil || r.Tokens.AccessToken != "at-code-1" {
		t.Fatalf("tokens %+v", r.Tokens)
	}
	if page := b.lastPage(t); !strings.Contains(page, "Login complete") {
		t.Fatalf("page:\n%s", page)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(strings.Join(progress, "\n"), "ignored a request to the login's redirect address"); n != 5 {
		t.Errorf("%d notices of ignored requests, want 5: %q", n, progress)
	}
	if len(a.tokenForms) != 1 {
		t.Errorf("%d token requests, want 1 (forged codes are never exchanged)", len(a.tokenForms))
	}
}

// An authorization server that sends a wrong state is ignored too: the login
// waits for the deadline, not for the first answer.
func TestLoginWrongStateWaitsForDeadline(t *testing.T) {
	a, fx := loginSetup(t)
	a.stateOverride = "forged"
	b := newBrowse()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := Login(ctx, &LoginOptions{ServerURL: fx.URL, Browser: b.open})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if page := b.lastPage(t); !strings.Contains(page, "was ignored") {
		t.Errorf("page:\n%s", page)
	}
}

// A token response holding a line break, a NUL, another token type or a huge
// token is refused: nothing is saved.
func TestLoginRefusesPoisonedTokens(t *testing.T) {
	for _, c := range []struct {
		name     string
		override map[string]any
		want     string
	}{
		{"CRLF in access_token", map[string]any{"access_token": "AT\r\nX-Evil: 1"}, "access_token holds a control or non-ASCII character (byte 3)"},
		{"LF in refresh_token", map[string]any{"refresh_token": "RT\nx"}, "refresh_token holds a control or non-ASCII character"},
		{"NUL in scope", map[string]any{"scope": "mcp\x00tools"}, "scope holds a control or non-ASCII character"},
		{"ESC in token_type", map[string]any{"token_type": "bearer\x1b"}, "token_type holds a control"},
		{"mac token", map[string]any{"token_type": "mac"}, `token_type is "mac", not Bearer`},
		{"huge access_token", map[string]any{"access_token": strings.Repeat("a", MaxTokenBytes+1)}, "access_token is 16385 bytes, over the 16384"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, fx := loginSetup(t)
			a.tokenOverride = c.override
			saved := false
			b := newBrowse()
			_, err := Login(discCtx(t), &LoginOptions{ServerURL: fx.URL, Browser: b.open,
				Save: func(context.Context, *Result) (string, error) { saved = true; return "", nil }})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "mcpcred will not keep") {
				t.Fatalf("err = %v", err)
			}
			if saved {
				t.Fatal("a refused token response was saved")
			}
			if v, _ := c.override["access_token"].(string); v != "" && strings.Contains(err.Error(), v) {
				t.Fatalf("the token reached the message: %v", err)
			}
			_ = b.lastPage(t)
		})
	}
}

// noTerminalControl fails if s holds a control character or is longer than a
// short line.
func noTerminalControl(t *testing.T, what, s string, max int) {
	t.Helper()
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			t.Fatalf("%s holds control character %U: %q", what, r, s)
		}
	}
	if len(s) > max {
		t.Fatalf("%s is %d bytes, want at most %d", what, len(s), max)
	}
}

// An error_description with escape sequences on the redirect reaches neither the
// terminal nor the page raw, and a huge one is cut.
func TestLoginRedirectErrorCleaned(t *testing.T) {
	for _, desc := range []string{"\x1b]0;PWNED\x07\x1b[2J", strings.Repeat("\x1b[31mX", 60000)} {
		a, fx := loginSetup(t)
		a.denyWith, a.denyDesc = "access_denied\x1b[2J", desc
		b := newBrowse()
		_, err := Login(discCtx(t), &LoginOptions{ServerURL: fx.URL, Browser: b.open})
		var ae *AuthorizationError
		if !errors.As(err, &ae) {
			t.Fatalf("err = %v", err)
		}
		noTerminalControl(t, "the error", err.Error(), 600)
		if !strings.Contains(err.Error(), `\x1b[2J`) {
			t.Errorf("the escape is not shown escaped: %v", err)
		}
		page := b.lastPage(t)
		noTerminalControl(t, "the page", strings.ReplaceAll(page, "\n", " "), 2000)
	}
}

// countingProxy is an HTTP proxy that counts what reaches it and answers 502:
// with it as the transport's proxy, a request to a non-loopback http host would
// arrive here instead of on the network.
func countingProxy(t *testing.T) (*http.Client, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	pu, _ := url.Parse(srv.URL)
	return &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}, &n
}

// No request that carries a secret goes to a plain-http host that is not
// loopback: refresh (public and confidential client), revocation, registration.
func TestSecretsOnlyToHTTPSOrLoopback(t *testing.T) {
	hc, sent := countingProxy(t)
	ctx := discCtx(t)
	for _, endpoint := range []string{"http://token.example/token", "http://10.0.0.1/token", "http://[fe80::1]/token", "ftp://token.example/token"} {
		for _, secret := range []string{"", "client-secret"} {
			_, err := Refresh(ctx, hc, TokenClient{ClientID: "c", ClientSecret: secret, TokenEndpoint: endpoint}, "rt-secret", "https://mcp.test/")
			var oe *Error
			if !errors.As(err, &oe) || oe.Kind != Rejected || !errors.Is(err, ErrInsecureEndpoint) {
				t.Fatalf("refresh at %s: %v", endpoint, err)
			}
			if strings.Contains(err.Error(), "rt-secret") || strings.Contains(err.Error(), "client-secret") {
				t.Fatalf("a secret in %q", err)
			}
		}
		if err := Revoke(ctx, hc, endpoint, "c", "client-secret", "rt-secret", "refresh_token"); err == nil || !strings.Contains(err.Error(), "not loopback") && !strings.Contains(err.Error(), "not an http or https URL") {
			t.Fatalf("revoke at %s: %v", endpoint, err)
		}
		if _, err := Register(ctx, hc, endpoint, NativeClient([]string{"http://127.0.0.1:1/callback"}, "test")); err == nil || !strings.Contains(err.Error(), "not loopback") && !strings.Contains(err.Error(), "not an http or https URL") {
			t.Fatalf("register at %s: %v", endpoint, err)
		}
	}
	if n := sent.Load(); n != 0 {
		t.Fatalf("%d requests left for a plain-http host that is not loopback", n)
	}
	// The guard sits under HTTPClient itself, so a caller that skips Refresh's
	// own checks cannot skip it.
	req, _ := http.NewRequest(http.MethodPost, "http://token.example/token", strings.NewReader("refresh_token=rt-secret"))
	if _, err := HTTPClient(hc).Do(req); !errors.Is(err, ErrInsecureEndpoint) {
		t.Fatalf("HTTPClient: %v", err)
	}
	if n := sent.Load(); n != 0 {
		t.Fatalf("%d requests left through HTTPClient", n)
	}
	for host, want := range map[string]bool{"127.0.0.1": true, "127.8.9.1": true, "::1": true, "localhost": true, "LocalHost": true,
		"10.0.0.1": false, "token.example": false, "localhost.example": false, "0.0.0.0": false} {
		if got := SecretURLAllowed("http", host); got != want {
			t.Errorf("SecretURLAllowed(http, %s) = %v", host, got)
		}
		if !SecretURLAllowed("HTTPS", host) {
			t.Errorf("https to %s refused", host)
		}
	}
}

// answering is a token endpoint on loopback that answers every request with
// status and body.
func answering(t *testing.T, status int, body string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/token"
}

// A refresh answered with a poisoned token is an error: the caller keeps the old
// record.
func TestRefreshRefusesPoisonedTokens(t *testing.T) {
	for body, want := range map[string]string{
		`{"access_token":"AT\r\nX-Evil: 1","token_type":"Bearer","expires_in":60}`:                         "access_token holds a control",
		`{"access_token":"AT","refresh_token":"RT\nX","token_type":"Bearer"}`:                              "refresh_token holds a control",
		`{"access_token":"AT","token_type":"DPoP"}`:                                                        `token_type is "DPoP"`,
		`{"access_token":"AT","token_type":"Bearer","scope":"a\u0000b"}`:                                   "scope holds a control",
		`{"access_token":"` + strings.Repeat("A", MaxTokenBytes+1) + `","token_type":"Bearer"}`:            "over the 16384",
		`{"access_token":"AT","refresh_token":"` + strings.Repeat("R", 20000) + `","token_type":"Bearer"}`: "refresh_token is 20000 bytes",
	} {
		_, err := Refresh(discCtx(t), nil, TokenClient{ClientID: "c", TokenEndpoint: answering(t, 200, body)}, "rt-old", "")
		var oe *Error
		if !errors.As(err, &oe) || oe.Kind != Unavailable || !strings.Contains(err.Error(), want) {
			t.Errorf("%.60s: %v", body, err)
		}
		noTerminalControl(t, "the error", err.Error(), 300)
	}
}

// A token endpoint's error code with escape sequences, or of 300,000 bytes,
// reaches the message escaped and cut.
func TestRefreshErrorCleaned(t *testing.T) {
	for _, code := range []string{`\u001b]0;PWNED\u0007\u001b[2J`, strings.Repeat("E", 300000)} {
		_, err := Refresh(discCtx(t), nil, TokenClient{ClientID: "c", TokenEndpoint: answering(t, 400, `{"error":"`+code+`","error_description":"\u001b[31mred"}`)}, "rt-old", "")
		var oe *Error
		if !errors.As(err, &oe) || oe.Kind != Rejected {
			t.Fatalf("err = %v", err)
		}
		noTerminalControl(t, "the error", err.Error(), 400)
		noTerminalControl(t, "the code", oe.Code, MaxServerText+20)
	}
}
