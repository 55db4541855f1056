package oauth

// The device authorization grant (RFC 8628) for `mcpcred login --device`: no
// browser and no redirect on this machine. mcpcred prints a verification URI and
// a user code, the user approves on any device, and mcpcred polls the token
// endpoint at the server's interval (5 s when it names none), 5 s slower after
// each slow_down, until the tokens arrive, the code expires or the login's
// deadline passes.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"
)

// DeviceGrantType is RFC 8628's grant type.
const DeviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// ErrDeviceCodeExpired: the user code expired before the user approved it.
var ErrDeviceCodeExpired = errors.New("the device code expired before the login was approved: run the login again for a new code")

// device runs the device grant for r (its Server, scope and resource set).
func (l *login) device(ctx context.Context, r *Result, resource []oauth2.AuthCodeOption) error {
	md := r.Server
	if md.DeviceAuthorizationEndpoint == "" {
		return refuse("the authorization server %s offers no device authorization (its metadata has no device_authorization_endpoint): log in with a browser instead, on another machine if need be (see --no-browser)", md.Issuer)
	}
	// A new registration also gets the code flow and the loopback redirect URIs,
	// so that the stored client serves a later browser login as well.
	uris := make([]string, 0, 3)
	for _, p := range l.o.callbackPorts(md.Issuer) {
		uris = append(uris, loopbackURI(p))
	}
	grants := []string{DeviceGrantType}
	if err := l.client(ctx, r, uris, true, grants); err != nil {
		return timeoutOr(ctx, err)
	}
	cfg := l.config(r, "")
	cfg.Endpoint.DeviceAuthURL = md.DeviceAuthorizationEndpoint
	da, err := l.deviceAuth(ctx, cfg, resource)
	if errors.Is(err, ErrClientRejected) && !r.Registered && r.Client.ClientID != l.o.ClientID {
		// A client stored by a browser login has no device grant: register one.
		l.progress("the stored client registration may not use the device grant: registering anew")
		saved := l.o.Previous
		l.o.Previous = nil
		err = l.client(ctx, r, uris, true, grants)
		l.o.Previous = saved
		if err == nil {
			cfg = l.config(r, "")
			cfg.Endpoint.DeviceAuthURL = md.DeviceAuthorizationEndpoint
			da, err = l.deviceAuth(ctx, cfg, resource)
		}
	}
	if err != nil {
		return timeoutOr(ctx, err)
	}

	if da.VerificationURIComplete != "" {
		l.progress("to log in, open %s on any device (or open %s and enter the code %s)", da.VerificationURIComplete, da.VerificationURI, da.UserCode)
	} else {
		l.progress("to log in, open %s on any device and enter the code %s", da.VerificationURI, da.UserCode)
	}
	wait := "waiting for you to approve"
	if !da.Expiry.IsZero() {
		wait += fmt.Sprintf(" (the code expires in %s)", time.Until(da.Expiry).Round(time.Second))
	}
	l.progress("%s", wait)

	err = l.exchange(ctx, r, "the device login did not succeed", func(hctx context.Context) (*oauth2.Token, error) {
		tok, err := cfg.DeviceAccessToken(hctx, da, resource...)
		if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			// DeviceAccessToken's own deadline is the code's expiry.
			return nil, ErrDeviceCodeExpired
		}
		return tok, err
	})
	var oe *Error
	switch {
	case errors.Is(err, ErrDeviceCodeExpired):
		return ErrDeviceCodeExpired
	case errors.As(err, &oe) && oe.Code == "expired_token":
		return ErrDeviceCodeExpired
	case errors.As(err, &oe) && oe.Code == "access_denied":
		return &AuthorizationError{Code: "access_denied"}
	}
	return err
}

// deviceAuth asks for a device code and user code (RFC 8628 section 3.1) and
// checks the answer.
func (l *login) deviceAuth(ctx context.Context, cfg *oauth2.Config, resource []oauth2.AuthCodeOption) (*oauth2.DeviceAuthResponse, error) {
	hctx := context.WithValue(ctx, oauth2.HTTPClient, HTTPClient(l.c))
	da, err := cfg.DeviceAuth(hctx, resource...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		e := Classify(hctx, err, cfg.Endpoint.DeviceAuthURL)
		e.Name = "device authorization endpoint"
		if e.Kind == InvalidClient {
			return nil, fmt.Errorf("%w: %w", ErrClientRejected, e)
		}
		return nil, fmt.Errorf("no device code: %w", e)
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, refuse("the device authorization endpoint %s answered without a device_code, user_code or verification_uri", cfg.Endpoint.DeviceAuthURL)
	}
	if da.UserCode != ServerText(da.UserCode) {
		// The user types it as shown: one ServerText would change (escape or cut)
		// is no code to show.
		return nil, refuse("the device authorization endpoint %s answered with a user_code that is unprintable or over %d bytes", cfg.Endpoint.DeviceAuthURL, MaxServerText)
	}
	for _, u := range []string{da.VerificationURI, da.VerificationURIComplete} {
		if u == "" {
			continue
		}
		if _, err := CheckURL("the verification URI", u); err != nil {
			return nil, err
		}
	}
	return da, nil
}
