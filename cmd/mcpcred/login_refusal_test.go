package main

import (
	"bytes"
	"strings"
	"testing"

	mcpfixture "github.com/mcpcred/mcpcred/testdata/mcp-fixture"
)

// runLogin runs mcpcred in-process with a fresh file store.
func runLogin(t *testing.T, stdin string, args ...string) (int, string) {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{"MCPCRED_STORE": "file", "MCPCRED_HOME": dir}
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb, func(k string) string { return env[k] })
	if out.Len() != 0 {
		t.Errorf("%v printed on stdout: %q", args, out.String())
	}
	return code, errb.String()
}

func TestLoginUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"login"}, "mcpcred: login needs the MCP server's URL: mcpcred login URL\n"},
		{[]string{"logout", "https://a.test/mcp", "b"}, "mcpcred: logout takes one URL, the MCP server's: mcpcred logout URL\n"},
		{[]string{"login", "http://a.test/mcp"}, `mcpcred: the MCP server URL "http://a.test/mcp" uses plain http on a host that is not loopback: MCP authorization needs https` + "\n"},
		{[]string{"login", "https://a.test/mcp", "--client-secret-file", "-"}, "mcpcred: --client-secret-file needs --client-id: a secret belongs to a pre-registered client\n"},
		{[]string{"login", "https://a.test/mcp", "--client-id", "x", "--client-secret-file", "-"}, "mcpcred: the client secret file - is empty\n"},
		{[]string{"login", "https://a.test/mcp", "--login-timeout", "soon"}, `mcpcred: --login-timeout "soon" is not a duration: use 2s, 500ms or a number of seconds` + "\n"},
	} {
		code, stderr := runLogin(t, "", c.args...)
		if code != exitBadCall || stderr != c.want {
			t.Errorf("%q: exit %d, stderr %q; want 2, %q", c.args, code, stderr, c.want)
		}
	}
}

func TestLoginRefusesBadMetadata(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(map[string]any)
		want string
	}{
		{"no PKCE", func(md map[string]any) { delete(md, "code_challenge_methods_supported") },
			"does not support PKCE with S256 (its metadata lists no code_challenge_methods_supported): MCP requires it, so mcpcred will not log in there"},
		{"issuer mismatch", func(md map[string]any) { md["issuer"] = "https://other.test" },
			`says its issuer is "https://other.test", not "`},
	} {
		t.Run(c.name, func(t *testing.T) {
			as := mcpfixture.StartFakeAS(t, c.edit)
			fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: as.Issuer})
			code, stderr := runLogin(t, "", "login", fx.URL, "--no-browser")
			if code != exitFailed || !strings.Contains(stderr, "mcpcred: login failed: ") || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
		})
	}
}

func TestLogoutNothingStored(t *testing.T) {
	code, stderr := runLogin(t, "", "logout", "https://mcp.example.test/mcp")
	if code != exitOK || stderr != "mcpcred: no token is stored for https://mcp.example.test/mcp: nothing to do\n" {
		t.Fatalf("exit %d, %q", code, stderr)
	}
}

func TestLogoutSeveralRecords(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"MCPCRED_STORE": "file", "MCPCRED_HOME": dir}
	getenv := func(k string) string { return env[k] }
	for _, name := range []string{"a", "b"} {
		req := "server_name=" + name + "\nurl=https://mcp.example.test/mcp\nclient_id=c\naccess_token=t\n"
		if code := run([]string{"store"}, strings.NewReader(req), &bytes.Buffer{}, &bytes.Buffer{}, getenv); code != 0 {
			t.Fatalf("store: %d", code)
		}
	}
	var errb bytes.Buffer
	code := run([]string{"logout", "https://mcp.example.test/mcp"}, strings.NewReader(""), &bytes.Buffer{}, &errb, getenv)
	if code != exitBadCall || errb.String() != "mcpcred: several records are stored for https://mcp.example.test/mcp (servers a, b): pass --server NAME\n" {
		t.Fatalf("exit %d, %q", code, errb.String())
	}
	errb.Reset()
	code = run([]string{"logout", "https://mcp.example.test/mcp", "--server", "b"}, strings.NewReader(""), &bytes.Buffer{}, &errb, getenv)
	if code != exitOK || errb.String() != "mcpcred: logged out of https://mcp.example.test/mcp: the record of server \"b\" is erased\n" {
		t.Fatalf("exit %d, %q", code, errb.String())
	}
}

// TestLoginDeviceRefusedWithoutEndpoint: --device at a server whose metadata has
// no device_authorization_endpoint is one line, exit 1, before any registration.
func TestLoginDeviceRefusedWithoutEndpoint(t *testing.T) {
	as := mcpfixture.StartFakeAS(t, nil)
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: as.Issuer})
	code, stderr := runLogin(t, "", "login", fx.URL, "--device")
	want := "mcpcred: login failed: the authorization server " + as.Issuer + " offers no device authorization (its metadata has no device_authorization_endpoint): log in with a browser instead, on another machine if need be (see --no-browser)\n"
	if code != exitFailed || !strings.HasSuffix(stderr, want) || strings.Contains(stderr, "registered") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
}
