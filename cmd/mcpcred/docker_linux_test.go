package main

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

	"github.com/mcpcred/mcpcred/backends/dockertest"
	"github.com/mcpcred/mcpcred/backends/keyringtest"
)

func randomHost() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "reg-" + hex.EncodeToString(b[:]) + ".example"
}

// TestDockerClientKeyring: docker's client against docker-credential-mcpcred on
// the private gnome-keyring (keyring mode: nothing may reach the file).
func TestDockerClientKeyring(t *testing.T) {
	dockertest.RequireSecretService(t)
	home := t.TempDir()
	t.Setenv("MCPCRED_HOME", home)
	t.Setenv("MCPCRED_STORE", "keyring")
	dockerClientContract(t, client.NewShellProgramFunc(dockerHelperBinary(t)), "https://"+randomHost()+":5000")
	if _, err := os.Stat(filepath.Join(home, "docker-credentials.json")); !os.IsNotExist(err) {
		t.Fatalf("keyring mode wrote the docker credential file: %v", err)
	}
}

// TestDockerCrossRead: docker-credential-secretservice (built from docker's
// module) and docker-credential-mcpcred read, list and erase what the other
// stored, on the real gnome-keyring, both ways; mcpcred's item is the one
// docker's helper writes.
func TestDockerCrossRead(t *testing.T) {
	dockertest.RequireSecretService(t)
	if _, err := exec.LookPath("secret-tool"); err != nil {
		keyringtest.Missing(t, "secret-tool is not installed")
	}
	t.Setenv("MCPCRED_HOME", t.TempDir())
	t.Setenv("MCPCRED_STORE", "auto")
	docker := client.NewShellProgramFunc(dockertest.SecretService(t))
	ours := client.NewShellProgramFunc(dockerHelperBinary(t))
	host := randomHost()
	a, b := "https://"+host, host+"/tok"
	t.Cleanup(func() {
		_ = client.Erase(docker, a)
		_ = client.Erase(docker, b)
	})

	// mcpcred stores; docker's helper reads.
	if err := client.Store(ours, &credentials.Credentials{ServerURL: a, Username: "alice", Secret: "s3cret"}); err != nil {
		t.Fatalf("mcpcred store: %v", err)
	}
	want := []string{
		"label = Registry credentials for " + a,
		"secret = s3cret",
		"schema = io.docker.Credentials",
		"attribute.label = Docker Credentials",
		"attribute.server = " + a,
		"attribute.username = alice",
		"attribute.docker_cli = 1",
	}
	if items := dockertest.SearchItems(t, "server", a); len(items) != 1 || !dockertest.SameLines(items[0], want) {
		t.Fatalf("mcpcred's item for %s:\n%q\nwant one with exactly\n%q", a, items, want)
	}
	if got, err := client.Get(docker, a); err != nil || got.Username != "alice" || got.Secret != "s3cret" {
		t.Fatalf("docker's helper reads mcpcred's credential: %+v, %v", got, err)
	}

	// docker's helper stores an identity token; mcpcred reads and lists it.
	if err := client.Store(docker, &credentials.Credentials{ServerURL: b, Username: "<token>", Secret: "id-token"}); err != nil {
		t.Fatalf("docker store: %v", err)
	}
	if got, err := client.Get(ours, b); err != nil || got.Username != "<token>" || got.Secret != "id-token" {
		t.Fatalf("mcpcred reads docker's identity token: %+v, %v", got, err)
	}
	list, err := client.List(ours)
	if err != nil || list[a] != "alice" || list[b] != "<token>" {
		t.Fatalf("mcpcred list = %q, %v", list, err)
	}

	// docker's helper stored a second username for a; mcpcred's store leaves one.
	if err := client.Store(docker, &credentials.Credentials{ServerURL: a, Username: "carol", Secret: "c"}); err != nil {
		t.Fatalf("docker store, second user: %v", err)
	}
	if n := len(dockertest.SearchItems(t, "server", a)); n != 2 {
		t.Fatalf("docker's helper left %d items for two usernames, want 2", n)
	}
	if err := client.Store(ours, &credentials.Credentials{ServerURL: a, Username: "dave", Secret: "d"}); err != nil {
		t.Fatalf("mcpcred store: %v", err)
	}
	if items := dockertest.SearchItems(t, "server", a); len(items) != 1 {
		t.Fatalf("after mcpcred's store, %d items for %s, want 1", len(items), a)
	}
	if got, err := client.Get(docker, a); err != nil || got.Username != "dave" || got.Secret != "d" {
		t.Fatalf("docker's helper after mcpcred's store: %+v, %v", got, err)
	}

	// Each erases what the other stored.
	if err := client.Erase(ours, b); err != nil {
		t.Fatalf("mcpcred erase: %v", err)
	}
	if _, err := client.Get(docker, b); !credentials.IsErrCredentialsNotFound(err) {
		t.Fatalf("docker get after mcpcred's erase: %v", err)
	}
	if err := client.Erase(docker, a); err != nil {
		t.Fatalf("docker erase: %v", err)
	}
	if _, err := client.Get(ours, a); !credentials.IsErrCredentialsNotFound(err) {
		t.Fatalf("mcpcred get after docker's erase: %v", err)
	}
}

// TestPodmanLoginMcpcred: podman logs in to a real registry on loopback with
// credHelpers naming mcpcred (docker-credential-mcpcred found on PATH); the
// credential lands in the keyring in docker's layout, podman reads it back, and
// logout erases it.
func TestPodmanLoginMcpcred(t *testing.T) {
	dockertest.RequireSecretService(t)
	podman, err := exec.LookPath("podman")
	if err != nil {
		keyringtest.Missing(t, "podman is not installed")
	}
	helperDir := filepath.Dir(dockerHelperBinary(t))
	registry := dockertest.Registry(t)
	dir := t.TempDir()
	authfile := filepath.Join(dir, "auth.json")
	config := `{"credHelpers":{"` + registry + `":"mcpcred"}}`
	if err := os.WriteFile(authfile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command(podman, append(args[:1:1], append([]string{"--authfile", authfile}, args[1:]...)...)...)
		cmd.Env = append(os.Environ(), "PATH="+helperDir+string(os.PathListSeparator)+os.Getenv("PATH"),
			"HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
			"MCPCRED_HOME="+filepath.Join(dir, "mcpcred"), "MCPCRED_STORE=keyring")
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	login := func(password string) (string, error) {
		return run(password+"\n", "login", "--tls-verify=false", "-u", dockertest.RegistryUser, "--password-stdin", registry)
	}
	if out, err := login(dockertest.RegistryPassword); err != nil {
		t.Fatalf("podman login: %v\n%s", err, out)
	}
	if items := dockertest.SearchItems(t, "server", registry); len(items) != 1 ||
		!dockertest.SameLines(items[0], []string{
			"label = Registry credentials for " + registry,
			"secret = " + dockertest.RegistryPassword,
			"schema = io.docker.Credentials",
			"attribute.label = Docker Credentials",
			"attribute.server = " + registry,
			"attribute.username = " + dockertest.RegistryUser,
			"attribute.docker_cli = 1",
		}) {
		t.Fatalf("after podman login through mcpcred, items for %s: %q", registry, items)
	}
	if b, err := os.ReadFile(authfile); err != nil || string(b) != config {
		t.Fatalf("podman wrote to its auth file, not only to the helper: %q, %v", b, err)
	}
	if out, err := run("", "login", "--get-login", registry); err != nil || strings.TrimSpace(out) != dockertest.RegistryUser {
		t.Fatalf("podman login --get-login = %q, %v", out, err)
	}
	if out, err := login("wrong"); err == nil || !strings.Contains(out, "invalid username/password") {
		t.Fatalf("podman login with a wrong password: %v\n%s", err, out)
	}
	if out, err := run("", "logout", registry); err != nil {
		t.Fatalf("podman logout: %v\n%s", err, out)
	}
	if items := dockertest.SearchItems(t, "server", registry); len(items) != 0 {
		t.Fatalf("after podman logout: %d items", len(items))
	}
}
