package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	mcpfixture "github.com/mcpcred/mcpcred/testdata/mcp-fixture"
)

func discCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestParseWWWAuthenticate(t *testing.T) {
	cases := []struct {
		in   []string
		want []Challenge
	}{
		{[]string{`Bearer resource_metadata="https://a.test/.well-known/oauth-protected-resource/mcp", scope="files:read files:write"`},
			[]Challenge{{"Bearer", map[string]string{"resource_metadata": "https://a.test/.well-known/oauth-protected-resource/mcp", "scope": "files:read files:write"}}}},
		{[]string{`Basic realm="x", Bearer error="invalid_token", error_description="the \"token\" expired", Resource_Metadata=https://b.test/x`},
			[]Challenge{
				{"Basic", map[string]string{"realm": "x"}},
				{"Bearer", map[string]string{"error": "invalid_token", "error_description": `the "token" expired`, "resource_metadata": "https://b.test/x"}},
			}},
		{[]string{`Negotiate abc123==`, `bearer scope="a"`},
			[]Challenge{{"Negotiate", map[string]string{}}, {"bearer", map[string]string{"scope": "a"}}}},
		{[]string{`Bearer`}, []Challenge{{"Bearer", map[string]string{}}}},
		{[]string{`  ,, Bearer  realm = "r" ,, `}, []Challenge{{"Bearer", map[string]string{"realm": "r"}}}},
	}
	for _, c := range cases {
		got := ParseWWWAuthenticate(c.in)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseWWWAuthenticate(%q)\n got %#v\nwant %#v", c.in, got, c.want)
		}
	}
}

func TestWellKnownOrder(t *testing.T) {
	u, _ := url.Parse("https://mcp.example.com/public/mcp")
	if got, want := ResourceMetadataURLs(u), []string{
		"https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp",
		"https://mcp.example.com/.well-known/oauth-protected-resource",
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("ResourceMetadataURLs = %q, want %q", got, want)
	}
	u, _ = url.Parse("https://mcp.example.com/")
	if got, want := ResourceMetadataURLs(u), []string{"https://mcp.example.com/.well-known/oauth-protected-resource"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ResourceMetadataURLs(root) = %q, want %q", got, want)
	}
	u, _ = url.Parse("https://auth.example.com/tenant1")
	if got, want := ServerMetadataURLs(u), []string{
		"https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
		"https://auth.example.com/.well-known/openid-configuration/tenant1",
		"https://auth.example.com/tenant1/.well-known/openid-configuration",
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("ServerMetadataURLs = %q, want %q", got, want)
	}
	// The TypeScript SDK's demo server has issuer http://localhost:3001/ (a
	// trailing slash): no path, so no "//".
	u, _ = url.Parse("http://localhost:3001/")
	if got, want := ServerMetadataURLs(u), []string{
		"http://localhost:3001/.well-known/oauth-authorization-server",
		"http://localhost:3001/.well-known/openid-configuration",
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("ServerMetadataURLs(trailing slash) = %q, want %q", got, want)
	}
}

func TestCheckURL(t *testing.T) {
	for _, ok := range []string{"https://a.test/mcp", "http://127.0.0.1:8080/mcp", "http://localhost/x", "http://[::1]:9/"} {
		if _, err := CheckURL("u", ok); err != nil {
			t.Errorf("CheckURL(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"http://a.test/mcp", "ftp://a.test/", "/mcp", "https://a.test/mcp#frag", "https:///x"} {
		if _, err := CheckURL("u", bad); err == nil {
			t.Errorf("CheckURL(%q) accepted it", bad)
		}
	}
}

func TestDiscoverResourceFromChallenge(t *testing.T) {
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: "https://as.test", ChallengeScope: "mcp:tools extra"})
	res, err := DiscoverResource(discCtx(t), http.DefaultClient, fx.URL)
	if err != nil {
		t.Fatal(err)
	}
	if res.MetadataURL != fx.MetadataURL || res.Metadata.Resource != fx.Resource || !res.Challenged ||
		res.ChallengeScope != "mcp:tools extra" || !reflect.DeepEqual(res.Metadata.AuthorizationServers, []string{"https://as.test"}) {
		t.Fatalf("DiscoverResource = %+v", res)
	}
}

func TestDiscoverResourceWellKnown(t *testing.T) {
	for _, root := range []bool{false, true} {
		fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: "https://as.test", NoResourceMetadata: true, RootMetadata: root})
		res, err := DiscoverResource(discCtx(t), http.DefaultClient, fx.URL)
		if err != nil {
			t.Fatalf("root=%v: %v", root, err)
		}
		if res.MetadataURL != fx.MetadataURL || res.ChallengeScope != "" {
			t.Fatalf("root=%v: DiscoverResource = %+v, want metadata from %s", root, res, fx.MetadataURL)
		}
	}
}

func TestDiscoverResourceRefusals(t *testing.T) {
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: "https://as.test", Resource: "https://elsewhere.test/mcp"})
	_, err := DiscoverResource(discCtx(t), http.DefaultClient, fx.URL)
	var de *DiscoveryError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), `is for "https://elsewhere.test/mcp"`) {
		t.Errorf("a metadata document for another resource: err = %v", err)
	}
	fx = mcpfixture.Start(t, mcpfixture.Options{Issuer: "http://as.test"})
	_, err = DiscoverResource(discCtx(t), http.DefaultClient, fx.URL)
	if err == nil || !strings.Contains(err.Error(), "needs https") {
		t.Errorf("an http authorization server: err = %v", err)
	}
	// The resource may be a prefix of the server URL, segment-wise.
	fx = mcpfixture.Start(t, mcpfixture.Options{Issuer: "https://as.test"})
	fx.Resource = fx.Server.URL
	if _, err := DiscoverResource(discCtx(t), http.DefaultClient, fx.URL); err != nil {
		t.Errorf("a resource that is the server's origin: %v", err)
	}
	// No 401 and no metadata.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/mcp" {
			w.WriteHeader(http.StatusOK)
			return
		}
		http.NotFound(w, r)
	}))
	defer plain.Close()
	_, err = DiscoverResource(discCtx(t), http.DefaultClient, plain.URL+"/mcp")
	if err == nil || !strings.Contains(err.Error(), "did not ask for authorization") {
		t.Errorf("a server without OAuth: err = %v", err)
	}
}

// asDocs serves metadata documents at chosen paths and records the paths asked.
type asDocs struct {
	mu    sync.Mutex
	asked []string
	docs  map[string]map[string]any
}

func (a *asDocs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.asked = append(a.asked, r.URL.Path)
	doc, ok := a.docs[r.URL.Path]
	a.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = jsonEncode(w, doc)
}

func goodServerDoc(issuer string) map[string]any {
	return map[string]any{
		"issuer":                           issuer,
		"authorization_endpoint":           issuer + "/auth",
		"token_endpoint":                   issuer + "/token",
		"response_types_supported":         []string{"code"},
		"code_challenge_methods_supported": []string{"S256"},
	}
}

func TestFetchServerMetadataOrder(t *testing.T) {
	a := &asDocs{docs: map[string]map[string]any{}}
	srv := httptest.NewServer(a)
	defer srv.Close()
	issuer := srv.URL + "/tenant1"
	a.docs["/tenant1/.well-known/openid-configuration"] = goodServerDoc(issuer)
	md, err := FetchServerMetadata(discCtx(t), http.DefaultClient, issuer)
	if err != nil {
		t.Fatal(err)
	}
	if md.Issuer != issuer {
		t.Fatalf("issuer = %q", md.Issuer)
	}
	want := []string{
		"/.well-known/oauth-authorization-server/tenant1",
		"/.well-known/openid-configuration/tenant1",
		"/tenant1/.well-known/openid-configuration",
	}
	if !reflect.DeepEqual(a.asked, want) {
		t.Fatalf("asked %q, want %q", a.asked, want)
	}
}

func TestFetchServerMetadataRefusals(t *testing.T) {
	cases := []struct {
		name string
		edit func(md map[string]any)
		want string
	}{
		{"no PKCE", func(md map[string]any) { delete(md, "code_challenge_methods_supported") }, "does not support PKCE with S256 (its metadata lists no code_challenge_methods_supported)"},
		{"plain only", func(md map[string]any) { md["code_challenge_methods_supported"] = []string{"plain"} }, `does not support PKCE with S256 (its metadata lists code_challenge_methods_supported "plain")`},
		{"issuer mismatch", func(md map[string]any) { md["issuer"] = md["issuer"].(string) + "/" }, "the issuer must match exactly"},
		{"no code flow", func(md map[string]any) { md["response_types_supported"] = []string{"token"} }, "does not offer the authorization code flow"},
		{"http token endpoint", func(md map[string]any) { md["token_endpoint"] = "http://as.test/token" }, "needs https"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := mcpfixture.StartFakeAS(t, c.edit)
			_, err := FetchServerMetadata(discCtx(t), http.DefaultClient, f.Issuer)
			var de *DiscoveryError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want a refusal saying %q", err, c.want)
			}
		})
	}
	f := mcpfixture.StartFakeAS(t, nil)
	if _, err := FetchServerMetadata(discCtx(t), http.DefaultClient, f.Issuer); err != nil {
		t.Fatalf("a good server: %v", err)
	}
}
