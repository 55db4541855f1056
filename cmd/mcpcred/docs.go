package main

// The man page and the shell completions, written from the verb and flag tables
// and the text help prints (verbs.go): one source, so they cannot disagree.

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// shells are the shells `mcpcred completion` writes for.
var shells = []string{"bash", "zsh", "fish"}

func runMan(c *call) int {
	if len(c.args) > 0 {
		return c.fail(exitBadCall, usagef("%s takes no arguments, got %q", c.verb.name, c.args[0]))
	}
	fmt.Fprint(c.stdout, manPage())
	return exitOK
}

func runCompletion(c *call) int {
	if len(c.args) != 1 || !slices.Contains(shells, c.args[0]) {
		return c.fail(exitBadCall, usagef("completion takes one shell: %s", strings.Join(shells, ", ")))
	}
	switch c.args[0] {
	case "bash":
		fmt.Fprint(c.stdout, bashCompletion())
	case "zsh":
		fmt.Fprint(c.stdout, zshCompletion())
	case "fish":
		fmt.Fprint(c.stdout, fishCompletion())
	}
	return exitOK
}

// roff escapes s for a line of roff text: backslashes, hyphens (which roff
// would otherwise typeset as hyphens, not the minus of an option), and a
// leading control character.
func roff(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// manPage is mcpcred.1: the synopsis, verbs and flags of help, and the exit
// statuses and files of docs/protocol.md.
func manPage() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w(`.TH MCPCRED 1 "" %q "User Commands"`, "mcpcred "+version())
	w(".SH NAME")
	w(`mcpcred \- keep MCP servers' OAuth tokens, git and docker credentials in the OS keyring`)
	w(".SH SYNOPSIS")
	w(".nf")
	for _, l := range synopsis() {
		w("%s", roff(l))
	}
	w(".fi")
	w(".SH DESCRIPTION")
	w("%s", roff("mcpcred is a credential helper: agent tools (Codex, Claude Code), git and docker run it, "+
		"write one request on its standard input and read the answer on its standard output. "+
		"It keeps secrets in the OS keyring (the Secret Service, the Windows Credential Manager, the macOS Keychain), "+
		"or in files of mode 0600 when there is none, and logs in to MCP servers with OAuth."))
	w(".PP")
	w("%s", roff("Run as docker-credential-mcpcred (a link or a copy of this binary), it answers docker's credential-helper protocol."))
	w(".SH VERBS")
	for _, v := range verbs {
		w(".TP")
		w(`.B "%s"`, roff(v.usageLine()))
		w("%s", roff(v.summary))
	}
	w(".SH OPTIONS")
	w("%s", roff(strings.ToUpper(flagsIntro[:1])+flagsIntro[1:]+"."))
	for _, f := range flagSpecs {
		w(".TP")
		w(`.B "%s"`, roff(f.usageLine()))
		w("%s", roff(f.text()))
		if takers := f.takers(); len(takers) > 0 {
			w(".br")
			w("%s", roff("verbs: "+strings.Join(takers, " ")))
		}
	}
	w(".SH EXIT STATUS")
	for _, s := range [][2]string{
		{"0", "success; git's get found nothing is success too, with nothing printed"},
		{"1", "the request failed (a store that could not be reached, a record that could not be written); docker's verbs: every error"},
		{"2", "bad usage: an unknown flag, a flag the verb does not take, a request that does not parse"},
		{"3", "headers: no token, log in first"},
		{"4", "headers: the keyring is unavailable"},
	} {
		w(".TP")
		w(".B %s", s[0])
		w("%s", roff(s[1]))
	}
	w(".SH FILES")
	w("%s", roff("In the home (--home, MCPCRED_HOME; by default the user configuration directory's mcpcred): "+
		".credentials.json (MCP tokens), git-credentials.json (git credentials), docker-credentials.json "+
		"(docker credentials), each used only when the keyring is not, and mcp-oauth-locks/."))
	w(".SH SEE ALSO")
	w("%s", roff("git-credential(1), gitcredentials(7); README.md, docs/protocol.md, docs/oauth.md and docs/docker.md of the source and release archives."))
	return b.String()
}

// argFlags are the flags that take a value, and the shell word list of that
// value: the choices of a placeholder like "auto|file|keyring", or "" when it
// is free text. fileFlags take a file, dirFlags a directory.
func argFlags() (choices map[string]string, fileFlags, dirFlags []string) {
	choices = map[string]string{}
	for _, f := range flagSpecs {
		switch {
		case f.arg == "":
		case f.arg == "DIR":
			dirFlags = append(dirFlags, "--"+f.name)
		case strings.HasPrefix(f.arg, "FILE"):
			fileFlags = append(fileFlags, "--"+f.name)
		case strings.Contains(f.arg, "|"):
			choices["--"+f.name] = strings.ReplaceAll(f.arg, "|", " ")
		default:
			choices["--"+f.name] = ""
		}
	}
	return choices, fileFlags, dirFlags
}

// verbFlags are the flags verb v takes, as "--a --b".
func verbFlags(v *verb) string {
	var out []string
	for _, f := range flagSpecs {
		if v.takes(f.name) {
			out = append(out, "--"+f.name)
		}
	}
	return strings.Join(out, " ")
}

func verbNames() string {
	var out []string
	for _, v := range verbs {
		out = append(out, v.name)
	}
	return strings.Join(out, " ")
}

func allFlags() string {
	var out []string
	for _, f := range flagSpecs {
		out = append(out, "--"+f.name)
	}
	return strings.Join(out, " ")
}

// findVerbShell is the start of the bash and zsh completion functions: cur and
// prev, and verb, the first word from index first that is neither a flag nor a
// value of one of withValue, before the word being completed (array words,
// index cword).
func findVerbShell(words, cword string, first int, withValue []string) string {
	return fmt.Sprintf("\tlocal cur=${%[1]s[%[2]s]} prev=${%[1]s[%[2]s-1]} verb= i\n"+
		"\tfor ((i = %[3]d; i < %[2]s; i++)); do\n"+
		"\t\tcase ${%[1]s[i]} in\n"+
		"\t\t%[4]s) ((i++)) ;;\n"+
		"\t\t-*) ;;\n"+
		"\t\t*) verb=${%[1]s[i]}; break ;;\n"+
		"\t\tesac\n"+
		"\tdone\n", words, cword, first, strings.Join(withValue, "|"))
}

// bashCompletion is a bash completion function: verbs, then the flags of the
// verb on the line (all flags before one), the values of a flag's choices, files
// and directories, and a verb's argument choices.
func bashCompletion() string {
	choices, fileFlags, dirFlags := argFlags()
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# bash completion for mcpcred, written by `mcpcred completion bash`.")
	w("_mcpcred() {")
	b.WriteString(findVerbShell("COMP_WORDS", "COMP_CWORD", 1, slices.Concat(slices.Sorted(maps.Keys(choices)), fileFlags, dirFlags)))
	w("\tcase $prev in")
	for _, f := range slices.Sorted(maps.Keys(choices)) {
		w("\t%s) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;", f, choices[f])
	}
	if len(fileFlags) > 0 {
		w("\t%s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;", strings.Join(fileFlags, "|"))
	}
	if len(dirFlags) > 0 {
		w("\t%s) COMPREPLY=($(compgen -d -- \"$cur\")); return ;;", strings.Join(dirFlags, "|"))
	}
	w("\tesac")
	w("\tlocal words")
	w("\tcase $verb in")
	w("\t'')")
	w("\t\tif [[ $cur == -* ]]; then words=%q; else words=%q; fi ;;", allFlags(), verbNames())
	for _, v := range verbs {
		if len(v.choices) > 0 {
			w("\t%s)", v.name)
			w("\t\tif [[ $cur == -* ]]; then words=%q; else words=%q; fi ;;", verbFlags(v), strings.Join(v.choices, " "))
			continue
		}
		w("\t%s) words=%q ;;", v.name, verbFlags(v))
	}
	w("\t*) return ;;")
	w("\tesac")
	w("\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))")
	w("}")
	w("complete -F _mcpcred mcpcred")
	return b.String()
}

// zshCompletion is a zsh completion function of the same rules as bash's.
func zshCompletion() string {
	choices, fileFlags, dirFlags := argFlags()
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("#compdef mcpcred")
	w("# zsh completion for mcpcred, written by `mcpcred completion zsh`.")
	w("_mcpcred() {")
	b.WriteString(findVerbShell("words", "CURRENT", 2, slices.Concat(slices.Sorted(maps.Keys(choices)), fileFlags, dirFlags)))
	w("\tcase $prev in")
	for _, f := range slices.Sorted(maps.Keys(choices)) {
		if choices[f] == "" {
			w("\t%s) return 0 ;;", f)
			continue
		}
		w("\t%s) compadd -- %s; return 0 ;;", f, choices[f])
	}
	if len(fileFlags) > 0 {
		w("\t%s) _files; return 0 ;;", strings.Join(fileFlags, "|"))
	}
	if len(dirFlags) > 0 {
		w("\t%s) _files -/; return 0 ;;", strings.Join(dirFlags, "|"))
	}
	w("\tesac")
	w("\tcase $verb in")
	w("\t'')")
	w("\t\tif [[ $cur == -* ]]; then compadd -- %s; else compadd -- %s; fi ;;", allFlags(), verbNames())
	for _, v := range verbs {
		fl := verbFlags(v)
		if len(v.choices) > 0 {
			w("\t%s)", v.name)
			w("\t\tif [[ $cur == -* ]]; then compadd -- %s; else compadd -- %s; fi ;;", fl, strings.Join(v.choices, " "))
			continue
		}
		w("\t%s) compadd -- %s ;;", v.name, fl)
	}
	w("\tesac")
	w("}")
	w(`if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _mcpcred "$@"; else compdef _mcpcred mcpcred; fi`)
	return b.String()
}

// fishQuote quotes s for fish.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

// fishCompletion is fish's completions: verbs with their summaries, each flag
// for the verbs that take it, with its help, and verbs' argument choices.
func fishCompletion() string {
	choices, fileFlags, dirFlags := argFlags()
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# fish completion for mcpcred, written by `mcpcred completion fish`.")
	w("complete -c mcpcred -f")
	w("set -l __mcpcred_verbs %s", verbNames())
	for _, v := range verbs {
		w("complete -c mcpcred -n \"not __fish_seen_subcommand_from $__mcpcred_verbs\" -a %s -d %s", v.name, fishQuote(v.summary))
		if len(v.choices) > 0 {
			w("complete -c mcpcred -n '__fish_seen_subcommand_from %s' -a %s", v.name, fishQuote(strings.Join(v.choices, " ")))
		}
	}
	for _, f := range flagSpecs {
		cond := ""
		if takers := f.takers(); len(takers) > 0 {
			cond = fmt.Sprintf(" -n \"not __fish_seen_subcommand_from $__mcpcred_verbs; or __fish_seen_subcommand_from %s\"", strings.Join(takers, " "))
		}
		arg := ""
		switch {
		case slices.Contains(fileFlags, "--"+f.name):
			arg = " -r -F"
		case slices.Contains(dirFlags, "--"+f.name):
			arg = " -r -a '(__fish_complete_directories)'"
		case choices["--"+f.name] != "":
			arg = " -x -a " + fishQuote(choices["--"+f.name])
		case f.arg != "":
			arg = " -x"
		}
		w("complete -c mcpcred -l %s%s%s -d %s", f.name, cond, arg, fishQuote(f.text()))
	}
	return b.String()
}
