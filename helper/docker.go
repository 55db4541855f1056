package helper

// Docker credentials: the records of docker's credential-helper protocol
// (docs/docker.md), a third record kind on the same stores and rules as MCP
// tokens and git credentials. In the keyring they are in the layout of docker's
// own helper for that keyring (backends.DockerKeyring); in the file they are
// entries of docker-credentials.json (docker_file.go).

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/docker/docker-credential-helpers/registryurl"

	"github.com/mcpcred/mcpcred/backends"
)

// ErrDockerNotFound is a docker get that found no credential: the command prints
// docker's "credentials not found in native keychain" for it.
var ErrDockerNotFound = errors.New("no docker credential for this server")

// dockerKind is how the store rules speak of docker credentials: like git's
// helpers, docker's use only the store they are told to.
func (h *Helper) dockerKind() recordKind {
	return recordKind{noun: "the docker credential", nouns: "docker credentials", erase: "erase",
		list: "failed to list docker credentials in the keyring", listSays: "docker credentials in the keyring not listed",
		file: h.dockerFile().Path(), plain: true}
}

// sameRegistry reports whether a stored server URL names the registry a request
// names: the same string, or the same URL once docker's registryurl.Parse has
// read both (so "registry.example", "//registry.example" and
// "https://registry.example" are one registry, as docker-credential-wincred and
// -osxkeychain find them).
func sameRegistry(stored, asked string) bool {
	if stored == asked {
		return true
	}
	a, err := registryurl.Parse(asked)
	if err != nil {
		return false
	}
	s, err := registryurl.Parse(stored)
	if err != nil {
		return false
	}
	return a.String() == s.String() ||
		a.Scheme == "" && s.Scheme == "https" && a.Host == s.Host && a.Path == s.Path
}

// dockerFind returns the credential of serverURL in s: the exact server string
// first, then the same registry spelled otherwise.
func dockerFind(ctx context.Context, s recordStore, serverURL string) (*backends.DockerCredential, error) {
	exact, err := s.dockerSearch(ctx, serverURL)
	if err != nil {
		return nil, err
	}
	if len(exact) > 0 {
		return &exact[0], nil
	}
	all, err := s.dockerSearch(ctx, "")
	if err != nil {
		return nil, err
	}
	for i := range all {
		if sameRegistry(all[i].ServerURL, serverURL) {
			return &all[i], nil
		}
	}
	return nil, nil
}

// DockerGet answers docker's get: the username and secret kept for serverURL,
// or an error matching ErrDockerNotFound.
func (h *Helper) DockerGet(ctx context.Context, serverURL string) (username, secret string, err error) {
	found, _, err := read(ctx, h.stores(), h.dockerKind(), func(ctx context.Context, s recordStore) (*backends.DockerCredential, bool, error) {
		c, err := dockerFind(ctx, s, serverURL)
		return c, c != nil, err
	}, func(file, keyring *backends.DockerCredential) bool {
		// A docker store leaves one credential per server, so a file copy beside
		// the keyring's was written later, whatever its username.
		return false
	})
	if err != nil {
		return "", "", err
	}
	if found == nil {
		return "", "", ErrDockerNotFound
	}
	return found.Username, found.Secret, nil
}

// DockerStore answers docker's store: c replaces the credential kept for its
// server. It says nothing, except the notice when auto mode falls back to the
// plaintext file.
func (h *Helper) DockerStore(ctx context.Context, c backends.DockerCredential) error {
	for k, v := range map[string]string{"ServerURL": c.ServerURL, "Username": c.Username, "Secret": c.Secret} {
		if !utf8.ValidString(v) {
			return badRequest("%s is not UTF-8 text: mcpcred stores docker credentials as UTF-8 only", k)
		}
	}
	_, err := h.stores().write(ctx, h.dockerKind(),
		func(ctx context.Context, s recordStore) error { return s.dockerPut(ctx, c) },
		func(ctx context.Context, s recordStore) error { return dockerDeleteServer(ctx, s, c.ServerURL) })
	return err
}

// DockerErase answers docker's erase: every credential kept under serverURL
// exactly goes. None is not an error, on any store (docs/docker.md).
func (h *Helper) DockerErase(ctx context.Context, serverURL string) error {
	return h.stores().erase(ctx, h.dockerKind(), func(ctx context.Context, s recordStore) error {
		return dockerDeleteServer(ctx, s, serverURL)
	})
}

func dockerDeleteServer(ctx context.Context, s recordStore, serverURL string) error {
	cs, err := s.dockerSearch(ctx, serverURL)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := s.dockerDelete(ctx, c); err != nil && !errors.Is(err, backends.ErrNotFound) {
			return err
		}
	}
	return nil
}

// DockerList answers docker's list: server URL to username, from the stores the
// mode reads; the keyring's credential wins over a file copy of one server.
func (h *Helper) DockerList(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	err := h.stores().list(ctx, h.dockerKind(), func(ctx context.Context, s recordStore) error {
		cs, err := s.dockerSearch(ctx, "")
		for _, c := range cs {
			if _, ok := out[c.ServerURL]; !ok {
				out[c.ServerURL] = c.Username
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w", err)
	}
	return out, nil
}
