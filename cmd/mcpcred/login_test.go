//go:build unix

package main

// Browser tests of `mcpcred login`: the real binary as a separate process, the
// real authorization server of testdata/oauth-as (oidc-provider) with its
// interactive consent page, the MCP resource server fixture of
// testdata/mcp-fixture, and a real headless Chromium driven over the DevTools
// protocol (login_cdp_test.go). Missing node, oidc-provider or chromium is
// keyringtest.Missing: a skip here, a failure under CI.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends/keyringtest"
	"github.com/mcpcred/mcpcred/helper/oauth"
	"github.com/mcpcred/mcpcred/helper/oauth/oauthtest"
	mcpfixture "github.com/mcpcred/mcpcred/testdata/mcp-fixture"
)

// interactiveAS is testdata/oauth-as with --consent interactive: a page with
// Allow and Deny at each prompt (log in, consent). One per test binary.
func interactiveAS(t *testing.T) *oauthtest.AS {
	t.Helper()
	return oauthtest.StartWith(t, oauthtest.Options{Consent: "interactive"})
}

// loginEnv is an environment with no keyring and no display, and a fresh home
// with the file store.
func loginEnv(t *testing.T) []string {
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "MCPCRED_") || strings.HasPrefix(k, "CLAUDE_CODE_") || k == "DISPLAY" || k == "WAYLAND_DISPLAY" ||
			k == "DBUS_SESSION_BUS_ADDRESS" || k == "HOME" || k == "XDG_CONFIG_HOME" || k == "XDG_RUNTIME_DIR" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+filepath.Join(dir, "home"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_RUNTIME_DIR="+filepath.Join(dir, "run"),
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(dir, "no-bus"),
		"MCPCRED_STORE=file",
		"MCPCRED_HOME="+filepath.Join(dir, "mcpcred"),
	)
}

// proc is a running mcpcred whose stderr is read line by line.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr oauthtest.SyncBuffer
	lines  chan string
	done   chan struct{}
}

func startMcpcred(t *testing.T, env []string, stdin string, args ...string) *proc {
	t.Helper()
	return startMcpcredIn(t, env, strings.NewReader(stdin), args...)
}

// startMcpcredIn is startMcpcred with stdin read from a reader (a pipe the test
// writes to, as a terminal would).
func startMcpcredIn(t *testing.T, env []string, stdin io.Reader, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, cmd: exec.Command(builtBinary(t), args...), lines: make(chan string, 100), done: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdin = stdin
	p.cmd.Stdout = &p.stdout
	errPipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			_, _ = p.stderr.Write([]byte(sc.Text() + "\n"))
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		close(p.lines)
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// authURL waits for the line that prints the authorization URL.
func (p *proc) authURL() string {
	p.t.Helper()
	return p.line("mcpcred: open this URL in your browser to log in: ")
}

// line waits for a line of stderr that starts with prefix and returns the rest.
func (p *proc) line(prefix string) string {
	p.t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("mcpcred ended without printing %q:\n%s", prefix, p.stderr.String())
			}
			if u, found := strings.CutPrefix(l, prefix); found {
				return u
			}
		case <-timeout:
			p.t.Fatalf("no line %q within 30s:\n%s", prefix, p.stderr.String())
		}
	}
}

// wait waits for the process and returns its exit status and stderr.
func (p *proc) wait() (int, string) {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.t.Fatalf("mcpcred did not finish in 60s:\n%s", p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode(), p.stderr.String()
}

// mcpcredRun runs mcpcred to the end with stdin.
func mcpcredRun(t *testing.T, env []string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(builtBinary(t), args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// stored reads the record of (name, url) with get --no-refresh.
func stored(t *testing.T, env []string, name, u string) map[string]string {
	t.Helper()
	code, out, errOut := mcpcredRun(t, env, "server_name="+name+"\nurl="+u+"\n", "get", "--no-refresh")
	if code != 0 {
		t.Fatalf("get: exit %d: %s", code, errOut)
	}
	rec := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			rec[k] = v
		}
	}
	return rec
}

func isCallback(pg page) bool {
	u, err := url.Parse(pg.URL)
	return err == nil && u.Hostname() == "127.0.0.1" && u.Path == "/callback"
}

// throughConsent follows the authorization server's pages, answering each
// prompt (log in, consent) with the button named answer, until mcpcred's own page.
func throughConsent(t *testing.T, br *browser, issuer, answer string) page {
	t.Helper()
	prev := ""
	for range 6 {
		pg := br.waitFor("a page after "+prev, func(pg page) bool {
			return pg.URL != prev && (isCallback(pg) || strings.HasPrefix(pg.URL, issuer+"/interaction/"))
		})
		if isCallback(pg) {
			return pg
		}
		prev = pg.URL
		br.click("button[name=" + answer + "]")
	}
	t.Fatal("too many prompts")
	return page{}
}

func TestLoginInBrowser(t *testing.T) {
	as := interactiveAS(t)
	issuer := as.Issuer
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: issuer, ChallengeScope: "mcp:tools", Introspect: mcpfixture.AdminIntrospect(issuer)})
	br := startBrowser(t)
	env := loginEnv(t)

	// A bare URL: the 401 tells the rest.
	if code, _ := fx.Call(""); code != http.StatusUnauthorized {
		t.Fatalf("the fixture answered %d without a token", code)
	}
	p := startMcpcred(t, env, "", "login", fx.URL, "--no-browser")
	authURL := p.authURL()
	q := mustQuery(t, authURL)
	if q.Get("code_challenge_method") != "S256" || q.Get("resource") != fx.Resource || q.Get("state") == "" || q.Get("scope") != "mcp:tools" {
		t.Fatalf("authorization URL %s", authURL)
	}
	br.navigate(authURL)
	pg := throughConsent(t, br, issuer, "allow")
	shot := filepath.Join(t.TempDir(), "login-success.png")
	br.screenshot(shot)
	t.Logf("screenshot of mcpcred's page: %s", shot)
	if os.Getenv("MCPCRED_UPDATE_SCREENSHOT") == "1" {
		data, _ := os.ReadFile(shot)
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "login-success.png"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(pg.Text, "Login complete") || !strings.Contains(pg.Text, "mcpcred is logged in to "+fx.Resource) {
		t.Fatalf("mcpcred's page says:\n%s", pg.Text)
	}
	code, stderr := p.wait()
	if code != 0 {
		t.Fatalf("login: exit %d:\n%s\nAS log:\n%s", code, stderr, as.Log())
	}
	name := "localhost-" + mustPort(t, fx.URL)
	rec := stored(t, env, name, fx.URL)
	at := rec["access_token"]
	if at != "" && rec["expires_at"] != "" {
		if exp, _ := strconv.ParseInt(rec["expires_at"], 10, 64); time.Now().Before(time.Unix(exp, 0)) {
			if c, _ := fx.Call(at); c != http.StatusOK {
				t.Errorf("the stored token, still valid, is refused by the MCP server: %d", c)
			}
		}
	}
	for k, want := range map[string]string{
		"server_name": name, "url": fx.URL, "issuer": issuer, "token_type": "Bearer", "scope": "mcp:tools",
		"token_endpoint": issuer + "/token", "resource": fx.Resource,
	} {
		if rec[k] != want {
			t.Errorf("stored %s = %q, want %q", k, rec[k], want)
		}
	}
	for _, k := range []string{"client_id", "access_token", "refresh_token", "expires_at"} {
		if rec[k] == "" {
			t.Errorf("stored record lacks %s: %v", k, rec)
		}
	}
	for _, want := range []string{
		"logging in to " + fx.URL + ` as server "` + name + `"`,
		"authorization server: " + issuer,
		"registered mcpcred as a client of " + issuer,
		"waiting for you to finish in the browser",
		"exchanging the authorization code for tokens",
		"the token is stored in the file ",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	noSecrets(t, stderr+p.stdout.String(), rec)

	// headers prints it (with --min-ttl 0, a token not yet expired is printed
	// as stored), then, once it expired, refreshes it.
	headers := func(args ...string) string {
		t.Helper()
		code, out, errOut := mcpcredRun(t, env, "", append([]string{"headers", "--url", fx.URL}, args...)...)
		var h map[string]string
		if code != 0 || json.Unmarshal([]byte(out), &h) != nil {
			t.Fatalf("headers %q: exit %d, %q, %s", args, code, out, errOut)
		}
		tok, _ := strings.CutPrefix(h["Authorization"], "Bearer ")
		return tok
	}
	exp, _ := strconv.ParseInt(rec["expires_at"], 10, 64)
	if first := headers("--min-ttl", "0"); time.Now().Before(time.Unix(exp, 0).Add(-200*time.Millisecond)) && first != at {
		t.Errorf("headers did not print the stored, still valid token")
	}
	exp, _ = strconv.ParseInt(stored(t, env, name, fx.URL)["expires_at"], 10, 64)
	time.Sleep(time.Until(time.Unix(exp+1, 0)))
	before := stored(t, env, name, fx.URL)["access_token"]
	fresh := headers("--min-ttl", "0")
	if fresh == "" || fresh == before || fresh == at {
		t.Fatalf("headers after expiry did not print a refreshed token")
	}
	if c, _ := fx.Call(fresh); c != http.StatusOK {
		t.Errorf("the refreshed token is refused by the MCP server: %d", c)
	}
	refreshes := as.Refreshes(t, rec["client_id"])
	if len(refreshes) == 0 || refreshes[len(refreshes)-1].Resource == nil || *refreshes[len(refreshes)-1].Resource != fx.Resource {
		t.Errorf("the refresh did not send resource %s: %+v", fx.Resource, refreshes)
	}
	rec = stored(t, env, name, fx.URL)
	if rec["access_token"] != fresh {
		t.Errorf("the refreshed token was not stored")
	}

	// A second login to the same server reuses the registration.
	p2 := startMcpcred(t, env, "", "login", fx.URL, "--no-browser")
	br.navigate(p2.authURL())
	pg = throughConsent(t, br, issuer, "allow")
	if !strings.Contains(pg.Text, "Login complete") {
		t.Fatalf("second login's page says:\n%s", pg.Text)
	}
	code, stderr = p2.wait()
	if code != 0 || !strings.Contains(stderr, "reusing the client registration stored for "+issuer) || strings.Contains(stderr, "registered mcpcred") {
		t.Fatalf("second login: exit %d:\n%s", code, stderr)
	}
	rec2 := stored(t, env, name, fx.URL)
	if rec2["client_id"] != rec["client_id"] || rec2["access_token"] == rec["access_token"] {
		t.Fatalf("second login: client %q (was %q), token changed %v", rec2["client_id"], rec["client_id"], rec2["access_token"] != rec["access_token"])
	}
	var codes int
	for _, r := range as.TokenRequests(t, rec["client_id"]) {
		if r.GrantType == "authorization_code" && r.Status == 200 {
			codes++
		}
	}
	if codes != 2 {
		t.Errorf("the AS saw %d code exchanges by client %s, want 2 (one registration, two logins)", codes, rec["client_id"])
	}
	var mine []oauthtest.ClientRegistration
	for _, r := range as.Registrations(t) {
		if r.ClientID == rec["client_id"] {
			mine = append(mine, r)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("the AS has %d registrations of %s, want 1", len(mine), rec["client_id"])
	}
	reg := mine[0]
	if reg.ApplicationType != "native" || reg.TokenEndpointAuthMethod != "none" || !slices.Equal(reg.GrantTypes, []string{"authorization_code", "refresh_token"}) ||
		len(reg.RedirectURIs) != 3 || !strings.HasPrefix(reg.RedirectURIs[0], "http://127.0.0.1:") || !strings.HasSuffix(reg.RedirectURIs[0], "/callback") {
		t.Errorf("registered %+v", reg)
	}

	// logout revokes and erases.
	code, _, errOut := mcpcredRun(t, env, "", "logout", fx.URL)
	if code != 0 || !strings.Contains(errOut, "revoked the tokens at "+issuer) || !strings.Contains(errOut, "logged out of "+fx.URL) {
		t.Fatalf("logout: exit %d: %s", code, errOut)
	}
	noSecrets(t, errOut, rec2)
	if code, out, _ := mcpcredRun(t, env, "server_name="+name+"\nurl="+fx.URL+"\n", "get", "--no-refresh"); code != 0 || out != "" {
		t.Fatalf("get after logout: exit %d, %q", code, out)
	}
	if info := as.AccessToken(t, rec2["access_token"]); info.Active {
		t.Errorf("the access token is still active after logout: %+v", info)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := oauth.Refresh(ctx, nil, oauth.TokenClient{ClientID: rec2["client_id"], TokenEndpoint: rec2["token_endpoint"]}, rec2["refresh_token"], rec2["resource"])
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Kind != oauth.InvalidGrant {
		t.Errorf("the refresh token still works after logout: %v", err)
	}
}

func TestLoginDeniedInBrowser(t *testing.T) {
	issuer := interactiveAS(t).Issuer
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: issuer, ChallengeScope: "mcp:tools"})
	br := startBrowser(t)
	env := loginEnv(t)
	p := startMcpcred(t, env, "", "login", fx.URL, "--no-browser", "--server", "denied")
	br.navigate(p.authURL())
	pg := throughConsent(t, br, issuer, "deny")
	br.screenshot(filepath.Join(t.TempDir(), "login-denied.png"))
	if !strings.Contains(pg.Text, "Login failed") || !strings.Contains(pg.Text, "access was denied") {
		t.Fatalf("mcpcred's page says:\n%s", pg.Text)
	}
	code, stderr := p.wait()
	if code != 1 || !strings.Contains(stderr, "mcpcred: login failed: access was denied at the authorization server (access_denied") {
		t.Fatalf("login: exit %d:\n%s", code, stderr)
	}
	if code, out, _ := mcpcredRun(t, env, "server_name=denied\nurl="+fx.URL+"\n", "get", "--no-refresh"); code != 0 || out != "" {
		t.Fatalf("a denied login stored something: %q", out)
	}
}

// Anything that can reach the loopback port can send the redirect a forged
// answer: one without this login's state gets an error page and is ignored, and
// the real answer from the browser that follows still logs in.
func TestLoginStateMismatch(t *testing.T) {
	issuer := interactiveAS(t).Issuer
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: issuer, ChallengeScope: "mcp:tools"})
	br := startBrowser(t)
	env := loginEnv(t)
	p := startMcpcred(t, env, "", "login", fx.URL, "--no-browser", "--server", "forged")
	authURL := p.authURL()
	redirect := mustQuery(t, authURL).Get("redirect_uri")
	for _, q := range []url.Values{
		{"code": {"stolen"}, "state": {"forged"}, "iss": {issuer}},
		{"code": {"stolen"}, "iss": {issuer}},
		{"error": {"access_denied"}, "state": {"forged"}, "iss": {issuer}},
	} {
		resp, err := http.Get(redirect + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "Login failed") || !strings.Contains(string(body), "was ignored") {
			t.Fatalf("forged answer %v: HTTP %d\n%s", q, resp.StatusCode, body)
		}
	}
	br.navigate(authURL)
	pg := throughConsent(t, br, issuer, "allow")
	if !strings.Contains(pg.Text, "Login complete") {
		t.Fatalf("mcpcred's page says:\n%s", pg.Text)
	}
	code, stderr := p.wait()
	if code != 0 || strings.Count(stderr, "mcpcred: ignored a request to the login's redirect address that does not carry this login's state; still waiting for the browser\n") != 3 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if rec := stored(t, env, "forged", fx.URL); rec["access_token"] == "" {
		t.Fatalf("nothing stored: %v", rec)
	}
}

func TestLoginTimeout(t *testing.T) {
	issuer := interactiveAS(t).Issuer
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: issuer})
	env := loginEnv(t)
	start := time.Now()
	// No --no-browser, but no display either: the URL is printed.
	code, _, stderr := mcpcredRun(t, env, "", "login", fx.URL, "--login-timeout", "2s")
	if code != 1 || !strings.Contains(stderr, "login failed: the login was not finished in time") || !strings.Contains(stderr, "--login-timeout") ||
		!strings.Contains(stderr, "mcpcred: not opening a browser: no graphical display (neither DISPLAY nor WAYLAND_DISPLAY is set)\n") ||
		!strings.Contains(stderr, "mcpcred: open this URL in your browser to log in: "+issuer+"/auth?") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("took %s", d)
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func mustPort(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

// noSecrets fails if out shows a token or secret of rec.
func noSecrets(t *testing.T, out string, rec map[string]string) {
	t.Helper()
	for _, k := range []string{"access_token", "refresh_token", "client_secret"} {
		if v := rec[k]; v != "" && strings.Contains(out, v) {
			t.Errorf("the output shows the %s", k)
		}
	}
}

// TestLoginPreRegisteredClient logs in with a confidential client registered
// beforehand, its secret given on stdin, through the automatic-consent server and
// a cookie-keeping HTTP client in place of the browser.
func TestLoginPreRegisteredClient(t *testing.T) {
	as := oauthtest.Start(t)
	reg := as.Register(t, oauthtest.ClientOptions{Confidential: true})
	if reg.ClientSecret == "" {
		t.Fatal("no secret registered")
	}
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: as.Issuer, Scopes: []string{"mcp:tools"}})
	env := loginEnv(t)
	p := startMcpcred(t, env, reg.ClientSecret+"\n", "login", fx.URL, "--no-browser", "--server", "pre",
		"--client-id", reg.ClientID, "--client-secret-file", "-")
	jar, _ := cookiejar.New(nil)
	resp, err := (&http.Client{Jar: jar, Timeout: 20 * time.Second}).Get(p.authURL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Login complete") {
		t.Fatalf("page:\n%s", body)
	}
	code, stderr := p.wait()
	if code != 0 || !strings.Contains(stderr, "using the client id you gave") || strings.Contains(stderr, "registered mcpcred") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	rec := stored(t, env, "pre", fx.URL)
	if rec["client_id"] != reg.ClientID || rec["client_secret"] != reg.ClientSecret || rec["scope"] != "mcp:tools" {
		t.Fatalf("stored %v", rec)
	}
	noSecrets(t, stderr, rec)
	reqs := as.TokenRequests(t, reg.ClientID)
	if len(reqs) != 1 || reqs[0].GrantType != "authorization_code" || reqs[0].Status != 200 {
		t.Fatalf("token requests %+v", reqs)
	}
	// The next login without --client-id reuses the stored pre-registered client.
	p = startMcpcred(t, env, "", "login", fx.URL, "--no-browser", "--server", "pre")
	resp, err = (&http.Client{Jar: jar, Timeout: 20 * time.Second}).Get(p.authURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code, stderr := p.wait(); code != 0 || !strings.Contains(stderr, "reusing the client registration stored for "+as.Issuer) {
		t.Fatalf("second login: exit %d:\n%s", code, stderr)
	}
	if rec2 := stored(t, env, "pre", fx.URL); rec2["client_secret"] != reg.ClientSecret {
		t.Fatalf("the second login lost the client secret")
	}
}

// TestLoginIntoSecretService stores a login in a real Secret Service (run under
// scripts/with-secret-service.sh), the default store of a desktop, and logs out.
func TestLoginIntoSecretService(t *testing.T) {
	if os.Getenv("MCPCRED_TEST_SECRET_SERVICE") != "1" {
		keyringtest.Missing(t, "no private Secret Service: run under scripts/with-secret-service.sh")
	}
	as := oauthtest.Start(t)
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: as.Issuer, ChallengeScope: "mcp:tools"})
	var env []string
	for _, kv := range loginEnv(t) {
		if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") && !strings.HasPrefix(kv, "XDG_RUNTIME_DIR=") && !strings.HasPrefix(kv, "MCPCRED_STORE=") {
			env = append(env, kv)
		}
	}
	env = append(env, "DBUS_SESSION_BUS_ADDRESS="+os.Getenv("DBUS_SESSION_BUS_ADDRESS"), "XDG_RUNTIME_DIR="+os.Getenv("XDG_RUNTIME_DIR"))
	p := startMcpcred(t, env, "", "login", fx.URL, "--no-browser", "--server", "ss-login", "--store", "keyring")
	t.Cleanup(func() { mcpcredRun(t, env, "", "logout", fx.URL, "--server", "ss-login", "--store", "keyring") })
	jar, _ := cookiejar.New(nil)
	resp, err := (&http.Client{Jar: jar, Timeout: 20 * time.Second}).Get(p.authURL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `the token is stored in the keyring (service &#34;mcpcred&#34;)`) {
		t.Fatalf("page:\n%s", body)
	}
	code, stderr := p.wait()
	if code != 0 || !strings.Contains(stderr, `the token is stored in the keyring (service "mcpcred")`) {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	code, out, errOut := mcpcredRun(t, env, "server_name=ss-login\nurl="+fx.URL+"\n", "get", "--no-refresh", "--store", "keyring")
	if code != 0 || !strings.Contains(out, "issuer="+as.Issuer+"\n") || !strings.Contains(out, "resource="+fx.Resource+"\n") || !strings.Contains(out, "refresh_token=") {
		t.Fatalf("get from the keyring: exit %d, %s", code, errOut)
	}
	code, _, errOut = mcpcredRun(t, env, "", "logout", fx.URL, "--store", "keyring")
	if code != 0 || !strings.Contains(errOut, `the record of server "ss-login" is erased`) {
		t.Fatalf("logout: exit %d: %s", code, errOut)
	}
	if code, out, _ := mcpcredRun(t, env, "server_name=ss-login\nurl="+fx.URL+"\n", "get", "--no-refresh", "--store", "keyring"); code != 0 || out != "" {
		t.Fatalf("get after logout: exit %d, %q", code, out)
	}
}
