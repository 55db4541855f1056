//go:build !windows

package codexsecrets

import "runtime"

// Codex's secret_auth_storage feature is default_enabled: cfg!(windows).
const defaultSecrets = false

var defaultOS = runtime.GOOS
