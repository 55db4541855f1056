package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mcpcred/mcpcred/backends/keyringtest"
)

// runOut runs mcpcred in-process and returns its stdout, failing on a non-zero
// exit.
func runOut(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(args, strings.NewReader(""), &stdout, &stderr, func(string) string { return "" }); code != 0 {
		t.Fatalf("mcpcred %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	return stdout.String()
}

func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		keyringtest.Missing(t, name+" is not installed (scripts/test.sh installs it)")
	}
	return p
}

var spaces = regexp.MustCompile(`\s+`)

func squeeze(s string) string { return strings.TrimSpace(spaces.ReplaceAllString(s, " ")) }

// TestManAgreesWithHelp renders `mcpcred man` with groff, as man(1) does, and
// checks that every line of `mcpcred help` (synopsis, each verb with its
// summary, each flag with its help and its verbs) reads the same in the page.
func TestManAgreesWithHelp(t *testing.T) {
	groff := lookTool(t, "groff")
	cmd := exec.Command(groff, "-man", "-Tascii", "-rLL=2000n", "-rHY=0", "-P-cbou")
	cmd.Stdin = strings.NewReader(runOut(t, "man"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("groff: %v", err)
	}
	page := squeeze(string(out))
	help := runOut(t, "help")
	n := 0
	for _, line := range strings.Split(help, "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "usage: ")
		if line == "" || line == "Verbs:" {
			continue
		}
		if strings.HasPrefix(line, "Flags (") {
			intro := strings.TrimSuffix(strings.TrimPrefix(line, "Flags ("), "):")
			line = strings.ToUpper(intro[:1]) + intro[1:] + "."
		}
		n++
		if !strings.Contains(page, squeeze(line)) {
			t.Errorf("help's line is not in the man page:\n%s", line)
		}
	}
	if want := len(verbs) + 2*len(flagSpecs); n < want {
		t.Fatalf("only %d lines of help checked, want at least %d", n, want)
	}
	for _, v := range verbs {
		if !strings.Contains(help, v.summary) || !strings.Contains(page, squeeze(v.summary)) {
			t.Errorf("verb %s: summary missing from help or man", v.name)
		}
	}
	for _, f := range flagSpecs {
		if !strings.Contains(page, squeeze(f.usageLine()+" "+f.text())) {
			t.Errorf("flag --%s missing from the man page", f.name)
		}
	}
}

func writeCompletion(t *testing.T, shell, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(runOut(t, "completion", shell)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBashCompletion loads the bash completion into bash, checks it parses, and
// drives its function as bash's completion does (COMP_WORDS, COMP_CWORD).
func TestBashCompletion(t *testing.T) {
	bash := lookTool(t, "bash")
	script := writeCompletion(t, "bash", "mcpcred.bash")
	if out, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "somedir"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line string // the words before the cursor; the last is being completed
		want string
	}{
		{"mcpcred lo", "login logout lock"},
		{"mcpcred do", "docker-credential doctor"},
		{"mcpcred --st", "--store"},
		{"mcpcred --store ", "auto file keyring"},
		{"mcpcred --store=file get --f", "--format"},
		{"mcpcred --store file get --", "--store --profile --home --timeout --format --min-ttl --no-refresh --help"},
		{"mcpcred headers --force", "--force-refresh"},
		{"mcpcred get --format ", "kv json"},
		{"mcpcred completion ", "bash zsh fish"},
		{"mcpcred docker-credential ", "store get erase list version"},
		{"mcpcred --home som", "somedir"},
		{"mcpcred version --", "--help"},
	} {
		words := strings.Split(tc.line, " ")
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, "'"+w+"'")
		}
		driver := "source " + script + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\n" +
			"COMP_CWORD=" + itoa(len(words)-1) + "\n_mcpcred\necho \"${COMPREPLY[*]}\"\n" +
			"complete -p mcpcred\n"
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c", driver)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tc.line, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != 2 || lines[0] != tc.want || lines[1] != "complete -F _mcpcred mcpcred" {
			t.Errorf("completing %q: got %q, want %q and the complete line", tc.line, lines, tc.want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestZshCompletion: the zsh script parses (zsh -n).
func TestZshCompletion(t *testing.T) {
	zsh := lookTool(t, "zsh")
	script := writeCompletion(t, "zsh", "_mcpcred")
	if out, err := exec.Command(zsh, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
}

// TestFishCompletion: the fish script parses (fish -n) and, loaded, completes
// through fish's own `complete -C`.
func TestFishCompletion(t *testing.T) {
	fish := lookTool(t, "fish")
	script := writeCompletion(t, "fish", "mcpcred.fish")
	if out, err := exec.Command(fish, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("fish -n: %v\n%s", err, out)
	}
	for line, want := range map[string][]string{
		"mcpcred lo":               {"lock", "login", "logout"},
		"mcpcred --store ":         {"auto", "file", "keyring"},
		"mcpcred get --no":         {"--no-refresh"},
		"mcpcred completion ":      {"bash", "fish", "zsh"}, // fish sorts
		"mcpcred headers --force-": {"--force-refresh"},
	} {
		cmd := exec.Command(fish, "--no-config", "-c", "source "+script+"; complete -C '"+line+"'")
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("fish complete -C %q: %v\n%s", line, err, out)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			got = append(got, strings.SplitN(l, "\t", 2)[0])
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("fish completing %q: got %q, want %q", line, got, want)
		}
	}
}
