//go:build linux

package dockertest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/mcpcred/mcpcred/backends/keyringtest"
)

// TestSecretServiceHelper drives the built docker-credential-secretservice with
// docker's own client package, on the private Secret Service, and pins what
// docs/docker.md says of it: the item layout, the answers and the errors that
// mcpcred's docker verbs will have to match or read.
func TestSecretServiceHelper(t *testing.T) {
	RequireSecretService(t)
	if _, err := exec.LookPath("secret-tool"); err != nil {
		keyringtest.Missing(t, "secret-tool is not installed")
	}
	helper := client.NewShellProgramFunc(SecretService(t))
	var b [4]byte
	_, _ = rand.Read(b[:])
	host := "reg-" + hex.EncodeToString(b[:]) + ".example"
	url := "https://" + host + ":5000/v2"
	t.Cleanup(func() {
		_ = client.Erase(helper, url)
		_ = client.Erase(helper, host)
	})

	if err := client.Store(helper, &credentials.Credentials{ServerURL: url, Username: "alice", Secret: "s3cret"}); err != nil {
		t.Fatalf("store: %v", err)
	}
	got, err := client.Get(helper, url)
	if err != nil || *got != (credentials.Credentials{ServerURL: url, Username: "alice", Secret: "s3cret"}) {
		t.Fatalf("get = %+v, %v", got, err)
	}
	// The item, as docs/docker.md describes it.
	want := []string{
		"label = Registry credentials for " + url,
		"secret = s3cret",
		"schema = io.docker.Credentials",
		"attribute.label = Docker Credentials",
		"attribute.server = " + url,
		"attribute.username = alice",
		"attribute.docker_cli = 1",
	}
	if item := SearchItems(t, "server", url); len(item) != 1 || !SameLines(item[0], want) {
		t.Fatalf("items for server %s:\n%q\nwant one with exactly\n%q", url, item, want)
	}

	// Lookups are by the exact server string: no URL normalisation.
	if _, err := client.Get(helper, "https://"+host+":5000"); !credentials.IsErrCredentialsNotFound(err) {
		t.Fatalf("get without the path: %v, want not found", err)
	}

	// An identity token is a credential whose username is "<token>".
	if err := client.Store(helper, &credentials.Credentials{ServerURL: host, Username: "<token>", Secret: "id-token"}); err != nil {
		t.Fatalf("store identity token: %v", err)
	}
	if got, err := client.Get(helper, host); err != nil || got.Username != "<token>" || got.Secret != "id-token" {
		t.Fatalf("get identity token = %+v, %v", got, err)
	}

	// list keys by the item's label, not the server URL (v0.9.13's behaviour).
	list, err := client.List(helper)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if list["Registry credentials for "+url] != "alice" || list["Registry credentials for "+host] != "<token>" {
		t.Fatalf("list = %q", list)
	}

	// Storing another username for a server adds a second item rather than
	// replacing the first (username is one of the attributes stored), and get
	// then answers with one of them.
	if err := client.Store(helper, &credentials.Credentials{ServerURL: host, Username: "bob", Secret: "second"}); err != nil {
		t.Fatalf("store second user: %v", err)
	}
	if items := SearchItems(t, "server", host); len(items) != 2 {
		t.Fatalf("after a second username: %d items for %s, want 2", len(items), host)
	}

	// erase removes every item of the server; erasing again is no error.
	for range 2 {
		if err := client.Erase(helper, host); err != nil {
			t.Fatalf("erase: %v", err)
		}
	}
	if items := SearchItems(t, "server", host); len(items) != 0 {
		t.Fatalf("after erase: %d items for %s", len(items), host)
	}
	if _, err := client.Get(helper, host); !credentials.IsErrCredentialsNotFound(err) {
		t.Fatalf("get after erase: %v, want not found", err)
	}

	// Bad requests: the protocol's messages on stdout, exit 1. docker's client
	// keeps only "not found" as a typed error; the others reach the caller as
	// text ("error storing credentials - err: no credentials username, out: ...").
	if err := client.Store(helper, &credentials.Credentials{ServerURL: url, Secret: "x"}); !hasMessage(err, "no credentials username") {
		t.Fatalf("store with no username: %v", err)
	}
	if err := client.Store(helper, &credentials.Credentials{Username: "u", Secret: "x"}); !hasMessage(err, "no credentials server URL") {
		t.Fatalf("store with no server URL: %v", err)
	}
	if _, err := client.Get(helper, ""); !hasMessage(err, "no credentials server URL") {
		t.Fatalf("get with no server URL: %v", err)
	}
}

// hasMessage says whether err is the client's wrapping of the helper's message.
func hasMessage(err error, msg string) bool {
	return err != nil && strings.HasSuffix(err.Error(), "out: `"+msg+"`")
}

// TestPodmanLogin: a real client logs in to a real registry on loopback, and its
// credentials go through docker-credential-secretservice (credHelpers) into the
// Secret Service; logout erases them. The same run will drive
// docker-credential-mcpcred.
func TestPodmanLogin(t *testing.T) {
	RequireSecretService(t)
	podman, err := exec.LookPath("podman")
	if err != nil {
		keyringtest.Missing(t, "podman is not installed")
	}
	helperDir := filepath.Dir(SecretService(t))
	registry := Registry(t)
	dir := t.TempDir()
	authfile := filepath.Join(dir, "auth.json")
	config := `{"credHelpers":{"` + registry + `":"secretservice"}}`
	if err := os.WriteFile(authfile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command(podman, append(args[:1:1], append([]string{"--authfile", authfile}, args[1:]...)...)...)
		cmd.Env = append(os.Environ(), "PATH="+helperDir+string(os.PathListSeparator)+os.Getenv("PATH"),
			"HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	login := func(password string) (string, error) {
		return run(password+"\n", "login", "--tls-verify=false", "-u", RegistryUser, "--password-stdin", registry)
	}
	if out, err := login(RegistryPassword); err != nil {
		t.Fatalf("podman login: %v\n%s", err, out)
	}
	want := []string{
		"label = Registry credentials for " + registry,
		"secret = " + RegistryPassword,
		"schema = io.docker.Credentials",
		"attribute.label = Docker Credentials",
		"attribute.server = " + registry,
		"attribute.username = " + RegistryUser,
		"attribute.docker_cli = 1",
	}
	if items := SearchItems(t, "server", registry); len(items) != 1 || !SameLines(items[0], want) {
		t.Fatalf("after podman login, items for %s:\n%q\nwant one with exactly\n%q", registry, items, want)
	}
	if b, err := os.ReadFile(authfile); err != nil || string(b) != config {
		t.Fatalf("podman wrote to its auth file, not only to the helper: %q, %v", b, err)
	}
	if out, err := run("", "login", "--get-login", registry); err != nil || strings.TrimSpace(out) != RegistryUser {
		t.Fatalf("podman login --get-login = %q, %v", out, err)
	}
	// The registry checks the password: a wrong one fails and leaves the item.
	if out, err := login("wrong"); err == nil || !strings.Contains(out, "invalid username/password") {
		t.Fatalf("podman login with a wrong password: %v\n%s", err, out)
	}
	if items := SearchItems(t, "server", registry); len(items) != 1 {
		t.Fatalf("after a failed login: %d items", len(items))
	}
	if out, err := run("", "logout", registry); err != nil {
		t.Fatalf("podman logout: %v\n%s", err, out)
	}
	if items := SearchItems(t, "server", registry); len(items) != 0 {
		t.Fatalf("after podman logout: %d items", len(items))
	}
}
