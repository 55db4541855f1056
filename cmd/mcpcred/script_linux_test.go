package main

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// addOSCommands adds mcpcred-nokeyctl: mcpcred under a seccomp filter that
// refuses the kernel keyring's system calls with EPERM, as Docker's default
// seccomp profile does, so transcripts see what a container user sees.
func addOSCommands(cmds map[string]func()) {
	cmds["mcpcred-nokeyctl"] = func() {
		if err := refuseKeyctl(); err != nil {
			fmt.Fprintf(os.Stderr, "mcpcred-nokeyctl: installing the seccomp filter: %v\n", err)
			os.Exit(125)
		}
		mainProcess()
	}
}

// refuseKeyctl installs, on every thread of the process, a seccomp filter that
// fails keyctl, add_key and request_key with EPERM and allows the rest.
func refuseKeyctl() error {
	refused := []uint32{unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY}
	// 0: load the system call number; 1..n: jump to the last instruction
	// (EPERM) when it is one of refused; n+1: allow; n+2: EPERM.
	prog := []unix.SockFilter{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}}
	for i, nr := range refused {
		prog = append(prog, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: uint8(len(refused) - i), K: nr})
	}
	prog = append(prog,
		unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
		unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)})
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog))); errno != 0 {
		return errno
	}
	return nil
}
