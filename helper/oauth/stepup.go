package oauth

// Scope step-up and the resource indicator of a login: `login --scope` asks for
// what the stored record holds plus what is asked; --resource and --no-resource
// set the RFC 8707 parameter of every request of the login (and, stored in the
// record, of every refresh).

import (
	"slices"
	"strings"

	"golang.org/x/oauth2"
)

// unionScope is the scopes of held followed by those of asked that held lacks.
func unionScope(held, asked string) string {
	out := strings.Fields(held)
	for _, s := range strings.Fields(asked) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// resource sets r.ResourceParam and returns the option that sends it: none with
// NoResource, the Resource override, else the protected resource metadata's
// resource, verbatim.
func (l *login) resource(r *Result) []oauth2.AuthCodeOption {
	switch {
	case l.o.NoResource:
		r.ResourceParam = ""
		l.progress("not sending a resource indicator (--no-resource)")
		return nil
	case l.o.Resource != "":
		r.ResourceParam = l.o.Resource
	default:
		r.ResourceParam = r.Resource.Metadata.Resource
	}
	return []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("resource", r.ResourceParam)}
}
