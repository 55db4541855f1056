package oauth_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/mcpcred/mcpcred/helper/oauth"
	"github.com/mcpcred/mcpcred/helper/oauth/oauthtest"
)

// fake is a token endpoint that records each request's form and basic auth and
// answers with the handler's status and body.
type fake struct {
	mu       sync.Mutex
	requests []fakeRequest
	answer   func(n int) (status int, ctype, body string)
}

type fakeRequest struct {
	form       map[string]string
	basicUser  string
	hasBasic   bool
	basicPass  string
	authHeader string
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	req := fakeRequest{form: map[string]string{}, authHeader: r.Header.Get("Authorization")}
	for k := range r.PostForm {
		req.form[k] = r.PostForm.Get(k)
	}
	req.basicUser, req.basicPass, req.hasBasic = r.BasicAuth()
	f.mu.Lock()
	f.requests = append(f.requests, req)
	n := len(f.requests)
	f.mu.Unlock()
	status, ctype, body := f.answer(n)
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

func (f *fake) got() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.requests...)
}

func serve(t *testing.T, answer func(n int) (int, string, string)) (*fake, string) {
	f := &fake{answer: answer}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL + "/token"
}

const okBody = `{"access_token":"at-2","token_type":"bearer","expires_in":3600,"refresh_token":"rt-2","scope":"a b"}`

func ok(int) (int, string, string) { return 200, "application/json", okBody }

func TestRefreshSendsResourceAndPublicClientID(t *testing.T) {
	f, ep := serve(t, ok)
	before := time.Now()
	got, err := oauth.Refresh(context.Background(), nil, oauth.TokenClient{ClientID: "cid", TokenEndpoint: ep}, "rt-1", "https://mcp.test/mcp")
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.got()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	want := map[string]string{"grant_type": "refresh_token", "refresh_token": "rt-1", "resource": "https://mcp.test/mcp", "client_id": "cid"}
	if fmt.Sprint(r.form) != fmt.Sprint(want) || r.authHeader != "" {
		t.Errorf("form %v, Authorization %q; want %v and none", r.form, r.authHeader, want)
	}
	if got.AccessToken != "at-2" || got.RefreshToken != "rt-2" || got.Scope != "a b" || got.TokenType != "bearer" {
		t.Errorf("tokens %+v", got)
	}
	if d := got.Expiry.Sub(before); d < 3599*time.Second || d > 3610*time.Second {
		t.Errorf("expiry %v from the start, want about 1h", d)
	}
}

func TestRefreshWithoutResourceSendsNone(t *testing.T) {
	f, ep := serve(t, ok)
	if _, err := oauth.Refresh(context.Background(), nil, oauth.TokenClient{ClientID: "cid", TokenEndpoint: ep}, "rt-1", ""); err != nil {
		t.Fatal(err)
	}
	if _, has := f.got()[0].form["resource"]; has {
		t.Errorf("resource sent though the record has none")
	}
}

func TestRefreshKeepsRefreshTokenWhenNoneIssued(t *testing.T) {
	_, ep := serve(t, func(int) (int, string, string) {
		return 200, "application/json", `{"access_token":"at-2","token_type":"Bearer"}`
	})
	got, err := oauth.Refresh(context.Background(), nil, oauth.TokenClient{ClientID: "cid", TokenEndpoint: ep}, "rt-1", "")
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshToken != "rt-1" || got.Scope != "" || !got.Expiry.IsZero() {
		t.Errorf("tokens %+v: want rt-1 kept, no scope, no expiry", got)
	}
}

func TestConfidentialClientUsesBasicOnce(t *testing.T) {
	f, ep := serve(t, ok)
	c := oauth.TokenClient{ClientID: "c id", ClientSecret: "s&cret", TokenEndpoint: ep}
	if _, err := oauth.Refresh(context.Background(), nil, c, "rt-1", "r"); err != nil {
		t.Fatal(err)
	}
	reqs := f.got()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	// x/oauth2 form-escapes both parts of the Basic credentials (RFC 6749 2.3.1).
	if !reqs[0].hasBasic || reqs[0].basicUser != "c+id" || reqs[0].basicPass != "s%26cret" {
		t.Errorf("basic auth %v %q %q", reqs[0].hasBasic, reqs[0].basicUser, reqs[0].basicPass)
	}
	if _, has := reqs[0].form["client_secret"]; has {
		t.Errorf("secret sent in the form as well")
	}
}

// A client registered for client_secret_post refuses Basic with invalid_client;
// the second try puts the secret in the form.
func TestInvalidClientWithBasicRetriesInForm(t *testing.T) {
	f, ep := serve(t, func(n int) (int, string, string) {
		if n == 1 {
			return 401, "application/json", `{"error":"invalid_client"}`
		}
		return 200, "application/json", okBody
	})
	got, err := oauth.Refresh(context.Background(), nil, oauth.TokenClient{ClientID: "cid", ClientSecret: "sec", TokenEndpoint: ep}, "rt-1", "r")
	if err != nil || got.AccessToken != "at-2" {
		t.Fatalf("Refresh = %+v, %v", got, err)
	}
	reqs := f.got()
	if len(reqs) != 2 || reqs[1].hasBasic || reqs[1].form["client_secret"] != "sec" || reqs[1].form["client_id"] != "cid" || reqs[1].form["resource"] != "r" {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestClassification(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
		ctype  string
		body   string
		kind   oauth.Kind
		msg    string
	}{
		{"invalid_grant", 400, "application/json", `{"error":"invalid_grant","error_description":"rt-1 is gone"}`, oauth.InvalidGrant, "answered invalid_grant (HTTP 400)"},
		{"invalid_client", 401, "application/json", `{"error":"invalid_client"}`, oauth.InvalidClient, "answered invalid_client (HTTP 401)"},
		{"unauthorized_client", 400, "application/json", `{"error":"unauthorized_client"}`, oauth.InvalidClient, "unauthorized_client"},
		{"invalid_target", 400, "application/json", `{"error":"invalid_target"}`, oauth.Rejected, "invalid_target"},
		{"503", 503, "text/html", `<html>rt-1 down</html>`, oauth.Unavailable, "answered HTTP 503"},
		{"500 json", 500, "application/json", `{"error":"server_error"}`, oauth.Unavailable, "server_error"},
		{"429", 429, "application/json", `{"error":"slow_down"}`, oauth.Unavailable, "slow_down"},
		{"200 error", 200, "application/json", `{"error":"invalid_grant"}`, oauth.InvalidGrant, "invalid_grant"},
		{"malformed", 200, "application/json", `{"access_token":"rt-1`, oauth.Unavailable, "not a token response"},
		{"no access token", 200, "application/json", `{"token_type":"bearer","note":"rt-1"}`, oauth.Unavailable, "not a token response"},
		{"redirect", 307, "text/plain", `moved`, oauth.Unavailable, "HTTP 307"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, ep := serve(t, func(int) (int, string, string) { return c.status, c.ctype, c.body })
			_, err := oauth.Refresh(context.Background(), nil, oauth.TokenClient{ClientID: "cid", TokenEndpoint: ep}, "rt-1", "r")
			var e *oauth.Error
			if !errors.As(err, &e) || e.Kind != c.kind {
				t.Fatalf("err = %v (%#v), want kind %d", err, e, c.kind)
			}
			if !strings.Contains(err.Error(), c.msg) || strings.Contains(err.Error(), "rt-1") {
				t.Errorf("message %q: want %q in it and no token", err, c.msg)
			}
			if n := len(f.got()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestUnreachableAndSlow(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/token"
	l.Close()
	_, err = oauth.Refresh(context.Background(), nil, oauth.TokenClient{ClientID: "cid", TokenEndpoint: closed}, "rt-1", "r")
	var e *oauth.Error
	if !errors.As(err, &e) || e.Kind != oauth.Unavailable || !strings.Contains(err.Error(), "refused") {
		t.Errorf("closed port: %v", err)
	}

	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	defer close(release) // before Close, which waits for the handler
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = oauth.Refresh(ctx, nil, oauth.TokenClient{ClientID: "cid", TokenEndpoint: srv.URL}, "rt-1", "r")
	if !errors.As(err, &e) || e.Kind != oauth.Unavailable || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("stalled endpoint: %v", err)
	}
}

func TestConfigAuthStyle(t *testing.T) {
	if s := (oauth.TokenClient{ClientID: "a"}).Config().Endpoint.AuthStyle; s != oauth2.AuthStyleInParams {
		t.Errorf("public client style %v", s)
	}
	if s := (oauth.TokenClient{ClientID: "a", ClientSecret: "b"}).Config().Endpoint.AuthStyle; s != oauth2.AuthStyleInHeader {
		t.Errorf("confidential client style %v", s)
	}
	if s := (oauth.TokenClient{ClientID: "a", ClientSecret: "b", AuthStyle: oauth2.AuthStyleInParams}).Config().Endpoint.AuthStyle; s != oauth2.AuthStyleInParams {
		t.Errorf("explicit style %v", s)
	}
}

// Against the real authorization server: a refresh with resource gives a token
// for that resource and rotates the refresh token; a revoked grant is
// invalid_grant; a deleted client is invalid_client.
func TestRealServer(t *testing.T) {
	as := oauthtest.Start(t)
	const resource = "http://127.0.0.1:1/mcp"
	for _, confidential := range []bool{false, true} {
		t.Run(fmt.Sprintf("confidential=%v", confidential), func(t *testing.T) {
			reg := as.Register(t, oauthtest.ClientOptions{Confidential: confidential})
			seen := false
			for _, r := range as.Registrations(t) {
				seen = seen || r.ClientID == reg.ClientID && r.ApplicationType == "native" && len(r.GrantTypes) == 2
			}
			if !seen {
				t.Errorf("the server's registration log lacks %s", reg.ClientID)
			}
			tok, scope := as.Login(t, reg, resource, "mcp:tools")
			if scope != "mcp:tools" || tok.RefreshToken == "" {
				t.Fatalf("login gave scope %q, refresh token %v", scope, tok.RefreshToken != "")
			}
			c := oauth.TokenClient{ClientID: reg.ClientID, ClientSecret: reg.ClientSecret, TokenEndpoint: as.TokenEndpoint()}
			got, err := oauth.Refresh(context.Background(), nil, c, tok.RefreshToken, resource)
			if err != nil {
				t.Fatalf("refresh: %v\n%s", err, as.Log())
			}
			if got.RefreshToken == tok.RefreshToken || got.Scope != "mcp:tools" {
				t.Errorf("refresh token not rotated or scope %q", got.Scope)
			}
			if info := as.AccessToken(t, got.AccessToken); !info.Active || info.Audience != resource {
				t.Errorf("new access token %+v, want active for %s", info, resource)
			}
			refreshes := as.Refreshes(t, reg.ClientID)
			if len(refreshes) != 1 || refreshes[0].Resource == nil || *refreshes[0].Resource != resource {
				t.Errorf("the server saw %+v, want one refresh with resource", refreshes)
			}

			as.Revoke(t, reg, got.RefreshToken)
			_, err = oauth.Refresh(context.Background(), nil, c, got.RefreshToken, resource)
			var e *oauth.Error
			if !errors.As(err, &e) || e.Kind != oauth.InvalidGrant {
				t.Errorf("after revocation: %v, want invalid_grant", err)
			}

			tok, _ = as.Login(t, reg, resource, "mcp:tools")
			as.DeleteClient(t, reg)
			_, err = oauth.Refresh(context.Background(), nil, c, tok.RefreshToken, resource)
			if !errors.As(err, &e) || e.Kind != oauth.InvalidClient {
				t.Errorf("after deleting the client: %v, want invalid_client", err)
			}
		})
	}
}
