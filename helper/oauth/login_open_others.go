//go:build !darwin && !windows

package oauth

import (
	"errors"
	"os"
	"os/exec"
)

// BrowserAvailable reports whether a browser can be opened here, and if not why:
// on Linux and the BSDs, a graphical session (DISPLAY or WAYLAND_DISPLAY) and
// xdg-open.
func BrowserAvailable() (bool, string) {
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return false, "no graphical display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
	}
	if _, err := exec.LookPath("xdg-open"); err != nil {
		return false, "xdg-open is not installed"
	}
	return true, ""
}

// OpenBrowser opens u in the desktop's browser with xdg-open.
func OpenBrowser(u string) error {
	if ok, why := BrowserAvailable(); !ok {
		return errors.New(why)
	}
	return startDetached(exec.Command("xdg-open", u))
}
