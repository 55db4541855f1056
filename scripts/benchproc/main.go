// Command benchproc times whole-process runs of a command, the way git and agent
// tools start a credential helper: a fresh process each time, its stdin from a file,
// no shell in between. It prints one tab-separated line: name, median and p95 wall
// time in milliseconds, and the median peak RSS in KiB.
//
//	go run ./scripts/benchproc -name NAME [-runs 50] [-warmup 3] [-stdin FILE] -- CMD [ARGS...]
//
// A run that exits non-zero stops the benchmark with its stderr: a benchmark of a
// failing command measures nothing.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"time"
)

func main() {
	name := flag.String("name", "", "the case's name")
	runs := flag.Int("runs", 50, "timed runs")
	warmup := flag.Int("warmup", 3, "untimed runs first")
	stdin := flag.String("stdin", "", "file to feed on stdin (default: none)")
	flag.Parse()
	argv := flag.Args()
	if *name == "" || len(argv) == 0 || *runs < 1 {
		fmt.Fprintln(os.Stderr, "usage: benchproc -name NAME [-runs N] [-warmup N] [-stdin FILE] -- CMD [ARGS...]")
		os.Exit(2)
	}
	var input []byte
	if *stdin != "" {
		var err error
		if input, err = os.ReadFile(*stdin); err != nil {
			fmt.Fprintln(os.Stderr, "benchproc:", err)
			os.Exit(1)
		}
	}
	var times []time.Duration
	var rss []int64
	for i := range *warmup + *runs {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdin = bytes.NewReader(input)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		err := cmd.Run()
		elapsed := time.Since(start)
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchproc: %s: %v: %s\n", *name, err, stderr.Bytes())
			os.Exit(1)
		}
		if i < *warmup {
			continue
		}
		times = append(times, elapsed)
		if kib, ok := peakRSS(cmd.ProcessState); ok {
			rss = append(rss, kib)
		}
	}
	slices.Sort(times)
	slices.Sort(rss)
	p95 := times[min(len(times)-1, len(times)*95/100)]
	var medRSS int64
	if len(rss) > 0 {
		medRSS = rss[len(rss)/2]
	}
	fmt.Printf("%s\t%.2f\t%.2f\t%d\n", *name, ms(times[len(times)/2]), ms(p95), medRSS)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
