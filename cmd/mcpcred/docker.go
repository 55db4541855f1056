package main

// docker's credential-helper protocol (docs/docker.md): the binary run as
// docker-credential-mcpcred VERB, or `mcpcred docker-credential VERB`. The
// protocol's own code answers (docker's credentials.HandleCommand, the code of
// every docker helper), so the requests it accepts, the JSON it prints and its
// exact error messages are docker's; mcpcred supplies the stores.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/helper"
)

// dockerName is the name docker's clients run: "credsStore": "mcpcred" finds
// docker-credential-mcpcred on PATH.
const dockerName = "docker-credential-mcpcred"

// dockerVerbs are the verbs of docker's protocol.
var dockerVerbs = []string{credentials.ActionStore, credentials.ActionGet, credentials.ActionErase,
	credentials.ActionList, credentials.ActionVersion}

// isDockerName reports whether argv0 is docker-credential-mcpcred (a link or a
// copy), with or without .exe.
func isDockerName(argv0 string) bool {
	base := filepath.Base(argv0)
	return strings.TrimSuffix(strings.ToLower(base), ".exe") == dockerName
}

// runDockerName is the whole program run as docker-credential-mcpcred: the
// arguments are docker's (exactly one verb, or --version/--help), and settings
// come from the environment only.
func runDockerName(c *call, args []string) int {
	inv, err := parseArgs(nil, c.getenv)
	if err != nil {
		return dockerFail(c, err)
	}
	c.inv, c.verb = inv, findVerb("docker-credential")
	if len(args) != 1 {
		fmt.Fprintln(c.stdout, dockerUsage())
		return exitFailed
	}
	switch args[0] {
	case "--version", "-v":
		return dockerServe(c, credentials.ActionVersion)
	case "--help", "-h":
		fmt.Fprintln(c.stdout, dockerUsage())
		return exitOK
	}
	return dockerServe(c, args[0])
}

// runDocker is `mcpcred [flags] docker-credential VERB`.
func runDocker(c *call) int {
	if len(c.args) != 1 {
		fmt.Fprintln(c.stdout, dockerUsage())
		return exitFailed
	}
	return dockerServe(c, c.args[0])
}

func dockerUsage() string {
	return "Usage: " + dockerName + " <" + strings.Join(dockerVerbs, "|") + ">"
}

// dockerFail prints err as docker's helpers print every error: one line on
// stdout, exit 1.
func dockerFail(c *call, err error) int {
	fmt.Fprintln(c.stdout, oneLine(err.Error()))
	return exitFailed
}

func dockerServe(c *call, action string) int {
	credentials.Name, credentials.Package, credentials.Version = dockerName, "github.com/mcpcred/mcpcred", version()
	var h *helper.Helper
	if action != credentials.ActionVersion {
		var err error
		if h, err = c.helper(c.stderr); err != nil {
			return dockerFail(c, err)
		}
		defer h.Close()
	}
	if err := credentials.HandleCommand(dockerStores{context.Background(), h}, action, c.stdin, c.stdout); err != nil {
		return dockerFail(c, err)
	}
	return exitOK
}

// dockerStores is mcpcred's stores as docker's credentials.Helper.
type dockerStores struct {
	ctx context.Context
	h   *helper.Helper
}

func (d dockerStores) Add(c *credentials.Credentials) error {
	return d.h.DockerStore(d.ctx, backends.DockerCredential{ServerURL: c.ServerURL, Username: c.Username, Secret: c.Secret})
}

func (d dockerStores) Get(serverURL string) (string, string, error) {
	user, secret, err := d.h.DockerGet(d.ctx, serverURL)
	if errors.Is(err, helper.ErrDockerNotFound) {
		return "", "", credentials.NewErrCredentialsNotFound()
	}
	return user, secret, err
}

func (d dockerStores) Delete(serverURL string) error { return d.h.DockerErase(d.ctx, serverURL) }

func (d dockerStores) List() (map[string]string, error) { return d.h.DockerList(d.ctx) }
