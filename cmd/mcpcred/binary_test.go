package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// builtBinary builds the mcpcred command once per test process, so tests can run it
// as the real, separate processes that git and agent tools start. Its directory's
// name holds a space: git runs helpers through the shell, and that must not break.
func builtBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mcpcred-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "bin dir", "mcpcred")
		out, err := exec.Command("go", "build", "-o", binaryPath, ".").CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

// removeBuiltBinary runs the tests, then removes the binary builtBinary made.
type removeBuiltBinary struct{ *testing.M }

func (m removeBuiltBinary) Run() int {
	code := m.M.Run()
	if binaryPath != "" {
		os.RemoveAll(filepath.Dir(filepath.Dir(binaryPath)))
	}
	return code
}
