package helper_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/file"
	"github.com/mcpcred/mcpcred/backends/memory"
	"github.com/mcpcred/mcpcred/helper"
	"github.com/mcpcred/mcpcred/helper/helpertest"
)

// tokenEndpoint is a fake token endpoint: it records each request's form and
// answers with answer's status and body.
type tokenEndpoint struct {
	URL    string
	mu     sync.Mutex
	forms  []url.Values
	answer func(form url.Values) (int, string)
}

func newEndpoint(t *testing.T, answer func(form url.Values) (int, string)) *tokenEndpoint {
	e := &tokenEndpoint{answer: answer}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		e.mu.Lock()
		e.forms = append(e.forms, r.PostForm)
		e.mu.Unlock()
		status, body := e.answer(r.PostForm)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	e.URL = srv.URL + "/token"
	return e
}

func (e *tokenEndpoint) requests() []url.Values {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]url.Values(nil), e.forms...)
}

func issue(access, refresh string) func(url.Values) (int, string) {
	return func(url.Values) (int, string) {
		if refresh == "" {
			return 200, fmt.Sprintf(`{"access_token":%q,"token_type":"bearer","expires_in":3600}`, access)
		}
		return 200, fmt.Sprintf(`{"access_token":%q,"token_type":"bearer","expires_in":3600,"refresh_token":%q}`, access, refresh)
	}
}

func oauthError(status int, code string) func(url.Values) (int, string) {
	return func(url.Values) (int, string) { return status, fmt.Sprintf(`{"error":%q}`, code) }
}

// expiring is a full record whose access token expires in d.
func expiring(endpoint string, d time.Duration) *helper.Token {
	return &helper.Token{
		ServerName:    "srv",
		URL:           "https://mcp.test/mcp",
		Issuer:        "https://as.test",
		ClientID:      "client-1",
		TokenType:     "Bearer",
		AccessToken:   "at-old",
		RefreshToken:  "rt-old",
		Expiry:        time.Now().Add(d).Truncate(time.Millisecond),
		Scope:         "mcp:tools",
		TokenEndpoint: endpoint,
		Resource:      "https://mcp.test/mcp",
	}
}

func newEnv(t *testing.T, mode helper.Mode) *helpertest.Env {
	e := helpertest.New(t, memory.New(), mode)
	e.Helper.MinTTL = time.Minute
	e.Helper.Timeout = 2 * time.Second
	return e
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func load(t *testing.T, h *helper.Helper, tok *helper.Token) *helper.Token {
	t.Helper()
	got, _, err := h.LoadToken(ctx(t), tok.ServerName, tok.URL)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRefreshOnRead(t *testing.T) {
	for _, mode := range []helper.Mode{helper.Auto, helper.File, helper.Keyring} {
		t.Run(string(mode), func(t *testing.T) {
			ep := newEndpoint(t, issue("at-new", "rt-new"))
			e := newEnv(t, mode)
			old := expiring(ep.URL, 30*time.Second) // within MinTTL, still valid
			if _, err := e.Helper.SaveToken(ctx(t), old); err != nil {
				t.Fatal(err)
			}
			before := time.Now()
			got, err := e.Helper.ReadToken(ctx(t), old.ServerName, old.URL, false)
			if err != nil {
				t.Fatal(err)
			}
			if got.AccessToken != "at-new" || got.RefreshToken != "rt-new" || got.Scope != "mcp:tools" || got.ClientID != "client-1" || got.Issuer != old.Issuer {
				t.Errorf("got %+v", got)
			}
			if d := got.Expiry.Sub(before); d < 3599*time.Second || d > 3601*time.Second+time.Since(before) {
				t.Errorf("expiry %v after the call, want an hour", d)
			}
			if stored := load(t, e.Helper, old); !stored.Equal(got) {
				t.Errorf("stored %+v, want what was returned", stored)
			}
			reqs := ep.requests()
			if len(reqs) != 1 || reqs[0].Get("resource") != old.Resource || reqs[0].Get("refresh_token") != "rt-old" || reqs[0].Get("client_id") != "client-1" {
				t.Errorf("requests %v", reqs)
			}
			if e.Notices.Len() != 0 {
				t.Errorf("notices: %s", e.Notices)
			}
		})
	}
}

// A response without refresh_token or scope keeps the old ones.
func TestRefreshKeepsOmittedFields(t *testing.T) {
	ep := newEndpoint(t, issue("at-new", ""))
	e := newEnv(t, helper.File)
	old := expiring(ep.URL, -time.Hour)
	e.SaveFile(old)
	got, err := e.Helper.ReadToken(ctx(t), old.ServerName, old.URL, false)
	if err != nil || got.AccessToken != "at-new" || got.RefreshToken != "rt-old" || got.Scope != "mcp:tools" {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestNoRefreshWhen(t *testing.T) {
	for _, c := range []struct {
		name   string
		tok    func(ep string) *helper.Token
		noRef  bool
		expect string
	}{
		{"not due", func(ep string) *helper.Token { return expiring(ep, 2*time.Hour) }, false, "at-old"},
		{"no expiry", func(ep string) *helper.Token { t := expiring(ep, 0); t.Expiry = time.Time{}; return t }, false, "at-old"},
		{"--no-refresh", func(ep string) *helper.Token { return expiring(ep, -time.Hour) }, true, "at-old"},
		{"no refresh token", func(ep string) *helper.Token { t := expiring(ep, -time.Hour); t.RefreshToken = ""; return t }, false, "at-old"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ep := newEndpoint(t, issue("at-new", "rt-new"))
			e := newEnv(t, helper.File)
			e.Helper.NoRefresh = c.noRef
			tok := c.tok(ep.URL)
			e.SaveFile(tok)
			got, err := e.Helper.ReadToken(ctx(t), tok.ServerName, tok.URL, false)
			if err != nil || got.AccessToken != c.expect {
				t.Fatalf("got %+v, %v", got, err)
			}
			if n := len(ep.requests()); n != 0 {
				t.Errorf("%d token requests, want none", n)
			}
		})
	}
}

// A record without token_endpoint (as Codex stores them) finds it from its URL;
// when that fails, an expired token is an error that says so, and nothing
// changes. The discovery that works is in cmd/mcpcred (TestCodexRecordRefreshedByDiscovery).
func TestRefreshDiscoveryFails(t *testing.T) {
	e := newEnv(t, helper.File)
	tok := expiring("", -time.Hour)
	tok.URL = "http://127.0.0.1:1/mcp"
	e.SaveFile(tok)
	got, err := e.Helper.ReadToken(ctx(t), tok.ServerName, tok.URL, false)
	if err != nil || !got.Equal(tok) {
		t.Fatalf("got %+v, %v; want the stored token", got, err)
	}
	if n := e.Notices.String(); !strings.Contains(n, "the record has no token_endpoint, and finding it from http://127.0.0.1:1/mcp failed: cannot reach the MCP server") {
		t.Fatalf("notices %q", n)
	}
	got, _, err = e.Helper.LoadToken(ctx(t), tok.ServerName, tok.URL)
	if err != nil || !got.Equal(tok) {
		t.Fatalf("the record changed: %+v, %v", got, err)
	}
}

func TestForceRefresh(t *testing.T) {
	ep := newEndpoint(t, issue("at-new", "rt-new"))
	e := newEnv(t, helper.File)
	tok := expiring(ep.URL, 2*time.Hour)
	e.SaveFile(tok)
	got, err := e.Helper.ReadToken(ctx(t), tok.ServerName, tok.URL, true)
	if err != nil || got.AccessToken != "at-new" {
		t.Fatalf("got %+v, %v", got, err)
	}

	tok.RefreshToken = ""
	e.SaveFile(tok)
	_, err = e.Helper.ReadToken(ctx(t), tok.ServerName, tok.URL, true)
	var lr *helper.LoginRequiredError
	if !errors.As(err, &lr) || !strings.Contains(err.Error(), "no refresh_token") ||
		!strings.HasSuffix(err.Error(), "run mcpcred login https://mcp.test/mcp --server srv") {
		t.Fatalf("force without a refresh token: %v", err)
	}
}

// firstGet signals when the first keyring Get has returned: the moment a
// ReadToken has made its first read.
type firstGet struct {
	backends.Keyring
	once sync.Once
	done chan struct{}
}

func (f *firstGet) Get(ctx context.Context, service, account string) ([]byte, error) {
	b, err := f.Keyring.Get(ctx, service, account)
	f.once.Do(func() { close(f.done) })
	return b, err
}

// Another process refreshed while this one waited for the lock: the newer
// record is used as it is, even though it expires within MinTTL, and the token
// endpoint is not asked.
func TestChangedUnderLockIsUsedAsIs(t *testing.T) {
	ep := newEndpoint(t, issue("at-new", "rt-new"))
	e := newEnv(t, helper.Keyring)
	old := expiring(ep.URL, -time.Minute)
	e.SaveKeyring(old)
	fg := &firstGet{Keyring: e.Helper.Keyring, done: make(chan struct{})}
	e.Helper.Keyring = fg

	unlock, err := file.Lock(e.Helper.RefreshLockPath(old.Key()), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		tok *helper.Token
		err error
	}
	res := make(chan result, 1)
	go func() {
		tok, err := e.Helper.ReadToken(ctx(t), old.ServerName, old.URL, false)
		res <- result{tok, err}
	}()
	<-fg.done
	newer := expiring("https://elsewhere.test/token", 5*time.Second)
	newer.AccessToken, newer.RefreshToken = "at-other", "rt-other"
	e.SaveKeyring(newer)
	_ = unlock()

	r := <-res
	if r.err != nil || r.tok.AccessToken != "at-other" {
		t.Fatalf("got %+v, %v; want the other process's token", r.tok, r.err)
	}
	if n := len(ep.requests()); n != 0 {
		t.Errorf("%d token requests, want none", n)
	}
}

func TestInvalidGrantKeepsTheRegistration(t *testing.T) {
	ep := newEndpoint(t, oauthError(400, "invalid_grant"))
	e := newEnv(t, helper.File)
	old := expiring(ep.URL, -time.Minute)
	old.ClientSecret = "s3cr3t"
	e.SaveFile(old)
	_, err := e.Helper.ReadToken(ctx(t), old.ServerName, old.URL, false)
	var lr *helper.LoginRequiredError
	if !errors.As(err, &lr) || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("err = %v, want login required", err)
	}
	left := load(t, e.Helper, old)
	want := *old
	want.AccessToken, want.RefreshToken, want.TokenType, want.Expiry = "", "", "", time.Time{}
	if left == nil || !left.Equal(&want) {
		t.Fatalf("left %+v, want the registration only", left)
	}
	if strings.Contains(err.Error(), "rt-old") || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("secret in %q", err)
	}
	// Next read: login required, no request.
	_, err = e.Helper.ReadToken(ctx(t), old.ServerName, old.URL, false)
	if !errors.As(err, &lr) || len(ep.requests()) != 1 {
		t.Fatalf("second read: %v, %d requests", err, len(ep.requests()))
	}
}

// A login stored new tokens while the refresh was failing: they stay, and they
// are the answer.
func TestInvalidGrantAfterANewLoginKeepsIt(t *testing.T) {
	e := newEnv(t, helper.File)
	var ep *tokenEndpoint
	newer := expiring("", time.Hour)
	newer.AccessToken, newer.RefreshToken = "at-login", "rt-login"
	ep = newEndpoint(t, func(url.Values) (int, string) {
		newer.TokenEndpoint = ep.URL
		if _, err := e.Helper.SaveToken(context.Background(), newer); err != nil {
			t.Error(err)
		}
		return 400, `{"error":"invalid_grant"}`
	})
	old := expiring(ep.URL, -time.Minute)
	e.SaveFile(old)
	got, err := e.Helper.ReadToken(ctx(t), old.ServerName, old.URL, false)
	if err != nil || got.AccessToken != "at-login" {
		t.Fatalf("got %+v, %v", got, err)
	}
	if left := load(t, e.Helper, old); left.RefreshToken != "rt-login" {
		t.Fatalf("the new login was overwritten: %+v", left)
	}
}

func TestInvalidClientRemovesTheRecord(t *testing.T) {
	for _, code := range []string{"invalid_client", "unauthorized_client"} {
		t.Run(code, func(t *testing.T) {
			ep := newEndpoint(t, oauthError(401, code))
			e := newEnv(t, helper.Auto)
			old := expiring(ep.URL, 10*time.Second)
			if _, err := e.Helper.SaveToken(ctx(t), old); err != nil {
				t.Fatal(err)
			}
			_, err := e.Helper.ReadToken(ctx(t), old.ServerName, old.URL, false)
			var lr *helper.LoginRequiredError
			if !errors.As(err, &lr) || !strings.Contains(err.Error(), code) {
				t.Fatalf("err = %v", err)
			}
			if left := load(t, e.Helper, old); left != nil {
				t.Fatalf("left %+v, want nothing", left)
			}
		})
	}
}

func TestEndpointDownOrRefusing(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer func(url.Values) (int, string)
		left   time.Duration
		ok     bool
		login  bool
	}{
		{"503 valid", oauthError(503, "temporarily_unavailable"), 30 * time.Second, true, false},
		{"503 expired", oauthError(503, "temporarily_unavailable"), -time.Second, false, false},
		{"malformed valid", func(url.Values) (int, string) { return 200, `{"access_token":` }, 30 * time.Second, true, false},
		{"invalid_scope valid", oauthError(400, "invalid_scope"), 30 * time.Second, true, false},
		{"invalid_scope expired", oauthError(400, "invalid_scope"), -time.Second, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ep := newEndpoint(t, c.answer)
			e := newEnv(t, helper.File)
			old := expiring(ep.URL, c.left)
			e.SaveFile(old)
			got, err := e.Helper.ReadToken(ctx(t), old.ServerName, old.URL, false)
			if c.ok {
				if err != nil || got.AccessToken != "at-old" {
					t.Fatalf("got %+v, %v; want the old token", got, err)
				}
				if n := strings.Count(e.Notices.String(), "\n"); n != 1 || !strings.Contains(e.Notices.String(), "using the stored one") {
					t.Errorf("notices %q, want one line", e.Notices)
				}
			} else {
				var lr *helper.LoginRequiredError
				if err == nil || errors.As(err, &lr) != c.login {
					t.Fatalf("got %+v, %v", got, err)
				}
			}
			for _, s := range []string{e.Notices.String(), fmt.Sprint(err)} {
				if strings.Contains(s, "at-old") || strings.Contains(s, "rt-old") {
					t.Errorf("a token in %q", s)
				}
			}
			if stored := load(t, e.Helper, old); !stored.Equal(old) {
				t.Errorf("the record changed: %+v", stored)
			}
		})
	}
}

func TestSlowEndpointEndsWithinTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	e := newEnv(t, helper.File)
	e.Helper.Timeout = 300 * time.Millisecond
	old := expiring(srv.URL+"/token", 20*time.Second)
	e.SaveFile(old)
	start := time.Now()
	got, err := e.Helper.ReadToken(ctx(t), old.ServerName, old.URL, false)
	if err != nil || got.AccessToken != "at-old" {
		t.Fatalf("got %+v, %v", got, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if !strings.Contains(e.Notices.String(), "deadline") {
		t.Errorf("notice %q", e.Notices)
	}
}

// get (an MCP token) refreshes too, and prints the new token.
func TestGetRefreshes(t *testing.T) {
	ep := newEndpoint(t, issue("at-new", "rt-new"))
	e := newEnv(t, helper.File)
	old := expiring(ep.URL, -time.Minute)
	e.SaveFile(old)
	var out bytes.Buffer
	in := strings.NewReader("server_name=srv\nurl=https://mcp.test/mcp\n")
	if err := e.Helper.Serve(ctx(t), "get", in, &out, helper.KV); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\naccess_token=at-new\nrefresh_token=rt-new\n") {
		t.Errorf("get printed %q", out.String())
	}
}

func TestLoginCommandQuotes(t *testing.T) {
	h := &helper.Helper{LoginArgs: " --profile codex"}
	got := h.LoginCommand("it's", "https://x.test/mcp?a=1&b=2")
	want := `mcpcred login 'https://x.test/mcp?a=1&b=2' --server 'it'\''s' --profile codex`
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

// TestRefreshReadsOnceUnderLock: a refresh reads the record once to see that it
// is due, once under the lock, and writes it once: no read to compare before
// the write.
func TestRefreshReadsOnceUnderLock(t *testing.T) {
	ep := newEndpoint(t, issue("at-new", "rt-new"))
	e := newEnv(t, helper.Keyring)
	old := expiring(ep.URL, 30*time.Second)
	e.SaveKeyring(old)
	reads, writes := e.Keyring.Reads(), e.Keyring.Writes()
	got, err := e.Helper.ReadToken(ctx(t), old.ServerName, old.URL, false)
	if err != nil || got.AccessToken != "at-new" {
		t.Fatalf("ReadToken = %+v, %v", got, err)
	}
	if r, w := e.Keyring.Reads()-reads, e.Keyring.Writes()-writes; r != 2 || w != 1 {
		t.Fatalf("the refresh read the keyring %d times and wrote it %d times, want 2 (before the lock, under it) and 1", r, w)
	}
}
