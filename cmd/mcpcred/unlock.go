package main

// `mcpcred unlock` and `mcpcred lock`: the encrypted store of the default profile
// (docs/encrypted-store.md). The passphrase is read from the terminal without
// echo, or from stdin's first line; never from the command line or the
// environment, where other processes of the user can read it.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/mcpcred/mcpcred/backends/encrypted"
	"github.com/mcpcred/mcpcred/helper"
)

// promptTimeout bounds each wait for the user or for stdin: unlock never hangs.
const promptTimeout = 5 * time.Minute

// maxPassphrase bounds a passphrase read from stdin.
const maxPassphrase = 4096

// encryptedStore builds the Helper of c and returns its encrypted store, which
// only the default profile has.
func (c *call) encryptedStore() (*helper.Helper, *encrypted.Store, error) {
	if len(c.args) > 0 {
		return nil, nil, usagef("%s takes no arguments, got %q", c.verb.name, c.args[0])
	}
	h, err := c.helper(c.stderr)
	if err != nil {
		return nil, nil, err
	}
	if h.Encrypted == nil {
		h.Close()
		return nil, nil, usagef("%s is for mcpcred's own encrypted store, of the default profile; the codex profile (MCPCRED_PROFILE=codex) has none", c.verb.name)
	}
	return h, h.Encrypted, nil
}

func runUnlock(c *call) int {
	h, store, err := c.encryptedStore()
	if err != nil {
		return c.fail(exitBadCall, err)
	}
	defer h.Close()
	ttl, err := c.inv.duration("ttl")
	if err != nil {
		return c.fail(exitBadCall, err)
	}
	if ttl < time.Second {
		return c.fail(exitBadCall, usagef("--ttl %s is too short: the unlock lasts at least a second", c.inv.get("ttl")))
	}
	// Before asking anything: a kernel keyring that refuses keyctl makes the
	// passphrase useless, and setting one would send auto's writes to a store
	// that can never be read here.
	if err := store.Unlocked(); errors.Is(err, encrypted.ErrRefused) || errors.Is(err, encrypted.ErrNoKernelKeyring) {
		return c.fail(exitFailed, err)
	}
	in := newPassReader(c)
	first := !store.Initialized()
	var pass []byte
	if first {
		pass, err = in.read(fmt.Sprintf("New passphrase for the encrypted store %s: ", store.Dir()))
		if err == nil && in.tty {
			var again []byte
			again, err = in.read("The same passphrase again: ")
			if err == nil && subtle.ConstantTimeCompare(pass, again) != 1 {
				err = errors.New("the two passphrases differ; nothing was set")
			}
			clear(again)
		}
	} else {
		pass, err = in.read(fmt.Sprintf("Passphrase of the encrypted store %s: ", store.Dir()))
	}
	defer clear(pass)
	if err == nil && len(pass) == 0 {
		err = errors.New("the passphrase is empty")
	}
	if err != nil {
		return c.fail(exitFailed, err)
	}
	if first {
		if err := store.Init(pass); err != nil {
			return c.fail(exitFailed, fmt.Errorf("setting the passphrase: %w", err))
		}
		fmt.Fprintf(c.stdout, "passphrase set: auto now keeps tokens in the encrypted store %s when no keyring is usable\n", store.Dir())
	}
	if err := store.Unlock(pass, ttl); err != nil {
		return c.fail(exitFailed, err)
	}
	fmt.Fprintf(c.stdout, "unlocked for %s\n", ttl)
	return migrate(c, h, in, first)
}

// migrate moves the plaintext token file's records into the encrypted store
// when the user asks (--migrate, or yes to the question the first unlock asks on
// a terminal), and otherwise says they stay: never silently either way.
func migrate(c *call, h *helper.Helper, in *passReader, first bool) int {
	n, err := h.PlainTokens()
	if err != nil {
		return c.fail(exitFailed, fmt.Errorf("reading %s to offer moving its tokens: %w", h.Tokens.Path(), err))
	}
	if n == 0 {
		if c.inv.bool("migrate") {
			fmt.Fprintf(c.stdout, "no tokens to move: %s holds none\n", h.Tokens.Path())
		}
		return exitOK
	}
	yes := c.inv.bool("migrate")
	if !yes && first && in.tty {
		answer, err := in.line(fmt.Sprintf("%s holds %d token(s) in clear. Move them into the encrypted store? [y/N] ", h.Tokens.Path(), n))
		if err != nil {
			return c.fail(exitFailed, err)
		}
		yes = strings.EqualFold(answer, "y") || strings.EqualFold(answer, "yes")
	}
	if !yes {
		fmt.Fprintf(c.stderr, "mcpcred: %d token(s) stay in the plaintext file %s, which auto no longer reads: 'mcpcred unlock --migrate' moves them into the encrypted store ('--store file' still reads them)\n", n, h.Tokens.Path())
		return exitOK
	}
	moved, err := h.MigratePlain(context.Background())
	if err != nil {
		return c.fail(exitFailed, fmt.Errorf("%d token(s) moved, then: %w", moved, err))
	}
	fmt.Fprintf(c.stdout, "moved %d token(s) from %s into the encrypted store\n", moved, h.Tokens.Path())
	return exitOK
}

func runLock(c *call) int {
	h, store, err := c.encryptedStore()
	if err != nil {
		return c.fail(exitBadCall, err)
	}
	defer h.Close()
	if err := store.Lock(); err != nil {
		return c.fail(exitFailed, err)
	}
	fmt.Fprintf(c.stdout, "the encrypted store %s is locked\n", store.Dir())
	return exitOK
}

// passReader reads the passphrase and answers: from the terminal without echo
// (prompts on stderr), or from stdin's lines when it is not a terminal or
// --passphrase-stdin says so.
type passReader struct {
	c   *call
	tty bool
	fd  int
	r   *bufio.Reader
}

func newPassReader(c *call) *passReader {
	p := &passReader{c: c, r: bufio.NewReaderSize(c.stdin, maxPassphrase+2)}
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !c.inv.bool("passphrase-stdin") {
		p.tty, p.fd = true, int(f.Fd())
	}
	return p
}

// read returns one passphrase.
func (p *passReader) read(prompt string) ([]byte, error) {
	if !p.tty {
		b, err := p.readLine()
		if errors.Is(err, io.EOF) && len(b) == 0 {
			return nil, errors.New("no passphrase on stdin: give it as the first line, or run unlock on a terminal")
		}
		return b, err
	}
	state, err := term.GetState(p.fd)
	if err != nil {
		return nil, fmt.Errorf("reading the terminal: %w", err)
	}
	// Echo back on when done, or given up (ReadPassword then still waits).
	defer term.Restore(p.fd, state)
	if err := echoOff(p.fd); err != nil {
		return nil, fmt.Errorf("turning the terminal's echo off: %w", err)
	}
	fmt.Fprint(p.c.stderr, prompt)
	b, err := withDeadline(func() ([]byte, error) { return term.ReadPassword(p.fd) })
	fmt.Fprintln(p.c.stderr)
	return b, err
}

// line asks a question on the terminal and returns the answer, trimmed.
func (p *passReader) line(prompt string) (string, error) {
	fmt.Fprint(p.c.stderr, prompt)
	b, err := p.readLine()
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return strings.TrimSpace(string(b)), err
}

// readLine reads up to a newline, which it drops with a CR before it.
func (p *passReader) readLine() ([]byte, error) {
	return withDeadline(func() ([]byte, error) {
		b, err := p.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("the passphrase on stdin is longer than %d bytes", maxPassphrase)
		}
		line := bytes.Clone(bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r")))
		clear(b)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("reading stdin: %w", err)
		}
		return line, err
	})
}

var errPromptTimeout = fmt.Errorf("nothing read within %v", promptTimeout)

// withDeadline runs read, giving up after promptTimeout (the read goes on in the
// background until the process ends).
func withDeadline(read func() ([]byte, error)) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := read()
		ch <- result{b, err}
	}()
	t := time.NewTimer(promptTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-t.C:
		return nil, errPromptTimeout
	}
}
