package oauth

import "os/exec"

// BrowserAvailable reports whether a browser can be opened here: on macOS, always.
func BrowserAvailable() (bool, string) { return true, "" }

// OpenBrowser opens u in the default browser with open(1).
func OpenBrowser(u string) error {
	return startDetached(exec.Command("open", u))
}
