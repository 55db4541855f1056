package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRegister(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad", 400)
			return
		}
		_ = json.NewDecoder(r.Body).Decode(&got)
		if got["redirect_uris"].([]any)[0] == "http://127.0.0.1:1/bad" {
			w.WriteHeader(400)
			_ = jsonEncode(w, map[string]string{"error": "invalid_redirect_uri", "error_description": "no"})
			return
		}
		w.WriteHeader(http.StatusCreated)
		_ = jsonEncode(w, map[string]any{"client_id": "c1", "client_secret": "s1", "client_secret_expires_at": 0, "token_endpoint_auth_method": "client_secret_post"})
	}))
	defer srv.Close()
	reg, err := Register(discCtx(t), http.DefaultClient, srv.URL, NativeClient([]string{"http://127.0.0.1:5/callback"}, "v1"))
	if err != nil {
		t.Fatal(err)
	}
	if reg.ClientID != "c1" || reg.ClientSecret != "s1" || reg.TokenEndpointAuthMethod != "client_secret_post" {
		t.Fatalf("registration = %+v", reg)
	}
	want := map[string]any{
		"client_name": "mcpcred", "application_type": "native",
		"redirect_uris": []any{"http://127.0.0.1:5/callback"},
		"grant_types":   []any{"authorization_code", "refresh_token"}, "response_types": []any{"code"},
		"token_endpoint_auth_method": "none", "software_id": "github.com/mcpcred/mcpcred", "software_version": "v1",
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Fatalf("request\n got %s\nwant %s", gotJSON, wantJSON)
	}
	_, err = Register(discCtx(t), http.DefaultClient, srv.URL, NativeClient([]string{"http://127.0.0.1:1/bad"}, ""))
	var re *RegistrationError
	if !errors.As(err, &re) || re.Code != "invalid_redirect_uri" || re.Status != 400 {
		t.Fatalf("err = %v", err)
	}
}
