package oauth

import "os/exec"

// BrowserAvailable reports whether a browser can be opened here: on Windows, always.
func BrowserAvailable() (bool, string) { return true, "" }

// OpenBrowser opens u in the default browser through the URL protocol handler.
func OpenBrowser(u string) error {
	return startDetached(exec.Command("rundll32", "url.dll,FileProtocolHandler", u))
}
