package main

// Real git drives mcpcred as its credential.helper: `git credential
// fill|approve|reject`, with the cases of git's own helper suite
// (t/lib-credential.sh: helper_test of v2.55, plus the password_expiry_utc,
// oauth_refresh_token and authtype tests). Debian's git package ships no
// lib-credential.sh, so its cases are written here as Go tests, with its askpass
// stub and its exact expected stdout and stderr.
//
// Git 2.39 (Debian 12) does not know password_expiry_utc, oauth_refresh_token,
// wwwauth[] or capability[]: it drops them when it reads and never sends them. The
// cases that need them drive the mcpcred binary directly, as git 2.40+ would.
//
// Every case runs on the file store, and on the Secret Service when a real one is
// there (scripts/with-secret-service.sh sets MCPCRED_TEST_SECRET_SERVICE=1).

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends/keyringtest"
)

// mcpcredBinary is the built binary, for tests that need git too.
func mcpcredBinary(t *testing.T) string {
	t.Helper()
	requireGit(t)
	return builtBinary(t)
}

// gitEnv is one sandbox: a HOME, a global git config naming the helper, an
// askpass stub, and the environment for git and mcpcred.
type gitEnv struct {
	t      *testing.T
	dir    string
	env    []string
	mode   string // "file" or "keyring"
	bin    string
	helper string // credential.helper value
}

const askpass = `#!/bin/sh
echo >&2 askpass: $*
what=$(echo $1 | cut -d" " -f1 | tr A-Z a-z | tr -cd a-z)
echo "askpass-$what"
`

func requireGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		keyringtest.Missing(t, "git is not installed")
	}
}

// newGitEnv makes a sandbox. helperForm is "abs" (the binary's absolute path and
// flags, quoted for the shell as git runs it) or "bang" ("!" and a shell command).
func newGitEnv(t *testing.T, bin, mode, helperForm string) *gitEnv {
	t.Helper()
	if mode == "keyring" && os.Getenv("MCPCRED_TEST_SECRET_SERVICE") != "1" {
		keyringtest.Missing(t, "no private Secret Service (run the tests under scripts/with-secret-service.sh)")
	}
	dir := t.TempDir()
	e := &gitEnv{t: t, dir: dir, mode: mode, bin: bin}
	must(t, os.WriteFile(filepath.Join(dir, "askpass"), []byte(askpass), 0o755))
	home := filepath.Join(dir, "home")
	must(t, os.MkdirAll(home, 0o700))
	mhome := filepath.Join(dir, "mcpcred home")
	switch helperForm {
	case "abs":
		// An absolute path runs as a shell command; the directory of the binary has a
		// space, so this form needs a path without one: a symlink.
		link := filepath.Join(dir, "bin", "mcpcred")
		must(t, os.MkdirAll(filepath.Dir(link), 0o755))
		must(t, os.Symlink(bin, link))
		e.helper = link + " --store=" + mode + " --home '" + mhome + "'"
	case "bang":
		e.helper = "!'" + bin + "' --store=" + mode + ` --home "` + mhome + `"`
	default:
		t.Fatalf("helper form %q", helperForm)
	}
	cfg := filepath.Join(dir, "gitconfig")
	must(t, os.WriteFile(cfg, nil, 0o600))
	e.env = []string{
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"GIT_CONFIG_GLOBAL=" + cfg,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_ASKPASS=" + filepath.Join(dir, "askpass"),
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
	}
	for _, k := range []string{"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			e.env = append(e.env, k+"="+v)
		}
	}
	if mode == "file" {
		// No keyring reachable: --store file must not need one.
		e.env = append(e.env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(dir, "no-bus"))
	}
	e.git("config", "--global", "credential.helper", e.helper)
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *gitEnv) run(stdin string, name string, args ...string) (stdout, stderr string, err error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = e.env
	cmd.Dir = e.dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

func (e *gitEnv) git(args ...string) string {
	e.t.Helper()
	out, errs, err := e.run("", "git", args...)
	if err != nil {
		e.t.Fatalf("git %v: %v\n%s", args, err, errs)
	}
	return out
}

// check is lib-credential.sh's check: git credential OP with stdin, then the
// exact stdout and stderr. Extra git -c options go in opts.
func (e *gitEnv) check(op, stdin, wantOut, wantErr string, opts ...string) {
	e.t.Helper()
	args := append(append([]string{}, opts...), "credential", op)
	out, errs, err := e.run(stdin, "git", args...)
	if err != nil {
		e.t.Fatalf("git credential %s failed: %v\n%s", op, err, errs)
	}
	if out != wantOut {
		e.t.Errorf("git credential %s\nstdin:\n%s\nstdout:\n%s\nwant:\n%s", op, stdin, out, wantOut)
	}
	if errs != wantErr {
		e.t.Errorf("git credential %s\nstdin:\n%s\nstderr:\n%s\nwant:\n%s", op, stdin, errs, wantErr)
	}
}

// helperCall runs the configured helper itself, as git 2.40+ would, through the
// shell exactly as git does.
func (e *gitEnv) helperCall(op, stdin string) (string, string) {
	e.t.Helper()
	cmdline := strings.TrimPrefix(e.helper, "!") + " " + op
	out, errs, err := e.run(stdin, "sh", "-c", cmdline)
	if err != nil {
		e.t.Fatalf("%s: %v\n%s", cmdline, err, errs)
	}
	return out, errs
}

func (e *gitEnv) clean() {
	for _, host := range []string{"example.com", "path.tld", "sso.tld", "victim.example.com", "other.tld",
		"git.example.com", "git2.example.com", "expired.tld", "repo.tld", "plain.tld"} {
		for _, proto := range []string{"https", "http"} {
			_, _, _ = e.run("protocol="+proto+"\nhost="+host+"\n", "sh", "-c", strings.TrimPrefix(e.helper, "!")+" erase")
		}
	}
}

func prompts(url, userURL string) string {
	s := ""
	if url != "" {
		s += "askpass: Username for '" + url + "':\n"
	}
	return s + "askpass: Password for '" + userURL + "':\n"
}

func gitModes(t *testing.T, f func(t *testing.T, e *gitEnv)) {
	bin := mcpcredBinary(t)
	for _, mode := range []string{"file", "keyring"} {
		for _, form := range []string{"abs", "bang"} {
			t.Run(mode+"-"+form, func(t *testing.T) {
				e := newGitEnv(t, bin, mode, form)
				e.clean()
				t.Cleanup(e.clean)
				f(t, e)
			})
		}
	}
}

// TestGitHelperSuite is helper_test of git's t/lib-credential.sh (v2.55), in order.
func TestGitHelperSuite(t *testing.T) {
	gitModes(t, func(t *testing.T, e *gitEnv) {
		ask := "protocol=https\nhost=example.com\nusername=askpass-username\npassword=askpass-password\n"
		// has no existing data
		e.check("fill", "protocol=https\nhost=example.com\n", ask,
			prompts("https://example.com", "https://askpass-username@example.com"))
		// stores password
		e.check("approve", "protocol=https\nhost=example.com\nusername=store-user\npassword=store-pass\n", "", "")
		// can retrieve password
		e.check("fill", "protocol=https\nhost=example.com\n",
			"protocol=https\nhost=example.com\nusername=store-user\npassword=store-pass\n", "")
		// requires matching protocol
		e.check("fill", "protocol=http\nhost=example.com\n",
			"protocol=http\nhost=example.com\nusername=askpass-username\npassword=askpass-password\n",
			prompts("http://example.com", "http://askpass-username@example.com"))
		// requires matching host
		e.check("fill", "protocol=https\nhost=other.tld\n",
			"protocol=https\nhost=other.tld\nusername=askpass-username\npassword=askpass-password\n",
			prompts("https://other.tld", "https://askpass-username@other.tld"))
		// requires matching username
		e.check("fill", "protocol=https\nhost=example.com\nusername=other\n",
			"protocol=https\nhost=example.com\nusername=other\npassword=askpass-password\n",
			prompts("", "https://other@example.com"))
		// requires matching path
		e.check("approve", "protocol=http\nhost=path.tld\npath=foo.git\nusername=user\npassword=pass\n", "", "",
			"-c", "credential.usehttppath=true")
		e.check("fill", "protocol=http\nhost=path.tld\npath=bar.git\n",
			"protocol=http\nhost=path.tld\npath=bar.git\nusername=askpass-username\npassword=askpass-password\n",
			prompts("http://path.tld/bar.git", "http://askpass-username@path.tld/bar.git"),
			"-c", "credential.usehttppath=true")
		// overwrites on store
		e.check("approve", "protocol=https\nhost=example.com\nusername=store-user\npassword=pass1\n", "", "")
		e.check("approve", "protocol=https\nhost=example.com\nusername=store-user\npassword=pass2\n", "", "")
		e.check("fill", "protocol=https\nhost=example.com\nusername=store-user\n",
			"protocol=https\nhost=example.com\nusername=store-user\npassword=pass2\n", "")
		e.check("reject", "protocol=https\nhost=example.com\nusername=store-user\npassword=pass2\n", "", "")
		e.check("fill", "protocol=https\nhost=example.com\nusername=store-user\n",
			"protocol=https\nhost=example.com\nusername=store-user\npassword=askpass-password\n",
			prompts("", "https://store-user@example.com"))
		// can forget host
		e.check("reject", "protocol=https\nhost=example.com\n", "", "")
		e.check("fill", "protocol=https\nhost=example.com\n", ask,
			prompts("https://example.com", "https://askpass-username@example.com"))
		// can store multiple users
		e.check("approve", "protocol=https\nhost=example.com\nusername=user1\npassword=pass1\n", "", "")
		e.check("approve", "protocol=https\nhost=example.com\nusername=user2\npassword=pass2\n", "", "")
		e.check("fill", "protocol=https\nhost=example.com\nusername=user1\n",
			"protocol=https\nhost=example.com\nusername=user1\npassword=pass1\n", "")
		e.check("fill", "protocol=https\nhost=example.com\nusername=user2\n",
			"protocol=https\nhost=example.com\nusername=user2\npassword=pass2\n", "")
		// can forget user
		e.check("reject", "protocol=https\nhost=example.com\nusername=user1\n", "", "")
		e.check("fill", "protocol=https\nhost=example.com\nusername=user1\n",
			"protocol=https\nhost=example.com\nusername=user1\npassword=askpass-password\n",
			prompts("", "https://user1@example.com"))
		// remembers other user
		e.check("fill", "protocol=https\nhost=example.com\nusername=user2\n",
			"protocol=https\nhost=example.com\nusername=user2\npassword=pass2\n", "")
		// can store empty username
		e.check("approve", "protocol=https\nhost=sso.tld\nusername=\npassword=\n", "", "")
		e.check("fill", "protocol=https\nhost=sso.tld\n", "protocol=https\nhost=sso.tld\nusername=\npassword=\n", "")
		// does not erase a password distinct from input
		e.check("approve", "protocol=https\nhost=example.com\nusername=user-distinct-pass\npassword=pass1\n", "", "")
		e.check("reject", "protocol=https\nhost=example.com\nusername=user-distinct-pass\npassword=pass2\n", "", "")
		e.check("fill", "protocol=https\nhost=example.com\nusername=user-distinct-pass\n",
			"protocol=https\nhost=example.com\nusername=user-distinct-pass\npassword=pass1\n", "")
		// erases all matching credentials
		e.check("approve", "protocol=https\nhost=example.com\nusername=user1\npassword=pass1\n", "", "")
		e.check("approve", "protocol=https\nhost=example.com\nusername=user2\npassword=pass1\n", "", "")
		e.check("reject", "protocol=https\nhost=example.com\n", "", "")
		e.check("fill", "protocol=https\nhost=example.com\n", ask,
			prompts("https://example.com", "https://askpass-username@example.com"))
		// not confused by long header (git 2.39 drops wwwauth[]; the helper itself
		// is checked with it below)
		e.check("approve", "protocol=https\nhost=victim.example.com\nusername=user\npassword=to-be-stolen\n", "", "")
		long := strings.Repeat("x", 70000) + "host=victim.example.com"
		e.check("fill", "protocol=https\nhost=badguy.example.com\nwwwauth[]="+long+"\n",
			"protocol=https\nhost=badguy.example.com\nusername=askpass-username\npassword=askpass-password\n",
			prompts("https://badguy.example.com", "https://askpass-username@badguy.example.com"))
		for _, n := range []int{1024, 65535, 65536, 70000} {
			out, errs := e.helperCall("get", "protocol=https\nhost=badguy.example.com\nwwwauth[]="+strings.Repeat("x", n)+"host=victim.example.com\n")
			if out != "" || errs != "" {
				t.Errorf("long header of %d bytes: stdout %q, stderr %q", n, out, errs)
			}
		}
	})
}

// TestGitExpiryAndRefreshToken: helper_test_password_expiry_utc and
// helper_test_oauth_refresh_token, through the helper (git 2.39 drops the keys),
// and git 2.39 never gets an expired credential.
func TestGitExpiryAndRefreshToken(t *testing.T) {
	gitModes(t, func(t *testing.T, e *gitEnv) {
		// stores / gets password_expiry_utc and oauth_refresh_token
		e.helperCall("store", "protocol=https\nhost=example.com\nusername=user-expiry\npassword=pass\npassword_expiry_utc=9999999999\noauth_refresh_token=xyzzy\n")
		out, errs := e.helperCall("get", "protocol=https\nhost=example.com\nusername=user-expiry\n")
		if want := "username=user-expiry\npassword=pass\noauth_refresh_token=xyzzy\npassword_expiry_utc=9999999999\n"; out != want || errs != "" {
			t.Fatalf("get = %q, stderr %q; want %q", out, errs, want)
		}
		// git 2.39 reads the password and drops the two keys it does not know.
		e.check("fill", "protocol=https\nhost=example.com\nusername=user-expiry\n",
			"protocol=https\nhost=example.com\nusername=user-expiry\npassword=pass\n", "")
		// overwrites when password_expiry_utc changes
		e.helperCall("store", "protocol=https\nhost=example.com\nusername=user-expiry-overwrite\npassword=pass1\npassword_expiry_utc=9999999998\n")
		e.helperCall("store", "protocol=https\nhost=example.com\nusername=user-expiry-overwrite\npassword=pass2\npassword_expiry_utc=9999999999\n")
		out, _ = e.helperCall("get", "protocol=https\nhost=example.com\nusername=user-expiry-overwrite\n")
		if want := "username=user-expiry-overwrite\npassword=pass2\npassword_expiry_utc=9999999999\n"; out != want {
			t.Fatalf("get = %q, want %q", out, want)
		}
		e.check("reject", "protocol=https\nhost=example.com\nusername=user-expiry-overwrite\npassword=pass2\n", "", "")
		e.check("fill", "protocol=https\nhost=example.com\nusername=user-expiry-overwrite\n",
			"protocol=https\nhost=example.com\nusername=user-expiry-overwrite\npassword=askpass-password\n",
			prompts("", "https://user-expiry-overwrite@example.com"))
		// An expired credential is never returned: git 2.39 would use it.
		e.helperCall("store", "protocol=https\nhost=expired.tld\nusername=u\npassword=soon-gone\npassword_expiry_utc=9999999999\n")
		e.check("fill", "protocol=https\nhost=expired.tld\n", "protocol=https\nhost=expired.tld\nusername=u\npassword=soon-gone\n", "")
		e.expire("expired.tld")
		e.check("fill", "protocol=https\nhost=expired.tld\n",
			"protocol=https\nhost=expired.tld\nusername=askpass-username\npassword=askpass-password\n",
			prompts("https://expired.tld", "https://askpass-username@expired.tld"))
		// A store whose expiry has passed stores nothing.
		e.helperCall("store", "protocol=https\nhost=plain.tld\nusername=u\npassword=p\npassword_expiry_utc=1000\n")
		if out, _ := e.helperCall("get", "protocol=https\nhost=plain.tld\n"); out != "" {
			t.Fatalf("an expired store was kept: %q", out)
		}
	})
}

// expire makes the credentials stored for host expired, behind mcpcred's back: in
// the file by editing it, in the keyring through secret-tool's layout.
func (e *gitEnv) expire(host string) {
	e.t.Helper()
	if e.mode == "file" {
		path := filepath.Join(e.dir, "mcpcred home", "git-credentials.json")
		b, err := os.ReadFile(path)
		must(e.t, err)
		b = bytes.ReplaceAll(b, []byte(`"host":"`+host+`","username":"u","password":"soon-gone","password_expiry_utc":9999999999`),
			[]byte(`"host":"`+host+`","username":"u","password":"soon-gone","password_expiry_utc":1000`))
		must(e.t, os.WriteFile(path, b, 0o600))
		return
	}
	// Rewrites the org.git.Password item (its compatibility item, a mirror, then
	// expires with it). Cleared and stored anew rather than stored over: KeePassXC
	// 2.7.4 never completes a CreateItem that replaces an item.
	_, errs, err := e.run("", "secret-tool", "clear", "xdg:schema", "org.git.Password", "protocol", "https", "server", host, "user", "u")
	if err != nil {
		e.t.Fatalf("secret-tool clear: %v %s", err, errs)
	}
	_, errs, err = e.run("soon-gone\npassword_expiry_utc=1000", "secret-tool", "store", "--label=x",
		"xdg:schema", "org.git.Password", "protocol", "https", "server", host, "user", "u")
	if err != nil {
		e.t.Fatalf("secret-tool store: %v %s", err, errs)
	}
}

// TestGitHTTPPath: with credential.useHttpPath false (the default) git drops the
// path of https URLs, so one credential serves every repository of the host; with
// it true, each repository has its own.
func TestGitHTTPPath(t *testing.T) {
	gitModes(t, func(t *testing.T, e *gitEnv) {
		e.check("approve", "url=https://alice:host-pw@repo.tld/org/one.git\n", "", "")
		e.check("fill", "url=https://repo.tld/org/two.git\n",
			"protocol=https\nhost=repo.tld\nusername=alice\npassword=host-pw\n", "")
		on := []string{"-c", "credential.useHttpPath=true"}
		e.check("approve", "url=https://bob:one-pw@repo.tld/org/one.git\n", "", "", on...)
		e.check("fill", "url=https://bob@repo.tld/org/one.git\n",
			"protocol=https\nhost=repo.tld\npath=org/one.git\nusername=bob\npassword=one-pw\n", "", on...)
		e.check("fill", "url=https://bob@repo.tld/org/two.git\n",
			"protocol=https\nhost=repo.tld\npath=org/two.git\nusername=bob\npassword=askpass-password\n",
			prompts("", "https://bob@repo.tld/org/two.git"), on...)
		// A request without a path finds the credential stored with one too.
		e.check("fill", "url=https://bob@repo.tld/\n",
			"protocol=https\nhost=repo.tld\nusername=bob\npassword=one-pw\n", "")
	})
}

// TestGitAuthType is helper_test_authtype (git 2.46), through the helper: git
// 2.39 knows no capability[].
func TestGitAuthType(t *testing.T) {
	gitModes(t, func(t *testing.T, e *gitEnv) {
		get := func(req, want string) {
			t.Helper()
			out, errs := e.helperCall("get", req)
			if out != want || errs != "" {
				t.Errorf("get %q = %q, stderr %q; want %q", req, out, errs, want)
			}
		}
		e.helperCall("store", "capability[]=authtype\nauthtype=Bearer\ncredential=random-token\nprotocol=https\nhost=git.example.com\n")
		get("capability[]=authtype\nprotocol=https\nhost=git.example.com\n", "capability[]=authtype\nauthtype=Bearer\ncredential=random-token\n")
		get("protocol=https\nhost=git.example.com\n", "")
		// git 2.39 gets nothing from it and prompts.
		e.check("fill", "protocol=https\nhost=git.example.com\n",
			"protocol=https\nhost=git.example.com\nusername=askpass-username\npassword=askpass-password\n",
			prompts("https://git.example.com", "https://askpass-username@git.example.com"))
		e.helperCall("store", "capability[]=authtype\nauthtype=Bearer\ncredential=other-token\nprotocol=https\nhost=git.example.com\nusername=foobar\n")
		get("capability[]=authtype\nprotocol=https\nhost=git.example.com\nusername=foobar\n",
			"capability[]=authtype\nauthtype=Bearer\ncredential=other-token\nusername=foobar\n")
		get("capability[]=authtype\nprotocol=https\nhost=git.example.com\nusername=barbaz\n", "")
		e.helperCall("store", "capability[]=authtype\nauthtype=Bearer\ncredential=git2-token\nprotocol=https\nhost=git2.example.com\nephemeral=1\n")
		get("capability[]=authtype\nprotocol=https\nhost=git2.example.com\n", "")
		e.helperCall("store", "protocol=https\nhost=git2.example.com\nusername=u\npassword=p\nephemeral=1\n")
		get("protocol=https\nhost=git2.example.com\n", "")
	})
}

// TestGitSecretToolCrossRead: what mcpcred stores in the Secret Service is found
// with libsecret's own attributes (as git-credential-libsecret searches), and what
// secret-tool stores that way is returned by mcpcred; authtype items stay out of
// libsecret's way.
func TestGitSecretToolCrossRead(t *testing.T) {
	requireGit(t)
	if os.Getenv("MCPCRED_TEST_SECRET_SERVICE") != "1" {
		keyringtest.Missing(t, "no private Secret Service (run the tests under scripts/with-secret-service.sh)")
	}
	if _, err := exec.LookPath("secret-tool"); err != nil {
		keyringtest.Missing(t, "secret-tool is not installed")
	}
	e := newGitEnv(t, mcpcredBinary(t), "keyring", "abs")
	host := "cross-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "") + ".example"
	t.Cleanup(func() { _, _ = e.helperCall("erase", "protocol=https\nhost="+host+"\n") })

	e.helperCall("store", "protocol=https\nhost="+host+"\nusername=u\npassword=mcpcred-pw\npassword_expiry_utc=9999999999\n")
	out, errs, err := e.run("", "secret-tool", "search", "--all", "xdg:schema", "org.git.Password", "server", host, "user", "u", "protocol", "https")
	if err != nil {
		t.Fatalf("secret-tool search: %v %s", err, errs)
	}
	for _, want := range []string{"label = Git: https://" + host + "/\n", "secret = mcpcred-pw\npassword_expiry_utc=9999999999\n",
		"attribute.protocol = https\n", "attribute.server = " + host + "\n", "attribute.user = u\n"} {
		if !strings.Contains(out+errs, want) {
			t.Errorf("secret-tool search output lacks %q:\n%s%s", want, out, errs)
		}
	}

	// Written by secret-tool as git-credential-libsecret writes it, secret on stdin.
	_, errs, err = e.run("tool-pw\noauth_refresh_token=tool-rt", "secret-tool", "store", "--label=Git: https://"+host+":8443/",
		"xdg:schema", "org.git.Password", "server", host, "port", "8443", "user", "v", "protocol", "https")
	if err != nil {
		t.Fatalf("secret-tool store: %v %s", err, errs)
	}
	got, _ := e.helperCall("get", "protocol=https\nhost="+host+":8443\n")
	if want := "username=v\npassword=tool-pw\noauth_refresh_token=tool-rt\n"; got != want {
		t.Fatalf("mcpcred get = %q, want %q", got, want)
	}
	e.check("fill", "url=https://"+host+":8443\n", "protocol=https\nhost="+host+":8443\nusername=v\npassword=tool-pw\n", "")
	// The port is part of the host: the item with a port is not the one without.
	got, _ = e.helperCall("get", "protocol=https\nhost="+host+"\nusername=v\n")
	if got != "" {
		t.Fatalf("a request without the port got %q", got)
	}

	// An authtype item: libsecret's search (protocol is always in it) finds nothing.
	e.helperCall("store", "capability[]=authtype\nauthtype=Bearer\ncredential=tok\nprotocol=https\nhost="+host+"\nusername=w\n")
	out, _, _ = e.run("", "secret-tool", "search", "--all", "server", host, "user", "w", "protocol", "https")
	if strings.Contains(out, "tok") {
		t.Fatalf("libsecret's search finds the authtype item:\n%s", out)
	}
	got, _ = e.helperCall("get", "capability[]=authtype\nprotocol=https\nhost="+host+"\nusername=w\n")
	if want := "capability[]=authtype\nauthtype=Bearer\ncredential=tok\nusername=w\n"; got != want {
		t.Fatalf("mcpcred get = %q, want %q", got, want)
	}
}
