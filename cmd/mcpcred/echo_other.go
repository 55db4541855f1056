//go:build !unix

package main

// echoOff does nothing: the Windows console's echo is turned off by
// term.ReadPassword itself.
func echoOff(int) error { return nil }
