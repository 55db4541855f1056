package backends

import "context"

// DockerCredential is one docker registry credential, docker's
// credentials.Credentials as a keyring holds it. An identity token is a
// credential whose Username is "<token>": it is kept like any other.
type DockerCredential struct {
	// ID is the backend's name for the item (a D-Bus object path, a target
	// name). DockerSearch sets it; DockerDelete uses it.
	ID string

	ServerURL string
	Username  string
	Secret    string
}

// DockerKeyring is implemented by the OS keyrings that keep docker credentials
// in the layout of docker's own helper for that keyring
// (docker-credential-secretservice, -wincred, -osxkeychain), so that either
// helper reads what the other stored. Every method honours ctx's deadline;
// errors follow the Keyring rules.
type DockerKeyring interface {
	// DockerSearch returns the credentials stored for serverURL as docker's
	// helper for this keyring finds them, most preferred first; "" returns every
	// docker credential. Items it cannot parse are left out.
	DockerSearch(ctx context.Context, serverURL string) ([]DockerCredential, error)
	// DockerStore stores c, leaving one credential for c.ServerURL: other
	// usernames' items for that server go.
	DockerStore(ctx context.Context, c DockerCredential) error
	// DockerDelete removes one credential DockerSearch returned; one already
	// gone is an error matching ErrNotFound.
	DockerDelete(ctx context.Context, c DockerCredential) error
}
