//go:build !unix && !windows

package file

import "os"

func openNoFollow(path string) (*os.File, error) { return os.Open(path) }

func renameReplace(from, to string) error { return os.Rename(from, to) }

func syncDir(string) error { return nil }

// unixPerms: no Unix permissions to check.
const unixPerms = false
