package oauth

// Client ID Metadata Documents (MCP 2026-07-28; draft-ietf-oauth-client-id-metadata-document):
// with --client-metadata-url, the client_id is an https URL, hosted by the user
// or their organisation, whose JSON document describes the client; the
// authorization server fetches it instead of registering a client. The
// specification's order: a pre-registered client, then this, then dynamic
// registration.

import (
	"context"
	"net/url"
	"strconv"
)

// ClientMetadata is what mcpcred reads of a client ID metadata document.
type ClientMetadata struct {
	ClientID     string   `json:"client_id"`
	ClientName   string   `json:"client_name,omitempty"`
	RedirectURIs []string `json:"redirect_uris"`
}

// CheckClientMetadataURL checks a --client-metadata-url: an https URL (http only
// on loopback, for tests) with a path, no query and no fragment.
func CheckClientMetadataURL(raw string) error {
	u, err := CheckURL("the --client-metadata-url", raw)
	if err != nil {
		return err
	}
	if u.Path == "" || u.Path == "/" || u.RawQuery != "" {
		return refuse("the --client-metadata-url %q must have a path and no query: it is the client_id", raw)
	}
	return nil
}

// fetchClientMetadata reads the document at u, through HTTPClient like every
// request of a login, and checks it the way the authorization server will: its client_id is u exactly, and its redirect URIs
// are loopback ones, since mcpcred listens on this machine.
func (l *login) fetchClientMetadata(ctx context.Context, u string) (*ClientMetadata, error) {
	if err := CheckClientMetadataURL(u); err != nil {
		return nil, err
	}
	var doc ClientMetadata
	status, err := getJSON(ctx, HTTPClient(l.c), u, &doc)
	if err != nil {
		return nil, refuse("the client metadata document %s cannot be read: %v", u, err)
	}
	if status != 200 {
		return nil, refuse("the client metadata document %s answered HTTP %d", u, status)
	}
	if doc.ClientID != u {
		return nil, refuse("the client metadata document %s names client_id %s: it must be its own URL", u, quote(doc.ClientID))
	}
	if len(doc.RedirectURIs) == 0 {
		return nil, refuse("the client metadata document %s lists no redirect_uris", u)
	}
	for _, ru := range doc.RedirectURIs {
		p, err := url.Parse(ru)
		if err != nil || p.Scheme != "http" || !IsLoopbackHost(p.Hostname()) {
			return nil, refuse("the client metadata document %s lists the redirect URI %s: mcpcred needs loopback ones (http://127.0.0.1:PORT/callback)", u, quote(ru))
		}
	}
	return &doc, nil
}

// useClientMetadata decides whether this login's client is the metadata
// document's, and if so fixes the redirect to one the document lists: its
// first URI with a port (the server may compare them exactly), unless the
// document lists one without a port (any port then, RFC 8252 section 7.3) or
// --callback-port / --callback-url chose already.
func (l *login) useClientMetadata(ctx context.Context, md *ServerMetadata) error {
	o := l.o
	if o.ClientMetadataURL == "" || o.ClientID != "" {
		return nil
	}
	if !md.ClientIDMetadataDocumentSupported {
		l.progress("%s does not accept client ID metadata documents (client_id_metadata_document_supported): not using --client-metadata-url", md.Issuer)
		return nil
	}
	doc, err := l.fetchClientMetadata(ctx, o.ClientMetadataURL)
	if err != nil {
		return err
	}
	l.cimd = doc.ClientID
	l.progress("using the client described at %s", doc.ClientID)
	if o.CallbackPort != 0 || o.CallbackURL != "" {
		return nil
	}
	var withPort string
	for _, ru := range doc.RedirectURIs {
		p, _ := url.Parse(ru)
		if p.Port() == "" {
			return nil
		}
		if withPort == "" {
			withPort = ru
		}
	}
	p, _ := url.Parse(withPort)
	port, _ := strconv.Atoi(p.Port())
	if _, err := CheckCallbackURL(withPort, port); err != nil {
		return err
	}
	o.CallbackURL, o.CallbackPort = withPort, port
	return nil
}
