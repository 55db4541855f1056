// Command benchproc measures whole-process runs of a command against a peer's, the
// way git and agent tools start a credential helper: a fresh process each time, its
// stdin from a file, no shell in between. It also makes the fixtures the benchmarks
// need. scripts/bench.sh drives it; nothing here passes or fails on a number.
//
//	benchproc pair -name NAME [-runs 30] [-reps 3] [-warmup 3] [-batch 1] [-plus DUR]
//	               [-reset FILE] [-stdin FILE] [-peer-stdin FILE] -- CMD [ARGS...] ::: PEER [ARGS...]
//
// pair runs CMD and PEER alternately (CMD, PEER, CMD, PEER, ...), -runs samples of
// each per repetition, and prints one tab-separated line: name, the median over the
// repetitions of (median CMD / median PEER), the lowest and highest such ratio, the
// median wall time of CMD and PEER in ms, and the median peak RSS of each in KiB.
// Each stdin file is fed whole to every run; the text @SEQ@ in it is replaced by a
// number unique to the run (so that a store writes something new each time). Peak
// RSS comes from 5 more runs of each side under GNU time (/usr/bin/time). With
// -batch K a sample is K consecutive runs, timed together; -plus adds a constant to
// each PEER sample (the "one --timeout" of a target). -reset FILE removes FILE
// before each sample of CMD, so that state one sample leaves (mcpcred's remembered
// keyring failure) does not make the next one cheaper.
//
//	benchproc hangbus SOCKET
//
// hangbus listens on the Unix socket SOCKET, accepts every connection and never
// answers: a D-Bus that hangs. It runs until killed.
//
//	benchproc fill -n N -token-bytes B MCPCRED_FILE GIT_FILE
//
// fill writes a .credentials.json holding N token records in mcpcred's format (the
// bytes mcpcred's own store would write) and a git-credentials file holding N
// credentials, the access token and password B bytes long, so that large stores
// are made in a second rather than by N processes. Record i is server s<i> at
// https://mcp<i>.example.test/mcp, and host<i>.example.test for git.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "pair":
		err = pair(os.Args[2:])
	case "hangbus":
		err = hangbus(os.Args[2:])
	case "fill":
		err = fill(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchproc:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: benchproc pair|hangbus|fill ... (see the package doc)")
	os.Exit(2)
}

// side is one of the two commands of a pair.
type side struct {
	argv  []string
	input []byte
	times []time.Duration // one per sample, this repetition
	rss   []int64         // peak RSS of each run under GNU time
}

var seq int

// run runs the command batch times in a row and returns the time they took.
func (s *side) run(batch int) (time.Duration, error) {
	var total time.Duration
	for range batch {
		seq++
		cmd := exec.Command(s.argv[0], s.argv[1:]...)
		cmd.Stdin = bytes.NewReader(bytes.ReplaceAll(s.input, []byte("@SEQ@"), []byte(strconv.Itoa(seq))))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		err := cmd.Run()
		total += time.Since(start)
		if err != nil {
			return 0, fmt.Errorf("%q: %v: %s", s.argv, err, stderr.Bytes())
		}
	}
	return total, nil
}

// measureRSS runs the command n times under GNU time for its peak RSS in KiB. The
// rusage of a child of this process would not do: Go starts children with
// vfork semantics, and Linux carries the parent's high-water mark over the exec
// into the child's ru_maxrss, so no child would seem smaller than benchproc.
func (s *side) measureRSS(n int, gnuTime, out string) error {
	for range n {
		seq++
		args := append([]string{"-f", "%M", "-o", out}, s.argv...)
		cmd := exec.Command(gnuTime, args...)
		cmd.Stdin = bytes.NewReader(bytes.ReplaceAll(s.input, []byte("@SEQ@"), []byte(strconv.Itoa(seq))))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%q: %v: %s", s.argv, err, stderr.Bytes())
		}
		b, err := os.ReadFile(out)
		if err != nil {
			return err
		}
		kib, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
		if err != nil {
			return fmt.Errorf("GNU time wrote %q: %v", b, err)
		}
		s.rss = append(s.rss, kib)
	}
	return nil
}

func pair(args []string) error {
	fs := flag.NewFlagSet("pair", flag.ExitOnError)
	name := fs.String("name", "", "the case's name")
	runs := fs.Int("runs", 30, "samples of each side per repetition")
	reps := fs.Int("reps", 3, "repetitions")
	warmup := fs.Int("warmup", 3, "untimed runs of each side first")
	batch := fs.Int("batch", 1, "runs per sample")
	plus := fs.Duration("plus", 0, "added to each peer sample")
	reset := fs.String("reset", "", "file removed before each sample of CMD")
	stdinA := fs.String("stdin", "", "file fed to CMD (default: nothing)")
	stdinB := fs.String("peer-stdin", "", "file fed to PEER (default: nothing)")
	fs.Parse(args)
	argv := fs.Args()
	sep := slices.Index(argv, ":::")
	if *name == "" || sep < 1 || sep == len(argv)-1 || *runs < 1 || *reps < 1 || *batch < 1 {
		return fmt.Errorf("usage: benchproc pair -name NAME [flags] -- CMD [ARGS...] ::: PEER [ARGS...]")
	}
	a, b := &side{argv: argv[:sep]}, &side{argv: argv[sep+1:]}
	for _, x := range []struct {
		s    *side
		file string
	}{{a, *stdinA}, {b, *stdinB}} {
		if x.file != "" {
			var err error
			if x.s.input, err = os.ReadFile(x.file); err != nil {
				return err
			}
		}
	}
	for range *warmup {
		for _, s := range []*side{a, b} {
			if _, err := s.run(1); err != nil {
				return err
			}
		}
	}
	var ratios []float64
	var medA, medB []time.Duration
	for range *reps {
		a.times, b.times = nil, nil
		for range *runs {
			for _, s := range []*side{a, b} {
				if *reset != "" && s == a {
					if err := os.Remove(*reset); err != nil && !errors.Is(err, os.ErrNotExist) {
						return err
					}
				}
				d, err := s.run(*batch)
				if err != nil {
					return err
				}
				s.times = append(s.times, d)
			}
		}
		ma, mb := median(a.times), median(b.times)+*plus
		medA, medB = append(medA, ma), append(medB, mb)
		ratios = append(ratios, float64(ma)/float64(mb))
	}
	// Peak RSS: 5 more runs of each side, under GNU time (0 when it is missing).
	if gnuTime, err := exec.LookPath("/usr/bin/time"); err == nil {
		out, err := os.CreateTemp("", "benchproc-rss")
		if err != nil {
			return err
		}
		out.Close()
		defer os.Remove(out.Name())
		for _, s := range []*side{a, b} {
			if err := s.measureRSS(min(5, *runs*(*batch)), gnuTime, out.Name()); err != nil {
				return err
			}
		}
	}
	slices.Sort(ratios)
	fmt.Printf("%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%d\n", *name,
		ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1],
		ms(median(medA)), ms(median(medB)), median(a.rss), median(b.rss))
	return nil
}

func median[T int64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func hangbus(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: benchproc hangbus SOCKET")
	}
	l, err := net.Listen("unix", args[0])
	if err != nil {
		return err
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		// Read what the client says, never answer, never hang up.
		go io.Copy(io.Discard, c)
	}
}
