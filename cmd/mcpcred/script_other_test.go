//go:build !linux

package main

// addOSCommands adds nothing: mcpcred-nokeyctl is Linux's (a seccomp filter).
func addOSCommands(map[string]func()) {}
