// Package killtest kills a writer process at random instants, for the crash-safety
// tests of the stores: after each kill the caller checks that the store is readable
// and holds every write the writer reported done.
//
// A writer is a child process (usually the test binary re-executed) that loops:
// write one item, then print "done <item>" on stdout, until killed.
package killtest

import (
	"bufio"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Run runs rounds writers one after the other. Each is started with start(round),
// waited for until it reports its first write, killed (SIGKILL) within maxDelay
// after that, and reaped; then check(round, done) runs with every item reported
// done so far, in all rounds. Run returns that set.
func Run(t *testing.T, rounds int, maxDelay time.Duration, start func(round int) *exec.Cmd, check func(round int, done map[string]bool)) map[string]bool {
	t.Helper()
	done := map[string]bool{}
	for r := range rounds {
		c := start(r)
		out, err := c.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		first, ok := <-lines
		if !ok {
			c.Wait()
			t.Fatalf("round %d: the writer reported nothing", r)
		}
		got := []string{first}
		timer := time.After(time.Duration(rand.Int64N(int64(maxDelay) + 1)))
	wait:
		for {
			select {
			case l := <-lines:
				got = append(got, l)
			case <-timer:
				break wait
			}
		}
		c.Process.Kill()
		for l := range lines {
			got = append(got, l)
		}
		c.Wait()
		for _, l := range got {
			if item, ok := strings.CutPrefix(l, "done "); ok {
				done[item] = true
			}
		}
		check(r, done)
	}
	return done
}
