package oauth

// Where the browser's redirect comes back: the loopback listener and the
// redirect URI. By default three ports derived from the issuer (login.go's
// CallbackPorts); --callback-port fixes the port, for an `ssh -L` forward;
// --callback-url fixes the redirect URI, for a client registered with exactly
// one (Codex's mcp_oauth_callback_port and mcp_oauth_callback_url).

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// redirectTarget is the listener and the redirect URI of one login.
type redirectTarget struct {
	ln net.Listener
	// uri is the redirect URI sent in the authorization and token requests.
	uri string
	// registerURIs is what a new registration lists.
	registerURIs []string
	// reuseOK: a stored registration (made for the derived ports) holds uri.
	reuseOK bool
	// path is uri's path, served as the callback.
	path string
	// listening is host:port of the listener, for the user.
	listening string
}

// handler serves cb at the redirect URI's path: the callback handler answers
// CallbackPath, so a --callback-url with another path is mapped onto it.
func (rt *redirectTarget) handler(cb http.Handler) http.Handler {
	if rt.path == CallbackPath {
		return cb
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case rt.path:
			req.URL.Path = CallbackPath
		case CallbackPath:
			req.URL.Path = "/" // not this login's redirect URI: 404
		}
		cb.ServeHTTP(w, req)
	})
}

// CheckCallbackURL checks a --callback-url: an absolute http or https URL, https
// unless its host is loopback (the MCP specification allows only those), without
// a query or fragment; a URL without an explicit port needs port (its
// --callback-port), since the listener cannot guess it. It returns the port the
// listener binds on 127.0.0.1.
func CheckCallbackURL(raw string, port int) (int, error) {
	u, err := CheckURL("the --callback-url", raw)
	if err != nil {
		return 0, err
	}
	if u.RawQuery != "" {
		return 0, refuse("the --callback-url %q has a query: a redirect URI gets the answer in its query", raw)
	}
	up := 0
	if p := u.Port(); p != "" {
		if up, err = strconv.Atoi(p); err != nil || up <= 0 || up > 65535 {
			return 0, refuse("the --callback-url %q has a bad port", raw)
		}
	}
	loopback := IsLoopbackHost(u.Hostname())
	switch {
	case port != 0 && loopback && up != 0 && up != port:
		return 0, refuse("the --callback-url %q is on port %d, not on --callback-port %d", raw, up, port)
	case port != 0:
		return port, nil
	case loopback && up != 0:
		return up, nil
	case loopback:
		return 0, refuse("the --callback-url %q names no port: add one, or pass --callback-port", raw)
	}
	// Another host (a proxy or tunnel that forwards to this machine): the
	// listener stays on 127.0.0.1 and its port must be said, not guessed from the
	// public URL's.
	return 0, refuse("the --callback-url %q is not on this machine: pass --callback-port N, the port on 127.0.0.1 its forward reaches (mcpcred listens only on 127.0.0.1)", raw)
}

// redirect sets up the listener and redirect URI for this login.
func (l *login) redirect(issuer string) (*redirectTarget, error) {
	o := l.o
	rt := &redirectTarget{path: CallbackPath}
	switch {
	case o.CallbackURL != "":
		port, err := CheckCallbackURL(o.CallbackURL, o.CallbackPort)
		if err != nil {
			return nil, err
		}
		if rt.ln, err = listenPort(port); err != nil {
			return nil, err
		}
		u, _ := url.Parse(o.CallbackURL)
		rt.uri, rt.registerURIs = o.CallbackURL, []string{o.CallbackURL}
		if rt.path = u.EscapedPath(); rt.path == "" {
			rt.path = "/"
		}
		if !IsLoopbackHost(u.Hostname()) {
			l.progress("the redirect goes to %s; listening for it on 127.0.0.1:%d only: forward it there", o.CallbackURL, port)
		}
	case o.CallbackPort != 0:
		ln, err := listenPort(o.CallbackPort)
		if err != nil {
			return nil, err
		}
		rt.ln, rt.uri = ln, loopbackURI(o.CallbackPort)
		rt.registerURIs = []string{rt.uri}
		// A registration made by an earlier login lists the derived ports.
		rt.reuseOK = slices.Contains(o.callbackPorts(issuer), o.CallbackPort)
	default:
		ports := o.callbackPorts(issuer)
		ln, onCandidate, err := listenLoopback(ports)
		if err != nil {
			return nil, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		rt.ln, rt.uri, rt.reuseOK = ln, loopbackURI(port), onCandidate
		rt.registerURIs = []string{rt.uri}
		if onCandidate {
			rt.registerURIs = rt.registerURIs[:0]
			for _, p := range ports {
				rt.registerURIs = append(rt.registerURIs, loopbackURI(p))
			}
		}
	}
	rt.listening = rt.ln.Addr().String()
	return rt, nil
}

// callbackPorts are the ports to try: CallbackPorts, else those derived from
// the issuer.
func (o *LoginOptions) callbackPorts(issuer string) []int {
	if o.CallbackPorts != nil {
		return o.CallbackPorts
	}
	return CallbackPorts(issuer)
}

// listenPort listens on 127.0.0.1:port, and only there.
func listenPort(port int) (net.Listener, error) {
	ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, fmt.Errorf("cannot listen on 127.0.0.1:%d for the browser's redirect: %w", port, err)
	}
	return ln, nil
}
