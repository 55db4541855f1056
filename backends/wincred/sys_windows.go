//go:build windows

package wincred

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	wc "github.com/danieljoos/wincred"
	"github.com/mcpcred/mcpcred/backends"
)

// New returns the Windows Credential Manager keyring. It contacts nothing until
// the first call.
func New(opts backends.Options) *Keyring {
	return newKeyring(sysStore{}, opts)
}

// errNoLogonSession is ERROR_NO_SUCH_LOGON_SESSION: the process's logon (a
// service, or some network logons such as SSH with a password-less key) has no
// credential vault.
const errNoLogonSession = syscall.Errno(1312)

// sysStore is the real Credential Manager.
type sysStore struct{}

func mapErr(err error) error {
	switch {
	case errors.Is(err, wc.ErrElementNotFound):
		return errNoCred
	case errors.Is(err, errNoLogonSession):
		return fmt.Errorf("%w: this logon session has no credential vault (a service or network logon): %w", backends.ErrUnavailable, err)
	}
	return err
}

func (sysStore) read(target string) (*cred, error) {
	g, err := wc.GetGenericCredential(target)
	if err != nil {
		return nil, mapErr(err)
	}
	return &cred{Target: g.TargetName, User: g.UserName, Comment: g.Comment, Blob: g.CredentialBlob}, nil
}

func (sysStore) write(c *cred) error {
	g := wc.NewGenericCredential(c.Target)
	g.UserName = c.User
	g.Comment = c.Comment
	g.CredentialBlob = c.Blob
	g.Persist = wc.PersistEnterprise // as keyring-rs
	err := g.Write()
	if errors.Is(err, wc.ErrElementNotFound) {
		// Not "absent": Wine says so for target names over 247 characters.
		return err
	}
	return mapErr(err)
}

func (sysStore) remove(target string) error {
	return mapErr(wc.NewGenericCredential(target).Delete())
}

func (sysStore) enum(prefix string) ([]*cred, error) {
	var (
		list []*wc.Credential
		err  error
	)
	// CredEnumerate's filter is a prefix and a final '*'; a '*' inside the prefix
	// has no documented meaning, so such a prefix lists everything.
	if prefix == "" || strings.ContainsAny(prefix, "*?") {
		list, err = wc.List()
	} else {
		list, err = wc.FilteredList(prefix + "*")
	}
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]*cred, 0, len(list))
	for _, g := range list {
		if g == nil {
			continue
		}
		out = append(out, &cred{Target: g.TargetName, User: g.UserName, Comment: g.Comment, Blob: g.CredentialBlob})
	}
	return out, nil
}
