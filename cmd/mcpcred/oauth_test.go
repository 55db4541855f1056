//go:build unix

package main

// Refresh on read and `mcpcred headers` against a real authorization server
// (oidc-provider, testdata/oauth-as) and, for what a real server will not do on
// demand (stall, 503, vanish), hand-written fakes. Every mcpcred here is a real
// process of the built binary.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends/file"
	"github.com/mcpcred/mcpcred/helper"
	"github.com/mcpcred/mcpcred/helper/oauth/oauthtest"
)

// hangGuard is the spec's limit for headers, used only to stop a hung process.
const hangGuard = 8 * time.Second

// oauthEnv is one server record stored in a fresh home.
type oauthEnv struct {
	t     *testing.T
	bin   string
	flags []string // the store flags every mcpcred call gets
	env   []string
	name  string
	url   string
	home  string
}

func newOAuthEnv(t *testing.T, flags ...string) *oauthEnv {
	t.Helper()
	dir := t.TempDir()
	e := &oauthEnv{
		t:    t,
		bin:  builtBinary(t),
		name: "srv",
		url:  "https://mcp.test/" + strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()),
		home: filepath.Join(dir, "home"),
	}
	e.flags = append([]string{"--home", e.home}, flags...)
	for _, kv := range os.Environ() {
		// Nothing of the caller's own mcpcred or Claude Code settings.
		if !strings.HasPrefix(kv, "MCPCRED_") && !strings.HasPrefix(kv, "CLAUDE_CODE_MCP_") && !strings.HasPrefix(kv, "CODEX_HOME=") {
			e.env = append(e.env, kv)
		}
	}
	e.env = append(e.env, "HOME="+filepath.Join(dir, "user"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
	if os.Getenv("MCPCRED_TEST_SECRET_SERVICE") != "1" {
		// No keyring: nothing reaches this machine's own.
		e.env = append(e.env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(dir, "no-bus"), "XDG_RUNTIME_DIR="+dir)
	}
	return e
}

// result is one finished mcpcred process.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
}

func (e *oauthEnv) command(stdin string, args ...string) *exec.Cmd {
	cmd := exec.Command(e.bin, append(append([]string{}, e.flags...), args...)...)
	cmd.Env = e.env
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	return cmd
}

// wait starts cmd and runs it to its end.
func wait(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return finish(t, cmd, &stdout, &stderr)
}

// finish waits for a started cmd whose output goes to stdout and stderr,
// killing it (and failing the test) past hangGuard.
func finish(t *testing.T, cmd *exec.Cmd, stdout, stderr *bytes.Buffer) result {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(hangGuard):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%v did not finish within %v", cmd.Args[1:], hangGuard)
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{stdout.String(), stderr.String(), code}
}

func (e *oauthEnv) run(stdin string, args ...string) result {
	e.t.Helper()
	return wait(e.t, e.command(stdin, args...))
}

func (e *oauthEnv) id() string { return fmt.Sprintf("server_name=%s\nurl=%s\n", e.name, e.url) }

// store stores the record; fields are extra key=value lines.
func (e *oauthEnv) store(fields map[string]string) {
	e.t.Helper()
	var b strings.Builder
	b.WriteString(e.id())
	for k, v := range fields {
		if v != "" {
			fmt.Fprintf(&b, "%s=%s\n", k, v)
		}
	}
	if r := e.run(b.String(), "store"); r.code != 0 || r.stdout != "" {
		e.t.Fatalf("store: %v", r)
	}
}

// stored is the record as `get --no-refresh` prints it, or nil.
func (e *oauthEnv) stored() map[string]string {
	e.t.Helper()
	r := e.run(e.id(), "get", "--no-refresh")
	if r.code != 0 {
		return map[string]string{"error": r.stderr}
	}
	if r.stdout == "" {
		return nil
	}
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		k, v, _ := strings.Cut(l, "=")
		m[k] = v
	}
	return m
}

// login logs a new client in at the real server and stores the record with the
// given expiry (relative to now), as `mcpcred login` would.
func (e *oauthEnv) login(as *oauthtest.AS, o oauthtest.ClientOptions, expiresIn time.Duration) (*oauthtest.Registration, map[string]string) {
	e.t.Helper()
	reg := as.Register(e.t, o)
	tok, scope := as.Login(e.t, reg, e.url, "mcp:tools")
	rec := map[string]string{
		"issuer":         as.Issuer,
		"client_id":      reg.ClientID,
		"client_secret":  reg.ClientSecret,
		"access_token":   tok.AccessToken,
		"refresh_token":  tok.RefreshToken,
		"expires_at":     fmt.Sprint(time.Now().Add(expiresIn).Unix()),
		"scope":          scope,
		"token_endpoint": as.TokenEndpoint(),
		"resource":       e.url,
	}
	e.store(rec)
	return reg, rec
}

// headerToken checks that out is exactly one line holding one JSON object with
// only Authorization: Bearer, and returns the token.
func headerToken(t *testing.T, r result) string {
	t.Helper()
	if r.code != 0 || !strings.HasSuffix(r.stdout, "}\n") || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("headers: %v", r)
	}
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var m map[string]string
	if err := dec.Decode(&m); err != nil || dec.More() || len(m) != 1 || !strings.HasPrefix(m["Authorization"], "Bearer ") {
		t.Fatalf("headers printed %q (%v)", r.stdout, err)
	}
	return strings.TrimPrefix(m["Authorization"], "Bearer ")
}

// oneErrorLine checks a failure: nothing on stdout, one line on stderr holding
// each of want.
func oneErrorLine(t *testing.T, r result, code int, want ...string) {
	t.Helper()
	if r.code != code || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "mcpcred: ") {
		t.Fatalf("want exit %d, no stdout, one stderr line; got %v", code, r)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr %q lacks %q", r.stderr, w)
		}
	}
}

func noSecretIn(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("a secret reached %q", text)
		}
	}
}

// storeModes are the stores the refresh tests run against: the file always, the
// Secret Service when scripts/with-secret-service.sh provides one.
func storeModes() []string {
	modes := []string{"file"}
	if os.Getenv("MCPCRED_TEST_SECRET_SERVICE") == "1" {
		modes = append(modes, "keyring")
	}
	return modes
}

// An expired token is refreshed by get and by headers; the store holds the new
// pair afterwards; the server saw resource and issued a token for it.
func TestOAuthRefreshOnRead(t *testing.T) {
	as := oauthtest.Start(t)
	for _, store := range storeModes() {
		for _, verb := range []string{"get", "headers"} {
			t.Run(store+"/"+verb, func(t *testing.T) {
				e := newOAuthEnv(t, "--store", store)
				reg, old := e.login(as, oauthtest.ClientOptions{AccessTokenTTL: time.Hour}, -time.Minute)
				var r result
				var access string
				if verb == "get" {
					r = e.run(e.id(), "get")
					if r.code != 0 || !strings.Contains(r.stdout, "\naccess_token=") {
						t.Fatalf("get: %v", r)
					}
					access = strings.SplitN(strings.SplitN(r.stdout, "\naccess_token=", 2)[1], "\n", 2)[0]
				} else {
					r = e.run("", "headers", "--url", e.url)
					access = headerToken(t, r)
				}
				noSecretIn(t, r.stderr, old["access_token"], old["refresh_token"], access)
				if access == old["access_token"] {
					t.Fatalf("%s printed the old token", verb)
				}
				now := e.stored()
				if now["access_token"] != access || now["refresh_token"] == old["refresh_token"] || now["refresh_token"] == "" ||
					now["scope"] != "mcp:tools" || now["client_id"] != reg.ClientID || now["resource"] != e.url {
					t.Errorf("stored afterwards: %v", now)
				}
				if exp := now["expires_at"]; exp <= fmt.Sprint(time.Now().Add(50*time.Minute).Unix()) {
					t.Errorf("stored expires_at %s, want about an hour from now", exp)
				}
				refreshes := as.Refreshes(t, reg.ClientID)
				if len(refreshes) != 1 || refreshes[0].Resource == nil || *refreshes[0].Resource != e.url || refreshes[0].Status != 200 {
					t.Errorf("the server saw %+v, want one refresh with resource %s", refreshes, e.url)
				}
				if info := as.AccessToken(t, access); !info.Active || info.Audience != e.url {
					t.Errorf("the new token at the server: %+v", info)
				}
			})
		}
	}
}

// Twenty headers processes start together on one expired token: one refresh
// reaches the server, all twenty print its token, and the grant lives on.
func TestOAuthHeadersConcurrent(t *testing.T) {
	as := oauthtest.Start(t)
	e := newOAuthEnv(t, "--store", "file")
	reg, old := e.login(as, oauthtest.ClientOptions{AccessTokenTTL: time.Hour}, -time.Minute)

	const n = 20
	cmds := make([]*exec.Cmd, n)
	outs := make([]bytes.Buffer, n)
	errs := make([]bytes.Buffer, n)
	for i := range cmds {
		cmds[i] = e.command("", "headers", "--url", e.url)
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &errs[i]
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	results := make([]result, n)
	for i, c := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.Wait()
			results[i] = result{outs[i].String(), errs[i].String(), c.ProcessState.ExitCode()}
			if err != nil && results[i].code == 0 {
				results[i].code = -1
			}
		}()
	}
	wg.Wait()
	first := headerToken(t, results[0])
	for i, r := range results {
		if got := headerToken(t, r); got != first {
			t.Errorf("process %d printed another token than process 0", i)
		}
	}
	if first == old["access_token"] {
		t.Fatal("the old token was printed")
	}
	if refreshes := as.Refreshes(t, reg.ClientID); len(refreshes) != 1 {
		t.Fatalf("the server saw %d refresh requests, want 1: %+v", len(refreshes), refreshes)
	}
	// The grant is alive: one more refresh works and rotates again.
	again := headerToken(t, e.run("", "headers", "--url", e.url, "--force-refresh"))
	refreshes := as.Refreshes(t, reg.ClientID)
	if again == first || len(refreshes) != 2 || refreshes[1].Status != 200 {
		t.Fatalf("the refresh after the burst: %+v", refreshes)
	}
	if info := as.AccessToken(t, again); !info.Active {
		t.Errorf("the newest token is not active: %+v", info)
	}
}

// stallingEndpoint answers nothing until told to, then issues tokens.
type stallingEndpoint struct {
	URL     string
	arrived chan struct{}
	mu      sync.Mutex
	stall   bool
	count   int
}

func newStallingEndpoint(t *testing.T) *stallingEndpoint {
	s := &stallingEndpoint{arrived: make(chan struct{}, 100), stall: true}
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		s.mu.Lock()
		s.count++
		stall := s.stall
		s.mu.Unlock()
		s.arrived <- struct{}{}
		if stall {
			select {
			case <-stop:
			case <-r.Context().Done():
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"at-from-fake","token_type":"Bearer","expires_in":600,"refresh_token":"rt-from-fake"}`)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	s.URL = srv.URL + "/token"
	return s
}

func (s *stallingEndpoint) answer() {
	s.mu.Lock()
	s.stall = false
	s.mu.Unlock()
}

func (e *oauthEnv) fakeRecord(endpoint string, expiresIn time.Duration) map[string]string {
	rec := map[string]string{
		"client_id":      "client-1",
		"access_token":   "at-old",
		"refresh_token":  "rt-old",
		"expires_at":     fmt.Sprint(time.Now().Add(expiresIn).Unix()),
		"scope":          "mcp:tools",
		"token_endpoint": endpoint,
		"resource":       e.url,
	}
	e.store(rec)
	return rec
}

// A process killed while it holds the refresh lock (mid-request) does not stop
// the next one.
func TestOAuthKilledMidRefresh(t *testing.T) {
	fake := newStallingEndpoint(t)
	e := newOAuthEnv(t, "--store", "file")
	e.fakeRecord(fake.URL, -time.Minute)

	a := e.command("", "headers", "--url", e.url, "--timeout", "60s")
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-fake.arrived: // a holds the lock and waits for the endpoint
	case <-time.After(hangGuard):
		_ = a.Process.Kill()
		t.Fatal("the first process never reached the token endpoint")
	}
	if err := a.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = a.Wait()

	fake.answer()
	r := e.run("", "headers", "--url", e.url)
	if got := headerToken(t, r); got != "at-from-fake" || r.stderr != "" {
		t.Fatalf("after the kill: %v", r)
	}
	if now := e.stored(); now["refresh_token"] != "rt-from-fake" {
		t.Errorf("stored %v", now)
	}
}

// closedEndpoint is a token endpoint URL on which nothing listens.
func closedEndpoint(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "http://" + l.Addr().String() + "/token"
}

func answering(t *testing.T, status int, body string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/token"
}

// Failures end as docs/oauth.md says, each within the 8 s limit.
func TestOAuthRefreshFailures(t *testing.T) {
	as := oauthtest.Start(t)

	t.Run("invalid_grant", func(t *testing.T) {
		e := newOAuthEnv(t, "--store", "file")
		reg, old := e.login(as, oauthtest.ClientOptions{Confidential: true}, -time.Minute)
		as.Revoke(t, reg, old["refresh_token"])
		r := e.run("", "headers", "--url", e.url)
		oneErrorLine(t, r, exitLogin, "invalid_grant", "run mcpcred login "+e.url+" --server srv --store file --home "+e.home)
		noSecretIn(t, r.stderr, old["access_token"], old["refresh_token"], old["client_secret"])
		// The registration stays, for the next login to the same issuer.
		var entries map[string]map[string]any
		data, _ := os.ReadFile(filepath.Join(e.home, ".credentials.json"))
		if err := json.Unmarshal(data, &entries); err != nil {
			t.Fatal(err)
		}
		entry := entries[helper.StoreKey(e.name, e.url)]
		if entry["access_token"] != "" || entry["refresh_token"] != nil || entry["expires_at"] != nil ||
			entry["client_id"] != reg.ClientID || entry["client_secret"] != reg.ClientSecret || entry["issuer"] != as.Issuer ||
			entry["token_endpoint"] != as.TokenEndpoint() || entry["resource"] != e.url {
			t.Errorf("left in the file: %v", entry)
		}
		// get says the same, and no request goes out.
		g := e.run(e.id(), "get")
		oneErrorLine(t, g, exitFailed, "run mcpcred login "+e.url)
		if n := len(as.Refreshes(t, reg.ClientID)); n != 1 {
			t.Errorf("%d refresh requests, want 1", n)
		}
	})

	t.Run("invalid_client", func(t *testing.T) {
		e := newOAuthEnv(t, "--store", "file")
		reg, _ := e.login(as, oauthtest.ClientOptions{}, -time.Minute)
		as.DeleteClient(t, reg)
		r := e.run("", "headers", "--url", e.url)
		oneErrorLine(t, r, exitLogin, "invalid_client", "client registration", "run mcpcred login "+e.url)
		if now := e.stored(); now != nil {
			t.Errorf("the record is still there: %v", now)
		}
	})

	for _, c := range []struct {
		name      string
		endpoint  func(t *testing.T) string
		expiresIn time.Duration
		code      int
		want      string
	}{
		{"down valid", closedEndpoint, 30 * time.Second, exitOK, "connection refused"},
		{"down expired", closedEndpoint, -time.Minute, exitFailed, "connection refused"},
		{"503 valid", func(t *testing.T) string { return answering(t, 503, "busy") }, 30 * time.Second, exitOK, "HTTP 503"},
		{"503 expired", func(t *testing.T) string { return answering(t, 503, "busy") }, -time.Minute, exitFailed, "HTTP 503"},
		{"malformed expired", func(t *testing.T) string { return answering(t, 200, `{"access_token":`) }, -time.Minute, exitFailed, "not a token response"},
		{"stalling valid", func(t *testing.T) string { return newStallingEndpoint(t).URL }, 30 * time.Second, exitOK, "deadline"},
		{"stalling expired", func(t *testing.T) string { return newStallingEndpoint(t).URL }, -time.Minute, exitFailed, "deadline"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newOAuthEnv(t, "--store", "file")
			rec := e.fakeRecord(c.endpoint(t), c.expiresIn)
			r := e.run("", "headers", "--url", e.url)
			if c.code == exitOK {
				if got := headerToken(t, r); got != "at-old" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, c.want) {
					t.Fatalf("want the old token and one notice: %v", r)
				}
			} else {
				oneErrorLine(t, r, c.code, c.want, "expired")
			}
			noSecretIn(t, r.stderr, "at-old", "rt-old")
			if now := e.stored(); now["access_token"] != rec["access_token"] || now["refresh_token"] != rec["refresh_token"] {
				t.Errorf("the record changed: %v", now)
			}
		})
	}
}

// codexEnv is the environment Codex gives a headers helper: cleared, then a
// short list of variables (HOME, PATH, USER, ...; docs/oauth.md).
func codexEnv(home string) []string {
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	for _, k := range []string{"LANG", "LC_ALL", "LOGNAME", "SHELL", "TERM", "TMPDIR", "TZ", "USER",
		"CURL_CA_BUNDLE", "GIT_SSL_CAINFO", "NODE_EXTRA_CA_CERTS", "PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// headers run as Codex runs http_headers_helper: sh -c, stdin /dev/null, the
// environment cleared to Codex's whitelist, the default store and home.
func TestOAuthHeadersAsCodexRunsIt(t *testing.T) {
	as := oauthtest.Start(t)
	e := newOAuthEnv(t)
	user := filepath.Join(t.TempDir(), "user")
	// The record lives where a user's would: ~/.config/mcpcred, found from HOME
	// alone (XDG_CONFIG_HOME is not passed).
	e.flags = []string{"--store", "file"}
	e.env = append(codexEnv(user), "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(user, "no-bus"))
	_, rec := e.login(as, oauthtest.ClientOptions{AccessTokenTTL: time.Hour}, time.Hour)

	cmd := exec.Command("/bin/sh", "-c", helper.ShellQuote(e.bin)+" headers --url "+helper.ShellQuote(e.url))
	cmd.Env = codexEnv(user)
	cmd.Dir = t.TempDir()
	r := wait(t, cmd)
	if got := headerToken(t, r); got != rec["access_token"] {
		t.Fatalf("printed another token: %v", r)
	}
}

// headers run as Claude Code runs headersHelper: a shell, the full environment
// plus CLAUDE_CODE_MCP_SERVER_NAME and CLAUDE_CODE_MCP_SERVER_URL.
func TestOAuthHeadersAsClaudeRunsIt(t *testing.T) {
	as := oauthtest.Start(t)
	e := newOAuthEnv(t, "--store", "file")
	_, rec := e.login(as, oauthtest.ClientOptions{AccessTokenTTL: time.Hour}, time.Hour)
	for _, label := range []string{e.name, "a-label-claude-chose"} {
		cmd := exec.Command("/bin/sh", "-c", helper.ShellQuote(e.bin)+" headers --store file --home "+helper.ShellQuote(e.home))
		cmd.Env = append(append([]string{}, e.env...), "CLAUDE_CODE_MCP_SERVER_NAME="+label, "CLAUDE_CODE_MCP_SERVER_URL="+e.url)
		r := wait(t, cmd)
		if got := headerToken(t, r); got != rec["access_token"] {
			t.Fatalf("server name %q: %v", label, r)
		}
	}
}

// In the codex profile the refreshed token is written in Codex's format, under
// Codex's own per-credential lock.
func TestOAuthCodexProfile(t *testing.T) {
	as := oauthtest.Start(t)
	e := newOAuthEnv(t, "--profile", "codex", "--store", "file")
	codexHome := filepath.Join(t.TempDir(), "codex")
	if err := os.Mkdir(codexHome, 0o700); err != nil {
		t.Fatal(err)
	}
	e.flags = []string{"--profile", "codex", "--store", "file"}
	e.env = append(e.env, "CODEX_HOME="+codexHome)
	e.home = codexHome
	reg, old := e.login(as, oauthtest.ClientOptions{AccessTokenTTL: time.Hour}, -time.Minute)

	// Hold Codex's lock: headers waits for it, and refreshes once it is free.
	sum := sha256.Sum256([]byte(helper.StoreKey(e.name, e.url)))
	unlock, err := file.Lock(filepath.Join(codexHome, "mcp-oauth-locks", hex.EncodeToString(sum[:])+".lock"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cmd := e.command("", "headers", "--url", e.url, "--timeout", "3s")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(as.Refreshes(t, reg.ClientID)); n != 0 {
		t.Errorf("%d refreshes while Codex's lock was held", n)
	}
	_ = unlock()
	r := finish(t, cmd, &stdout, &stderr)
	access := headerToken(t, r)
	if access == old["access_token"] || len(as.Refreshes(t, reg.ClientID)) != 1 {
		t.Fatalf("no refresh after the lock was released: %v", r)
	}

	data, err := os.ReadFile(filepath.Join(codexHome, ".credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(data, &entries); err != nil || len(entries) != 1 {
		t.Fatalf("%s: %v", data, err)
	}
	entry := string(entries[helper.StoreKey(e.name, e.url)])
	prefix := fmt.Sprintf(`{"server_name":%q,"server_url":%q,"issuer":%q,"client_id":%q,"access_token":%q,"expires_at":`,
		e.name, e.url, as.Issuer, reg.ClientID, access)
	if !strings.HasPrefix(entry, prefix) || !strings.Contains(entry, `,"scopes":["mcp:tools"],"token_endpoint":`) ||
		strings.Contains(entry, old["refresh_token"]) {
		t.Errorf("entry not in Codex's format:\n%s\nwant prefix\n%s", entry, prefix)
	}
}

// The exit statuses that tell "log in" and "usage" apart.
func TestOAuthHeadersUsage(t *testing.T) {
	e := newOAuthEnv(t, "--store", "file")
	oneErrorLine(t, e.run("", "headers"), exitBadCall, "--url")
	oneErrorLine(t, e.run("", "headers", "--url", e.url), exitLogin, "no token is stored", "run mcpcred login "+e.url)

	e.fakeRecord(closedEndpoint(t), time.Hour)
	e.name = "other"
	e.fakeRecord(closedEndpoint(t), time.Hour)
	oneErrorLine(t, e.run("", "headers", "--url", e.url), exitBadCall, "2 records", "other, srv")
	if got := headerToken(t, e.run("", "headers", "--url", e.url, "--server", "srv")); got != "at-old" {
		t.Fatal(got)
	}
	oneErrorLine(t, e.run("", "headers", "--url", e.url, "--server", "srv", "--no-refresh", "--force-refresh"), exitBadCall, "contradict")
	// An expired token with no way to refresh it.
	e.store(map[string]string{"client_id": "c", "access_token": "at-x", "expires_at": "1"})
	oneErrorLine(t, e.run("", "headers", "--url", e.url, "--server", "other"), exitLogin, "expired", "the record has no refresh_token to refresh it")
}

// headers never reads stdin: a stdin that never ends does not hold it up.
func TestOAuthHeadersIgnoresStdin(t *testing.T) {
	e := newOAuthEnv(t, "--store", "file")
	e.fakeRecord(closedEndpoint(t), time.Hour)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	cmd := e.command("", "headers", "--url", e.url)
	cmd.Stdin = pr
	if got := headerToken(t, wait(t, cmd)); got != "at-old" {
		t.Fatal(got)
	}
	pr.Close()
}
