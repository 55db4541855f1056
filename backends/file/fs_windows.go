//go:build windows

package file

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// openNoFollow opens path for reading without following a reparse point, sharing
// delete access so that a writer's rename over the file does not fail meanwhile.
func openNoFollow(path string) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING,
		windows.FILE_ATTRIBUTE_NORMAL|windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// renameReplace retries for a short while when another program (a reader without
// FILE_SHARE_DELETE, an antivirus scanner) has the target open.
func renameReplace(from, to string) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := os.Rename(from, to)
		if err == nil || time.Now().After(deadline) ||
			!(errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_SHARING_VIOLATION)) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncDir is a no-op: Windows cannot fsync a directory; MoveFileEx is durable
// enough once the file's data was flushed.
func syncDir(string) error { return nil }

// unixPerms: Windows keeps access in ACLs; Go's permission bits are made up.
const unixPerms = false
