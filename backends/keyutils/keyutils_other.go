//go:build !linux

package keyutils

import "time"

// Check reports ErrUnsupported: the kernel keyring is Linux's.
func Check() error { return ErrUnsupported }

// Put reports ErrUnsupported.
func Put(string, []byte, time.Duration) error { return ErrUnsupported }

// Get reports ErrUnsupported.
func Get(string) ([]byte, error) { return nil, ErrUnsupported }

// Drop reports ErrUnsupported.
func Drop(string) error { return ErrUnsupported }
