package helper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/mcpcred/mcpcred/protocol"
)

// Format is the wire format of requests and responses (package protocol's).
type Format = protocol.Format

// The two wire formats.
const (
	KV   = protocol.KV
	JSON = protocol.JSON
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) { return protocol.ParseFormat(s) }

// Serve answers one request verb: it reads the request from in (nil: an empty
// request), acts, and writes the response to out. The response is built whole
// before any of it is written, so a failure prints nothing on out. Errors for which
// IsBadRequest is true are the caller's (exit status 2).
func (h *Helper) Serve(ctx context.Context, verb string, in io.Reader, out io.Writer, format Format) error {
	req := protocol.NewMessage()
	if in != nil {
		var err error
		if req, err = format.Read(in); err != nil {
			return err
		}
	}
	var resp []*protocol.Message
	var err error
	switch verb {
	case "get":
		var m *protocol.Message
		m, err = h.get(ctx, req)
		if m != nil {
			resp = append(resp, m)
		}
	case "store":
		err = h.store(ctx, req)
	case "erase":
		err = h.erase(ctx, req)
	case "list":
		resp, err = h.list(ctx)
	default:
		return fmt.Errorf("%q is not a request verb", verb)
	}
	if err != nil {
		return err
	}
	if err := format.Write(out, resp...); err != nil {
		if errors.Is(err, protocol.ErrUnwritable) {
			return fmt.Errorf("the stored record holds a value mcpcred will not print (%v); erase it and store it again", err)
		}
		return err
	}
	return nil
}

func isToken(req *protocol.Message) bool {
	_, ok := req.Get("server_name")
	return ok
}

func (h *Helper) get(ctx context.Context, req *protocol.Message) (*protocol.Message, error) {
	if !isToken(req) {
		return h.gitGet(ctx, req)
	}
	name, url, err := identity(req)
	if err != nil {
		return nil, err
	}
	t, err := h.ReadToken(ctx, name, url, false) // refresh on read: refresh.go
	if err != nil || t == nil {
		return nil, err
	}
	return t.message(), nil
}

func (h *Helper) store(ctx context.Context, req *protocol.Message) error {
	if !isToken(req) {
		return h.gitStore(ctx, req)
	}
	t, err := tokenFromStore(req, h.now())
	if err != nil {
		return err
	}
	_, err = h.SaveToken(ctx, t)
	return err
}

func (h *Helper) erase(ctx context.Context, req *protocol.Message) error {
	if !isToken(req) {
		return h.gitErase(ctx, req)
	}
	name, url, err := identity(req)
	if err != nil {
		return err
	}
	_, err = h.DeleteToken(ctx, name, url)
	return err
}

func (h *Helper) list(ctx context.Context) ([]*protocol.Message, error) {
	tokens, err := h.ListTokens(ctx)
	if err != nil {
		return nil, err
	}
	var out []*protocol.Message
	for _, t := range tokens {
		m := protocol.NewMessage()
		m.Set("server_name", t.ServerName)
		m.Set("url", t.URL)
		if !t.Expiry.IsZero() {
			m.Set("expires_at", strconv.FormatInt(t.Expiry.Unix(), 10))
		}
		m.Set("store", t.Where)
		out = append(out, m)
	}
	git, err := h.gitList(ctx)
	return append(out, git...), err
}
