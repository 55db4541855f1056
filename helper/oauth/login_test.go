package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mcpfixture "github.com/mcpcred/mcpcred/testdata/mcp-fixture"
)

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

// loginAS is a small authorization server in Go for the flow's unit tests: it
// checks what a real one checks (registered redirect URIs exactly, PKCE S256,
// resource on both requests) and misbehaves on demand. The real one is
// testdata/oauth-as, driven by cmd/mcpcred's browser tests.
type loginAS struct {
	*httptest.Server
	issuer string

	mu            sync.Mutex
	registrations []RegistrationRequest
	clients       map[string][]string // client_id -> redirect URIs
	codes         map[string]url.Values
	tokenForms    []url.Values
	issued        int

	// knobs
	stateOverride string // answer with this state
	issOverride   *string
	omitIss       bool
	denyWith      string         // answer with this error
	denyDesc      string         // and this error_description (default "the user said no")
	tokenOverride map[string]any // fields of the token response to replace
	noIssSupport  bool
	// cimd: accept client ID metadata documents (fetched at /auth); noReg: no
	// registration endpoint. cimdFetches counts the documents fetched.
	cimd, noReg bool
	cimdFetches int
}

func startLoginAS(t *testing.T) *loginAS {
	a := &loginAS{clients: map[string][]string{}, codes: map[string]url.Values{}}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Close)
	a.issuer = a.Server.URL
	return a
}

func (a *loginAS) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.URL.Path != "/auth" {
		w.Header().Set("Content-Type", "application/json")
	}
	switch r.URL.Path {
	case "/.well-known/oauth-authorization-server":
		md := goodServerDoc(a.issuer)
		md["registration_endpoint"] = a.issuer + "/reg"
		if a.noReg {
			delete(md, "registration_endpoint")
		}
		if a.cimd {
			md["client_id_metadata_document_supported"] = true
		}
		md["authorization_response_iss_parameter_supported"] = !a.noIssSupport
		md["token_endpoint_auth_methods_supported"] = []string{"none"}
		_ = jsonEncode(w, md)
	case "/reg":
		var req RegistrationRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		a.registrations = append(a.registrations, req)
		id := fmt.Sprintf("client-%d", len(a.registrations))
		a.clients[id] = req.RedirectURIs
		w.WriteHeader(http.StatusCreated)
		_ = jsonEncode(w, map[string]any{"client_id": id, "redirect_uris": req.RedirectURIs, "token_endpoint_auth_method": "none"})
	case "/auth":
		q := r.URL.Query()
		if id := q.Get("client_id"); a.cimd && strings.HasPrefix(id, "http") {
			a.cimdFetches++
			a.clients[id] = fetchClientDocument(id)
		}
		uris, ok := a.clients[q.Get("client_id")]
		if !ok || !slices.Contains(uris, q.Get("redirect_uri")) {
			http.Error(w, "unknown client or redirect_uri", 400)
			return
		}
		if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("resource") == "" || q.Get("response_type") != "code" {
			http.Error(w, "bad authorization request: "+q.Encode(), 400)
			return
		}
		back := url.Values{"state": {q.Get("state")}}
		if a.stateOverride != "" {
			back.Set("state", a.stateOverride)
		}
		switch {
		case a.issOverride != nil:
			back.Set("iss", *a.issOverride)
		case !a.omitIss:
			back.Set("iss", a.issuer)
		}
		if a.denyWith != "" {
			back.Set("error", a.denyWith)
			back.Set("error_description", "the user said no")
			if a.denyDesc != "" {
				back.Set("error_description", a.denyDesc)
			}
		} else {
			a.issued++
			code := fmt.Sprintf("code-%d", a.issued)
			a.codes[code] = q
			back.Set("code", code)
		}
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+back.Encode(), http.StatusFound)
	case "/token":
		_ = r.ParseForm()
		f := r.PostForm
		a.tokenForms = append(a.tokenForms, f)
		authq, ok := a.codes[f.Get("code")]
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		switch {
		case !ok:
			w.WriteHeader(400)
			_ = jsonEncode(w, map[string]string{"error": "invalid_grant"})
		case base64.RawURLEncoding.EncodeToString(sum[:]) != authq.Get("code_challenge"),
			f.Get("resource") != authq.Get("resource"), f.Get("redirect_uri") != authq.Get("redirect_uri"),
			f.Get("client_id") != authq.Get("client_id"):
			w.WriteHeader(400)
			_ = jsonEncode(w, map[string]string{"error": "invalid_request"})
		default:
			delete(a.codes, f.Get("code"))
			resp := map[string]any{
				"access_token": "at-" + f.Get("code"), "token_type": "bearer", "expires_in": 2,
				"refresh_token": "rt-" + f.Get("code"), "scope": authq.Get("scope"),
			}
			for k, v := range a.tokenOverride {
				resp[k] = v
			}
			_ = jsonEncode(w, resp)
		}
	default:
		http.NotFound(w, r)
	}
}

// fetchClientDocument is the redirect URIs of the client ID metadata document
// at id, when its client_id is id; else none.
func fetchClientDocument(id string) []string {
	resp, err := http.Get(id)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var doc ClientMetadata
	if json.NewDecoder(resp.Body).Decode(&doc) != nil || doc.ClientID != id {
		return nil
	}
	return doc.RedirectURIs
}

// browse is a Browser that follows the authorization URL like a browser and
// keeps the last page.
type browse struct {
	mu   sync.Mutex
	page string
	url  string
	done chan struct{}
}

func newBrowse() *browse { return &browse{done: make(chan struct{})} }

func (b *browse) open(u string) error {
	go func() {
		defer close(b.done)
		resp, err := http.Get(u)
		if err != nil {
			b.mu.Lock()
			b.page = "error: " + err.Error()
			b.mu.Unlock()
			return
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		b.mu.Lock()
		b.page, b.url = string(data), resp.Request.URL.String()
		b.mu.Unlock()
	}()
	return nil
}

func (b *browse) lastPage(t *testing.T) string {
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the browser did not finish")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.page
}

func loginSetup(t *testing.T) (*loginAS, *mcpfixture.Server) {
	a := startLoginAS(t)
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: a.issuer, ChallengeScope: "mcp:tools"})
	return a, fx
}

func TestLoginFlow(t *testing.T) {
	a, fx := loginSetup(t)
	var progress []string
	var saved *Result
	b := newBrowse()
	o := &LoginOptions{
		ServerURL: fx.URL,
		Browser:   b.open,
		Progress:  func(m string) { progress = append(progress, m) },
		Save: func(ctx context.Context, r *Result) (string, error) {
			saved = r
			return "the test store", nil
		},
		Version: "v0-test",
	}
	r, err := Login(discCtx(t), o)
	if err != nil {
		t.Fatalf("Login: %v\nprogress: %q", err, progress)
	}
	page := b.lastPage(t)
	if !strings.Contains(page, "Login complete") || !strings.Contains(page, "the test store") {
		t.Errorf("the browser's page does not say the login is done:\n%s", page)
	}
	if saved != r || r.Tokens.AccessToken != "at-code-1" || r.Tokens.RefreshToken != "rt-code-1" || r.Scope != "mcp:tools" ||
		r.Client.ClientID != "client-1" || r.Client.Issuer != a.issuer || !r.Registered || r.Resource.Metadata.Resource != fx.Resource ||
		r.AuthMethod != "none" || time.Until(r.Tokens.Expiry) > 3*time.Second || r.StoredIn != "the test store" {
		t.Fatalf("result = %+v, tokens %+v", r, r.Tokens)
	}
	reg := a.registrations[0]
	if reg.ApplicationType != "native" || reg.TokenEndpointAuthMethod != "none" ||
		!slices.Equal(reg.GrantTypes, []string{"authorization_code", "refresh_token"}) || len(reg.RedirectURIs) != 3 {
		t.Errorf("registration request = %+v", reg)
	}
	for i, p := range CallbackPorts(a.issuer) {
		if reg.RedirectURIs[i] != fmt.Sprintf("http://127.0.0.1:%d/callback", p) {
			t.Errorf("redirect URI %d = %q, want port %d", i, reg.RedirectURIs[i], p)
		}
	}
	tf := a.tokenForms[0]
	if tf.Get("resource") != fx.Resource || tf.Get("client_id") != "client-1" || tf.Get("grant_type") != "authorization_code" || tf.Has("client_secret") {
		t.Errorf("token request = %v", tf)
	}
	joined := strings.Join(progress, "\n")
	for _, want := range []string{"authorization server: " + a.issuer, "registered mcpcred as a client", "opening your browser", "waiting for you to finish"} {
		if !strings.Contains(joined, want) {
			t.Errorf("progress lacks %q:\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "at-code-1") || strings.Contains(joined, "rt-code-1") {
		t.Errorf("progress shows a token:\n%s", joined)
	}

	// The second login reuses the registration.
	b2 := newBrowse()
	o.Browser, o.Previous, progress = b2.open, &r.Client, nil
	r2, err := Login(discCtx(t), o)
	if err != nil {
		t.Fatalf("second Login: %v", err)
	}
	b2.lastPage(t)
	if len(a.registrations) != 1 || r2.Registered || r2.Client.ClientID != "client-1" || r2.Tokens.AccessToken != "at-code-2" {
		t.Fatalf("second login: %d registrations, result %+v", len(a.registrations), r2)
	}
	if !strings.Contains(strings.Join(progress, "\n"), "reusing the client registration stored for "+a.issuer) {
		t.Errorf("progress does not say the registration was reused: %q", progress)
	}

	// A registration from another issuer is not reused.
	o.Previous = &ClientInfo{Issuer: "https://old.test", ClientID: "old"}
	b3 := newBrowse()
	o.Browser = b3.open
	r3, err := Login(discCtx(t), o)
	if err != nil {
		t.Fatal(err)
	}
	b3.lastPage(t)
	if !r3.Registered || r3.Client.ClientID != "client-2" {
		t.Fatalf("login after an issuer change: %+v", r3)
	}
}

func TestLoginScopeChoice(t *testing.T) {
	a := startLoginAS(t)
	for _, c := range []struct {
		flag, challenge string
		supported       []string
		want            string
	}{
		{"given", "challenged", []string{"a", "b"}, "given"},
		{"", "challenged", []string{"a", "b"}, "challenged"},
		{"", "", []string{"a", "b"}, "a b"},
		{"", "", []string{}, ""},
	} {
		fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: a.issuer, ChallengeScope: c.challenge, Scopes: c.supported})
		b := newBrowse()
		r, err := Login(discCtx(t), &LoginOptions{ServerURL: fx.URL, Scope: c.flag, Browser: b.open})
		if err != nil {
			t.Fatal(err)
		}
		b.lastPage(t)
		if r.RequestedScope != c.want {
			t.Errorf("flag %q, challenge %q, supported %q: scope %q, want %q", c.flag, c.challenge, c.supported, r.RequestedScope, c.want)
		}
	}
}

func TestLoginRefusesBadAnswers(t *testing.T) {
	evil := "https://evil.test"
	cases := []struct {
		name  string
		knob  func(a *loginAS)
		check func(error) bool
		page  string
	}{
		{"iss mismatch", func(a *loginAS) { a.issOverride = &evil }, func(err error) bool { return strings.Contains(err.Error(), `comes from issuer "https://evil.test"`) }, "RFC 9207"},
		{"iss missing", func(a *loginAS) { a.omitIss = true }, func(err error) bool { return strings.Contains(err.Error(), "carries no iss") }, "carries no iss"},
		{"denied", func(a *loginAS) { a.denyWith = "access_denied" }, func(err error) bool {
			var ae *AuthorizationError
			return errors.As(err, &ae) && ae.Code == "access_denied" && strings.Contains(err.Error(), "access was denied")
		}, "access was denied"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, fx := loginSetup(t)
			c.knob(a)
			saved := false
			b := newBrowse()
			_, err := Login(discCtx(t), &LoginOptions{ServerURL: fx.URL, Browser: b.open,
				Save: func(context.Context, *Result) (string, error) { saved = true; return "", nil }})
			if err == nil || !c.check(err) {
				t.Fatalf("err = %v", err)
			}
			page := b.lastPage(t)
			if !strings.Contains(page, "Login failed") || !strings.Contains(page, c.page) {
				t.Errorf("page does not say why the login failed:\n%s", page)
			}
			if saved || len(a.tokenForms) != 0 {
				t.Errorf("saved %v, %d token requests after a refused answer", saved, len(a.tokenForms))
			}
		})
	}
	// Without the metadata's promise, a missing iss is accepted.
	a, fx := loginSetup(t)
	a.omitIss, a.noIssSupport = true, true
	b := newBrowse()
	if _, err := Login(discCtx(t), &LoginOptions{ServerURL: fx.URL, Browser: b.open}); err != nil {
		t.Fatalf("no iss from a server that does not promise one: %v", err)
	}
}

func TestLoginTimeout(t *testing.T) {
	_, fx := loginSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var progress []string
	_, err := Login(ctx, &LoginOptions{ServerURL: fx.URL, Progress: func(m string) { progress = append(progress, m) }})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if !strings.Contains(strings.Join(progress, "\n"), "open this URL in your browser to log in: ") {
		t.Errorf("the URL was not printed: %q", progress)
	}
}

func TestLoginNoRegistrationEndpoint(t *testing.T) {
	f := mcpfixture.StartFakeAS(t, nil)
	fx := mcpfixture.Start(t, mcpfixture.Options{Issuer: f.Issuer})
	f.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		md := goodServerDoc(f.Issuer)
		_ = jsonEncode(w, md)
	})
	_, err := Login(discCtx(t), &LoginOptions{ServerURL: fx.URL})
	if err == nil || !strings.Contains(err.Error(), "offers no dynamic client registration") || !strings.Contains(err.Error(), "--client-id") {
		t.Fatalf("err = %v", err)
	}
}

func TestCallbackPage(t *testing.T) {
	// Requests that are not an authorization response do not end the login.
	cb := &callback{done: make(chan error, 1)}
	for _, u := range []string{"/favicon.ico", "/callback", "/other?code=x"} {
		rec := httptest.NewRecorder()
		cb.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
		if rec.Code == http.StatusOK {
			t.Errorf("GET %s: %d", u, rec.Code)
		}
	}
	if cb.finished {
		t.Fatal("a stray request finished the login")
	}
	// The page escapes what it shows.
	rec := httptest.NewRecorder()
	writePage(rec, 200, false, `<script>alert(1)</script>`)
	if strings.Contains(rec.Body.String(), "<script>") {
		t.Fatalf("page not escaped:\n%s", rec.Body.String())
	}
}

func TestCallbackPorts(t *testing.T) {
	p1, p2 := CallbackPorts("https://a.test"), CallbackPorts("https://a.test")
	if !slices.Equal(p1, p2) || len(p1) != 3 {
		t.Fatalf("ports %v, %v", p1, p2)
	}
	for _, p := range p1 {
		if p < 49152 || p > 65535 {
			t.Fatalf("port %d outside the dynamic range", p)
		}
	}
	if slices.Equal(p1, CallbackPorts("https://b.test")) {
		t.Fatal("two issuers, same ports")
	}
}
