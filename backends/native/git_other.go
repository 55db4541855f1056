//go:build !linux && !freebsd && !openbsd && !netbsd && !(dragonfly && cgo) && !windows && !(darwin && cgo)

package native

// GitLayout names where git credentials go in this OS's keyring, for messages:
// here the keyring (if any) keeps none, and git credentials use the file store.
const GitLayout = "none: git credentials use the file store on this OS"
