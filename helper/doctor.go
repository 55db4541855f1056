package helper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/file"
)

// Doctor writes, for a person, which stores exist here, which one a write would use
// and why, and the file store's path and modes. It reads no secret it prints.
func (h *Helper) Doctor(ctx context.Context, w io.Writer) {
	fmt.Fprintf(w, "store mode: %s\n", h.Mode)
	fmt.Fprintf(w, "keyring service: %s\n", h.Service)
	if h.CodexStore != "" {
		fmt.Fprintf(w, "codex token store: %s\n", oneLine(errors.New(h.CodexStore)))
	}
	kr := h.keyring()
	fmt.Fprintf(w, "keyring: %s\n", kr.kr.Name())
	// doctor asks the keyring even while a failure is remembered, and what it
	// finds replaces the memory.
	memo := h.keyringMemo()
	if r := memo.live(); r != nil {
		fmt.Fprintf(w, "  remembered: did not answer at %s (%s); asking again now\n", r.At.Local().Format(time.TimeOnly), r.Error)
	}
	kerr := kr.call(ctx, func(ctx context.Context) error {
		for _, line := range kr.kr.Doctor(ctx) {
			fmt.Fprintf(w, "  %s\n", line)
		}
		_, err := kr.kr.List(ctx, h.Service)
		return err
	})
	memo.observe(kr.kr.Name(), kerr)
	if kerr != nil {
		fmt.Fprintf(w, "  usable: no (%s)\n", oneLine(kerr))
	} else {
		fmt.Fprintf(w, "  usable: yes\n")
	}
	tokens := h.Tokens.Status()
	describeStore(w, "token file", tokens)
	describeStore(w, "git credentials file", h.gitFile().Status())
	describeStore(w, "docker credentials file", h.dockerFile().Status())
	dir := "absent"
	if tokens.DirExists {
		dir = fmt.Sprintf("mode %04o", tokens.DirMode)
		if tokens.DirOwner != "" {
			dir += ", owner " + tokens.DirOwner
		}
	}
	fmt.Fprintf(w, "file directory: %s (%s)\n", filepath.Dir(tokens.Path), dir)
	// The git and docker credentials files live in the token file's directory: its
	// directory's problems are these, said once.
	warn(w, tokens.DirProblems)
	if h.Encrypted != nil && h.Mode == Auto { // the only mode that uses it
		for _, line := range h.Encrypted.Doctor(ctx) {
			fmt.Fprintf(w, "%s\n", oneLine(errors.New(line)))
		}
	}
	switch {
	case h.Mode == File:
		fmt.Fprintf(w, "writes go to: the file (--store file)\n")
	case h.Mode == Keyring && kerr != nil:
		fmt.Fprintf(w, "writes go to: nowhere: --store keyring and the keyring is not usable\n")
	case kerr != nil && h.fallbackStore().where() == InEncrypted:
		fmt.Fprintf(w, "writes go to: the encrypted store for tokens and the git credentials file for git, because the keyring is not usable (%s)\n", oneLine(kerr))
	case kerr != nil && h.Encrypted != nil && !errors.Is(kerr, backends.ErrLocked):
		fmt.Fprintf(w, "writes go to: the file, because the keyring is not usable (%s); `mcpcred unlock` sets a passphrase and encrypts tokens instead\n", oneLine(kerr))
	case kerr != nil:
		fmt.Fprintf(w, "writes go to: the file, because the keyring is not usable (%s)\n", oneLine(kerr))
	default:
		fmt.Fprintf(w, "writes go to: the keyring (%s)\n", kr.kr.Name())
	}
}

// describeStore writes a file store's path, mode and what is wrong with it.
func describeStore(w io.Writer, what string, st file.Status) {
	state := "absent"
	if st.Exists {
		state = fmt.Sprintf("mode %04o", st.Mode)
	}
	fmt.Fprintf(w, "%s: %s (%s)\n", what, st.Path, state)
	warn(w, st.Problems)
}

// warn writes each problem as one indented warning line.
func warn(w io.Writer, problems []string) {
	for _, p := range problems {
		fmt.Fprintf(w, "  warning: %s\n", oneLine(errors.New(p)))
	}
}
