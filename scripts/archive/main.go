// Command archive writes a release archive whose bytes depend only on the files'
// contents and names and on the time given: scripts/release.sh uses it so that two
// builds of one commit give identical archives, on any OS.
//
//	go run ./scripts/archive -o OUT -mtime UNIX -dir TOP [-x NAME]... NAME=FILE...
//
// OUT ends in .tar.gz or .zip. Each NAME=FILE puts FILE's contents at TOP/NAME.
// Every entry, and every directory above one, gets the time UNIX (the commit time,
// SOURCE_DATE_EPOCH), owner 0/0 with no user or group name, and mode 0755 for a
// directory or a NAME given with -x, else 0644, whatever the file's own mode (so
// neither the umask nor a file system without modes changes a byte); entries are
// sorted by name.
// gzip gets no name and no time; zip gets no extra fields beyond Go's. The archive
// is written to a temporary name and renamed, so OUT is never half written.
package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

type entry struct {
	name string // slash-separated, under the top directory; a directory ends in "/"
	src  string // "" for a directory
	mode int64
}

func main() {
	out := flag.String("o", "", "archive to write (.tar.gz or .zip)")
	mtime := flag.Int64("mtime", -1, "modification time of every entry, in Unix seconds")
	top := flag.String("dir", "", "top directory of the archive")
	var executables []string
	flag.Func("x", "a NAME that is executable (mode 0755); repeatable", func(name string) error {
		executables = append(executables, name)
		return nil
	})
	flag.Parse()
	if err := run(*out, *top, *mtime, executables, flag.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "archive: %v\n", err)
		os.Exit(1)
	}
}

func run(out, top string, mtime int64, executables, files []string) error {
	if out == "" || top == "" || mtime < 0 || len(files) == 0 {
		return errors.New("usage: archive -o OUT.tar.gz|OUT.zip -mtime UNIX -dir TOP NAME=FILE [NAME=FILE ...] (every flag is required)")
	}
	entries, err := collect(top, executables, files)
	if err != nil {
		return err
	}
	t := time.Unix(mtime, 0).UTC()
	var write func(io.Writer, []entry, time.Time) error
	switch {
	case strings.HasSuffix(out, ".tar.gz"):
		write = writeTarGz
	case strings.HasSuffix(out, ".zip"):
		write = writeZip
	default:
		return fmt.Errorf("%s: the name must end in .tar.gz or .zip", out)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".archive-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if err := write(tmp, entries, t); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", out, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

// collect turns NAME=FILE arguments into sorted entries, adding the directories
// above them.
func collect(top string, executables, files []string) ([]entry, error) {
	byName := map[string]entry{}
	exec := map[string]bool{}
	for _, name := range executables {
		exec[name] = true
	}
	for _, f := range files {
		name, src, ok := strings.Cut(f, "=")
		if !ok || name == "" || src == "" {
			return nil, fmt.Errorf("%q: want NAME=FILE", f)
		}
		full := path.Join(top, name)
		if path.Clean(name) != name || strings.HasPrefix(name, "/") || strings.HasPrefix(name, "../") {
			return nil, fmt.Errorf("%q: the name must be a clean relative path", name)
		}
		if _, dup := byName[full]; dup {
			return nil, fmt.Errorf("%q given twice", name)
		}
		fi, err := os.Stat(src)
		if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: not a regular file", src)
		}
		mode := int64(0o644)
		if exec[name] {
			mode = 0o755
			delete(exec, name)
		}
		byName[full] = entry{name: full, src: src, mode: mode}
		for d := path.Dir(full); d != "."; d = path.Dir(d) {
			byName[d+"/"] = entry{name: d + "/", mode: 0o755}
		}
	}
	for name := range exec {
		return nil, fmt.Errorf("-x %s: no such NAME=FILE", name)
	}
	entries := make([]entry, 0, len(byName))
	for _, e := range byName {
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	return entries, nil
}

func writeTarGz(w io.Writer, entries []entry, t time.Time) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	// gzip.Writer's header has no name and a zero time unless set: like gzip -n.
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: e.mode, ModTime: t, Format: tar.FormatUSTAR, Typeflag: tar.TypeDir}
		var data []byte
		if e.src != "" {
			if data, err = os.ReadFile(e.src); err != nil {
				return err
			}
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeZip(w io.Writer, entries []entry, t time.Time) error {
	zw := zip.NewWriter(w)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Modified: t, Method: zip.Deflate}
		hdr.SetMode(os.FileMode(e.mode))
		if e.src == "" {
			hdr.Method = zip.Store
			hdr.SetMode(os.ModeDir | os.FileMode(e.mode))
		}
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if e.src == "" {
			continue
		}
		data, err := os.ReadFile(e.src)
		if err != nil {
			return err
		}
		if _, err := fw.Write(data); err != nil {
			return err
		}
	}
	return zw.Close()
}
