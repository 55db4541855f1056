//go:build unix

package dirsafe

import (
	"errors"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// Check refuses to keep secrets in dir unless dir and the directories above it
// are safe, by ssh's rule for ~/.ssh (its StrictModes): each one, from
// dir up to and including the user's home directory (or up to / when dir is not
// under the home), must be owned by the user or by root and must not be writable
// by group or others. A directory above dir, never dir itself, may be writable by
// others when it is root's and sticky (/tmp): others can add entries there, but
// not replace or remove the one mcpcred's directory hangs on. The path is read
// with symlinks resolved, so a link to a directory someone else controls is
// judged by that directory. When dir does not exist yet its nearest existing
// ancestor is where the walk starts (what lockfile.MkdirPrivate then creates is
// 0700 and the user's).
func Check(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	start := abs
	for {
		if _, err := os.Stat(start); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		parent := filepath.Dir(start)
		if parent == start {
			return nil
		}
		start = parent
	}
	real, err := filepath.EvalSymlinks(start)
	if err != nil {
		return err
	}
	home := ""
	if h, err := os.UserHomeDir(); err == nil {
		if h, err = filepath.EvalSymlinks(h); err == nil {
			home = h
		}
	}
	uid := os.Getuid()
	for p := real; ; {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		owner, mode := ownerUID(fi), fi.Mode()
		itself := p == real && start == abs
		who := p
		if itself {
			who = "it"
		}
		switch {
		case owner != uid && owner != 0:
			return unsafeDir("refusing to keep secrets in %s: %s is owned by %s, not by you (%s) or root; run: chown %d %s",
				abs, who, DescribeUID(owner), DescribeUID(uid), uid, p)
		case mode.Perm()&0o022 != 0 && !(owner == 0 && mode&fs.ModeSticky != 0 && !itself):
			return unsafeDir("refusing to keep secrets in %s: %s is writable by others (mode %04o); run: chmod go-w %s",
				abs, who, mode.Perm(), p)
		}
		parent := filepath.Dir(p)
		if p == home || parent == p {
			return nil
		}
		p = parent
	}
}

func ownerUID(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

// DescribeUID is "uid 1000 (alice)", or "uid 1000" when the name is unknown.
func DescribeUID(uid int) string {
	s := "uid " + strconv.Itoa(uid)
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		s += " (" + u.Username + ")"
	}
	return s
}

// Owner is the owner of a directory as doctor shows it.
func Owner(fi fs.FileInfo) string { return DescribeUID(ownerUID(fi)) }
