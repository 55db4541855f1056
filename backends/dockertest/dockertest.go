// Package dockertest holds the real parts of docker's credential-helper world
// for tests: docker's own helpers, built from their module
// (github.com/docker/docker-credential-helpers, at the version go.mod requires),
// and a container registry on loopback to log in to (Registry), so that clients
// such as podman can be driven against a helper and the store read by both.
//
// Only docker-credential-secretservice is built so far: it is the helper this
// machine can run (Linux, cgo and libsecret, against the private Secret Service
// of scripts/with-secret-service.sh). Its item layout is described in
// docs/docker.md, and pinned by this package's tests.
package dockertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpcred/mcpcred/backends/keyringtest"
)

// Module is the module the helpers are built from.
const Module = "github.com/docker/docker-credential-helpers"

// SecretService builds docker-credential-secretservice into a temporary directory
// of t and returns its path. It is linked as docker's releases are (the Name and
// Version their messages print), so what it writes and answers is what users'
// copies do. A missing C compiler or libsecret-1-dev is keyringtest.Missing: a
// skip on a developer's machine, a failure under CI.
//
// The go build of it is cached by Go, so calling this in each test costs a link.
func SecretService(t testing.TB) string {
	t.Helper()
	for _, tool := range []string{"gcc", "pkg-config"} {
		if _, err := exec.LookPath(tool); err != nil {
			keyringtest.Missing(t, tool+" is not installed (docker-credential-secretservice needs cgo)")
		}
	}
	if out, err := exec.Command("pkg-config", "--exists", "--print-errors", "libsecret-1").CombinedOutput(); err != nil {
		keyringtest.Missing(t, "libsecret-1-dev is not installed: "+strings.TrimSpace(string(out)))
	}
	version := goCmd(t, "list", "-m", "-f", "{{.Version}}", Module)
	const name = "docker-credential-secretservice"
	bin := filepath.Join(t.TempDir(), name)
	ldflags := "-X " + Module + "/credentials.Name=" + name + " -X " + Module + "/credentials.Version=" + version
	cmd := exec.Command("go", "build", "-o", bin, "-ldflags", ldflags, Module+"/secretservice/cmd")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s %s: %v\n%s", name, version, err, out)
	}
	return bin
}

func goCmd(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	return strings.TrimSpace(string(out))
}

// RequireSecretService is keyringtest.Missing unless the test runs under
// scripts/with-secret-service.sh.
func RequireSecretService(t testing.TB) {
	t.Helper()
	if os.Getenv("MCPCRED_TEST_SECRET_SERVICE") != "1" {
		keyringtest.Missing(t, "no private Secret Service (run the tests under scripts/with-secret-service.sh)")
	}
}

// SearchItems returns secret-tool's description of every item with the
// attribute, one slice of lines per item, without its times and without the
// attributes KeePassXC adds.
func SearchItems(t testing.TB, attr, value string) [][]string {
	t.Helper()
	out, err := exec.Command("secret-tool", "search", "--all", attr, value).CombinedOutput()
	if err != nil && len(out) > 0 {
		t.Fatalf("secret-tool search: %v\n%s", err, out)
	}
	var items [][]string
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "["):
			items = append(items, nil)
		case line == "" || len(items) == 0:
		case strings.HasPrefix(line, "created = "), strings.HasPrefix(line, "modified = "):
		case keepassxcAttr(line):
		default:
			items[len(items)-1] = append(items[len(items)-1], line)
		}
	}
	return items
}

// keepassxcAttr says whether line is one of the attributes KeePassXC adds to
// every item it keeps (its entry's fields), which no helper wrote.
func keepassxcAttr(line string) bool {
	for _, a := range []string{"URL", "Title", "UserName", "Notes", "Uuid", "Path"} {
		if strings.HasPrefix(line, "attribute."+a+" = ") {
			return true
		}
	}
	return false
}

// SameLines says whether got holds exactly the lines of want, in any order.
func SameLines(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	seen := map[string]bool{}
	for _, l := range got {
		seen[l] = true
	}
	for _, l := range want {
		if !seen[l] {
			return false
		}
	}
	return true
}
