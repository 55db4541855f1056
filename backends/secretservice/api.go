//go:build linux || freebsd || openbsd || netbsd || dragonfly

package secretservice

import (
	"time"

	"github.com/mcpcred/mcpcred/backends"
)

// Session algorithms, as named by the Secret Service specification.
const (
	AlgorithmDH    = "dh-ietf1024-sha256-aes128-cbc-pkcs7"
	AlgorithmPlain = "plain"
)

// DefaultTimeout bounds each operation when backends.Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// ContentType is the content type of secrets the Keyring writes, as keyring-rs.
const ContentType = "text/plain"

// PromptPolicy says whether the Keyring may show the service's prompts (unlock a
// collection, confirm a change).
type PromptPolicy int

const (
	// PromptAuto allows prompts only when DISPLAY or WAYLAND_DISPLAY is set, where a
	// prompter can show a window.
	PromptAuto PromptPolicy = iota
	// PromptNever never prompts: a locked collection is backends.ErrLocked at once.
	PromptNever
	// PromptAlways prompts whenever the service asks, waiting until the deadline.
	PromptAlways
)

// Config configures a Keyring.
type Config struct {
	backends.Options
	// Prompt decides whether prompts may be shown; the zero value is PromptAuto.
	Prompt PromptPolicy
	// Address is the D-Bus address to use; empty means the session bus, found as the
	// package documentation says.
	Address string
}

// Attributes returns the full attribute set the Keyring writes for an item.
func Attributes(service, account string) map[string]string {
	return map[string]string{
		"service":     service,
		"username":    account,
		"target":      "default",
		"application": "mcpcred",
	}
}

// ItemPath is the D-Bus object path of an item.
type ItemPath string

// Item is one Secret Service item, as ReadItem returns it.
type Item struct {
	Path        ItemPath
	Label       string
	Attributes  map[string]string
	Secret      []byte
	ContentType string
}
