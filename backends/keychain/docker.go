//go:build darwin && cgo

package keychain

// Docker credentials in the layout of docker-credential-osxkeychain
// (docker-credential-helpers v0.9.13; docs/docker.md), so that either helper
// reads what the other stored: an internet password with kSecAttrLabel "Docker
// Credentials", kSecAttrProtocol "htps" (https or no scheme) or "http",
// kSecAttrServer the host, kSecAttrPort the port when there is one,
// kSecAttrPath the URL path, kSecAttrAccount the username,
// kSecAttrAuthenticationType "dflt", the data the secret. The server URL is read
// with docker's registryurl.Parse, so "host", "//host" and "https://host" are
// one item.
//
// docker's helper queries by protocol, server, port and path alone, so it also
// reads a git-credential-osxkeychain item of that host; mcpcred requires the
// label, and never takes a git credential for a docker one. Type-checked only
// here: this layout has not run on a Mac (README, platform table).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/docker/docker-credential-helpers/registryurl"
	kc "github.com/keybase/go-keychain"

	"github.com/mcpcred/mcpcred/backends"
)

const dockerLabel = "Docker Credentials"

var _ backends.DockerKeyring = (*Keyring)(nil)

// dockerQuery selects the docker items of serverURL ("" every one).
func dockerQuery(serverURL string) (kc.Item, error) {
	q := kc.NewItem()
	q.SetSecClass(kc.SecClassInternetPassword)
	q.SetAuthenticationType(authTypeDefault)
	q.SetLabel(dockerLabel)
	if serverURL != "" {
		u, err := registryurl.Parse(serverURL)
		if err != nil {
			return q, fmt.Errorf("keychain: docker server URL: %w", err)
		}
		q.SetProtocol("htps")
		if u.Scheme == "http" {
			q.SetProtocol("http")
		}
		if err := setExact(&q, kc.ServerKey, u.Hostname()); err != nil {
			return q, err
		}
		port := 0
		if p := u.Port(); p != "" {
			if port, err = strconv.Atoi(p); err != nil || port > 65535 {
				return q, errors.New("keychain: docker server URL: bad port")
			}
		}
		if err := setExactPort(&q, int32(port)); err != nil {
			return q, err
		}
		if err := setExact(&q, kc.PathKey, u.Path); err != nil {
			return q, err
		}
	}
	return q, nil
}

// dockerURL is the server URL docker's list rebuilds from an item.
func dockerURL(r *kc.QueryResult) string {
	scheme := "http"
	if r.Protocol == "htps" {
		scheme = "https"
	}
	host := r.Server
	if r.Port != 0 {
		host = net.JoinHostPort(host, strconv.Itoa(int(r.Port)))
	}
	return (&url.URL{Scheme: scheme, Host: host, Path: r.Path}).String()
}

// DockerSearch implements backends.DockerKeyring. Found by server, a credential
// has the server URL as asked; listed, as docker's list rebuilds it. The ID is
// the rebuilt URL, which names the item for DockerDelete.
func (k *Keyring) DockerSearch(ctx context.Context, serverURL string) ([]backends.DockerCredential, error) {
	res, err := run(k, ctx, "read docker credentials", safely("read docker credentials", func() ([]kc.QueryResult, error) {
		q, err := dockerQuery(serverURL)
		if err != nil {
			return nil, err
		}
		q.SetMatchLimit(matchAll)
		q.SetReturnAttributes(true)
		q.SetReturnData(serverURL != "")
		res, err := kc.QueryItem(q)
		if errors.Is(err, kc.ErrorItemNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, mapErr("read docker credentials", err)
		}
		return res, nil
	}))
	if err != nil {
		return nil, err
	}
	out := make([]backends.DockerCredential, 0, len(res))
	for i := range res {
		r := &res[i]
		c := backends.DockerCredential{ID: dockerURL(r), ServerURL: dockerURL(r), Username: r.Account, Secret: string(r.Data)}
		if serverURL != "" {
			c.ServerURL = serverURL
		}
		out = append(out, c)
	}
	return out, nil
}

// DockerStore implements backends.DockerKeyring: as docker's helper, the
// server's docker items go, then c is added.
func (k *Keyring) DockerStore(ctx context.Context, c backends.DockerCredential) error {
	if err := k.dockerDeleteURL(ctx, c.ServerURL); err != nil && !errors.Is(err, backends.ErrNotFound) {
		return err
	}
	_, err := run(k, ctx, "write docker credential", func() (struct{}, error) {
		item, err := dockerQuery(c.ServerURL)
		if err != nil {
			return struct{}{}, err
		}
		item.SetAccount(c.Username)
		item.SetData([]byte(c.Secret))
		item.SetSynchronizable(syncNo)
		if err := kc.AddItem(item); err != nil {
			return struct{}{}, mapErr("write docker credential", err)
		}
		return struct{}{}, nil
	})
	return err
}

// DockerDelete implements backends.DockerKeyring.
func (k *Keyring) DockerDelete(ctx context.Context, c backends.DockerCredential) error {
	return k.dockerDeleteURL(ctx, c.ID)
}

func (k *Keyring) dockerDeleteURL(ctx context.Context, serverURL string) error {
	_, err := run(k, ctx, "delete docker credential", func() (struct{}, error) {
		q, err := dockerQuery(serverURL)
		if err != nil {
			return struct{}{}, err
		}
		if err := kc.DeleteItem(q); err != nil {
			return struct{}{}, mapErr("delete docker credential", err)
		}
		return struct{}{}, nil
	})
	return err
}
