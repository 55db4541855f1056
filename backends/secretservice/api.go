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

// PromptPolicy says whether the Keyring runs the service's prompts (unlock a
// collection, confirm a change).
type PromptPolicy int

const (
	// PromptAuto runs every prompt the service returns, display or not, and waits
	// for it until the deadline.
	PromptAuto PromptPolicy = iota
	// PromptNever runs none: a locked collection, or a change the service wants
	// confirmed, is backends.ErrLocked at once.
	PromptNever
)

// Config configures a Keyring.
type Config struct {
	backends.Options
	// Prompt decides whether prompts are run; the zero value is PromptAuto.
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
	Modified    uint64 // Unix seconds; 0 when the service does not say
}
