package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// encryptedHome runs the built binary as agent tools do, in a fresh home on a
// machine with no reachable keyring, and scans the home for a secret in clear.
type encryptedHome struct {
	t    *testing.T
	bin  string
	home string
}

func newEncryptedHome(t *testing.T) *encryptedHome {
	h := &encryptedHome{t: t, bin: builtBinary(t), home: t.TempDir()}
	t.Cleanup(func() { h.run("", "lock") })
	return h
}

func (h *encryptedHome) command(args ...string) *exec.Cmd {
	cmd := exec.Command(h.bin, append([]string{"--home", h.home}, args...)...)
	cmd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(h.home, "no-bus"),
		"MCPCRED_PROFILE=", "MCPCRED_STORE=", "MCPCRED_HOME=")
	return cmd
}

// run returns stdout, stderr and the exit status.
func (h *encryptedHome) run(stdin string, args ...string) (string, string, int) {
	return h.runCmd(h.command(args...), stdin)
}

func (h *encryptedHome) runCmd(cmd *exec.Cmd, stdin string) (string, string, int) {
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), errb.String(), 0
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	}
	h.t.Fatalf("running %v: %v", cmd.Args, err)
	return "", "", -1
}

// noClear fails if any file under the home holds secret.
func (h *encryptedHome) noClear(step, secret string) {
	h.t.Helper()
	filepath.WalkDir(h.home, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if data, err := os.ReadFile(p); err == nil && bytes.Contains(data, []byte(secret)) {
			h.t.Errorf("after %s, %s holds the secret in clear", step, p)
		}
		return nil
	})
}

func storeReq(name, secret string) string {
	return fmt.Sprintf("server_name=%s\nurl=https://%s.test/mcp\nclient_id=c\naccess_token=%s\n", name, name, secret)
}

func idReq(name string) string {
	return fmt.Sprintf("server_name=%s\nurl=https://%s.test/mcp\n", name, name)
}

// TestUnlockFromStdinGetLock: unlock from stdin, then get from the encrypted
// store, lock, and get again (exit 5), as separate processes; no step leaves
// the secret in clear on disk.
func TestUnlockFromStdinGetLock(t *testing.T) {
	h := newEncryptedHome(t)
	const secret = "tok-0123456789-secret"
	if out, errs, code := h.run("s3cret passphrase\n", "unlock", "--ttl", "10m"); code != 0 ||
		!strings.Contains(out, "passphrase set") || !strings.Contains(out, "unlocked for 10m0s") || errs != "" {
		t.Fatalf("unlock = %q, %q, exit %d", out, errs, code)
	}
	h.noClear("unlock", "s3cret passphrase")
	if _, errs, code := h.run(storeReq("srv", secret), "store"); code != 0 || !strings.Contains(errs, "stored in the encrypted store") {
		t.Fatalf("store = %q, exit %d", errs, code)
	}
	h.noClear("store", secret)
	// The one notice of a read that fell back from the keyring (no bus here),
	// naming the encrypted store; the secret only on stdout.
	if out, errs, code := h.run(idReq("srv"), "get"); code != 0 || !strings.Contains(out, "access_token="+secret+"\n") ||
		!strings.HasSuffix(errs, "; read the encrypted store "+filepath.Join(h.home, "encrypted")+"\n") || strings.Count(errs, "\n") != 1 {
		t.Fatalf("get after unlock = %q, %q, exit %d", out, errs, code)
	}
	if out, errs, code := h.run("", "lock"); code != 0 || !strings.Contains(out, "is locked") || errs != "" {
		t.Fatalf("lock = %q, %q, exit %d", out, errs, code)
	}
	out, errs, code := h.run(idReq("srv"), "get")
	if code != exitLocked || out != "" || errs != "mcpcred: the encrypted store is locked; run `mcpcred unlock`\n" {
		t.Fatalf("get after lock = %q, %q, exit %d; want exit %d and one line naming unlock", out, errs, code, exitLocked)
	}
	// Unlock again from stdin: the same passphrase, asked once.
	if out, errs, code := h.run("s3cret passphrase\n", "unlock", "--ttl", "10m"); code != 0 || out != "unlocked for 10m0s\n" || errs != "" {
		t.Fatalf("second unlock = %q, %q, exit %d", out, errs, code)
	}
	if out, _, code := h.run(idReq("srv"), "get"); code != 0 || !strings.Contains(out, secret) {
		t.Fatalf("get after the second unlock = %q, exit %d", out, code)
	}
	h.noClear("the second unlock", secret)
}

// TestUnlockOnTerminal runs the first unlock on a real pseudo-terminal: the
// passphrase is asked twice, never echoed, and the question about the
// plaintext file's tokens is answered yes, which moves them.
func TestUnlockOnTerminal(t *testing.T) {
	h := newEncryptedHome(t)
	const plain = "plain-token-secret"
	if _, _, code := h.run(storeReq("old", plain), "store"); code != 0 {
		t.Fatal("store before unlock failed")
	}
	var out bytes.Buffer
	cmd, master, term := h.startOnTerminal(&out, "unlock", "--ttl", "10m")
	term.waitFor(t, "New passphrase for the encrypted store ")
	master.WriteString("typed passphrase\r")
	term.waitFor(t, "The same passphrase again: ")
	master.WriteString("typed passphrase\r")
	term.waitFor(t, "Move them into the encrypted store? [y/N] ")
	master.WriteString("y\r")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("unlock on a terminal: %v; terminal: %q", err, term.text())
	}
	if strings.Contains(term.text(), "typed passphrase") {
		t.Errorf("the passphrase was echoed: %q", term.text())
	}
	if !strings.Contains(out.String(), "moved 1 token(s) from ") {
		t.Errorf("unlock said %q; want the move of the plaintext token", out.String())
	}
	h.noClear("the move", plain)
	if got, _, code := h.run(idReq("old"), "get"); code != 0 || !strings.Contains(got, plain) {
		t.Errorf("get of the moved token = %q, exit %d", got, code)
	}
}

// TestUnlockTerminalMismatch: two different passphrases set nothing.
func TestUnlockTerminalMismatch(t *testing.T) {
	h := newEncryptedHome(t)
	cmd, master, term := h.startOnTerminal(nil, "unlock")
	term.waitFor(t, "New passphrase")
	master.WriteString("one\r")
	term.waitFor(t, "again: ")
	master.WriteString("two\r")
	if err := cmd.Wait(); err == nil {
		t.Fatal("unlock with two different passphrases succeeded")
	}
	term.waitFor(t, "mcpcred: the two passphrases differ; nothing was set")
	if _, err := os.Stat(filepath.Join(h.home, "encrypted", "identity.age")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("identity.age after a mismatch: %v", err)
	}
}

// startOnTerminal starts mcpcred with stdin and stderr on a new pseudo-terminal,
// stdout to out (nil: discarded), and returns the terminal's master side.
func (h *encryptedHome) startOnTerminal(out *bytes.Buffer, args ...string) (*exec.Cmd, *os.File, *termReader) {
	master, slave := openPTY(h.t)
	cmd := h.command(args...)
	cmd.Stdin, cmd.Stderr = slave, slave
	if out != nil {
		cmd.Stdout = out
	}
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	slave.Close()
	return cmd, master, newTermReader(master)
}

// openPTY opens a pseudo-terminal pair with /dev/ptmx.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return master, slave
}

// termReader collects what the program writes to the terminal.
type termReader struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	more chan struct{}
}

func newTermReader(master *os.File) *termReader {
	r := &termReader{more: make(chan struct{}, 1)}
	go func() {
		b := make([]byte, 1024)
		for {
			n, err := master.Read(b)
			r.mu.Lock()
			r.buf.Write(b[:n])
			r.mu.Unlock()
			select {
			case r.more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return r
}

func (r *termReader) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

// waitFor waits until the terminal shows s; the deadline only keeps a broken
// program from hanging the test, it measures nothing.
func (r *termReader) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.After(time.Minute)
	for !strings.Contains(r.text(), s) {
		select {
		case <-r.more:
		case <-deadline:
			t.Fatalf("the terminal never showed %q; it shows %q", s, r.text())
		}
	}
}
