package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeModule creates a module of small packages in a temporary directory.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["go.mod"] = "module example.com/tc\n\ngo 1.26\n"
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const cgoFile = `//go:build darwin && cgo

package p

// #include <stdlib.h>
import "C"

func Free(p []byte) { C.free(nil); _ = C.int(len(p)) }
`

func TestCatchesTypeErrors(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"p/cgo.go": cgoFile,
		// Seen only on darwin with cgo: the errors must be reported.
		"p/mac.go": "//go:build darwin && cgo\n\npackage p\n\nvar X int = \"not an int\"\n\nfunc F() { var unused int }\n",
		// Not part of a darwin build: must not be reported.
		"p/lin.go":    "//go:build linux\n\npackage p\n\nvar Y int = \"linux only\"\n",
		"p/p_test.go": "package p\n\nimport \"testing\"\n\nfunc TestP(t *testing.T) { Free(1) }\n",
		"q/q.go":      "package q\n\nimport \"example.com/tc/p\"\n\nvar Z string = p.X\n",
		"ok/ok.go":    "package ok\n\nfunc OK() int { return 1 }\n",
	})
	for _, arch := range []string{"arm64", "amd64"} {
		rep, err := check(options{dir: dir, goos: "darwin", goarch: arch, tests: true, all: true, patterns: []string{"./..."}})
		if err != nil {
			t.Fatal(err)
		}
		all := strings.Join(rep.Errors, "\n")
		for _, want := range []string{
			`p/mac.go:5:13: cannot use "not an int"`,
			"p/mac.go:7:16: declared and not used: unused",
			"p/p_test.go:5:33: cannot use 1",
			"q/q.go:5:16: cannot use p.X",
		} {
			if !strings.Contains(all, want) {
				t.Errorf("%s: errors lack %q:\n%s", arch, want, all)
			}
		}
		if strings.Contains(all, "lin.go") || strings.Contains(all, "cgo.go") || strings.Contains(all, "ok.go") {
			t.Errorf("%s: errors outside the darwin file set or in clean files:\n%s", arch, all)
		}
		if len(rep.Errors) != 4 {
			t.Errorf("%s: %d errors, want 4:\n%s", arch, len(rep.Errors), all)
		}
	}

	// The command: status 1, errors on stdout.
	var out, errOut bytes.Buffer
	t.Chdir(dir)
	if rc := run([]string{"-all"}, &out, &errOut); rc != 1 || !strings.Contains(out.String(), "darwin/amd64: p/mac.go:5:13") {
		t.Fatalf("run = %d\nstdout:\n%s\nstderr:\n%s", rc, &out, &errOut)
	}
}

func TestCleanModule(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"p/cgo.go":    cgoFile,
		"p/p_test.go": "package p\n\nimport \"testing\"\n\nfunc TestP(t *testing.T) { Free(nil) }\n",
	})
	t.Chdir(dir)
	var out, errOut bytes.Buffer
	if rc := run([]string{"-all"}, &out, &errOut); rc != 0 {
		t.Fatalf("run = %d\nstdout:\n%s\nstderr:\n%s", rc, &out, &errOut)
	}
	// With no importer of go-keychain, the default mode has nothing to check.
	if rc := run(nil, &out, &errOut); rc != 2 {
		t.Fatalf("run without -all = %d, want 2", rc)
	}
}

// TestThisModule checks mcpcred's own darwin build: go-keychain, the Keychain
// backend and its importers.
func TestThisModule(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"arm64", "amd64"} {
		rep, err := check(options{dir: root, goos: "darwin", goarch: arch, tests: true, patterns: []string{"./..."}})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{keychainPkg, "github.com/mcpcred/mcpcred/backends/keychain", "github.com/mcpcred/mcpcred/backends/native"} {
			if !slices.Contains(rep.Checked, want) {
				t.Errorf("%s: %s not checked; checked %q", arch, want, rep.Checked)
			}
		}
		if len(rep.Errors) > 0 {
			t.Errorf("%s: type errors:\n%s", arch, strings.Join(rep.Errors, "\n"))
		}
	}
}
