//go:build linux || freebsd || openbsd || netbsd || (dragonfly && cgo)

package secretservice

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/godbus/dbus/v5"

	"github.com/mcpcred/mcpcred/backends"
)

const (
	busName         = "org.freedesktop.secrets"
	servicePath     = dbus.ObjectPath("/org/freedesktop/secrets")
	loginCollection = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	noPath          = dbus.ObjectPath("/")

	ifaceService    = "org.freedesktop.Secret.Service"
	ifaceCollection = "org.freedesktop.Secret.Collection"
	ifaceItem       = "org.freedesktop.Secret.Item"
	ifaceSession    = "org.freedesktop.Secret.Session"
	ifacePrompt     = "org.freedesktop.Secret.Prompt"
	ifaceProps      = "org.freedesktop.DBus.Properties"
)

// secret is the Secret Service's Secret struct, D-Bus signature (oayays).
type secret struct {
	Session     dbus.ObjectPath
	Parameters  []byte
	Value       []byte
	ContentType string
}

// session is an open Secret Service session of this Keyring's connection.
type session struct {
	path dbus.ObjectPath
	alg  string
	key  []byte // AES key; nil for plain
}

func (s *session) seal(plaintext []byte, contentType string) (secret, error) {
	if s.key == nil {
		return secret{Session: s.path, Parameters: []byte{}, Value: plaintext, ContentType: contentType}, nil
	}
	iv, ct, err := encrypt(s.key, plaintext)
	if err != nil {
		return secret{}, err
	}
	return secret{Session: s.path, Parameters: iv, Value: ct, ContentType: contentType}, nil
}

func (s *session) open(sec secret) ([]byte, error) {
	if s.key == nil {
		return sec.Value, nil
	}
	return decrypt(s.key, sec.Parameters, sec.Value)
}

// busAddress finds the session bus without launching one: $DBUS_SESSION_BUS_ADDRESS,
// else $XDG_RUNTIME_DIR/bus, else /run/user/<uid>/bus, if that socket exists.
func busAddress() (string, error) {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return a, nil
	}
	var dirs []string
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		dirs = append(dirs, d)
	}
	dirs = append(dirs, "/run/user/"+strconv.Itoa(os.Getuid()))
	for _, d := range dirs {
		p := filepath.Join(d, "bus")
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return "unix:path=" + dbus.EscapeBusAddressValue(p), nil
		}
	}
	return "", fmt.Errorf("no session bus: DBUS_SESSION_BUS_ADDRESS is unset and no socket at %s: %w",
		strings.Join(dirs, "/bus or ")+"/bus", backends.ErrUnavailable)
}

// dial connects, authenticates and says Hello within ctx's deadline. The connection
// lives until Close (its own context is not ctx).
func dial(ctx context.Context, addr string) (*dbus.Conn, error) {
	connCtx, cancel := context.WithCancel(context.Background())
	type result struct {
		c   *dbus.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := dbus.Dial(addr, dbus.WithContext(connCtx))
		if err == nil {
			if err = c.Auth(nil); err == nil {
				err = c.Hello()
			}
			if err != nil {
				c.Close()
			}
		}
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			cancel()
			return nil, fmt.Errorf("connect to %s: %w (%w)", addr, backends.ErrUnavailable, r.err)
		}
		go func() { <-r.c.Context().Done(); cancel() }()
		return r.c, nil
	case <-ctx.Done():
		cancel() // closes the half-open connection; the goroutine then returns
		return nil, fmt.Errorf("connect to %s: no answer in time: %w (%w)", addr, backends.ErrUnavailable, ctx.Err())
	}
}

// call invokes a method on the Secret Service, never activating it.
func call(ctx context.Context, c *dbus.Conn, path dbus.ObjectPath, method string, args ...any) *dbus.Call {
	return c.Object(busName, path).CallWithContext(ctx, method, dbus.FlagNoAutoStart, args...)
}

// getProp reads one property into v.
func getProp(ctx context.Context, c *dbus.Conn, path dbus.ObjectPath, iface, name string, v any) error {
	var variant dbus.Variant
	if err := call(ctx, c, path, ifaceProps+".Get", iface, name).Store(&variant); err != nil {
		return err
	}
	return variant.Store(v)
}

func setProp(ctx context.Context, c *dbus.Conn, path dbus.ObjectPath, iface, name string, v any) error {
	return call(ctx, c, path, ifaceProps+".Set", iface, name, dbus.MakeVariant(v)).Err
}

// dbusErrorName returns the D-Bus error name in err, or "".
func dbusErrorName(err error) string {
	var e dbus.Error
	if errors.As(err, &e) {
		return e.Name
	}
	var pe *dbus.Error
	if errors.As(err, &pe) && pe != nil {
		return pe.Name
	}
	return ""
}

// wrap gives err the context op ("" for none) and, where it applies, one of the
// backends errors.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	err = classify(err)
	if op == "" {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// classify makes err match the backends error it means, if it does not yet.
func classify(err error) error {
	if errors.Is(err, backends.ErrUnavailable) || errors.Is(err, backends.ErrNotFound) ||
		errors.Is(err, backends.ErrAmbiguous) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("no answer in time (%w): %w", err, backends.ErrUnavailable)
	}
	name := dbusErrorName(err)
	switch {
	case name == "org.freedesktop.Secret.Error.IsLocked":
		return fmt.Errorf("%w: %w", err, backends.ErrLocked)
	case name == "org.freedesktop.Secret.Error.NoSuchObject",
		name == "org.freedesktop.DBus.Error.UnknownMethod",
		name == "org.freedesktop.DBus.Error.UnknownObject":
		return fmt.Errorf("%w: %w", err, backends.ErrNotFound)
	case name == "org.freedesktop.DBus.Error.ServiceUnknown",
		name == "org.freedesktop.DBus.Error.NameHasNoOwner",
		name == "org.freedesktop.DBus.Error.NoReply",
		name == "org.freedesktop.DBus.Error.Timeout",
		name == "org.freedesktop.DBus.Error.TimedOut",
		name == "org.freedesktop.DBus.Error.Disconnected",
		name == "org.freedesktop.DBus.Error.NoServer",
		name == "org.freedesktop.DBus.Error.LimitsExceeded",
		strings.HasPrefix(name, "org.freedesktop.DBus.Error.Spawn."),
		// Not a D-Bus error reply: the connection closed, a reply did not decode.
		name == "":
		return fmt.Errorf("%w: %w", err, backends.ErrUnavailable)
	}
	return err
}

// public is deferred by the exported methods: one "op:" prefix on
// whatever error they return.
func public(op string, err *error) {
	if *err != nil {
		*err = fmt.Errorf("secret service: %s: %w", op, classify(*err))
	}
}

// errPromptOff reports a prompt the Keyring may not run (PromptNever).
var errPromptOff = fmt.Errorf("the Secret Service wants to prompt, and prompting is off: %w", backends.ErrLocked)

// runPrompt runs the prompt at p, unless prompting is off, and returns the result
// of its Completed signal. Display or not: some services (KeePassXC) answer every
// CreateItem and Delete with a prompt that completes at once with no UI, and one
// that does need a person fails by itself where none can be shown (gnome-keyring's
// prompter without a display) or is bounded here. It ends by ctx's deadline,
// dismissing the prompt then.
func (k *Keyring) runPrompt(ctx context.Context, c *dbus.Conn, p dbus.ObjectPath) (dbus.Variant, error) {
	if !k.promptAllowed() {
		dismiss(c, p)
		return dbus.Variant{}, errPromptOff
	}
	ch := make(chan *dbus.Signal, 8)
	c.Signal(ch)
	defer c.RemoveSignal(ch)
	// Subscribe before Prompt: the service may complete at once, and some services
	// broadcast Completed instead of sending it to the caller.
	rule := fmt.Sprintf("type='signal',path='%s',interface='%s',member='Completed'", p, ifacePrompt)
	bus := c.BusObject()
	if err := bus.CallWithContext(ctx, "org.freedesktop.DBus.AddMatch", 0, rule).Err; err != nil {
		dismiss(c, p)
		return dbus.Variant{}, wrap("subscribe to the prompt", err)
	}
	defer bus.Call("org.freedesktop.DBus.RemoveMatch", dbus.FlagNoReplyExpected, rule)
	if err := call(ctx, c, p, ifacePrompt+".Prompt", "").Err; err != nil {
		dismiss(c, p)
		return dbus.Variant{}, wrap("prompt", err)
	}
	for {
		select {
		case sig, ok := <-ch:
			if !ok {
				return dbus.Variant{}, fmt.Errorf("connection closed during a prompt: %w", backends.ErrUnavailable)
			}
			if sig.Path != p || sig.Name != ifacePrompt+".Completed" || len(sig.Body) != 2 {
				continue
			}
			if dismissed, _ := sig.Body[0].(bool); dismissed {
				return dbus.Variant{}, fmt.Errorf("the prompt was dismissed: %w", backends.ErrLocked)
			}
			v, _ := sig.Body[1].(dbus.Variant)
			return v, nil
		case <-ctx.Done():
			dismiss(c, p)
			return dbus.Variant{}, fmt.Errorf("the Secret Service's prompt (an unlock or a confirmation, for a person at the screen) got no answer within the %v timeout: %w (%w)",
				k.timeout(), backends.ErrLocked, ctx.Err())
		}
	}
}

// dismiss asks the service to drop prompt p, without waiting for a reply.
func dismiss(c *dbus.Conn, p dbus.ObjectPath) {
	c.Object(busName, p).Call(ifacePrompt+".Dismiss", dbus.FlagNoAutoStart|dbus.FlagNoReplyExpected)
}

// unlock unlocks objs (items or collections), prompting unless prompting is off.
func (k *Keyring) unlock(ctx context.Context, c *dbus.Conn, objs []dbus.ObjectPath) error {
	if !k.promptAllowed() {
		return fmt.Errorf("%d matching object(s) locked, and prompting is off: %w", len(objs), backends.ErrLocked)
	}
	var done []dbus.ObjectPath
	var p dbus.ObjectPath
	if err := call(ctx, c, servicePath, ifaceService+".Unlock", objs).Store(&done, &p); err != nil {
		return wrap("unlock", err)
	}
	if p == noPath || p == "" {
		if len(done) < len(objs) {
			return fmt.Errorf("unlock left %d object(s) locked: %w", len(objs)-len(done), backends.ErrLocked)
		}
		return nil
	}
	_, err := k.runPrompt(ctx, c, p)
	return err
}
