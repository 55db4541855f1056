package helper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mcpcred/mcpcred/backends"
)

// Doctor writes, for a person, which stores exist here, which one a write would use
// and why, and the file store's path and modes. It reads no secret it prints.
func (h *Helper) Doctor(ctx context.Context, w io.Writer) {
	fmt.Fprintf(w, "store mode: %s\n", h.Mode)
	fmt.Fprintf(w, "keyring service: %s\n", h.Service)
	var kerr error
	if h.Keyring == nil {
		kerr = h.errNoKeyring()
		fmt.Fprintf(w, "keyring: none (%s)\n", h.NoKeyring)
	} else {
		fmt.Fprintf(w, "keyring: %s\n", h.Keyring.Name())
		kerr = h.keyringCall(ctx, func(ctx context.Context, kr backends.Keyring) error {
			for _, line := range kr.Doctor(ctx) {
				fmt.Fprintf(w, "  %s\n", line)
			}
			_, err := kr.List(ctx, h.Service)
			return err
		})
		if kerr != nil {
			fmt.Fprintf(w, "  usable: no (%s)\n", oneLine(kerr))
		} else {
			fmt.Fprintf(w, "  usable: yes\n")
		}
	}
	path := h.Tokens.Path()
	fmt.Fprintf(w, "token file: %s (%s)\n", path, describeFile(path))
	gitPath := h.gitFile().Path()
	fmt.Fprintf(w, "git credentials file: %s (%s)\n", gitPath, describeFile(gitPath))
	fmt.Fprintf(w, "file directory: %s (%s)\n", filepath.Dir(path), describeFile(filepath.Dir(path)))
	switch {
	case h.Mode == File:
		fmt.Fprintf(w, "writes go to: the file (--store file)\n")
	case h.Mode == Keyring && kerr != nil:
		fmt.Fprintf(w, "writes go to: nowhere: --store keyring and the keyring is not usable\n")
	case kerr != nil:
		fmt.Fprintf(w, "writes go to: the file, because the keyring is not usable (%s)\n", oneLine(kerr))
	default:
		fmt.Fprintf(w, "writes go to: the keyring (%s)\n", h.Keyring.Name())
	}
}

func describeFile(path string) string {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return "absent"
	}
	if err != nil {
		return oneLine(err)
	}
	return fmt.Sprintf("mode %04o", fi.Mode().Perm())
}
