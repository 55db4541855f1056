package dockertest

import (
	_ "embed"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends/keyringtest"
)

// The registry's one account. The password is a test fixture, not a secret:
// htpasswd holds its bcrypt hash (cost 4), as the registry's htpasswd auth wants.
const (
	RegistryUser     = "alice"
	RegistryPassword = "s3cret"
)

//go:embed htpasswd
var htpasswd []byte

// Registry starts a real container registry (Debian's docker-registry, the
// distribution project's registry 2.x) on a free loopback port, over plain HTTP,
// with htpasswd auth for RegistryUser, and returns its host:port. It stops when
// t ends. A client logs in to it as to any registry (podman login
// --tls-verify=false host:port): the credentials are checked by the registry, and
// saved by whatever credential helper the client is configured with. A missing
// docker-registry is keyringtest.Missing.
func Registry(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		keyringtest.Missing(t, "docker-registry is not installed (apt-get install docker-registry)")
	}
	dir := t.TempDir()
	addr := freeLoopbackAddr(t)
	if err := os.WriteFile(filepath.Join(dir, "htpasswd"), htpasswd, 0o600); err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
auth:
  htpasswd:
    realm: mcpcred-test
    path: %s
`, filepath.Join(dir, "data"), addr, filepath.Join(dir, "htpasswd"))
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting docker-registry: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	// Ready when /v2/ asks for credentials.
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return addr
			}
		}
		select {
		case <-exited:
			t.Fatalf("docker-registry exited at start:\n%s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited // the log is complete, and no longer written
			t.Fatalf("docker-registry not ready on %s after 20s (last: %v):\n%s", addr, err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeLoopbackAddr returns a 127.0.0.1 port nothing listens on just now.
func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
