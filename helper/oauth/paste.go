package oauth

// Paste-back: the browser runs on another machine, and its redirect to
// http://127.0.0.1:PORT/callback fails to load there. The user pastes the address
// it ended on, or the code alone, on the terminal; the loopback listener keeps
// running meanwhile, so an `ssh -L` forward works too, and the first real answer
// ends the login.

import (
	"bufio"
	"io"
	"net/url"
	"strings"
)

// maxPasted bounds one pasted line.
const maxPasted = 16 << 10

// readPasted reads in line by line until a pasted answer is accepted and ends
// the login, or in ends. A line that is not an answer, or that carries another
// login's state, is said and skipped: the login keeps waiting (for the next line
// or for the browser).
func (l *login) readPasted(cb *callback, in io.Reader) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 4096), maxPasted)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		q, ok := pastedAnswer(line, cb.state, cb.r.Server.Issuer)
		if !ok {
			l.progress("that is neither the address your browser ended on (http://127.0.0.1:…/callback?code=…&state=…) nor a code: paste one of them")
			continue
		}
		if !cb.ownState(q) {
			l.progress("ignored a pasted answer that does not carry this login's state; paste the address of this login's page, or the code alone")
			continue
		}
		if !cb.claim() {
			return
		}
		cb.done <- cb.finish(q)
		return
	}
}

// pastedAnswer reads a pasted line as an authorization response: an address
// with a query (state, iss, code or error, checked as a redirect's are), or
// "code#state" as Claude Code prints it, or a bare code. A bare code carries
// neither state nor iss to check: it is taken as this login's (state), from
// this login's authorization server (iss), and PKCE still binds it to this
// login's verifier.
func pastedAnswer(line, state, issuer string) (url.Values, bool) {
	if strings.Contains(line, "?") || strings.HasPrefix(line, "http://") || strings.HasPrefix(line, "https://") {
		u, err := url.Parse(line)
		if err != nil {
			return nil, false
		}
		q := u.Query()
		if !q.Has("code") && !q.Has("error") {
			return nil, false
		}
		return q, true
	}
	if strings.ContainsAny(line, " \t&=") {
		return nil, false
	}
	code, st, hasState := strings.Cut(line, "#")
	if code == "" {
		return nil, false
	}
	if !hasState {
		st = state
	}
	return url.Values{"code": {code}, "state": {st}, "iss": {issuer}}, true
}
