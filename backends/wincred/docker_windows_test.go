//go:build windows

package wincred

import (
	"context"
	"os"
	"testing"
	"time"

	wc "github.com/danieljoos/wincred"

	"github.com/mcpcred/mcpcred/backends"
)

// TestDockerLayout: credentials as docker-credential-wincred writes and reads
// them (docs/docker.md), both ways.
func TestDockerLayout(t *testing.T) {
	k := New(backends.Options{Timeout: 10 * time.Second})
	ctx := context.Background()
	server := "https://" + gitHost(t) + ":5000"
	t.Cleanup(func() { _ = wc.NewGenericCredential(server).Delete() })

	if err := k.DockerStore(ctx, backends.DockerCredential{ServerURL: server, Username: "<token>", Secret: "id-token"}); err != nil {
		t.Fatal(err)
	}
	g, err := wc.GetGenericCredential(server)
	if err != nil {
		t.Fatalf("no credential %s: %v", server, err)
	}
	if g.UserName != "<token>" || string(g.CredentialBlob) != "id-token" || g.Persist != wc.PersistLocalMachine {
		t.Errorf("credential = user %q blob %q persist %d", g.UserName, g.CredentialBlob, g.Persist)
	}
	switch {
	case len(g.Attributes) == 0 && os.Getenv("MCPCRED_WINE") == "1":
		t.Log("under Wine: the label attribute is not kept (the comment marks mcpcred's item)")
	case len(g.Attributes) != 1 || g.Attributes[0].Keyword != "label" || string(g.Attributes[0].Value) != "Docker Credentials":
		t.Errorf("attributes = %+v", g.Attributes)
	}
	want := backends.DockerCredential{ID: server, ServerURL: server, Username: "<token>", Secret: "id-token"}
	if cs, err := k.DockerSearch(ctx, server); err != nil || len(cs) != 1 || cs[0] != want {
		t.Fatalf("DockerSearch = %+v, %v; want %+v", cs, err, want)
	}

	// A second store replaces the server's credential whatever its username.
	if err := k.DockerStore(ctx, backends.DockerCredential{ServerURL: server, Username: "alice", Secret: "pw"}); err != nil {
		t.Fatal(err)
	}
	all, err := k.DockerSearch(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range all {
		if c.ServerURL == server {
			n++
			if c.Username != "alice" || c.Secret != "pw" {
				t.Errorf("listed %+v", c)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d credentials for %s listed, want 1", n, server)
	}
	if err := k.DockerDelete(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := k.DockerDelete(ctx, want); err != backends.ErrNotFound {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}

	// Written as docker-credential-wincred writes it: found on Windows by its
	// label attribute; Wine drops attributes, so there it is not docker's.
	w := wc.NewGenericCredential(server)
	w.UserName = "bob"
	w.CredentialBlob = []byte("bob-pw")
	w.Persist = wc.PersistLocalMachine
	w.Attributes = []wc.CredentialAttribute{{Keyword: "label", Value: []byte("Docker Credentials")}}
	if err := w.Write(); err != nil {
		t.Fatal(err)
	}
	cs, err := k.DockerSearch(ctx, server)
	if os.Getenv("MCPCRED_WINE") == "1" {
		if err != nil || len(cs) != 0 {
			t.Fatalf("under Wine, docker's item without its attribute: %+v, %v", cs, err)
		}
		return
	}
	if err != nil || len(cs) != 1 || cs[0].Username != "bob" || cs[0].Secret != "bob-pw" {
		t.Fatalf("docker's item read as %+v, %v", cs, err)
	}
}
