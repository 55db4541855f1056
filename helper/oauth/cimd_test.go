package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// clientDocument serves a client ID metadata document whose client_id is its
// own URL and whose redirect URIs are uris (or, with %d in one, that URI on a
// free port, returned).
func clientDocument(t *testing.T, uris ...string) (docURL string, port int) {
	port = freeTestPort(t)
	for i, u := range uris {
		if strings.Contains(u, "%d") {
			uris[i] = fmt.Sprintf(u, port)
		}
	}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/mcpcred/client.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(ClientMetadata{ClientID: srv.URL + "/mcpcred/client.json", ClientName: "mcpcred", RedirectURIs: uris})
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/mcpcred/client.json", port
}

func cimdLogin(t *testing.T, a *loginAS, fxURL string, o *LoginOptions) (*Result, string, []string, error) {
	t.Helper()
	var progress []string
	b := newBrowse()
	o.ServerURL, o.Browser = fxURL, b.open
	o.Progress = func(m string) { progress = append(progress, m) }
	o.Save = func(context.Context, *Result) (string, error) { return "the test store", nil }
	ctx := discCtx(t)
	if o.ClientID != "" || o.CallbackPorts != nil {
		// The login cannot finish (the test server refuses the request): what
		// matters happened before the browser.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
	}
	r, err := Login(ctx, o)
	page := ""
	if err == nil {
		page = b.lastPage(t)
	}
	return r, page, progress, err
}

// The loopback authorization server of these tests plays the part: the real one
// (oidc-provider) has client ID metadata documents only as an experimental,
// https-only feature.
func TestLoginClientMetadataDocument(t *testing.T) {
	t.Run("used, with the document's exact redirect URI", func(t *testing.T) {
		a, fx := loginSetup(t)
		a.cimd, a.noReg = true, true
		docURL, port := clientDocument(t, "http://127.0.0.1:%d/callback")
		r, page, progress, err := cimdLogin(t, a, fx.URL, &LoginOptions{ClientMetadataURL: docURL})
		if err != nil {
			t.Fatalf("Login: %v\n%q", err, progress)
		}
		if !strings.Contains(page, "Login complete") || r.Client.ClientID != docURL || r.Registered || len(a.registrations) != 0 || a.cimdFetches != 1 {
			t.Fatalf("client %+v, registrations %d, fetches %d, page %s", r.Client, len(a.registrations), a.cimdFetches, page)
		}
		tf := a.tokenForms[0]
		if tf.Get("client_id") != docURL || tf.Get("redirect_uri") != fmt.Sprintf("http://127.0.0.1:%d/callback", port) {
			t.Fatalf("token request %v", tf)
		}
		if !strings.Contains(strings.Join(progress, "\n"), "using the client described at "+docURL) {
			t.Errorf("progress %q", progress)
		}
	})
	t.Run("a portless loopback redirect: any port", func(t *testing.T) {
		a, fx := loginSetup(t)
		a.cimd = true
		docURL, _ := clientDocument(t, "http://127.0.0.1/callback")
		// The test server compares exactly, so the login fails at its /auth; what
		// matters is the redirect URI asked for: a derived port.
		o := &LoginOptions{ClientMetadataURL: docURL, CallbackPorts: []int{freeTestPort(t)}}
		_, _, _, _ = cimdLogin(t, a, fx.URL, o)
		if a.cimdFetches != 1 || len(a.registrations) != 0 || o.CallbackURL != "" || o.CallbackPort != 0 {
			t.Fatalf("fetches %d, registrations %d, callback %q %d", a.cimdFetches, len(a.registrations), o.CallbackURL, o.CallbackPort)
		}
	})
	t.Run("pre-registered first", func(t *testing.T) {
		a, fx := loginSetup(t)
		a.cimd = true
		docURL, _ := clientDocument(t, "http://127.0.0.1:%d/callback")
		_, _, _, _ = cimdLogin(t, a, fx.URL, &LoginOptions{ClientMetadataURL: docURL, ClientID: "mine"})
		if a.cimdFetches != 0 {
			t.Fatal("the document was used over --client-id")
		}
	})
	t.Run("not supported: dynamic registration", func(t *testing.T) {
		a, fx := loginSetup(t)
		docURL, _ := clientDocument(t, "http://127.0.0.1:%d/callback")
		r, _, progress, err := cimdLogin(t, a, fx.URL, &LoginOptions{ClientMetadataURL: docURL})
		if err != nil || !r.Registered || a.cimdFetches != 0 {
			t.Fatalf("err %v, result %+v", err, r)
		}
		if !strings.Contains(strings.Join(progress, "\n"), "does not accept client ID metadata documents (client_id_metadata_document_supported): not using --client-metadata-url") {
			t.Errorf("progress %q", progress)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		for _, c := range []struct {
			uris []string
			want string
		}{
			{[]string{"https://app.example.test/callback"}, `lists the redirect URI "https://app.example.test/callback": mcpcred needs loopback ones`},
			{nil, "lists no redirect_uris"},
		} {
			a, fx := loginSetup(t)
			a.cimd = true
			docURL, _ := clientDocument(t, c.uris...)
			_, _, _, err := cimdLogin(t, a, fx.URL, &LoginOptions{ClientMetadataURL: docURL})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v: %v", c.uris, err)
			}
		}
		a, fx := loginSetup(t)
		a.cimd = true
		docURL, _ := clientDocument(t, "http://127.0.0.1:%d/callback")
		_, _, _, err := cimdLogin(t, a, fx.URL, &LoginOptions{ClientMetadataURL: docURL + "x"})
		if err == nil || !strings.Contains(err.Error(), "answered HTTP 404") {
			t.Errorf("a missing document: %v", err)
		}
	})
}

func freeTestPort(t *testing.T) int {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
