//go:build linux || freebsd || openbsd || netbsd || (dragonfly && cgo)

package secretservice

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/keyringtest"
)

// These tests need only dbus-daemon: each starts its own private bus (no service
// directories, so nothing can be activated) and, where it needs one, a fake Secret
// Service that misbehaves on purpose.

// startBus starts a private dbus-daemon and returns its address.
func startBus(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		keyringtest.Missing(t, "dbus-daemon is not installed")
	}
	dir, err := os.MkdirTemp("", "ssbus")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	conf := filepath.Join(dir, "bus.conf")
	err = os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=`+filepath.Join(dir, "bus")+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	return strings.TrimSpace(line)
}

func dialTest(t *testing.T, addr string) *dbus.Conn {
	t.Helper()
	c, err := dbus.Dial(addr)
	if err == nil {
		if err = c.Auth(nil); err == nil {
			err = c.Hello()
		}
	}
	if err != nil {
		t.Fatalf("connect to the test bus: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

const (
	fakeColl   = dbus.ObjectPath("/org/freedesktop/secrets/collection/fake")
	fakeItem   = dbus.ObjectPath("/org/freedesktop/secrets/collection/fake/1")
	fakePrompt = dbus.ObjectPath("/org/freedesktop/secrets/prompt/p1")
)

// fakeService is a minimal Secret Service with one item.
type fakeService struct {
	conn      *dbus.Conn
	plainOnly bool          // answer NotSupported to the DH algorithm
	locked    bool          // the item is locked and Unlock needs a prompt
	hang      time.Duration // SearchItems answers only after this long
	answers   bool          // the prompt completes: the user unlocked

	mu          sync.Mutex
	unlockCalls int
	promptCalls int
	dismissed   chan struct{}
}

func startFake(t *testing.T, addr string, f *fakeService) *fakeService {
	t.Helper()
	f.conn = dialTest(t, addr)
	f.dismissed = make(chan struct{})
	for path, obj := range map[dbus.ObjectPath]struct {
		v     any
		iface string
	}{
		servicePath: {fakeSvc{f}, ifaceService},
		fakeItem:    {fakeItemObj{f}, ifaceItem},
		fakePrompt:  {fakePromptObj{f}, ifacePrompt},
	} {
		if err := f.conn.Export(obj.v, path, obj.iface); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.conn.Export(fakeProps{}, fakeColl, ifaceProps); err != nil {
		t.Fatal(err)
	}
	reply, err := f.conn.RequestName(busName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName = %v, %v", reply, err)
	}
	return f
}

type fakeSvc struct{ f *fakeService }

func (s fakeSvc) OpenSession(alg string, _ dbus.Variant) (dbus.Variant, dbus.ObjectPath, *dbus.Error) {
	if alg != AlgorithmPlain && s.f.plainOnly {
		return dbus.Variant{}, "", &dbus.Error{Name: "org.freedesktop.DBus.Error.NotSupported", Body: []any{"no DH here"}}
	}
	if alg != AlgorithmPlain {
		return dbus.Variant{}, "", &dbus.Error{Name: "org.freedesktop.DBus.Error.Failed", Body: []any{"fake supports only plain"}}
	}
	return dbus.MakeVariant(""), "/org/freedesktop/secrets/session/s1", nil
}

func (s fakeSvc) SearchItems(map[string]string) ([]dbus.ObjectPath, []dbus.ObjectPath, *dbus.Error) {
	time.Sleep(s.f.hang)
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	if s.f.locked {
		return []dbus.ObjectPath{}, []dbus.ObjectPath{fakeItem}, nil
	}
	return []dbus.ObjectPath{fakeItem}, []dbus.ObjectPath{}, nil
}

func (s fakeSvc) Unlock([]dbus.ObjectPath) ([]dbus.ObjectPath, dbus.ObjectPath, *dbus.Error) {
	s.f.mu.Lock()
	s.f.unlockCalls++
	s.f.mu.Unlock()
	return []dbus.ObjectPath{}, fakePrompt, nil
}

func (s fakeSvc) ReadAlias(string) (dbus.ObjectPath, *dbus.Error) { return fakeColl, nil }

type fakeItemObj struct{ f *fakeService }

func (i fakeItemObj) GetSecret(session dbus.ObjectPath) (secret, *dbus.Error) {
	return secret{Session: session, Parameters: []byte{}, Value: []byte("fake-value"), ContentType: "text/plain"}, nil
}

type fakePromptObj struct{ f *fakeService }

// Prompt accepts and, unless the fake answers, never completes: a prompter
// nobody answers.
func (p fakePromptObj) Prompt(string) *dbus.Error {
	p.f.mu.Lock()
	defer p.f.mu.Unlock()
	p.f.promptCalls++
	if p.f.answers {
		p.f.locked = false
		go func() {
			time.Sleep(50 * time.Millisecond) // after the reply to Prompt
			_ = p.f.conn.Emit(fakePrompt, ifacePrompt+".Completed", false, dbus.MakeVariant([]dbus.ObjectPath{fakeItem}))
		}()
	}
	return nil
}

func (p fakePromptObj) Dismiss() *dbus.Error {
	close(p.f.dismissed)
	_ = p.f.conn.Emit(fakePrompt, ifacePrompt+".Completed", true, dbus.MakeVariant([]dbus.ObjectPath{}))
	return nil
}

type fakeProps struct{}

func (fakeProps) Get(iface, name string) (dbus.Variant, *dbus.Error) {
	if name == "Locked" {
		return dbus.MakeVariant(false), nil
	}
	return dbus.Variant{}, &dbus.Error{Name: "org.freedesktop.DBus.Error.InvalidArgs", Body: []any{"no such property"}}
}

// TestNoBus: a bus address whose socket does not exist is ErrUnavailable, at once.
func TestNoBus(t *testing.T) {
	missing := "unix:path=" + filepath.Join(t.TempDir(), "no-such-bus")
	t.Run("Address", func(t *testing.T) {
		checkUnavailable(t, New(Config{Address: missing}))
	})
	t.Run("Env", func(t *testing.T) {
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", missing)
		checkUnavailable(t, New(Config{}))
	})
	t.Run("NothingFound", func(t *testing.T) {
		if _, err := os.Stat("/run/user/" + strconv.Itoa(os.Getuid()) + "/bus"); err == nil {
			t.Skip("this machine has a bus in /run/user")
		}
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
		t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
		checkUnavailable(t, New(Config{}))
	})
}

// checkUnavailable: every operation returns ErrUnavailable within the Keyring's own
// deadline (the hang guard), and Doctor says what failed.
func checkUnavailable(t *testing.T, kr *Keyring) {
	t.Helper()
	defer kr.Close()
	ctx := tctx(t)
	if _, err := kr.Get(ctx, "s", "a"); !errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("Get: err = %v, want ErrUnavailable", err)
	}
	if err := kr.Set(ctx, "s", "a", []byte("x")); !errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("Set: err = %v, want ErrUnavailable", err)
	}
	if err := kr.Delete(ctx, "s", "a"); !errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("Delete: err = %v, want ErrUnavailable", err)
	}
	if _, err := kr.List(ctx, "s"); !errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("List: err = %v, want ErrUnavailable", err)
	}
	lines := kr.Doctor(ctx)
	if len(lines) == 0 || !strings.Contains(strings.Join(lines, "\n"), "error: ") {
		t.Errorf("Doctor = %q; want an error line", lines)
	}
}

// TestBusWithoutService: a bus where nobody owns org.freedesktop.secrets is
// ErrUnavailable, and nothing is activated.
func TestBusWithoutService(t *testing.T) {
	addr := startBus(t)
	checkUnavailable(t, New(Config{Address: addr}))
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	checkUnavailable(t, New(Config{}))
}

// TestPlainFallback: a service without the DH algorithm gets a plain session, and
// Doctor says so.
func TestPlainFallback(t *testing.T) {
	addr := startBus(t)
	startFake(t, addr, &fakeService{plainOnly: true})
	kr := newKeyring(t, Config{Address: addr, Prompt: PromptNever})
	got, err := kr.Get(tctx(t), "s", "a")
	if err != nil || string(got) != "fake-value" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if lines := kr.Doctor(tctx(t)); !slices.Contains(lines, "session: plain") {
		t.Fatalf("Doctor = %q; want session: plain", lines)
	}
}

// TestNoDowngradeOnOtherErrors: a service that fails DH for another reason is not
// silently downgraded to plain.
func TestNoDowngradeOnOtherErrors(t *testing.T) {
	addr := startBus(t)
	startFake(t, addr, &fakeService{})
	kr := newKeyring(t, Config{Address: addr, Prompt: PromptNever})
	if _, err := kr.Get(tctx(t), "s", "a"); err == nil {
		t.Fatal("Get succeeded; want the DH failure, not a plain session")
	}
}

// TestPromptNobodyAnswers: a prompt that never completes ends at the deadline with
// ErrLocked, and the Keyring dismisses it.
func TestPromptNobodyAnswers(t *testing.T) {
	addr := startBus(t)
	f := startFake(t, addr, &fakeService{plainOnly: true, locked: true})
	kr := newKeyring(t, Config{Address: addr, Prompt: PromptAuto, Options: backends.Options{Timeout: 500 * time.Millisecond}})
	_, err := kr.Get(context.Background(), "s", "a")
	if !errors.Is(err, backends.ErrLocked) {
		t.Fatalf("Get: err = %v, want ErrLocked", err)
	}
	select {
	case <-f.dismissed:
	case <-time.After(10 * time.Second):
		t.Fatal("the prompt was not dismissed")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unlockCalls != 1 || f.promptCalls != 1 {
		t.Fatalf("Unlock called %d times, Prompt %d times; want 1, 1", f.unlockCalls, f.promptCalls)
	}
}

// TestPromptAnswered: a prompt that completes unlocks, and the read goes on.
func TestPromptAnswered(t *testing.T) {
	addr := startBus(t)
	f := startFake(t, addr, &fakeService{plainOnly: true, locked: true, answers: true})
	kr := newKeyring(t, Config{Address: addr, Prompt: PromptAuto})
	got, err := kr.Get(tctx(t), "s", "a")
	if err != nil || string(got) != "fake-value" {
		t.Fatalf("Get = %q, %v; want the value after unlocking", got, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unlockCalls != 1 || f.promptCalls != 1 {
		t.Fatalf("Unlock called %d times, Prompt %d times; want 1, 1", f.unlockCalls, f.promptCalls)
	}
}

// TestPromptNever: with prompting off, a locked item is ErrLocked and Unlock is not
// even called.
func TestPromptNever(t *testing.T) {
	addr := startBus(t)
	f := startFake(t, addr, &fakeService{plainOnly: true, locked: true})
	kr := newKeyring(t, Config{Address: addr, Prompt: PromptNever})
	if _, err := kr.Get(tctx(t), "s", "a"); !errors.Is(err, backends.ErrLocked) {
		t.Fatalf("Get: err = %v, want ErrLocked", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unlockCalls != 0 {
		t.Fatalf("Unlock called %d times with prompting off", f.unlockCalls)
	}
}

// TestServiceNeverAnswers: a service that takes longer than the timeout is
// ErrUnavailable when the timeout is up.
func TestServiceNeverAnswers(t *testing.T) {
	addr := startBus(t)
	startFake(t, addr, &fakeService{plainOnly: true, hang: time.Minute})
	kr := newKeyring(t, Config{Address: addr, Prompt: PromptNever, Options: backends.Options{Timeout: 300 * time.Millisecond}})
	if _, err := kr.Get(context.Background(), "s", "a"); !errors.Is(err, backends.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get: err = %v, want ErrUnavailable from the deadline", err)
	}
}

// TestBusNeverAnswers: a socket that accepts and then says nothing (a wedged bus)
// is ErrUnavailable when the timeout is up, not a hang in the D-Bus handshake.
func TestBusNeverAnswers(t *testing.T) {
	dir, err := os.MkdirTemp("", "ssbus")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	ln, err := net.Listen("unix", filepath.Join(dir, "bus"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	kr := newKeyring(t, Config{Address: "unix:path=" + filepath.Join(dir, "bus"), Options: backends.Options{Timeout: 300 * time.Millisecond}})
	if _, err := kr.Get(context.Background(), "s", "a"); !errors.Is(err, backends.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get: err = %v, want ErrUnavailable from the deadline", err)
	}
}
