//go:build unix

package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	mcpfixture "github.com/mcpcred/mcpcred/testdata/mcp-fixture"
)

// An error_description with terminal escapes on the login redirect reaches
// stderr and the page escaped, and a huge one cut: the redirect carries this
// login's state (read from the authorization URL), so it is taken as the
// authorization server's answer.
func TestLoginRedirectErrorEscaped(t *testing.T) {
	issuer := interactiveAS(t).Issuer
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: issuer, ChallengeScope: "mcp:tools"})
	for _, c := range []struct{ desc, shown string }{
		{"\x1b]0;PWNED\x07\x1b[2J", `\x1b]0;PWNED\x07\x1b[2J`},
		{strings.Repeat("\x1b[31m", 50000), strings.Repeat(`\x1b[31m`, 25) + "...(250000 bytes)"},
	} {
		env := loginEnv(t)
		p := startMcpcred(t, env, "", "login", fx.URL, "--no-browser", "--server", "escapes")
		q := mustQuery(t, p.authURL())
		answer := url.Values{"state": {q.Get("state")}, "iss": {issuer}, "error": {"access_denied\x1b[2J"}, "error_description": {c.desc}}
		resp, err := http.Get(q.Get("redirect_uri") + "?" + answer.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.ContainsAny(string(body), "\x1b\x07") || !strings.Contains(string(body), "Login failed") {
			t.Fatalf("page:\n%s", body)
		}
		code, stderr := p.wait()
		want := "mcpcred: login failed: the authorization server refused the login (access_denied\\x1b[2J: " + c.shown + ")\n"
		if code != 1 || !strings.HasSuffix(stderr, want) {
			t.Fatalf("exit %d, stderr ends:\n%q\nwant\n%q", code, stderr[max(0, len(stderr)-400):], want)
		}
	}
}
