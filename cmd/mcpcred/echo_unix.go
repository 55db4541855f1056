//go:build unix

package main

import "golang.org/x/sys/unix"

// echoOff turns the terminal's echo off before the prompt is printed, so that
// what the user types ahead of term.ReadPassword (which turns echo off only
// once it starts reading) is not shown. The caller restores the terminal.
func echoOff(fd int) error {
	t, err := unix.IoctlGetTermios(fd, ioctlReadTermios)
	if err != nil {
		return err
	}
	t.Lflag &^= unix.ECHO
	return unix.IoctlSetTermios(fd, ioctlWriteTermios, t)
}
