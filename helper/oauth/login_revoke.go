package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Revoke asks the authorization server to revoke token (RFC 7009). hint is
// "refresh_token" or "access_token". A confidential client authenticates with
// HTTP Basic, a public one sends its client_id.
func Revoke(ctx context.Context, c *http.Client, endpoint, clientID, clientSecret, token, hint string) error {
	if _, err := CheckURL("the revocation endpoint", endpoint); err != nil {
		return err
	}
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	if clientSecret == "" {
		form.Set("client_id", clientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if clientSecret != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	}
	resp, err := HTTPClient(c).Do(req)
	if err != nil {
		return transportError{err}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		return fmt.Errorf("HTTP %d, %s", resp.StatusCode, ServerText(e.Error))
	}
	return fmt.Errorf("HTTP %d", resp.StatusCode)
}
