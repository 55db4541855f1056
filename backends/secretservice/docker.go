//go:build linux || freebsd || openbsd || netbsd || (dragonfly && cgo)

package secretservice

// Docker credentials in the layout of docker-credential-secretservice
// (docker-credential-helpers v0.9.13, libsecret; docs/docker.md), so that either
// helper reads what the other stored: one item per (server, username) with
// attributes xdg:schema=io.docker.Credentials, label="Docker Credentials",
// server, username and docker_cli=1; label "Registry credentials for SERVER";
// the secret's bytes, text/plain.
//
// docker's helper finds a server's items by server and docker_cli (with the
// schema) and answers from the last one its search lists; it erases them all. It
// lists every item whose label attribute is "Docker Credentials". Storing a
// second username for a server adds a second item there: DockerStore removes
// the others, so after mcpcred stores, both helpers answer the same.

import (
	"context"
	"errors"
	"slices"

	"github.com/mcpcred/mcpcred/backends"
)

const (
	dockerSchema = "io.docker.Credentials"
	dockerLabel  = "Docker Credentials"
)

var _ backends.DockerKeyring = (*Keyring)(nil)

func dockerItemAttrs(c *backends.DockerCredential) map[string]string {
	return map[string]string{attrSchema: dockerSchema, "label": dockerLabel,
		"server": c.ServerURL, "username": c.Username, "docker_cli": "1"}
}

// DockerSearch implements backends.DockerKeyring: the items of serverURL as
// docker's get finds them, the one it answers with (the last listed) first; with
// "" every item its list shows.
func (k *Keyring) DockerSearch(ctx context.Context, serverURL string) ([]backends.DockerCredential, error) {
	attrs := map[string]string{"label": dockerLabel}
	if serverURL != "" {
		attrs = map[string]string{attrSchema: dockerSchema, "server": serverURL, "docker_cli": "1"}
	}
	paths, err := k.SearchItems(ctx, attrs)
	if err != nil {
		return nil, err
	}
	var out []backends.DockerCredential
	for _, p := range slices.Backward(paths) {
		it, err := k.ReadItem(ctx, p)
		if errors.Is(err, backends.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		server, ok := it.Attributes["server"]
		if !ok {
			continue
		}
		out = append(out, backends.DockerCredential{ID: string(p), ServerURL: server,
			Username: it.Attributes["username"], Secret: string(it.Secret)})
	}
	return out, nil
}

// DockerStore implements backends.DockerKeyring. It writes c's item first, so a
// failure leaves the old credential rather than none.
func (k *Keyring) DockerStore(ctx context.Context, c backends.DockerCredential) error {
	path, err := k.StoreItem(ctx, "Registry credentials for "+c.ServerURL, dockerItemAttrs(&c), []byte(c.Secret))
	if err != nil {
		return err
	}
	others, err := k.DockerSearch(ctx, c.ServerURL)
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.ID == string(path) {
			continue
		}
		if err := k.DeleteItem(ctx, ItemPath(o.ID)); err != nil && !errors.Is(err, backends.ErrNotFound) {
			return err
		}
	}
	return nil
}

// DockerDelete implements backends.DockerKeyring.
func (k *Keyring) DockerDelete(ctx context.Context, c backends.DockerCredential) error {
	return k.DeleteItem(ctx, ItemPath(c.ID))
}
