package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	cmds := map[string]func(){
		"mcpcred": mainProcess,
		dockerName: func() {
			c := &call{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
			os.Exit(runDockerName(c, os.Args[1:]))
		},
	}
	addOSCommands(cmds)
	testscript.Main(removeBuiltBinary{m}, cmds)
}

func mainProcess() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)) }

// TestScript runs the golden transcripts in testdata/script: each a request, a
// command, and the exact stdout, stderr and exit status expected.
//
// Every script starts with no reachable keyring (a D-Bus address that does not
// exist), a fresh home and a fixed clock-free environment, so that what it pins
// does not depend on this machine.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, "config"))
			env.Setenv("XDG_RUNTIME_DIR", filepath.Join(env.WorkDir, "run"))
			env.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(env.WorkDir, "no-bus"))
			// The user running the tests, as doctor and the directory rules name
			// it: "uid 1000 (alice)".
			owner := "uid " + strconv.Itoa(os.Getuid())
			if u, err := user.LookupId(strconv.Itoa(os.Getuid())); err == nil {
				owner += " (" + u.Username + ")"
			}
			env.Setenv("OWNER", owner)
			env.Setenv("UID", strconv.Itoa(os.Getuid()))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"cmpnonl": cmpNoNewline,
			"perm":    checkPerm,
			"nonl":    copyNoNewline,
			"bytes":   writeBytes,
			"chown":   chownUID,
			"server":  startServer,
			"expand":  expandFile,
			"hangbus": hangBus,
		},
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Getuid() == 0 || os.Getenv("CI") != "", nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
	})
}

// cmpNoNewline compares a file that ends without a newline (Codex's JSON files) with
// a txtar section, which always ends with one: "cmpnonl FILE WANT".
func cmpNoNewline(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: cmpnonl FILE WANT")
	}
	got, want := ts.ReadFile(args[0]), ts.ReadFile(args[1])
	if strings.HasSuffix(got, "\n") {
		ts.Fatalf("%s ends with a newline; Codex's files do not", args[0])
	}
	if got+"\n" != want {
		ts.Fatalf("%s differs from %s:\n got %s\nwant %s", args[0], args[1], got, want)
	}
}

// checkPerm asserts a path's permission bits: "perm PATH 0600".
func checkPerm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: perm PATH MODE")
	}
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	got := fmt.Sprintf("%04o", fi.Mode().Perm())
	if (got == args[1]) == neg {
		ts.Fatalf("%s has mode %s, want %s%s", args[0], got, map[bool]string{true: "not ", false: ""}[neg], args[1])
	}
}

// copyNoNewline copies a txtar section to a file without its final newline, to lay
// down a file exactly as Codex writes it: "nonl SECTION FILE".
func copyNoNewline(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: nonl SECTION FILE")
	}
	data := strings.TrimSuffix(ts.ReadFile(args[0]), "\n")
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(data), 0o600))
}

// writeBytes writes a file from Go-quoted strings, for input a txtar file cannot
// hold (NUL, a CR inside a line, a megabyte): "bytes FILE QUOTED [xCOUNT] ...",
// each piece optionally repeated COUNT times.
func writeBytes(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || neg {
		ts.Fatalf("usage: bytes FILE QUOTED [xCOUNT] ...")
	}
	var b strings.Builder
	for i := 1; i < len(args); i++ {
		piece, err := strconv.Unquote(args[i])
		ts.Check(err)
		n := 1
		if i+1 < len(args) && strings.HasPrefix(args[i+1], "x") {
			n, err = strconv.Atoi(args[i+1][1:])
			ts.Check(err)
			i++
		}
		b.WriteString(strings.Repeat(piece, n))
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(b.String()), 0o600))
}

// chownUID gives a path to another uid, which needs root: "chown PATH UID". A
// script that uses it starts with "[!root] skip": condition root holds for root
// and under CI whoever runs it, so CI fails here rather than skip.
func chownUID(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: chown PATH UID")
	}
	uid, err := strconv.Atoi(args[1])
	ts.Check(err)
	if os.Getuid() != 0 {
		ts.Fatalf("giving a directory to another uid needs root; CI runs the scripts as root")
	}
	ts.Check(os.Chown(ts.MkAbs(args[0]), uid, uid))
}

// startServer starts a loopback HTTP server for the script, to play a hostile
// or broken token endpoint or proxy: "server NAME STATUS FILE" answers every
// request with STATUS and FILE's bytes as JSON, appends "METHOD URL" of each
// request to $WORK/NAME.log, and sets $NAME to its URL. It stops with the script.
func startServer(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 || neg {
		ts.Fatalf("usage: server NAME STATUS FILE")
	}
	status, err := strconv.Atoi(args[1])
	ts.Check(err)
	body := ts.ReadFile(args[2])
	logPath := ts.MkAbs(args[0] + ".log")
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err == nil {
			fmt.Fprintf(f, "%s %s\n", r.Method, r.URL)
			f.Close()
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL)
}

// expandFile replaces $NAME in a file with the script's variables, for a
// request that names a server the script started: "expand FILE".
func expandFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: expand FILE")
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(os.Expand(ts.ReadFile(args[0]), ts.Getenv)), 0o600))
}

// hangBus listens on a Unix socket for the rest of the script, accepting every
// connection and never answering: a D-Bus that hangs. "hangbus SOCKET".
func hangBus(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: hangbus SOCKET")
	}
	l, err := net.Listen("unix", ts.MkAbs(args[0]))
	ts.Check(err)
	conns := make(chan net.Conn, 64)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(conns)
				return
			}
			conns <- c
			go io.Copy(io.Discard, c)
		}
	}()
	ts.Defer(func() {
		l.Close()
		for c := range conns {
			c.Close()
		}
	})
}
