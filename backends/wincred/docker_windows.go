//go:build windows

package wincred

// Docker credentials in the layout of docker-credential-wincred
// (docker-credential-helpers v0.9.13; docs/docker.md), so that either helper
// reads what the other stored: a generic credential with TargetName the server
// URL exactly as given, UserName the username, the blob the secret's UTF-8
// bytes (at most 2,560, as that helper), Persist CRED_PERSIST_LOCAL_MACHINE and
// one attribute, keyword "label", value "Docker Credentials".
//
// docker's helper knows its credentials by that attribute. Wine writes
// attributes but reads none back, so mcpcred also marks its own with the comment
// dockerComment, and takes either mark.

import (
	"bytes"
	"context"
	"errors"

	wc "github.com/danieljoos/wincred"

	"github.com/mcpcred/mcpcred/backends"
)

const (
	dockerLabelAttr = "label"
	dockerLabel     = "Docker Credentials"
	dockerComment   = "saved by mcpcred (docker-credential-wincred layout)"
)

var _ backends.DockerKeyring = (*Keyring)(nil)

// isDocker says whether a credential is one of docker's layout.
func isDocker(g *wc.Credential) bool {
	if g.Comment == dockerComment {
		return true
	}
	for _, a := range g.Attributes {
		if a.Keyword == dockerLabelAttr && bytes.Equal(a.Value, []byte(dockerLabel)) {
			return true
		}
	}
	return false
}

func dockerCred(g *wc.Credential) backends.DockerCredential {
	return backends.DockerCredential{ID: g.TargetName, ServerURL: g.TargetName,
		Username: g.UserName, Secret: string(g.CredentialBlob)}
}

// DockerSearch implements backends.DockerKeyring: the credential whose target is
// serverURL, or with "" every docker credential.
func (k *Keyring) DockerSearch(ctx context.Context, serverURL string) ([]backends.DockerCredential, error) {
	ctx, cancel, err := k.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	if serverURL != "" {
		g, err := wc.GetGenericCredential(serverURL)
		if err = mapErr(err); errors.Is(err, errNoCred) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if !isDocker(&g.Credential) {
			return nil, nil
		}
		return []backends.DockerCredential{dockerCred(&g.Credential)}, nil
	}
	if err := alive(ctx); err != nil {
		return nil, err
	}
	list, err := wc.List()
	if err != nil {
		return nil, mapErr(err)
	}
	var out []backends.DockerCredential
	for _, g := range list {
		if g != nil && isDocker(g) {
			out = append(out, dockerCred(g))
		}
	}
	return out, nil
}

// DockerStore implements backends.DockerKeyring: the target is the server URL,
// so a write replaces that server's credential whatever its username.
func (k *Keyring) DockerStore(ctx context.Context, c backends.DockerCredential) error {
	_, cancel, err := k.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	if len(c.Secret) > maxBlob {
		return &backends.TooLongError{What: "docker secret", Len: len(c.Secret), Limit: maxBlob}
	}
	if n := utf16Len(c.ServerURL); n > maxGitTarget {
		return &backends.TooLongError{What: "target name", Len: n, Limit: maxGitTarget}
	}
	g := wc.NewGenericCredential(c.ServerURL)
	g.UserName = c.Username
	g.Comment = dockerComment
	g.CredentialBlob = []byte(c.Secret)
	g.Persist = wc.PersistLocalMachine
	g.Attributes = []wc.CredentialAttribute{{Keyword: dockerLabelAttr, Value: []byte(dockerLabel)}}
	return mapErr(g.Write())
}

// DockerDelete implements backends.DockerKeyring.
func (k *Keyring) DockerDelete(ctx context.Context, c backends.DockerCredential) error {
	return k.deleteTarget(ctx, c.ID)
}
