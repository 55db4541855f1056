//go:build darwin && cgo

package keychain

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/docker/docker-credential-helpers/credentials"
	"github.com/docker/docker-credential-helpers/osxkeychain"

	"github.com/mcpcred/mcpcred/backends"
)

// TestDockerLayout: docker credentials as docker-credential-osxkeychain keeps
// them, both ways, with docker's own osxkeychain package as the other helper.
// It runs on a Mac (the CI workflow's macOS job); here it is type-checked.
func TestDockerLayout(t *testing.T) {
	k := newGitKeyring()
	ctx := context.Background()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	host := "reg-" + hex.EncodeToString(b) + ".example:5000"
	docker := osxkeychain.Osxkeychain{}
	t.Cleanup(func() { _ = docker.Delete("https://" + host) })

	if err := k.DockerStore(ctx, backends.DockerCredential{ServerURL: host, Username: "<token>", Secret: "id-token"}); err != nil {
		t.Fatal(err)
	}
	if user, secret, err := docker.Get("https://" + host); err != nil || user != "<token>" || secret != "id-token" {
		t.Fatalf("docker's helper reads mcpcred's item: %q %q %v", user, secret, err)
	}
	if list, err := docker.List(); err != nil || list["https://"+host] != "<token>" {
		t.Fatalf("docker's list = %q, %v", list, err)
	}
	if err := docker.Add(&credentials.Credentials{ServerURL: "https://" + host, Username: "alice", Secret: "pw"}); err != nil {
		t.Fatal(err)
	}
	cs, err := k.DockerSearch(ctx, host)
	if err != nil || len(cs) != 1 || cs[0].Username != "alice" || cs[0].Secret != "pw" || cs[0].ServerURL != host {
		t.Fatalf("mcpcred reads docker's item: %+v, %v", cs, err)
	}
	if err := k.DockerDelete(ctx, cs[0]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := docker.Get("https://" + host); !credentials.IsErrCredentialsNotFound(err) {
		t.Fatalf("after mcpcred's delete, docker's get: %v", err)
	}
}
