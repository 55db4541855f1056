// Package native opens the OS keyring this build of mcpcred has: the Secret Service
// on Linux and the BSDs, Windows Credential Manager, the macOS Keychain (with cgo).
// One file per OS family provides New; shared code never switches on GOOS.
package native
