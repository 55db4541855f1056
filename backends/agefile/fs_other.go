//go:build !unix

package agefile

import "os"

// chmodPrivate does nothing: access is kept in ACLs here, and a new file inherits
// the directory's (the user's profile directory is private).
func chmodPrivate(*os.File) error { return nil }

func chmodDirPrivate(string) error { return nil }

// syncDir does nothing: Windows cannot fsync a directory, and the rename
// (MoveFileEx) is durable once the file's data was flushed.
func syncDir(string) error { return nil }
