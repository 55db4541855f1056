//go:build linux || windows

package codexsecrets_test

import "strings"

// escaped is s as a serde_json string body (what Codex writes inside the file).
func escaped(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
