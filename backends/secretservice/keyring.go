//go:build linux || freebsd || openbsd || netbsd || (dragonfly && cgo)

package secretservice

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/mcpcred/mcpcred/backends"
)

// Keyring is a backends.Keyring on the Secret Service. It connects on first use and
// keeps one connection and one session until Close. It is safe for concurrent use.
type Keyring struct {
	cfg Config

	mu     sync.Mutex
	closed bool
	addr   string
	conn   *dbus.Conn
	sess   *session

	// For tests of the retry: decryptFaults makes the next n decryptions fail,
	// sealFaults the next n secrets sent reach the service malformed.
	decryptFaults atomic.Int32
	sealFaults    atomic.Int32
}

// seal encrypts a secret for the service with session s.
func (k *Keyring) seal(s *session, value []byte) (secret, error) {
	sec, err := s.seal(value, ContentType)
	if err == nil && k.sealFaults.Load() > 0 && k.sealFaults.Add(-1) >= 0 && len(sec.Value) > 0 {
		sec.Value = sec.Value[:len(sec.Value)-1]
	}
	return sec, err
}

var _ backends.Keyring = (*Keyring)(nil)

// New returns a Keyring that connects on first use.
func New(cfg Config) *Keyring {
	return &Keyring{cfg: cfg}
}

// Name implements backends.Keyring.
func (k *Keyring) Name() string { return "secret-service" }

func (k *Keyring) promptAllowed() bool { return k.cfg.Prompt != PromptNever }

// timeout is the configured bound of one operation.
func (k *Keyring) timeout() time.Duration {
	if k.cfg.Timeout <= 0 {
		return DefaultTimeout
	}
	return k.cfg.Timeout
}

// deadline bounds ctx by the configured timeout.
func (k *Keyring) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, k.timeout())
}

// state returns the connection and session, connecting and opening them if needed.
func (k *Keyring) state(ctx context.Context) (*dbus.Conn, *session, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil, nil, errors.New("keyring is closed")
	}
	if k.conn != nil && !k.conn.Connected() {
		k.conn, k.sess = nil, nil
	}
	var keyc chan dhResult
	if k.conn == nil {
		addr := k.cfg.Address
		if addr == "" {
			a, err := busAddress()
			if err != nil {
				return nil, nil, err
			}
			addr = a
		}
		k.addr = addr
		// The session key's modexp runs while the connection is made and the owner
		// looked up: one is CPU, the other waiting on the bus.
		keyc = make(chan dhResult, 1)
		go func() { key, err := newDHKey(); keyc <- dhResult{key, err} }()
		c, err := dial(ctx, addr)
		if err != nil {
			return nil, nil, err
		}
		// Ask the bus, not the service, who owns the name (GetNameOwner activates
		// nothing) before the first call to the service: a clear "no owner" error,
		// and the service's first message from us comes a round trip after our
		// Hello. gnome-keyring 42 can abort when short-lived clients follow each
		// other closely (docs/protocol.md); in loops of 20,000 sessions here that
		// happened with and without this call, so it is not a fix, only the
		// conservative order.
		var owner string
		err = c.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetNameOwner", 0, busName).Store(&owner)
		if err != nil {
			c.Close()
			if dbusErrorName(err) == "org.freedesktop.DBus.Error.NameHasNoOwner" {
				return nil, nil, fmt.Errorf("no program owns %s on the bus at %s: %w", busName, addr, backends.ErrUnavailable)
			}
			return nil, nil, wrap("look up "+busName, err)
		}
		k.conn = c
	}
	if k.sess == nil {
		var r dhResult
		if keyc != nil {
			r = <-keyc
		} else {
			r.key, r.err = newDHKey()
		}
		if r.err != nil {
			return nil, nil, r.err
		}
		s, err := openSession(ctx, k.conn, r.key)
		if errors.Is(err, errNoOwner) {
			return nil, nil, fmt.Errorf("no program owns %s on the bus at %s: %w", busName, k.addr, backends.ErrUnavailable)
		}
		if err != nil {
			return nil, nil, err
		}
		k.sess = s
	}
	return k.conn, k.sess, nil
}

// errNoOwner: nothing on the bus owns the Secret Service's name.
var errNoOwner = errors.New("no owner")

type dhResult struct {
	key *dhKey
	err error
}

// openSession opens an encrypted session with key. Every call carries
// NO_AUTO_START: should the service go away after state looked it up, this fails
// at once with ServiceUnknown and nothing is activated.
func openSession(ctx context.Context, c *dbus.Conn, key *dhKey) (*session, error) {
	var out dbus.Variant
	var path dbus.ObjectPath
	err := call(ctx, c, servicePath, ifaceService+".OpenSession", AlgorithmDH, dbus.MakeVariant(key.pub)).Store(&out, &path)
	if err == nil {
		pub, ok := out.Value().([]byte)
		if !ok {
			closeSession(c, path)
			return nil, fmt.Errorf("open session: service public key has type %s: %w", out.Signature(), backends.ErrUnavailable)
		}
		aesKey, err := key.aesKey(pub)
		if err != nil {
			closeSession(c, path)
			return nil, fmt.Errorf("open session: %w: %w", backends.ErrUnavailable, err)
		}
		return &session{path: path, alg: AlgorithmDH, key: aesKey}, nil
	}
	switch dbusErrorName(err) {
	case "org.freedesktop.DBus.Error.NotSupported":
	case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner":
		return nil, errNoOwner
	default:
		return nil, wrap("open session", err)
	}
	err = call(ctx, c, servicePath, ifaceService+".OpenSession", AlgorithmPlain, dbus.MakeVariant("")).Store(&out, &path)
	if err != nil {
		return nil, wrap("open plain session", err)
	}
	return &session{path: path, alg: AlgorithmPlain}, nil
}

// closeSession closes a session without waiting for the reply.
func closeSession(c *dbus.Conn, p dbus.ObjectPath) {
	c.Object(busName, p).Call(ifaceSession+".Close", dbus.FlagNoAutoStart|dbus.FlagNoReplyExpected)
}

// dropSession forgets s (if still current) so that the next call opens a new one.
func (k *Keyring) dropSession(s *session) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sess == s {
		k.sess = nil
		if k.conn != nil {
			closeSession(k.conn, s.path)
		}
	}
}

// sessionBroken reports an error after which a new session should be tried.
func sessionBroken(err error) bool {
	if errors.Is(err, errDecrypt) {
		return true
	}
	switch dbusErrorName(err) {
	case "org.freedesktop.Secret.Error.NoSession",
		// gnome-keyring's answers to a secret it could not decrypt: InvalidArgs from
		// SetSecret, Failed ("Couldn't create item: The secret was transferred or
		// encrypted in an invalid way") from CreateItem. Every call retried is
		// idempotent (CreateItem replaces), so a retry for another cause is harmless.
		"org.freedesktop.DBus.Error.InvalidArgs",
		"org.freedesktop.DBus.Error.Failed":
		return true
	}
	return false
}

// withSession runs f with the current session; if f fails in a way that points at
// the session, it opens a new session and runs f once more.
func (k *Keyring) withSession(ctx context.Context, f func(*dbus.Conn, *session) error) error {
	for attempt := 0; ; attempt++ {
		c, s, err := k.state(ctx)
		if err != nil {
			return err
		}
		err = f(c, s)
		if err == nil || attempt > 0 || !sessionBroken(err) || ctx.Err() != nil {
			return err
		}
		k.dropSession(s)
	}
}

// search runs Service.SearchItems.
func (k *Keyring) search(ctx context.Context, attrs map[string]string) (unlocked, locked []dbus.ObjectPath, err error) {
	c, _, err := k.state(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := call(ctx, c, servicePath, ifaceService+".SearchItems", attrs).Store(&unlocked, &locked); err != nil {
		return nil, nil, wrap("search", err)
	}
	return unlocked, locked, nil
}

// searchUnlocked returns the unlocked items matching attrs. If there are none but
// locked ones match, it unlocks those (when prompting is allowed) or fails with
// backends.ErrLocked.
//
// A search that finds nothing at all is "absent" only when no collection hides its
// items: KeePassXC lists neither the items of a locked database nor any locked
// match, so an empty answer while such a collection is locked (Locked true and no
// Items) means "locked". Those collections are unlocked (a prompt, bounded by the
// deadline) and the search runs again, or the error matches backends.ErrLocked.
func (k *Keyring) searchUnlocked(ctx context.Context, attrs map[string]string) ([]dbus.ObjectPath, error) {
	unlocked, locked, err := k.search(ctx, attrs)
	if err != nil || len(unlocked) > 0 {
		return unlocked, err
	}
	c, _, err := k.state(ctx)
	if err != nil {
		return nil, err
	}
	if len(locked) == 0 {
		hiding, err := hidingCollections(ctx, c)
		if err != nil || len(hiding) == 0 {
			return nil, err
		}
		if err := k.unlock(ctx, c, hiding); err != nil {
			return nil, fmt.Errorf("%s is locked, and a locked collection hides its items: %w",
				strings.Join(pathStrings(hiding), ", "), err)
		}
	} else if err := k.unlock(ctx, c, locked); err != nil {
		return nil, err
	}
	unlocked, _, err = k.search(ctx, attrs)
	return unlocked, err
}

// hidingCollections returns the locked collections that list no items: the ones
// whose items a search cannot see.
func hidingCollections(ctx context.Context, c *dbus.Conn) ([]dbus.ObjectPath, error) {
	var all []dbus.ObjectPath
	if err := getProp(ctx, c, servicePath, ifaceService, "Collections", &all); err != nil {
		return nil, wrap("list collections", err)
	}
	var hiding []dbus.ObjectPath
	for _, coll := range all {
		var locked bool
		if err := getProp(ctx, c, coll, ifaceCollection, "Locked", &locked); err != nil {
			if errors.Is(wrap("", err), backends.ErrNotFound) {
				continue // gone meanwhile
			}
			return nil, wrap("read Locked of "+string(coll), err)
		}
		if !locked {
			continue
		}
		var items []dbus.ObjectPath
		if err := getProp(ctx, c, coll, ifaceCollection, "Items", &items); err != nil && !errors.Is(wrap("", err), backends.ErrNotFound) {
			return nil, wrap("read Items of "+string(coll), err)
		}
		if len(items) == 0 {
			hiding = append(hiding, coll)
		}
	}
	return hiding, nil
}

func pathStrings(ps []dbus.ObjectPath) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

// newestFirst orders items by their Modified property, newest first, and by path
// among equals, so that every reader picks the same one of several duplicates
// (another tool's second item for one key). An item gone meanwhile is left out.
func newestFirst(ctx context.Context, c *dbus.Conn, items []dbus.ObjectPath) ([]dbus.ObjectPath, error) {
	if len(items) < 2 {
		return items, nil
	}
	type aged struct {
		p   dbus.ObjectPath
		mod uint64
	}
	var as []aged
	for _, p := range items {
		var mod uint64
		if err := getProp(ctx, c, p, ifaceItem, "Modified", &mod); err != nil {
			if errors.Is(wrap("", err), backends.ErrNotFound) {
				continue
			}
			return nil, wrap("read Modified", err)
		}
		as = append(as, aged{p, mod})
	}
	slices.SortFunc(as, func(a, b aged) int {
		if a.mod != b.mod {
			if a.mod > b.mod {
				return -1
			}
			return 1
		}
		return strings.Compare(string(a.p), string(b.p))
	})
	out := make([]dbus.ObjectPath, len(as))
	for i, a := range as {
		out[i] = a.p
	}
	return out, nil
}

// findAll returns the unlocked items matching attrs, newest first.
func (k *Keyring) findAll(ctx context.Context, attrs map[string]string) ([]dbus.ObjectPath, error) {
	items, err := k.searchUnlocked(ctx, attrs)
	if err != nil || len(items) < 2 {
		return items, err
	}
	c, _, err := k.state(ctx)
	if err != nil {
		return nil, err
	}
	return newestFirst(ctx, c, items)
}

// findNewest returns the newest unlocked item matching attrs.
func (k *Keyring) findNewest(ctx context.Context, attrs map[string]string) (dbus.ObjectPath, error) {
	items, err := k.findAll(ctx, attrs)
	if err != nil {
		return "", err
	}
	if len(items) == 0 {
		return "", backends.ErrNotFound
	}
	return items[0], nil
}

// deleteAll deletes items, ignoring those already gone.
func (k *Keyring) deleteAll(ctx context.Context, items []dbus.ObjectPath) error {
	for _, item := range items {
		if err := k.deleteItem(ctx, item); err != nil && !errors.Is(err, backends.ErrNotFound) {
			return err
		}
	}
	return nil
}

func (k *Keyring) getSecret(ctx context.Context, item dbus.ObjectPath) (value []byte, contentType string, err error) {
	err = k.withSession(ctx, func(c *dbus.Conn, s *session) error {
		var sec secret
		if err := call(ctx, c, item, ifaceItem+".GetSecret", s.path).Store(&sec); err != nil {
			return err
		}
		if k.decryptFaults.Load() > 0 && k.decryptFaults.Add(-1) >= 0 {
			return errDecrypt
		}
		v, err := s.open(sec)
		if err != nil {
			return err
		}
		value, contentType = v, sec.ContentType
		return nil
	})
	if err != nil {
		return nil, "", wrap("read secret", err)
	}
	return value, contentType, nil
}

func (k *Keyring) setSecret(ctx context.Context, item dbus.ObjectPath, value []byte) error {
	err := k.withSession(ctx, func(c *dbus.Conn, s *session) error {
		sec, err := k.seal(s, value)
		if err != nil {
			return err
		}
		return call(ctx, c, item, ifaceItem+".SetSecret", sec).Err
	})
	return wrap("write secret", err)
}

// defaultCollection returns the collection new items go to.
func (k *Keyring) defaultCollection(ctx context.Context, c *dbus.Conn) (dbus.ObjectPath, error) {
	var p dbus.ObjectPath
	if err := call(ctx, c, servicePath, ifaceService+".ReadAlias", "default").Store(&p); err != nil {
		return "", wrap("read the default alias", err)
	}
	if p != noPath && p != "" {
		return p, nil
	}
	var all []dbus.ObjectPath
	if err := getProp(ctx, c, servicePath, ifaceService, "Collections", &all); err != nil {
		return "", wrap("list collections", err)
	}
	if slices.Contains(all, loginCollection) {
		return loginCollection, nil
	}
	return "", fmt.Errorf("no default collection (and no login collection) to store in: %w", backends.ErrUnavailable)
}

// create makes a new item in the default collection.
func (k *Keyring) create(ctx context.Context, label string, attrs map[string]string, value []byte) (dbus.ObjectPath, error) {
	var item dbus.ObjectPath
	unlocked := false
	err := k.withSession(ctx, func(c *dbus.Conn, s *session) error {
		coll, err := k.defaultCollection(ctx, c)
		if err != nil {
			return err
		}
		props := map[string]dbus.Variant{
			ifaceItem + ".Label":      dbus.MakeVariant(label),
			ifaceItem + ".Attributes": dbus.MakeVariant(attrs),
		}
		for {
			sec, err := k.seal(s, value)
			if err != nil {
				return err
			}
			var prompt dbus.ObjectPath
			// replace=false: the caller has looked for the item already, and the
			// service's replace would overwrite any item whose attributes include
			// these (another port's git credential), and fails on KeePassXC 2.7.4
			// (InvalidArgs, the prompt dismissed). Two racing stores may leave two
			// items; reads take the newest and the next store leaves one.
			err = call(ctx, c, coll, ifaceCollection+".CreateItem", props, sec, false).Store(&item, &prompt)
			if err != nil && dbusErrorName(err) == "org.freedesktop.Secret.Error.IsLocked" && !unlocked {
				if err := k.unlock(ctx, c, []dbus.ObjectPath{coll}); err != nil {
					return err
				}
				unlocked = true
				continue
			}
			if err != nil {
				return err
			}
			if prompt != noPath && prompt != "" {
				v, err := k.runPrompt(ctx, c, prompt)
				if err != nil {
					return err
				}
				if p, ok := v.Value().(dbus.ObjectPath); ok {
					item = p
				}
			}
			return nil
		}
	})
	if err != nil {
		return "", wrap("create item", err)
	}
	return item, nil
}

func (k *Keyring) deleteItem(ctx context.Context, item dbus.ObjectPath) error {
	c, _, err := k.state(ctx)
	if err != nil {
		return err
	}
	var prompt dbus.ObjectPath
	if err := call(ctx, c, item, ifaceItem+".Delete").Store(&prompt); err != nil {
		return wrap("delete item", err)
	}
	if prompt != noPath && prompt != "" {
		if _, err := k.runPrompt(ctx, c, prompt); err != nil {
			return wrap("delete item", err)
		}
	}
	return nil
}

func keyAttrs(service, account string) map[string]string {
	return map[string]string{"service": service, "username": account}
}

// Get implements backends.Keyring.
func (k *Keyring) Get(ctx context.Context, service, account string) (_ []byte, err error) {
	defer public("get", &err)
	ctx, cancel := k.deadline(ctx)
	defer cancel()
	item, err := k.findNewest(ctx, keyAttrs(service, account))
	if err != nil {
		return nil, err
	}
	v, _, err := k.getSecret(ctx, item)
	return v, err
}

// Set implements backends.Keyring.
func (k *Keyring) Set(ctx context.Context, service, account string, value []byte) (err error) {
	defer public("set", &err)
	ctx, cancel := k.deadline(ctx)
	defer cancel()
	items, err := k.findAll(ctx, keyAttrs(service, account))
	if err != nil {
		return err
	}
	if len(items) == 0 {
		_, err = k.create(ctx, account+"@"+service, Attributes(service, account), value)
		return err
	}
	// The newest is updated; duplicates (another tool's items) go, so that one
	// item is left.
	if err := k.setSecret(ctx, items[0], value); err != nil {
		return err
	}
	return k.deleteAll(ctx, items[1:])
}

// Delete implements backends.Keyring.
func (k *Keyring) Delete(ctx context.Context, service, account string) (err error) {
	defer public("delete", &err)
	ctx, cancel := k.deadline(ctx)
	defer cancel()
	items, err := k.findAll(ctx, keyAttrs(service, account))
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return backends.ErrNotFound
	}
	return k.deleteAll(ctx, items)
}

// List implements backends.Keyring.
func (k *Keyring) List(ctx context.Context, service string) (_ []string, err error) {
	defer public("list", &err)
	ctx, cancel := k.deadline(ctx)
	defer cancel()
	// Locked matches are unlocked first: leaving them out would make stored
	// accounts look absent.
	unlocked, err := k.searchUnlocked(ctx, map[string]string{"service": service})
	if err != nil {
		return nil, err
	}
	c, _, err := k.state(ctx)
	if err != nil {
		return nil, err
	}
	var accounts []string
	for _, item := range unlocked {
		var attrs map[string]string
		if err := getProp(ctx, c, item, ifaceItem, "Attributes", &attrs); err != nil {
			if errors.Is(wrap("", err), backends.ErrNotFound) {
				continue // deleted meanwhile
			}
			return nil, wrap("read attributes", err)
		}
		if a, ok := attrs["username"]; ok {
			accounts = append(accounts, a)
		}
	}
	slices.Sort(accounts)
	return slices.Compact(accounts), nil
}

// Doctor implements backends.Keyring.
func (k *Keyring) Doctor(ctx context.Context) []string {
	ctx, cancel := k.deadline(ctx)
	defer cancel()
	var lines []string
	c, s, err := k.state(ctx)
	k.mu.Lock()
	addr := k.addr
	k.mu.Unlock()
	if addr != "" {
		lines = append(lines, "bus: "+addr)
	}
	if err != nil {
		return append(lines, "error: "+err.Error())
	}
	// GetNameOwner is NameHasOwner plus the owner's name; neither activates.
	var owner string
	if err := c.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetNameOwner", 0, busName).Store(&owner); err != nil {
		owner = "(unknown: " + err.Error() + ")"
	}
	lines = append(lines,
		fmt.Sprintf("service: %s owned by %s", busName, owner),
		"session: "+s.alg)
	var alias dbus.ObjectPath
	if err := call(ctx, c, servicePath, ifaceService+".ReadAlias", "default").Store(&alias); err != nil {
		lines = append(lines, "default collection: error: "+wrap("read alias", err).Error())
	} else if alias == noPath {
		lines = append(lines, "default collection: none (no \"default\" alias)")
	}
	coll, err := k.defaultCollection(ctx, c)
	if err != nil {
		return append(lines, "collection for new items: error: "+err.Error())
	}
	if alias == noPath {
		lines = append(lines, "collection for new items: "+string(coll))
	} else {
		lines = append(lines, "default collection: "+string(coll))
	}
	var isLocked bool
	if err := getProp(ctx, c, coll, ifaceCollection, "Locked", &isLocked); err != nil {
		lines = append(lines, "lock state: error: "+wrap("read Locked", err).Error())
	} else if isLocked {
		lines = append(lines, "lock state: locked")
	} else {
		lines = append(lines, "lock state: unlocked")
	}
	if hiding, err := hidingCollections(ctx, c); err == nil && len(hiding) > 0 {
		lines = append(lines, "locked and hiding its items: "+strings.Join(pathStrings(hiding), ", ")+
			" (an empty search there is reported as locked, not absent)")
	}
	lines = append(lines, k.promptLine())
	return append(lines, k.duplicateLines(ctx, c)...)
}

// duplicateLines names each (service, username) that more than one item holds,
// among the items mcpcred and keyring-rs (Codex) write.
func (k *Keyring) duplicateLines(ctx context.Context, c *dbus.Conn) []string {
	type key struct{ service, user string }
	seen := map[key]bool{}
	var dups []string
	for _, app := range []string{"mcpcred", "rust-keyring"} {
		unlocked, _, err := k.search(ctx, map[string]string{"application": app})
		if err != nil {
			return []string{"duplicates: error: " + err.Error()}
		}
		for _, item := range unlocked {
			var attrs map[string]string
			if err := getProp(ctx, c, item, ifaceItem, "Attributes", &attrs); err != nil {
				continue
			}
			kk := key{attrs["service"], attrs["username"]}
			if seen[kk] {
				continue
			}
			seen[kk] = true
			all, _, err := k.search(ctx, keyAttrs(kk.service, kk.user))
			if err != nil {
				return []string{"duplicates: error: " + err.Error()}
			}
			if len(all) > 1 {
				dups = append(dups, fmt.Sprintf("duplicates: %d items for service %q, username %q (reads use the newest; the next store or erase leaves one or none)",
					len(all), kk.service, kk.user))
			}
		}
	}
	if len(dups) == 0 {
		return []string{"duplicates: none"}
	}
	slices.Sort(dups)
	return dups
}

func (k *Keyring) promptLine() string {
	if !k.promptAllowed() {
		return "prompts: off: a locked collection, or a change the service wants confirmed, is reported as locked"
	}
	return fmt.Sprintf("prompts: run and awaited for up to %v (the timeout), display or not; one nobody answers fails as locked", k.timeout())
}

// Close implements backends.Keyring.
func (k *Keyring) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	if k.conn == nil {
		return nil
	}
	if k.sess != nil {
		closeSession(k.conn, k.sess.path)
		k.sess = nil
	}
	err := k.conn.Close()
	k.conn = nil
	return err
}
