package codexsecrets

// Codex's secret_auth_storage feature is default_enabled: cfg!(windows).
const (
	defaultSecrets = true
	defaultOS      = "Windows"
)
