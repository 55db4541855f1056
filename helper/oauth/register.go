package oauth

// OAuth 2.0 Dynamic Client Registration (RFC 7591) for `mcpcred login`: a native
// public client with loopback redirect URIs that may refresh its tokens.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// RegistrationRequest is the client metadata mcpcred registers.
type RegistrationRequest struct {
	ClientName              string   `json:"client_name"`
	ApplicationType         string   `json:"application_type"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	SoftwareID              string   `json:"software_id,omitempty"`
	SoftwareVersion         string   `json:"software_version,omitempty"`
}

// NativeClient is the registration request of a native (CLI) public client with
// the given loopback redirect URIs: application_type native (MCP 2026-07-28
// requires an appropriate one; OpenID's default is web), the authorization_code and
// refresh_token grants, and no client secret (token_endpoint_auth_method none).
func NativeClient(redirectURIs []string, version string) *RegistrationRequest {
	return &RegistrationRequest{
		ClientName:              "mcpcred",
		ApplicationType:         "native",
		RedirectURIs:            redirectURIs,
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		TokenEndpointAuthMethod: "none",
		SoftwareID:              "github.com/mcpcred/mcpcred",
		SoftwareVersion:         version,
	}
}

// Registration is what the authorization server answered.
type Registration struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientSecretExpiresAt   int64    `json:"client_secret_expires_at,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	RedirectURIs            []string `json:"redirect_uris,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
}

// RegistrationError is the authorization server refusing a registration. Code
// and Description are the server's text as sent; Error shows them through
// ServerText.
type RegistrationError struct {
	Status      int
	Code        string // RFC 7591 section 3.2.2 error, e.g. invalid_redirect_uri
	Description string
}

func (e *RegistrationError) Error() string {
	msg := fmt.Sprintf("the authorization server refused to register mcpcred as a client (HTTP %d", e.Status)
	if e.Code != "" {
		msg += ", " + ServerText(e.Code)
	}
	if e.Description != "" {
		msg += ": " + ServerText(e.Description)
	}
	return msg + ")"
}

// Register registers a client at endpoint (RFC 7591).
func Register(ctx context.Context, c *http.Client, endpoint string, r *RegistrationRequest) (*Registration, error) {
	if _, err := CheckURL("the registration endpoint", endpoint); err != nil {
		return nil, err
	}
	body, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := HTTPClient(c).Do(req)
	if err != nil {
		return nil, fmt.Errorf("client registration: %w", transportError{err})
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument))
	if err != nil {
		return nil, fmt.Errorf("client registration: %w", err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		e := &RegistrationError{Status: resp.StatusCode}
		var eb struct {
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description"`
		}
		if json.Unmarshal(data, &eb) == nil {
			e.Code, e.Description = eb.Error, eb.ErrorDescription
		}
		return nil, e
	}
	var reg Registration
	if err := json.Unmarshal(data, &reg); err != nil {
		return nil, fmt.Errorf("client registration: the answer is not JSON client information: %w", err)
	}
	if reg.ClientID == "" {
		return nil, fmt.Errorf("client registration: the answer has no client_id")
	}
	if strings.ContainsAny(reg.ClientID+reg.ClientSecret, "\r\n\x00") {
		return nil, fmt.Errorf("client registration: the client_id or client_secret holds a line break or NUL")
	}
	return &reg, nil
}
