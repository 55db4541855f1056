package helper

// Which record a login, logout or headers call means when the user named only
// the MCP server's URL (docs/oauth.md).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/mcpcred/mcpcred/backends"
)

// StoredName is the server name of the one record stored for serverURL: "" when
// there is none, a bad-request error when there are several. A store that cannot
// be listed counts as holding none: login and logout then act on the default name.
func (h *Helper) StoredName(ctx context.Context, serverURL string) (string, error) {
	names, _ := h.ServerNames(ctx, serverURL)
	switch len(names) {
	case 0:
		return "", nil
	case 1:
		return names[0], nil
	}
	return "", badRequest("several records are stored for %s (servers %s): pass --server NAME", serverURL, strings.Join(names, ", "))
}

// HeaderToken reads, refreshing it if due, the token of the server called name,
// else label (Claude Code's CLAUDE_CODE_MCP_SERVER_NAME), else the one record
// stored for url. A label with no record falls back to that one record too: it is
// the tool's name for the server, which need not be the name the login stored.
// Each record is read once; the names stored for url come from the store keys,
// without reading any record. It returns the name used and the token (nil when
// there is none).
func (h *Helper) HeaderToken(ctx context.Context, url, name, label string, force bool) (string, *Token, error) {
	if name != "" {
		t, err := h.ReadToken(ctx, name, url, force)
		return name, t, err
	}
	if label != "" {
		if t, err := h.ReadToken(ctx, label, url, force); err != nil || t != nil {
			return label, t, err
		}
	}
	names, err := h.ServerNames(ctx, url)
	switch {
	case err != nil:
		return "", nil, err
	case len(names) > 1:
		return "", nil, badRequest("%d records are stored for %s (%s): say which with --server NAME", len(names), url, strings.Join(names, ", "))
	case len(names) == 1 && names[0] != label:
		t, err := h.ReadToken(ctx, names[0], url, force)
		return names[0], t, err
	case label != "":
		return label, nil, nil
	}
	return DefaultServerName(url), nil, nil
}

// NoToken explains an absent record as a *LoginRequiredError, naming a keyring
// that could not be asked (in auto mode the record may be there).
func (h *Helper) NoToken(ctx context.Context, name, url string) error {
	reason := fmt.Sprintf("no token is stored for %s (%s)", name, url)
	if h.Mode == Auto {
		// Through the memo: a keyring remembered not to answer is named, not
		// waited for a second time.
		_, err := h.stores().keyring.loadToken(ctx, StoreKey(name, url))
		if errors.Is(err, backends.ErrUnavailable) && !errors.Is(err, backends.ErrNoKeyring) {
			reason += fmt.Sprintf(" in the file store, and the keyring could not be asked (%s)", oneLine(err))
		}
	}
	return h.loginRequired(name, url, "%s", reason)
}

// DefaultServerName derives a readable server name from the URL's host, for
// records stored without --server: the host's most specific label that is not a
// generic one (mcp, api, www, ...) nor the top-level domain, so mcp.linear.app is
// "linear" and api.githubcopilot.com is "githubcopilot"; an IP address or a
// one-label host keeps its port: "localhost-8080" (any loopback address too),
// "10-0-0-5-3000".
// Only letters, digits, '-' and '_' remain, as Codex's server names allow.
func DefaultServerName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "mcp"
	}
	host := strings.ToLower(u.Hostname())
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	var name string
	if ip := net.ParseIP(host); ip != nil || len(labels) < 2 {
		name = host
		if ip != nil && ip.IsLoopback() {
			name = "localhost"
		}
		if p := u.Port(); p != "" {
			name += "-" + p
		}
	} else {
		generic := map[string]bool{"mcp": true, "api": true, "www": true, "app": true, "server": true, "remote": true, "gateway": true}
		rest := labels[:len(labels)-1]
		name = rest[len(rest)-1]
		for _, l := range rest {
			if !generic[l] {
				name = l
				break
			}
		}
	}
	var b strings.Builder
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-':
			b.WriteRune(c)
		case c >= 'A' && c <= 'Z':
			b.WriteRune(c + 'a' - 'A')
		default:
			b.WriteByte('-')
		}
	}
	if s := strings.Trim(b.String(), "-"); s != "" {
		return s
	}
	return "mcp"
}
