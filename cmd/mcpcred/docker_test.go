package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"
)

// dockerHelperBinary links the built binary as docker-credential-mcpcred in a
// directory of its own and returns the link's path: how a user installs it.
func dockerHelperBinary(t *testing.T) string {
	t.Helper()
	bin := builtBinary(t)
	link := filepath.Join(t.TempDir(), dockerName)
	if runtime.GOOS == "windows" {
		link += ".exe"
	}
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// dockerClientContract drives a docker credential helper with docker's own client
// package (the code the docker CLI runs helpers with): store, get, list, erase,
// identity tokens, and the errors docker's client acts on.
func dockerClientContract(t *testing.T, helper client.ProgramFunc, server string) {
	t.Helper()
	host := strings.TrimPrefix(server, "https://")
	t.Cleanup(func() {
		_ = client.Erase(helper, server)
		_ = client.Erase(helper, host+"/tok")
	})
	if _, err := client.Get(helper, server); !credentials.IsErrCredentialsNotFound(err) {
		t.Fatalf("get before store: %v, want docker's not-found error", err)
	}
	if err := client.Store(helper, &credentials.Credentials{ServerURL: server, Username: "alice", Secret: "s3cret"}); err != nil {
		t.Fatalf("store: %v", err)
	}
	want := credentials.Credentials{ServerURL: server, Username: "alice", Secret: "s3cret"}
	if got, err := client.Get(helper, server); err != nil || *got != want {
		t.Fatalf("get = %+v, %v; want %+v", got, err, want)
	}
	// The same registry spelled without the scheme, as podman spells it.
	if got, err := client.Get(helper, host); err != nil || got.Username != "alice" || got.Secret != "s3cret" {
		t.Fatalf("get %s = %+v, %v", host, got, err)
	}
	// A second store for the server replaces the first, whatever the username.
	if err := client.Store(helper, &credentials.Credentials{ServerURL: server, Username: "bob", Secret: "other"}); err != nil {
		t.Fatalf("store again: %v", err)
	}
	if got, err := client.Get(helper, server); err != nil || got.Username != "bob" || got.Secret != "other" {
		t.Fatalf("get after a second store = %+v, %v", got, err)
	}
	// An identity token: username "<token>", kept and answered as is.
	tok := host + "/tok"
	if err := client.Store(helper, &credentials.Credentials{ServerURL: tok, Username: "<token>", Secret: "id-token"}); err != nil {
		t.Fatalf("store identity token: %v", err)
	}
	if got, err := client.Get(helper, tok); err != nil || got.Username != "<token>" || got.Secret != "id-token" {
		t.Fatalf("get identity token = %+v, %v", got, err)
	}
	list, err := client.List(helper)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if list[server] != "bob" || list[tok] != "<token>" {
		t.Fatalf("list = %q, want %s: bob and %s: <token>", list, server, tok)
	}
	if err := client.Erase(helper, server); err != nil {
		t.Fatalf("erase: %v", err)
	}
	if _, err := client.Get(helper, server); !credentials.IsErrCredentialsNotFound(err) {
		t.Fatalf("get after erase: %v, want not found", err)
	}
	// Erasing nothing is no error, as docker's Secret Service and Windows helpers.
	if err := client.Erase(helper, server); err != nil {
		t.Fatalf("erase of nothing: %v", err)
	}
	if list, err := client.List(helper); err != nil || list[server] != "" || list[tok] != "<token>" {
		t.Fatalf("list after erase = %q, %v", list, err)
	}
	// The messages docker's client looks for.
	err = client.Store(helper, &credentials.Credentials{ServerURL: server, Secret: "x"})
	if !dockerOut(err, "no credentials username") {
		t.Fatalf("store without a username: %v", err)
	}
	err = client.Store(helper, &credentials.Credentials{Username: "alice", Secret: "x"})
	if !dockerOut(err, "no credentials server URL") {
		t.Fatalf("store without a server URL: %v", err)
	}
	if _, err := client.Get(helper, " "); !dockerOut(err, "no credentials server URL") {
		t.Fatalf("get with no server URL: %v", err)
	}
	if err := client.Erase(helper, ""); !dockerOut(err, "no credentials server URL") {
		t.Fatalf("erase with no server URL: %v", err)
	}
}

// TestDockerClientFile: docker's client against docker-credential-mcpcred on the
// file store, run by its name and as `mcpcred docker-credential`.
func TestDockerClientFile(t *testing.T) {
	home := t.TempDir()
	t.Setenv("MCPCRED_HOME", home)
	t.Setenv("MCPCRED_STORE", "file")
	dockerClientContract(t, client.NewShellProgramFunc(dockerHelperBinary(t)), "https://registry.example:5000")

	// The file holds what remains: the identity token, in its documented format.
	b, err := os.ReadFile(filepath.Join(home, "docker-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"registry.example:5000/tok":{"Username":"<token>","Secret":"id-token"}}`; strings.TrimSpace(string(b)) != want {
		t.Fatalf("docker-credentials.json = %s, want %s", b, want)
	}

	bin := builtBinary(t)
	viaVerb := func(args ...string) client.Program {
		return client.NewShellProgramFunc(bin)(append([]string{"docker-credential"}, args...)...)
	}
	dockerClientContract(t, viaVerb, "https://other.example")
}

// dockerOut says whether err is docker's client reporting the helper's message.
func dockerOut(err error, msg string) bool {
	return err != nil && strings.HasSuffix(err.Error(), "out: `"+msg+"`")
}
