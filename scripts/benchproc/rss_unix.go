//go:build unix

package main

import (
	"os"
	"syscall"
)

// peakRSS is the process's peak resident set in KiB (ru_maxrss, KiB on Linux).
func peakRSS(ps *os.ProcessState) (int64, bool) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, false
	}
	return int64(ru.Maxrss), true
}
