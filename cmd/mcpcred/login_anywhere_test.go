//go:build unix

package main

// `mcpcred login` from anywhere (docs/login.md): a browser on another machine
// (paste-back, an ssh -L forward to --callback-port), no browser at all (the
// device grant), scope step-up, --no-resource and --resource, a failed re-login,
// and a token Codex stored without a token endpoint. The real binary, the real
// authorization server of testdata/oauth-as, and a headless Chromium wherever a
// browser takes part; "another machine" is the same Chromium with its requests
// to this machine's loopback redirect failed (paste-back) or sent through a TCP
// forward (ssh -L), by DevTools request interception.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/helper"
	"github.com/mcpcred/mcpcred/helper/oauth/oauthtest"
	mcpfixture "github.com/mcpcred/mcpcred/testdata/mcp-fixture"
)

// originOf is scheme://host:port of u.
func originOf(t *testing.T, u string) string {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return pu.Scheme + "://" + pu.Host
}

// remoteBrowser is a Chromium for which this machine's redirect URI does not
// load: each address it is sent to there comes out of the returned channel.
func remoteBrowser(t *testing.T, redirectURI string) (*browser, <-chan string) {
	br := startBrowser(t)
	landed := make(chan string, 4)
	br.intercept(originOf(t, redirectURI), func(u string) string {
		landed <- u
		return ""
	})
	return br, landed
}

// terminal is a pipe for mcpcred's stdin: the child reads its end directly (no
// copying goroutine that would keep the process waited on), the test writes
// lines to the other.
func terminal(t *testing.T) (*os.File, *os.File) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

func waitString(t *testing.T, ch <-chan string, what string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(30 * time.Second):
		t.Fatalf("no %s within 30s", what)
		return ""
	}
}

// codeRequests counts the authorization_code token requests of clientID.
func codeRequests(t *testing.T, as *oauthtest.AS, clientID string) int {
	n := 0
	for _, r := range as.TokenRequests(t, clientID) {
		if r.GrantType == "authorization_code" {
			n++
		}
	}
	return n
}

func TestLoginPasteBack(t *testing.T) {
	as := oauthtest.Start(t)
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: as.Issuer, ChallengeScope: "mcp:tools", Introspect: mcpfixture.AdminIntrospect(as.Issuer)})
	for _, c := range []struct {
		name string
		// paste is what the user pastes, given the address the browser ended on;
		// wrongFirst pastes that address with another state first.
		paste      func(landed string) string
		wrongFirst bool
	}{
		{"full URL", func(landed string) string { return landed }, false},
		{"bare code", func(landed string) string { return mustQuery(t, landed).Get("code") }, false},
		{"wrong state first", func(landed string) string { return landed }, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := loginEnv(t)
			pr, pw := terminal(t)
			p := startMcpcredIn(t, env, pr, "login", fx.URL, "--no-browser", "--server", "pasted")
			authURL := p.authURL()
			q := mustQuery(t, authURL)
			hint := p.line("mcpcred: if that browser cannot reach ")
			if !strings.Contains(hint, "paste here the address it ended on (the page fails to load), or the code alone") {
				t.Fatalf("the paste hint says %q", hint)
			}
			br, landedCh := remoteBrowser(t, q.Get("redirect_uri"))
			br.navigateFailing(authURL)
			landed := waitString(t, landedCh, "redirect to the loopback address")
			if !strings.HasPrefix(landed, q.Get("redirect_uri")+"?") {
				t.Fatalf("the browser ended on %s", landed)
			}
			if c.wrongFirst {
				// A wrong state, then none: each ignored by the callback's own
				// state rule, with one line, and the login goes on.
				lq := mustQuery(t, landed)
				lq.Set("state", "forged")
				forged := q.Get("redirect_uri") + "?" + lq.Encode()
				lq.Del("state")
				stateless := q.Get("redirect_uri") + "?" + lq.Encode()
				for _, bad := range []string{forged, stateless} {
					fmt.Fprintln(pw, bad)
					l := p.line("mcpcred: ignored a pasted answer that does not carry this login's state")
					if !strings.Contains(l, "paste the address of this login's page, or the code alone") {
						t.Fatalf("after a wrong state: %q", l)
					}
				}
				if n := codeRequests(t, as, q.Get("client_id")); n != 0 {
					t.Fatalf("a pasted answer with a wrong or no state was exchanged (%d code requests)", n)
				}
			}
			fmt.Fprintln(pw, c.paste(landed))
			code, stderr := p.wait()
			if code != 0 || !strings.Contains(stderr, "exchanging the authorization code for tokens") {
				t.Fatalf("login: exit %d:\n%s", code, stderr)
			}
			rec := stored(t, env, "pasted", fx.URL)
			if rec["client_id"] != q.Get("client_id") || rec["access_token"] == "" || rec["resource"] != fx.Resource {
				t.Fatalf("stored %v", rec)
			}
			noSecrets(t, stderr, rec)
			if c, _ := fx.Call(rec["access_token"]); c != http.StatusOK && as.AccessToken(t, rec["access_token"]).Active {
				t.Errorf("the MCP server refuses the pasted login's token: %d", c)
			}
			if n := codeRequests(t, as, q.Get("client_id")); n != 1 {
				t.Errorf("%d code exchanges, want 1", n)
			}
		})
	}
}

// forward is `ssh -L`: a listener whose connections are piped to target. It
// counts the connections it carried.
func forward(t *testing.T, target string) (addr string, carried *atomic.Int32) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	carried = &atomic.Int32{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			carried.Add(1)
			go func() {
				defer c.Close()
				d, err := net.DialTimeout("tcp4", target, 5*time.Second)
				if err != nil {
					return
				}
				defer d.Close()
				go func() { _, _ = io.Copy(d, c) }()
				_, _ = io.Copy(c, d)
			}()
		}
	}()
	return ln.Addr().String(), carried
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestLoginSSHForward: mcpcred on a remote machine listens on --callback-port;
// the browser's machine reaches it through a forward (for the browser,
// 127.0.0.1:PORT is the forward's end). The terminal stays open for a paste
// meanwhile: the listener and the paste both wait, and the forward wins.
func TestLoginSSHForward(t *testing.T) {
	as := oauthtest.Start(t)
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: as.Issuer, ChallengeScope: "mcp:tools"})
	env := loginEnv(t)
	port := freePort(t)
	pr, _ := terminal(t)
	p := startMcpcredIn(t, env, pr, "login", fx.URL, "--no-browser", "--callback-port", strconv.Itoa(port))
	authURL := p.authURL()
	q := mustQuery(t, authURL)
	redirect := fmt.Sprintf("http://127.0.0.1:%d/callback", port)
	if q.Get("redirect_uri") != redirect {
		t.Fatalf("redirect_uri %q, want %q", q.Get("redirect_uri"), redirect)
	}
	fwd, carried := forward(t, fmt.Sprintf("127.0.0.1:%d", port))
	br := startBrowser(t)
	br.intercept(originOf(t, redirect), func(u string) string {
		return strings.Replace(u, fmt.Sprintf("127.0.0.1:%d", port), fwd, 1)
	})
	br.navigate(authURL)
	pg := br.waitFor("mcpcred's page", func(pg page) bool {
		return strings.Contains(pg.Text, "Login complete") || strings.Contains(pg.Text, "Login failed")
	})
	if !strings.Contains(pg.Text, "Login complete") {
		t.Fatalf("page: %s", pg.Text)
	}
	code, stderr := p.wait()
	if code != 0 {
		t.Fatalf("login: exit %d:\n%s", code, stderr)
	}
	if carried.Load() == 0 {
		t.Fatal("the forward carried no connection: the browser reached mcpcred some other way")
	}
	rec := stored(t, env, "localhost-"+mustPort(t, fx.URL), fx.URL)
	var regs []oauthtest.ClientRegistration
	for _, r := range as.Registrations(t) {
		if r.ClientID == rec["client_id"] {
			regs = append(regs, r)
		}
	}
	if len(regs) != 1 || len(regs[0].RedirectURIs) != 1 || regs[0].RedirectURIs[0] != redirect {
		t.Fatalf("registered %+v, want exactly the redirect URI %s", regs, redirect)
	}
}

// deviceLine parses "to log in, open COMPLETE on any device (or open URI and
// enter the code CODE)".
func deviceLine(t *testing.T, l string) (complete, code string) {
	t.Helper()
	rest, ok := strings.CutPrefix(l, "open ")
	complete, rest2, ok2 := strings.Cut(rest, " on any device (or open ")
	_, codePart, ok3 := strings.Cut(rest2, " and enter the code ")
	if !ok || !ok2 || !ok3 {
		t.Fatalf("device line %q", l)
	}
	return complete, strings.TrimSuffix(codePart, ")")
}

// TestLoginDeviceSlowDown: the device grant against a server that answers the
// first poll with slow_down; the user approves in the browser.
func TestLoginDeviceSlowDown(t *testing.T) {
	as := oauthtest.StartWith(t, oauthtest.Options{SlowDown: true})
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: as.Issuer, ChallengeScope: "mcp:tools", Introspect: mcpfixture.AdminIntrospect(as.Issuer)})
	env := loginEnv(t)
	p := startMcpcred(t, env, "", "login", fx.URL, "--device", "--server", "dev")
	complete, userCode := deviceLine(t, p.line("mcpcred: to log in, "))
	if !strings.HasPrefix(complete, as.Issuer+"/device?user_code=") || userCode == "" {
		t.Fatalf("verification URI %q, code %q", complete, userCode)
	}
	if l := p.line("mcpcred: waiting for you to approve"); !strings.HasPrefix(l, " (the code expires in ") {
		t.Fatalf("waiting line: %q", l)
	}
	br := startBrowser(t)
	br.navigate(complete)
	br.waitFor("the confirmation page", func(pg page) bool { return strings.Contains(pg.Text, userCode) })
	br.click("button[autofocus]")
	code, stderr := p.wait()
	if code != 0 {
		t.Fatalf("login: exit %d:\n%s\nAS:\n%s", code, stderr, as.Log())
	}
	rec := stored(t, env, "dev", fx.URL)
	if rec["access_token"] == "" || rec["refresh_token"] == "" || rec["resource"] != fx.Resource || rec["token_endpoint"] != as.TokenEndpoint() {
		t.Fatalf("stored %v", rec)
	}
	noSecrets(t, stderr, rec)
	var polls []oauthtest.TokenRequest
	for _, r := range as.TokenRequests(t, rec["client_id"]) {
		if r.GrantType == "urn:ietf:params:oauth:grant-type:device_code" {
			polls = append(polls, r)
		}
	}
	if len(polls) < 2 || polls[0].Error == nil || *polls[0].Error != "slow_down" || polls[len(polls)-1].Status != 200 {
		t.Fatalf("polls %+v", polls)
	}
	for _, r := range polls {
		if r.Resource == nil || *r.Resource != fx.Resource {
			t.Errorf("a poll without the resource: %+v", r)
		}
	}
	// The server's interval is 1 s; after slow_down it is 6 s (RFC 8628 3.5).
	if gap := polls[1].At - polls[0].At; gap < 6000 {
		t.Errorf("the poll after slow_down came %d ms later, want at least 6000", gap)
	}
}

func TestLoginDeviceExpiry(t *testing.T) {
	as := oauthtest.StartWith(t, oauthtest.Options{DeviceTTL: 3 * time.Second})
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: as.Issuer, ChallengeScope: "mcp:tools"})
	env := loginEnv(t)
	code, _, stderr := mcpcredRun(t, env, "", "login", fx.URL, "--device", "--server", "dev", "--login-timeout", "60s")
	if code != 1 || !strings.HasSuffix(stderr, "mcpcred: login failed: the device code expired before the login was approved: run the login again for a new code\n") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if code, out, _ := mcpcredRun(t, env, "server_name=dev\nurl="+fx.URL+"\n", "get", "--no-refresh"); code != 0 || out != "" {
		t.Fatalf("an expired device login stored something: %q", out)
	}
}

// browserLogin logs in with the browser on this machine (automatic consent)
// and returns the authorization URL.
func browserLogin(t *testing.T, br *browser, env []string, args ...string) (string, string) {
	t.Helper()
	p := startMcpcred(t, env, "", append([]string{"login", "--no-browser"}, args...)...)
	authURL := p.authURL()
	br.navigate(authURL)
	pg := br.waitFor("mcpcred's page", func(pg page) bool { return isCallback(pg) })
	code, stderr := p.wait()
	if code != 0 || !strings.Contains(pg.Text, "Login complete") {
		t.Fatalf("login %q: exit %d, page %q:\n%s", args, code, pg.Text, stderr)
	}
	return authURL, stderr
}

func TestLoginStepUpKeepsRegistration(t *testing.T) {
	as := oauthtest.Start(t)
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: as.Issuer, ChallengeScope: "mcp:tools"})
	env := loginEnv(t)
	br := startBrowser(t)
	browserLogin(t, br, env, fx.URL, "--server", "up")
	first := stored(t, env, "up", fx.URL)
	authURL, stderr := browserLogin(t, br, env, fx.URL, "--server", "up", "--scope", "openid")
	if got := mustQuery(t, authURL).Get("scope"); got != "mcp:tools openid" {
		t.Errorf("the step-up asked for scope %q, want the union %q", got, "mcp:tools openid")
	}
	if !strings.Contains(stderr, "reusing the client registration stored for "+as.Issuer) || strings.Contains(stderr, "registered mcpcred") {
		t.Errorf("the step-up did not reuse the registration:\n%s", stderr)
	}
	second := stored(t, env, "up", fx.URL)
	if second["client_id"] != first["client_id"] || second["access_token"] == first["access_token"] {
		t.Fatalf("client %q (was %q)", second["client_id"], first["client_id"])
	}
	n := 0
	for _, r := range as.Registrations(t) {
		if r.ClientID == first["client_id"] {
			n++
		}
	}
	if n != 1 || codeRequests(t, as, first["client_id"]) != 2 {
		t.Errorf("%d registrations, %d code exchanges; want 1 and 2", n, codeRequests(t, as, first["client_id"]))
	}
}

func TestLoginResourceFlags(t *testing.T) {
	as := oauthtest.StartWith(t, oauthtest.Options{NoRequireResource: true})
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: as.Issuer, ChallengeScope: "mcp:tools"})
	br := startBrowser(t)

	t.Run("--no-resource", func(t *testing.T) {
		env := loginEnv(t)
		authURL, stderr := browserLogin(t, br, env, fx.URL, "--server", "nores", "--no-resource")
		if mustQuery(t, authURL).Has("resource") || !strings.Contains(stderr, "not sending a resource indicator (--no-resource)") {
			t.Fatalf("authorization URL %s:\n%s", authURL, stderr)
		}
		rec := stored(t, env, "nores", fx.URL)
		if _, has := rec["resource"]; has {
			t.Fatalf("the record keeps a resource: %v", rec)
		}
		// The refresh, once the token expired, sends none either.
		exp, _ := strconv.ParseInt(rec["expires_at"], 10, 64)
		time.Sleep(time.Until(time.Unix(exp+1, 0)))
		if code, _, errOut := mcpcredRun(t, env, "", "headers", "--url", fx.URL, "--min-ttl", "0"); code != 0 {
			t.Fatalf("headers: exit %d: %s", code, errOut)
		}
		reqs := as.TokenRequests(t, rec["client_id"])
		if len(reqs) != 2 || reqs[1].GrantType != "refresh_token" || reqs[1].Status != 200 {
			t.Fatalf("token requests %+v", reqs)
		}
		for _, r := range reqs {
			if r.Resource != nil {
				t.Errorf("a %s request sent resource %q", r.GrantType, *r.Resource)
			}
		}
	})
	t.Run("--resource", func(t *testing.T) {
		env := loginEnv(t)
		override := fx.Resource + "/tools"
		authURL, _ := browserLogin(t, br, env, fx.URL, "--server", "res", "--resource", override)
		if got := mustQuery(t, authURL).Get("resource"); got != override {
			t.Fatalf("resource %q in the authorization URL", got)
		}
		rec := stored(t, env, "res", fx.URL)
		reqs := as.TokenRequests(t, rec["client_id"])
		if rec["resource"] != override || len(reqs) != 1 || reqs[0].Resource == nil || *reqs[0].Resource != override {
			t.Fatalf("stored %v, token requests %+v", rec, reqs)
		}
	})
}

// TestFailedReloginKeepsRecord: a second login that times out, and one whose
// redirect carries a forged state, leave the first login's record as it was.
func TestFailedReloginKeepsRecord(t *testing.T) {
	as := oauthtest.Start(t)
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: as.Issuer, ChallengeScope: "mcp:tools"})
	env := loginEnv(t)
	browserLogin(t, startBrowser(t), env, fx.URL, "--server", "keep")
	before := stored(t, env, "keep", fx.URL)

	code, _, stderr := mcpcredRun(t, env, "", "login", fx.URL, "--server", "keep", "--no-browser", "--login-timeout", "2s")
	if code != 1 || !strings.Contains(stderr, "login failed: the login was not finished in time") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if after := stored(t, env, "keep", fx.URL); !equalMaps(before, after) {
		t.Fatalf("a timed-out login changed the record:\nbefore %v\nafter  %v", before, after)
	}

	// A forged answer is ignored (issue 12's state rule); the answer with this
	// login's state but a code the server never issued fails the exchange.
	p := startMcpcred(t, env, "", "login", fx.URL, "--server", "keep", "--no-browser", "--login-timeout", "30s")
	q := mustQuery(t, p.authURL())
	for _, st := range []string{"forged", q.Get("state")} {
		resp, err := http.Get(q.Get("redirect_uri") + "?" + url.Values{"code": {"x"}, "state": {st}, "iss": {as.Issuer}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if code, stderr := p.wait(); code != 1 || !strings.Contains(stderr, "ignored a request to the login's redirect address") ||
		!strings.Contains(stderr, "login failed: the authorization code was not accepted") {
		t.Fatalf("failed login: exit %d:\n%s", code, stderr)
	}
	if after := stored(t, env, "keep", fx.URL); !equalMaps(before, after) {
		t.Fatalf("a failed login changed the record:\nbefore %v\nafter  %v", before, after)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestCodexRecordRefreshedByDiscovery: a record as Codex writes it in its
// .credentials.json (no token_endpoint, no resource, no issuer) is refreshed by
// `headers --profile codex`: the token endpoint and the resource are found from
// the server URL, the refresh sends the resource, and the file stays in Codex's
// format with the two found fields added as the extra keys Codex ignores.
func TestCodexRecordRefreshedByDiscovery(t *testing.T) {
	as := oauthtest.Start(t)
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: as.Issuer, ChallengeScope: "mcp:tools", Introspect: mcpfixture.AdminIntrospect(as.Issuer)})
	reg := as.Register(t, oauthtest.ClientOptions{})
	tok, _ := as.Login(t, reg, fx.Resource, "mcp:tools")
	home := t.TempDir()
	key := helper.StoreKey("linear", fx.URL)
	entry := map[string]any{
		"server_name": "linear", "server_url": fx.URL, "client_id": reg.ClientID,
		"access_token": tok.AccessToken, "expires_at": tok.Expiry.UnixMilli(),
		"refresh_token": tok.RefreshToken, "scopes": []string{"mcp:tools"},
	}
	data, _ := json.Marshal(map[string]any{key: entry})
	file := filepath.Join(home, ".credentials.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(tok.Expiry.Add(time.Second)))

	env := loginEnv(t)
	code, out, errOut := mcpcredRun(t, env, "", "headers", "--profile", "codex", "--store", "file", "--home", home, "--url", fx.URL)
	var h map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &h) != nil {
		t.Fatalf("headers: exit %d, %q: %s", code, out, errOut)
	}
	fresh, _ := strings.CutPrefix(h["Authorization"], "Bearer ")
	if fresh == "" || fresh == tok.AccessToken {
		t.Fatal("headers did not print a refreshed token")
	}
	if c, _ := fx.Call(fresh); c != http.StatusOK {
		t.Errorf("the MCP server refuses the refreshed token: %d", c)
	}
	refreshes := as.Refreshes(t, reg.ClientID)
	if len(refreshes) != 1 || refreshes[0].Status != 200 || refreshes[0].Resource == nil || *refreshes[0].Resource != fx.Resource {
		t.Fatalf("refreshes %+v", refreshes)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var entries map[string]map[string]any
	if err := json.Unmarshal(raw, &entries); err != nil {
		t.Fatalf("the file is no longer JSON: %v", err)
	}
	got := entries[key]
	for _, k := range []string{"server_name", "server_url", "client_id", "access_token", "expires_at", "refresh_token", "scopes"} {
		if _, ok := got[k]; !ok {
			t.Errorf("Codex's field %s is gone: %s", k, raw)
		}
	}
	if got["access_token"] != fresh || got["token_endpoint"] != as.TokenEndpoint() || got["resource"] != fx.Resource {
		t.Errorf("stored %s", raw)
	}
	// Parsed back as Codex parses it: the same record.
	back, err := helper.ParseFileJSON(mustJSON(t, got))
	if err != nil || back.AccessToken != fresh || back.ClientID != reg.ClientID {
		t.Errorf("parsed back %+v, %v", back, err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLoginClientCredentials: a machine client logs in with its secret from a
// file; once the token expires, headers and get mint a new one with the secret
// kept in the store. No browser, no authorization request, and the secret is
// never on stderr.
func TestLoginClientCredentials(t *testing.T) {
	as := oauthtest.Start(t)
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: as.Issuer, ChallengeScope: "mcp:tools", Introspect: mcpfixture.AdminIntrospect(as.Issuer)})
	reg := as.Register(t, oauthtest.ClientOptions{Machine: true, AccessTokenTTL: 4 * time.Second})
	env := loginEnv(t)
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(reg.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := mcpcredRun(t, env, "", "login", fx.URL, "--server", "bot", "--client-credentials", "--client-id", reg.ClientID, "--client-secret-file", secretFile)
	if code != 0 || !strings.Contains(stderr, "asking "+as.Issuer+" for a token with the client credentials of "+reg.ClientID) ||
		!strings.Contains(stderr, "get and headers mint a new token when it expires") || strings.Contains(stderr, "open this URL") {
		t.Fatalf("login: exit %d:\n%s", code, stderr)
	}
	rec := stored(t, env, "bot", fx.URL)
	if rec["grant_type"] != "client_credentials" || rec["client_secret"] != reg.ClientSecret || rec["refresh_token"] != "" ||
		rec["resource"] != fx.Resource || rec["token_endpoint"] != as.TokenEndpoint() || rec["access_token"] == "" {
		t.Fatalf("stored %v", rec)
	}
	noSecrets(t, stderr, rec)
	if info := as.AccessToken(t, rec["access_token"]); info.ClientID != reg.ClientID || info.Audience != fx.Resource {
		t.Errorf("the server's view of the token: %+v", info)
	}

	// Expired: headers mints a new token, then get does, each time from the store.
	for i, verb := range []string{"headers", "get"} {
		exp, _ := strconv.ParseInt(stored(t, env, "bot", fx.URL)["expires_at"], 10, 64)
		time.Sleep(time.Until(time.Unix(exp+1, 0)))
		var fresh string
		if verb == "headers" {
			code, out, errOut := mcpcredRun(t, env, "", "headers", "--url", fx.URL, "--min-ttl", "0")
			var h map[string]string
			if code != 0 || json.Unmarshal([]byte(out), &h) != nil {
				t.Fatalf("headers: exit %d, %q: %s", code, out, errOut)
			}
			fresh, _ = strings.CutPrefix(h["Authorization"], "Bearer ")
		} else {
			code, out, errOut := mcpcredRun(t, env, "server_name=bot\nurl="+fx.URL+"\n", "get", "--min-ttl", "0")
			if code != 0 {
				t.Fatalf("get: exit %d: %s", code, errOut)
			}
			for _, l := range strings.Split(out, "\n") {
				if v, ok := strings.CutPrefix(l, "access_token="); ok {
					fresh = v
				}
			}
		}
		if fresh == "" || fresh == rec["access_token"] {
			t.Fatalf("%s did not mint a new token", verb)
		}
		if c, _ := fx.Call(fresh); c != http.StatusOK {
			t.Errorf("the MCP server refuses the token %s minted: %d", verb, c)
		}
		reqs := as.TokenRequests(t, reg.ClientID)
		if len(reqs) != i+2 {
			t.Fatalf("token requests %+v", reqs)
		}
		for _, r := range reqs {
			if r.GrantType != "client_credentials" || r.Status != 200 || r.Resource == nil || *r.Resource != fx.Resource {
				t.Errorf("token request %+v", r)
			}
		}
		rec = stored(t, env, "bot", fx.URL)
		if rec["access_token"] != fresh || rec["client_secret"] != reg.ClientSecret {
			t.Fatalf("after %s, stored %v", verb, rec)
		}
	}
}

// TestLoginClientCredentialsPrivateKeyJWT: a machine client that authenticates
// with a private key (private_key_jwt, which the server lists): login with the
// key from a file, then a new token minted on expiry with the stored key; the key
// is never on stderr.
func TestLoginClientCredentialsPrivateKeyJWT(t *testing.T) {
	as := oauthtest.Start(t)
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: as.Issuer, ChallengeScope: "mcp:tools", Introspect: mcpfixture.AdminIntrospect(as.Issuer)})
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := key.PublicKey.ECDH()
	raw := pub.Bytes() // 0x04 || X || Y
	jwk := map[string]any{"kty": "EC", "crv": "P-256", "use": "sig",
		"x": base64.RawURLEncoding.EncodeToString(raw[1:33]), "y": base64.RawURLEncoding.EncodeToString(raw[33:])}
	reg := as.Register(t, oauthtest.ClientOptions{Machine: true, AuthMethod: "private_key_jwt", JWKS: map[string]any{"keys": []any{jwk}}, AccessTokenTTL: 4 * time.Second})
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	env := loginEnv(t)
	code, _, stderr := mcpcredRun(t, env, "", "login", fx.URL, "--server", "signer", "--client-credentials", "--client-id", reg.ClientID, "--client-key-file", keyFile)
	if code != 0 {
		t.Fatalf("login: exit %d:\n%s\nAS:\n%s", code, stderr, as.Log())
	}
	rec := stored(t, env, "signer", fx.URL)
	if rec["token_endpoint_auth_method"] != "private_key_jwt" || rec["client_secret"] != base64.StdEncoding.EncodeToString(der) || rec["grant_type"] != "client_credentials" {
		t.Fatalf("stored %v", rec)
	}
	noSecrets(t, stderr, rec)
	exp, _ := strconv.ParseInt(rec["expires_at"], 10, 64)
	time.Sleep(time.Until(time.Unix(exp+1, 0)))
	code, out, errOut := mcpcredRun(t, env, "", "headers", "--url", fx.URL, "--min-ttl", "0")
	var h map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &h) != nil {
		t.Fatalf("headers: exit %d, %q: %s", code, out, errOut)
	}
	fresh, _ := strings.CutPrefix(h["Authorization"], "Bearer ")
	if fresh == rec["access_token"] {
		t.Fatal("headers did not mint a new token")
	}
	if c, _ := fx.Call(fresh); c != http.StatusOK {
		t.Errorf("the MCP server refuses the minted token: %d", c)
	}
	reqs := as.TokenRequests(t, reg.ClientID)
	if len(reqs) != 2 || reqs[0].Status != 200 || reqs[1].Status != 200 {
		t.Fatalf("token requests %+v", reqs)
	}
}
