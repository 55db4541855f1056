//go:build darwin && cgo

package keychain

// Git credentials in the layout of git-credential-osxkeychain (git's contrib
// helper), so that either program finds what the other stored.
//
// A password credential is an internet password (kSecClassInternetPassword) with
// kSecAttrServer = the host without its port, kSecAttrPort = the port (none: 0),
// kSecAttrAccount = the username, kSecAttrPath = the path, kSecAttrProtocol =
// osxkeychain's code for the protocol (gitProtocols: https, http, ftp, ftps,
// imap, imaps, smtp; osxkeychain handles no other protocol, so neither does this
// layout) and kSecAttrAuthenticationType = kSecAttrAuthenticationTypeDefault
// ("dflt"). The data is the password, then "\npassword_expiry_utc=N" and
// "\noauth_refresh_token=T" when set (osxkeychain's get prints the data after
// "password=", so these become lines of its answer). Items mcpcred adds also
// carry the comment gitComment and are not synchronizable.
//
// The Keychain cannot tell an empty attribute from a missing one (an item without
// a path has an empty path), so a credential read back has a path only when it is
// not empty, and a password credential always has a username, possibly empty, as
// osxkeychain answers "username=" for an item without an account.
//
// An authtype credential (git 2.46), which osxkeychain cannot hold, is an item
// with the same attributes except kSecAttrAuthenticationType =
// kSecAttrAuthenticationTypeDPA ("dpaa") and the comment gitAuthTypeComment.
// git-credential-osxkeychain puts the default type in every search, store and
// erase, so it never finds, replaces or erases these items, and never takes their
// data for a password. DPA (MSN's Distributed Password Authentication) is a
// scheme nothing uses any more, unlike the basic, digest, form and NTLM types, so
// no other program should take these items for its own either; it has to be one
// of the types the Security framework knows (it stores an unknown one as "any").
// Searches for these items also require the comment, so another program's DPA
// items are never read. The data is the credential, then "\nauthtype=A" and the
// same optional lines; the label names the authtype.
//
// Identity. git-credential-osxkeychain leaves out of its queries what git did not
// give, so a search for "example.com" also finds the item of example.com:8443;
// and SecItemUpdate and SecItemDelete act on every item a query matches. mcpcred
// addresses one item at a time: a search lists attributes only (which never
// prompts), the caller's identity rules pick the candidates, and each candidate's
// data is read, updated or deleted through a query that holds the item's whole
// primary key (server, port, account, path, protocol, authentication type, and an
// empty security domain, which osxkeychain never sets). go-keychain v0.0.1 cannot
// put an empty string or a zero port into a query (its setters drop them, which
// would match any value), so setRaw writes them into the Item's attribute map.
//
// Access. An item's access list trusts the program that created it: mcpcred's
// first read of an item osxkeychain stored (and the reverse) shows a Keychain
// dialog, which "Always Allow" ends. A denied or unanswered dialog is an error
// (ErrLocked, ErrUnavailable), never a silent miss.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	kc "github.com/keybase/go-keychain"
	"github.com/mcpcred/mcpcred/backends"
)

// gitProtocols maps the protocols git-credential-osxkeychain handles to their
// kSecAttrProtocol values (kSecAttrProtocolHTTPS is the CFString "htps", and so
// on; the Security framework compares them by value). For any other protocol
// osxkeychain exits without a word.
var gitProtocols = map[string]string{
	"https": "htps",
	"http":  "http",
	"ftp":   "ftp ",
	"ftps":  "ftps",
	"imap":  "imap",
	"imaps": "imps",
	"smtp":  "smtp",
}

// gitProtocolNames is gitProtocols reversed.
var gitProtocolNames = func() map[string]string {
	m := map[string]string{}
	for name, code := range gitProtocols {
		m[code] = name
	}
	return m
}()

const (
	// authTypeDefault is kSecAttrAuthenticationTypeDefault: git-credential-osxkeychain's items.
	authTypeDefault = "dflt"
	// authTypeGitAuthType is kSecAttrAuthenticationTypeDPA: mcpcred's authtype items.
	authTypeGitAuthType = "dpaa"
	// securityDomainKey is kSecAttrSecurityDomain, which go-keychain does not name.
	securityDomainKey = "sdmn"

	// gitComment is the comment of the password items mcpcred adds.
	gitComment = "saved by mcpcred (git-credential-osxkeychain layout)"
	// gitAuthTypeComment marks mcpcred's authtype items; searches require it.
	// Never change it: items already stored would no longer be found.
	gitAuthTypeComment = "mcpcred git authtype credential (not a password)"
)

var _ backends.GitKeyring = (*Keyring)(nil)

// rawItem has the layout of go-keychain v0.0.1's Item, struct{ attr
// map[string]interface{} }. setRaw uses it to set what the setters drop.
type rawItem struct{ attr map[string]any }

// This fails to compile if kc.Item and rawItem differ in size.
var _ = [1]struct{}{}[unsafe.Sizeof(kc.Item{})-unsafe.Sizeof(rawItem{})]

// rawOK reports whether rawItem really is kc.Item's layout: a value set through
// a go-keychain setter must be the only entry of the map seen through rawItem.
var rawOK = sync.OnceValue(func() bool {
	it := kc.NewItem()
	it.SetString("mcpcred-layout-probe", "x")
	m := (*rawItem)(unsafe.Pointer(&it)).attr
	v, ok := m["mcpcred-layout-probe"]
	return ok && len(m) == 1 && v == "x"
})

// setRaw sets key to v (a string or an int32, as go-keychain converts them) in
// its attribute map, including the "" and 0 its setters leave out.
func setRaw(it *kc.Item, key string, v any) error {
	if !rawOK() {
		return errors.New("keychain: git credentials: go-keychain's Item is not laid out as this build of mcpcred expects")
	}
	(*rawItem)(unsafe.Pointer(it)).attr[key] = v
	return nil
}

// setExact makes a query require attribute key to equal v, "" included.
func setExact(it *kc.Item, key, v string) error {
	if v != "" {
		it.SetString(key, v)
		return nil
	}
	return setRaw(it, key, "")
}

// setExactPort makes a query require the port to equal port, 0 (none) included.
func setExactPort(it *kc.Item, port int32) error {
	if port != 0 {
		it.SetPort(port)
		return nil
	}
	return setRaw(it, kc.PortKey, int32(0))
}

// splitGitHost splits host into the server and port attributes. The port is what
// follows the last ":" when that is a decimal number from 1 to 65535 and what
// precedes it has no other ":" (or is a bracketed IPv6 address); otherwise the
// whole host is the server and the port is 0. git-credential-osxkeychain splits
// at the first ":" instead, which gives the same result for every host name with
// or without a port.
func splitGitHost(host string) (server string, port int32) {
	i := strings.LastIndexByte(host, ':')
	if i < 0 {
		return host, 0
	}
	name, p := host[:i], host[i+1:]
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != p {
		return host, 0
	}
	if strings.IndexByte(name, ':') >= 0 && !(strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]")) {
		return host, 0
	}
	return name, int32(n)
}

// gitItem is the primary key of a git item, as stored. Its JSON form is the
// GitCredential's ID.
type gitItem struct {
	AuthType bool   `json:"authtype,omitempty"` // an authtype item (DPA), else a password item
	Protocol string `json:"protocol"`           // the kSecAttrProtocol value, "htps"
	Server   string `json:"server"`
	Port     int32  `json:"port,omitempty"`
	Account  string `json:"account,omitempty"`
	Path     string `json:"path,omitempty"`
}

func (g *gitItem) id() string {
	b, _ := json.Marshal(g) // cannot fail: strings and numbers only
	return string(b)
}

func parseGitID(id string) (gitItem, error) {
	var g gitItem
	if err := json.Unmarshal([]byte(id), &g); err != nil || gitProtocolNames[g.Protocol] == "" {
		return g, errors.New("keychain: not the ID of a git credential of the Keychain")
	}
	return g, nil
}

// gitItemOf is c's primary key; it fails for a protocol osxkeychain does not
// handle. The message names no value.
func gitItemOf(c *backends.GitCredential) (gitItem, error) {
	code, ok := gitProtocols[c.Protocol]
	if !ok {
		return gitItem{}, fmt.Errorf("keychain: git-credential-osxkeychain's layout holds only the protocols https, http, ftp, ftps, imap, imaps and smtp: %w", errors.ErrUnsupported)
	}
	server, port := splitGitHost(c.Host)
	return gitItem{AuthType: c.AuthType != "", Protocol: code, Server: server, Port: port, Account: c.Username, Path: c.Path}, nil
}

// setKind sets the class, authentication type and (for authtype items) the
// marking comment: what every query for items of g's kind holds.
func setKind(it *kc.Item, authType bool) {
	it.SetSecClass(kc.SecClassInternetPassword)
	if authType {
		it.SetAuthenticationType(authTypeGitAuthType)
		it.SetComment(gitAuthTypeComment)
	} else {
		it.SetAuthenticationType(authTypeDefault)
	}
}

// query matches g's item and no other: every attribute of the primary key is in
// it, empty or zero ones too.
func (g *gitItem) query() (kc.Item, error) {
	q := kc.NewItem()
	setKind(&q, g.AuthType)
	q.SetProtocol(g.Protocol)
	for _, a := range [...]struct{ key, v string }{
		{kc.ServerKey, g.Server}, {kc.AccountKey, g.Account}, {kc.PathKey, g.Path}, {securityDomainKey, ""},
	} {
		if err := setExact(&q, a.key, a.v); err != nil {
			return q, err
		}
	}
	return q, setExactPort(&q, g.Port)
}

// gitSearchQuery lists the attributes of the items of one kind that q's fields
// select (those q has, exactly); ok is false when q's protocol is one no item
// can have.
func gitSearchQuery(q backends.GitQuery, authType bool) (it kc.Item, ok bool, err error) {
	it = kc.NewItem()
	setKind(&it, authType)
	if q.HasProtocol {
		code, ok := gitProtocols[q.Protocol]
		if !ok {
			return it, false, nil
		}
		it.SetProtocol(code)
	}
	if err := setExact(&it, securityDomainKey, ""); err != nil {
		return it, false, err
	}
	if q.HasHost {
		server, port := splitGitHost(q.Host)
		if err := setExact(&it, kc.ServerKey, server); err != nil {
			return it, false, err
		}
		if err := setExactPort(&it, port); err != nil {
			return it, false, err
		}
	}
	if q.HasUser {
		if err := setExact(&it, kc.AccountKey, q.Username); err != nil {
			return it, false, err
		}
	}
	if q.HasPath {
		if err := setExact(&it, kc.PathKey, q.Path); err != nil {
			return it, false, err
		}
	}
	it.SetMatchLimit(matchAll)
	it.SetReturnAttributes(true)
	return it, true, nil
}

// parseGitAttrs reads an item's attributes as a git credential without its
// secret; ok is false for an item that is not one (another protocol or type, an
// authtype item without the comment, a port out of range).
func parseGitAttrs(r *kc.QueryResult, authType bool) (g gitItem, c backends.GitCredential, ok bool) {
	proto, ok := gitProtocolNames[r.Protocol]
	switch {
	case !ok, r.Port < 0 || r.Port > 65535:
		return g, c, false
	case authType && (r.AuthenticationType != authTypeGitAuthType || r.Comment != gitAuthTypeComment):
		return g, c, false
	case !authType && r.AuthenticationType != authTypeDefault:
		return g, c, false
	}
	g = gitItem{AuthType: authType, Protocol: r.Protocol, Server: r.Server, Port: r.Port, Account: r.Account, Path: r.Path}
	c.ID, c.Protocol, c.Host = g.id(), proto, r.Server
	if r.Port != 0 {
		c.Host += ":" + strconv.Itoa(int(r.Port))
	}
	c.Path, c.HasPath = r.Path, r.Path != ""
	c.Username, c.HasUser = r.Account, !authType || r.Account != ""
	return g, c, true
}

// gitLabel is the label of an authtype item, for Keychain Access.
func gitLabel(c *backends.GitCredential) string {
	return "Git " + c.AuthType + " credential: " + c.Protocol + "://" + c.Host + "/" + c.Path
}

// safely runs f, turning a panic of go-keychain (its attribute conversion asserts
// the port is an int32) into an error. The panic value is not part of it.
func safely[T any](op string, f func() (T, error)) func() (T, error) {
	return func() (v T, err error) {
		defer func() {
			if recover() != nil {
				err = fmt.Errorf("keychain: %s: go-keychain could not convert the Keychain's answer", op)
			}
		}()
		return f()
	}
}

type listedGit struct {
	g gitItem
	c backends.GitCredential // no secret
}

// gitList lists, from attributes only, the git items whose identity q matches:
// password items, then authtype items.
func (k *Keyring) gitList(ctx context.Context, q backends.GitQuery) ([]listedGit, error) {
	var out []listedGit
	for _, authType := range []bool{false, true} {
		res, err := run(k, ctx, "list git credentials", safely("list git credentials", func() ([]kc.QueryResult, error) {
			it, ok, err := gitSearchQuery(q, authType)
			if err != nil || !ok {
				return nil, err
			}
			res, err := kc.QueryItem(it)
			if err != nil {
				return nil, mapErr("list git credentials", err)
			}
			return res, nil
		}))
		if err != nil {
			return nil, err
		}
		for i := range res {
			if g, c, ok := parseGitAttrs(&res[i], authType); ok && q.Matches(&c) {
				out = append(out, listedGit{g, c})
			}
		}
	}
	return out, nil
}

// readGitData reads g's data; an item gone is an error matching ErrNotFound.
func (k *Keyring) readGitData(ctx context.Context, g *gitItem) ([]byte, error) {
	return run(k, ctx, "read git credential", safely("read git credential", func() ([]byte, error) {
		q, err := g.query()
		if err != nil {
			return nil, err
		}
		q.SetMatchLimit(matchOne)
		q.SetReturnData(true)
		res, err := kc.QueryItem(q)
		if err != nil {
			return nil, mapErr("read git credential", err)
		}
		if len(res) == 0 {
			return nil, fmt.Errorf("keychain: git credential: %w", backends.ErrNotFound)
		}
		return res[0].Data, nil
	}))
}

// GitSearch implements backends.GitKeyring. It reads the data of every item
// whose identity q matches (each read may show a Keychain dialog, see the
// comment at the top); items gone meanwhile or whose data does not parse are
// left out.
func (k *Keyring) GitSearch(ctx context.Context, q backends.GitQuery) ([]backends.GitCredential, error) {
	listed, err := k.gitList(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []backends.GitCredential
	for i := range listed {
		l := &listed[i]
		data, err := k.readGitData(ctx, &l.g)
		if errors.Is(err, backends.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		c := l.c
		if c.ApplySecret(strings.Split(string(data), "\n"), l.g.AuthType) {
			out = append(out, c)
		}
	}
	return out, nil
}

// GitStore implements backends.GitKeyring.
func (k *Keyring) GitStore(ctx context.Context, c backends.GitCredential) error {
	return backends.StoreGit(ctx, gitIdentities{k}, c)
}

// gitIdentities is the Keychain's git layout with searches that read no data:
// StoreGit needs only the identities of what a store replaces, and each data
// read may show a Keychain dialog.
type gitIdentities struct{ *Keyring }

func (k gitIdentities) GitSearch(ctx context.Context, q backends.GitQuery) ([]backends.GitCredential, error) {
	listed, err := k.gitList(ctx, q)
	out := make([]backends.GitCredential, len(listed))
	for i := range listed {
		out[i] = listed[i].c
	}
	return out, err
}

// GitPut implements backends.GitLayout. It updates the data of the item with
// c's primary key in place (so its access list, and an "Always Allow", survive),
// or adds it. A protocol osxkeychain does not handle is an error matching
// errors.ErrUnsupported.
func (k *Keyring) GitPut(ctx context.Context, c backends.GitCredential) (string, error) {
	g, err := gitItemOf(&c)
	if err != nil {
		return "", err
	}
	q, err := g.query()
	if err != nil {
		return "", err
	}
	data := c.Secret()
	upd := kc.NewItem()
	upd.SetData(data) // never nil: go-keychain drops nil data
	if g.AuthType {
		upd.SetLabel(gitLabel(&c))
	}
	item := kc.NewItem()
	setKind(&item, g.AuthType)
	item.SetProtocol(g.Protocol)
	item.SetServer(g.Server) // "" and 0 are left out, which the Keychain stores as "" and 0
	item.SetPort(g.Port)
	item.SetAccount(g.Account)
	item.SetPath(g.Path)
	if g.AuthType {
		item.SetLabel(gitLabel(&c))
	} else {
		item.SetComment(gitComment)
	}
	item.SetData(data)
	item.SetSynchronizable(syncNo)
	_, err = run(k, ctx, "write git credential", func() (struct{}, error) {
		err := kc.UpdateItem(q, upd)
		if !errors.Is(err, kc.ErrorItemNotFound) {
			return struct{}{}, err
		}
		err = kc.AddItem(item)
		if errors.Is(err, kc.ErrorDuplicateItem) {
			// Added since our update: update it. Or an item with this primary
			// key that the query does not match: one of another program's with
			// the DPA type but not our comment.
			err = kc.UpdateItem(q, upd)
			if errors.Is(err, kc.ErrorItemNotFound) {
				err = errors.New("an item mcpcred did not write takes this credential's place")
			}
		}
		return struct{}{}, err
	})
	if err != nil {
		if !errors.Is(err, backends.ErrUnavailable) {
			err = mapErr("write git credential", err)
		}
		return "", err
	}
	return g.id(), nil
}

func (k *Keyring) deleteGitItem(ctx context.Context, g *gitItem) error {
	_, err := run(k, ctx, "delete git credential", func() (struct{}, error) {
		q, err := g.query()
		if err != nil {
			return struct{}{}, err
		}
		if err := kc.DeleteItem(q); err != nil {
			return struct{}{}, mapErr("delete git credential", err)
		}
		return struct{}{}, nil
	})
	return err
}

// GitDelete implements backends.GitKeyring: it deletes the one item c.ID names.
func (k *Keyring) GitDelete(ctx context.Context, c backends.GitCredential) error {
	g, err := parseGitID(c.ID)
	if err != nil {
		return err
	}
	return k.deleteGitItem(ctx, &g)
}
