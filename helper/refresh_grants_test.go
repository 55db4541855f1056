// The test authorization server is a Node program, which the Windows test
// binaries (run under Wine) cannot start; what this file covers is the same on
// every OS and runs on Linux.

//go:build !windows

package helper_test

import (
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends/memory"
	"github.com/mcpcred/mcpcred/helper"
	"github.com/mcpcred/mcpcred/helper/helpertest"
	"github.com/mcpcred/mcpcred/helper/oauth/oauthtest"
	mcpfixture "github.com/mcpcred/mcpcred/testdata/mcp-fixture"
)

// TestRefreshReadsOnceUnderLockEveryWay: a refresh that first discovers the
// token endpoint (a record Codex stored) and a client credentials record minting
// a new token keep the refresh's rule: one read under the lock, one write, the
// discovered endpoint in that same write. Against the test suite's
// authorization server.
func TestRefreshReadsOnceUnderLockEveryWay(t *testing.T) {
	as := oauthtest.Start(t)
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: as.Issuer, ChallengeScope: "mcp:tools", Introspect: mcpfixture.AdminIntrospect(as.Issuer)})

	pub := as.Register(t, oauthtest.ClientOptions{})
	tok, _ := as.Login(t, pub, fx.Resource, "mcp:tools")
	codex := &helper.Token{
		ServerName: "codex", URL: fx.URL, ClientID: pub.ClientID, TokenType: "Bearer",
		AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken,
		Expiry: tok.Expiry.Truncate(time.Millisecond), Scope: "mcp:tools",
	}
	machine := as.Register(t, oauthtest.ClientOptions{Machine: true})
	bot := &helper.Token{
		ServerName: "bot", URL: fx.URL, Issuer: as.Issuer, ClientID: machine.ClientID, ClientSecret: machine.ClientSecret,
		TokenType: "Bearer", AccessToken: "at-old", Expiry: time.Now().Add(30 * time.Second).Truncate(time.Millisecond),
		Scope: "mcp:tools", TokenEndpoint: as.TokenEndpoint(), Resource: fx.Resource, GrantType: helper.GrantClientCredentials,
	}
	for _, old := range []*helper.Token{codex, bot} {
		t.Run(old.ServerName, func(t *testing.T) {
			e := helpertest.New(t, memory.New(), helper.Keyring)
			e.Helper.MinTTL = time.Minute
			e.Helper.Timeout = 5 * time.Second
			e.SaveKeyring(old)
			reads, writes := e.Keyring.Reads(), e.Keyring.Writes()
			got, err := e.Helper.ReadToken(ctx(t), old.ServerName, old.URL, false)
			if err != nil || got.AccessToken == "" || got.AccessToken == old.AccessToken {
				t.Fatalf("ReadToken = %+v, %v; want a new token; notices %q", got, err, e.Notices.String())
			}
			if r, w := e.Keyring.Reads()-reads, e.Keyring.Writes()-writes; r != 2 || w != 1 {
				t.Fatalf("the refresh read the keyring %d times and wrote it %d times, want 2 (before the lock, under it) and 1", r, w)
			}
			kept := load(t, e.Helper, old)
			if kept.AccessToken != got.AccessToken || kept.TokenEndpoint != as.TokenEndpoint() || kept.Resource != fx.Resource || kept.GrantType != old.GrantType {
				t.Fatalf("stored %+v", kept)
			}
		})
	}
}
