package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixture writes a binary and a document with the current time, and returns the
// NAME=FILE arguments for them; only their contents may reach the archive.
func fixture(t *testing.T) (dir string, args []string) {
	t.Helper()
	dir = t.TempDir()
	bin := filepath.Join(dir, "bin")
	doc := filepath.Join(dir, "doc")
	// The files' own modes are the opposite of the archive's: they must not count.
	if err := os.WriteFile(bin, []byte("#!binary"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(doc, []byte("docs"), 0o700); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, f := range []string{bin, doc} {
		if err := os.Chtimes(f, now, now); err != nil {
			t.Fatal(err)
		}
	}
	return dir, []string{"z/README.md=" + doc, "mcpcred=" + bin, "completions/_mcpcred=" + doc}
}

const epoch = 1795897137

var wantNames = []string{
	"top/", "top/completions/", "top/completions/_mcpcred", "top/mcpcred", "top/z/", "top/z/README.md",
}

// wantMode: directories and the binary named with -x are 0755, the rest 0644.
func wantMode(name string) os.FileMode {
	switch {
	case strings.HasSuffix(name, "/"):
		return os.ModeDir | 0o755
	case name == "top/mcpcred":
		return 0o755
	}
	return 0o644
}

func TestTarGz(t *testing.T) {
	dir, args := fixture(t)
	out := filepath.Join(dir, "a.tar.gz")
	if err := run(out, "top", epoch, []string{"mcpcred"}, args); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if gz.Name != "" || !gz.ModTime.IsZero() {
		t.Errorf("gzip header: name %q, time %v; want none", gz.Name, gz.ModTime)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.FileInfo().Mode() != wantMode(h.Name) || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.ModTime.Unix() != epoch {
			t.Errorf("%s: mode %o uid %d gid %d %q/%q time %v", h.Name, h.Mode, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime)
		}
	}
	if !slices.Equal(names, wantNames) {
		t.Errorf("entries %q, want %q", names, wantNames)
	}
}

func TestZip(t *testing.T) {
	dir, args := fixture(t)
	out := filepath.Join(dir, "a.zip")
	if err := run(out, "top", epoch, []string{"mcpcred"}, args); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Mode() != wantMode(f.Name) || !f.Modified.Equal(time.Unix(epoch, 0)) {
			t.Errorf("%s: mode %v, time %v", f.Name, f.Mode(), f.Modified)
		}
	}
	if !slices.Equal(names, wantNames) {
		t.Errorf("entries %q, want %q", names, wantNames)
	}
}

// TestSameBytes: a second archive of the same contents, from files with other
// times and in another directory, is byte for byte the first.
func TestSameBytes(t *testing.T) {
	for _, ext := range []string{".tar.gz", ".zip"} {
		dir1, args1 := fixture(t)
		dir2, args2 := fixture(t)
		later := time.Now().Add(time.Hour)
		for _, a := range args2 {
			_, file, _ := strings.Cut(a, "=")
			if err := os.Chtimes(file, later, later); err != nil {
				t.Fatal(err)
			}
		}
		if err := run(filepath.Join(dir1, "a"+ext), "top", epoch, []string{"mcpcred"}, args1); err != nil {
			t.Fatal(err)
		}
		if err := run(filepath.Join(dir2, "a"+ext), "top", epoch, []string{"mcpcred"}, args2); err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(filepath.Join(dir1, "a"+ext))
		b, _ := os.ReadFile(filepath.Join(dir2, "a"+ext))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: two archives of the same files differ (%d and %d bytes)", ext, len(a), len(b))
		}
	}
}

func TestBadArgs(t *testing.T) {
	dir, _ := fixture(t)
	for _, args := range [][]string{
		{"x"},                                 // no =
		{"../x=" + filepath.Join(dir, "doc")}, // escapes the top directory
		{"a//b=" + filepath.Join(dir, "doc")}, // not clean
		{"a=" + dir},                          // a directory
		{"a=" + filepath.Join(dir, "doc"), "a=" + filepath.Join(dir, "bin")}, // twice
	} {
		if err := run(filepath.Join(dir, "a.zip"), "top", epoch, nil, args); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
	if err := run(filepath.Join(dir, "a.tar"), "top", epoch, nil, []string{"a=" + filepath.Join(dir, "doc")}); err == nil {
		t.Error("a .tar name: no error")
	}
	if err := run(filepath.Join(dir, "a.zip"), "top", epoch, []string{"b"}, []string{"a=" + filepath.Join(dir, "doc")}); err == nil {
		t.Error("-x of a name not given: no error")
	}
	if _, err := os.Stat(filepath.Join(dir, "a.zip")); !os.IsNotExist(err) {
		t.Errorf("a failed run left an archive: %v", err)
	}
}
