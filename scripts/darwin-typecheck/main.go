// Command darwin-typecheck type-checks the macOS (cgo) build of mcpcred on any OS.
//
// Linux cannot compile a darwin cgo package: there is no clang for Apple targets
// and no macOS SDK. go vet and staticcheck therefore skip the Keychain backend.
// This program checks it as well as the type checker alone can:
//
//  1. `go list -e -deps [-test] -json` with GOOS=darwin, CGO_ENABLED=1 and
//     GOARCH=arm64, then amd64, selects the files a Mac build compiles (the
//     `darwin && cgo` files and the files that `import "C"`), with modules
//     resolved as the go command does. It runs no C compiler.
//  2. go/parser and go/types, with types.Config.FakeImportC, check those files in
//     dependency order: whole bodies for the packages under check, declarations
//     only for their dependencies (whose errors are not reported).
//
// By default the packages under check are github.com/keybase/go-keychain and
// every package matched by the patterns (default ./...) that imports it, directly
// or not, with their tests: backends/keychain, backends/native, cmd/mcpcred.
// With -all, every matched package is checked.
//
// What it cannot check: anything about C. An expression of a C type has an
// invalid type, which go/types accepts silently.
//
// Usage, from the module root:
//
//	go run ./scripts/darwin-typecheck [-goos darwin] [-goarch arm64,amd64] [-test=true] [-all] [-tags t] [patterns]
//
// Exit status: 0 clean, 1 type errors (printed, one a line), 2 usage or go list
// failure.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// keychainPkg is the cgo package whose importers are checked by default.
const keychainPkg = "github.com/keybase/go-keychain"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("darwin-typecheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	goarch := fs.String("goarch", "arm64,amd64", "comma-separated GOARCH values")
	fs.StringVar(&o.goos, "goos", "darwin", "GOOS")
	fs.BoolVar(&o.tests, "test", true, "check the packages' tests too")
	fs.BoolVar(&o.all, "all", false, "check every matched package, not only the importers of "+keychainPkg)
	fs.StringVar(&o.tags, "tags", "", "extra build tags")
	verbose := fs.Bool("v", false, "list the packages checked")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.patterns = fs.Args()
	if len(o.patterns) == 0 {
		o.patterns = []string{"./..."}
	}
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(stderr, "darwin-typecheck:", err)
		return 2
	}
	o.dir = wd
	nerr := 0
	for _, arch := range strings.Split(*goarch, ",") {
		o.goarch = strings.TrimSpace(arch)
		rep, err := check(o)
		if err != nil {
			fmt.Fprintf(stderr, "darwin-typecheck: %s/%s: %v\n", o.goos, o.goarch, err)
			return 2
		}
		for _, e := range rep.Errors {
			fmt.Fprintf(stdout, "%s/%s: %s\n", o.goos, o.goarch, e)
		}
		nerr += len(rep.Errors)
		if *verbose {
			fmt.Fprintf(stderr, "%s/%s: checked %s\n", o.goos, o.goarch, strings.Join(rep.Checked, " "))
		}
	}
	if nerr > 0 {
		fmt.Fprintf(stderr, "darwin-typecheck: %d type errors\n", nerr)
		return 1
	}
	return 0
}

type options struct {
	dir          string // module directory where go list runs
	goos, goarch string
	tags         string
	tests, all   bool
	patterns     []string
}

// report is the result for one GOOS/GOARCH.
type report struct {
	Checked []string // import paths (test variants included) checked in full
	Errors  []string // "file:line:col: message", file relative to dir
}

// listPkg is the part of `go list -json` output used here.
type listPkg struct {
	ImportPath string
	Name       string
	Dir        string
	GoFiles    []string
	CgoFiles   []string
	ImportMap  map[string]string
	Deps       []string
	ForTest    string
	DepOnly    bool
	Standard   bool
	Module     *struct{ GoVersion string }
	Error      *struct{ Err string }
}

func goList(o options) ([]*listPkg, error) {
	args := []string{"list", "-e", "-deps", "-json=ImportPath,Name,Dir,GoFiles,CgoFiles,ImportMap,Deps,ForTest,DepOnly,Standard,Module,Error"}
	if o.tests {
		args = append(args, "-test")
	}
	if o.tags != "" {
		args = append(args, "-tags", o.tags)
	}
	args = append(args, "--")
	args = append(args, o.patterns...)
	cmd := exec.Command("go", args...)
	cmd.Dir = o.dir
	cmd.Env = append(os.Environ(), "GOOS="+o.goos, "GOARCH="+o.goarch, "CGO_ENABLED=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []*listPkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(listPkg)
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// check type-checks one GOOS/GOARCH.
func check(o options) (*report, error) {
	pkgs, err := goList(o)
	if err != nil {
		return nil, err
	}
	c := &checker{
		o:     o,
		fset:  token.NewFileSet(),
		pkgs:  map[string]*listPkg{},
		done:  map[string]*types.Package{},
		busy:  map[string]bool{},
		sizes: types.SizesFor("gc", o.goarch),
		rep:   &report{},
		seen:  map[string]bool{},
	}
	if c.sizes == nil {
		return nil, fmt.Errorf("unknown GOARCH %q", o.goarch)
	}
	for _, p := range pkgs {
		c.pkgs[p.ImportPath] = p
	}
	c.targets = map[string]bool{}
	for _, p := range pkgs {
		if p.Name == "main" && p.ForTest == "" && strings.HasSuffix(p.ImportPath, ".test") {
			continue // the generated test main
		}
		base, _, _ := strings.Cut(p.ImportPath, " ")
		switch {
		case base == keychainPkg:
			c.targets[p.ImportPath] = true
		case p.DepOnly:
		case o.all || slices.Contains(p.Deps, keychainPkg):
			c.targets[p.ImportPath] = true
		}
	}
	if len(c.targets) == 0 {
		return nil, fmt.Errorf("no package to check: nothing matched by %q imports %s (use -all?)", o.patterns, keychainPkg)
	}
	ids := make([]string, 0, len(c.targets))
	for id := range c.targets {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if _, err := c.load(id); err != nil {
			c.errorf("%s: %v", id, err)
		}
	}
	c.rep.Checked = ids
	return c.rep, nil
}

type checker struct {
	o       options
	fset    *token.FileSet
	pkgs    map[string]*listPkg
	targets map[string]bool
	done    map[string]*types.Package
	busy    map[string]bool
	sizes   types.Sizes
	rep     *report
	seen    map[string]bool
}

// errorf records an error once: a package and its test variant share files.
func (c *checker) errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !c.seen[msg] {
		c.seen[msg] = true
		c.rep.Errors = append(c.rep.Errors, msg)
	}
}

// importer resolves the imports of one package through its ImportMap (vendoring,
// test variants).
type importer struct {
	c    *checker
	from *listPkg
}

func (im importer) Import(path string) (*types.Package, error) {
	if id, ok := im.from.ImportMap[path]; ok {
		path = id
	}
	return im.c.load(path)
}

func (c *checker) load(id string) (*types.Package, error) {
	if id == "unsafe" {
		return types.Unsafe, nil
	}
	if p, ok := c.done[id]; ok {
		return p, nil
	}
	lp := c.pkgs[id]
	if lp == nil {
		return nil, fmt.Errorf("package %s is not in go list's output", id)
	}
	if c.busy[id] {
		return nil, fmt.Errorf("import cycle through %s", id)
	}
	c.busy[id] = true
	defer delete(c.busy, id)

	target := c.targets[id]
	if lp.Error != nil && (target || !lp.Standard) {
		c.errorf("%s: %s", id, strings.TrimSpace(lp.Error.Err))
	}
	var files []*ast.File
	mode := parser.SkipObjectResolution | parser.ParseComments
	for _, name := range slices.Concat(lp.GoFiles, lp.CgoFiles) {
		path := name
		if !filepath.IsAbs(path) {
			path = filepath.Join(lp.Dir, name)
		}
		f, err := parser.ParseFile(c.fset, path, nil, mode)
		if err != nil {
			if target {
				c.errorf("%s", c.rel(err.Error()))
			}
			if f == nil {
				continue
			}
		}
		files = append(files, f)
	}
	conf := types.Config{
		Importer:         importer{c, lp},
		FakeImportC:      true,
		IgnoreFuncBodies: !target,
		Sizes:            c.sizes,
		Error: func(err error) {
			if target {
				c.errorf("%s", c.rel(err.Error()))
			}
		},
	}
	if lp.Module != nil && lp.Module.GoVersion != "" {
		conf.GoVersion = "go" + lp.Module.GoVersion
	}
	path, _, _ := strings.Cut(id, " ")
	pkg, _ := conf.Check(path, c.fset, files, nil) // errors went to conf.Error
	c.done[id] = pkg
	return pkg, nil
}

// rel shortens an error's absolute file name to one relative to the module.
func (c *checker) rel(msg string) string {
	return strings.ReplaceAll(msg, c.o.dir+string(filepath.Separator), "")
}
