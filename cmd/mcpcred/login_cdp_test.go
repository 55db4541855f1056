//go:build unix

package main

// A tiny Chrome DevTools Protocol client for the browser tests of `mcpcred
// login`: a headless Chromium driven over --remote-debugging-pipe (fd 3 carries
// commands to the browser, fd 4 its answers, each message a JSON object ended by
// a NUL byte), so no websocket and no new dependency.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends/keyringtest"
)

// chromiumPath finds the browser: MCPCRED_TEST_CHROMIUM, else chromium or
// chromium-browser on PATH. scripts/setup-chromium.sh installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("MCPCRED_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	keyringtest.Missing(t, "no chromium on PATH: run scripts/setup-chromium.sh")
	return ""
}

// browser is a running headless Chromium with one page attached.
type browser struct {
	t        *testing.T
	cmd      *exec.Cmd
	toChrome *os.File
	stderr   *bytes.Buffer

	mu      sync.Mutex
	nextID  int
	waiting map[int]chan cdpMessage
	closed  chan struct{}
	session string
	// paused receives the Fetch.requestPaused events of intercept.
	paused chan cdpMessage
}

type cdpMessage struct {
	ID     int             `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// startBrowser launches Chromium with a fresh profile and opens a blank page. It
// is stopped when the test ends.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	bin := chromiumPath(t)
	profile := t.TempDir()
	cmdR, cmdW, err := os.Pipe() // commands: we write, Chromium reads fd 3
	if err != nil {
		t.Fatal(err)
	}
	ansR, ansW, err := os.Pipe() // answers: Chromium writes fd 4, we read
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--no-proxy-server", "--no-default-browser-check",
		"--disable-extensions", "--mute-audio", "--hide-scrollbars",
		"--window-size=900,600", "--user-data-dir="+profile, "--remote-debugging-pipe",
		"about:blank")
	cmd.ExtraFiles = []*os.File{cmdR, ansW}
	stderr := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	// Its own process group: Chromium's helpers (zygote, renderers) are stopped
	// with it, by this group's id, and by nothing broader.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	cmdR.Close()
	ansW.Close()
	b := &browser{t: t, cmd: cmd, toChrome: cmdW, stderr: stderr, waiting: map[int]chan cdpMessage{}, closed: make(chan struct{}), paused: make(chan cdpMessage, 16)}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	go b.readLoop(ansR)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, _ = b.call(ctx, "", "Browser.close", nil)
		cancel()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		cmdW.Close()
	})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var created struct {
		TargetID string `json:"targetId"`
	}
	if err := b.callInto(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &created); err != nil {
		t.Fatalf("chromium did not open a page: %v\n%s", err, stderr)
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.callInto(ctx, "", "Target.attachToTarget", map[string]any{"targetId": created.TargetID, "flatten": true}, &attached); err != nil {
		t.Fatal(err)
	}
	b.session = attached.SessionID
	if _, err := b.call(ctx, b.session, "Page.enable", nil); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *browser) readLoop(r *os.File) {
	defer close(b.closed)
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		if m.ID == 0 {
			if m.Method == "Fetch.requestPaused" {
				select {
				case b.paused <- m:
				default:
				}
			}
			continue // another event
		}
		b.mu.Lock()
		ch := b.waiting[m.ID]
		delete(b.waiting, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

// call sends one command (to the page's session, or to the browser when session
// is "") and waits for its answer.
func (b *browser) call(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, _ := json.Marshal(msg)
	if _, err := b.toChrome.Write(append(data, 0)); err != nil {
		return nil, err
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		return m.Result, nil
	case <-b.closed:
		return nil, errors.New("chromium closed the pipe")
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

func (b *browser) callInto(ctx context.Context, session, method string, params, out any) error {
	raw, err := b.call(ctx, session, method, params)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// navigate opens u in the page.
func (b *browser) navigate(u string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var res struct {
		ErrorText string `json:"errorText"`
	}
	if err := b.callInto(ctx, b.session, "Page.navigate", map[string]any{"url": u}, &res); err != nil || res.ErrorText != "" {
		b.t.Fatalf("navigating to %s: %v %s", u, err, res.ErrorText)
	}
}

// navigateFailing opens u in the page where the navigation is expected to end
// on an address that does not load (a redirect to a refused request).
func (b *browser) navigateFailing(u string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := b.call(ctx, b.session, "Page.navigate", map[string]any{"url": u}); err != nil {
		b.t.Fatalf("navigating to %s: %v", u, err)
	}
}

// eval evaluates a JavaScript expression in the page and returns its value as a
// string.
func (b *browser) eval(ctx context.Context, expr string) (string, error) {
	var res struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := b.callInto(ctx, b.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res); err != nil {
		return "", err
	}
	if res.ExceptionDetails != nil {
		return "", errors.New(res.ExceptionDetails.Text)
	}
	return fmt.Sprint(res.Result.Value), nil
}

// page is the loaded document's URL and text.
type page struct{ URL, Text string }

// waitFor polls until a fully loaded page satisfies ok, and returns it.
func (b *browser) waitFor(what string, ok func(page) bool) page {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last page
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		v, err := b.eval(ctx, `JSON.stringify([location.href, document.readyState, document.body ? document.body.innerText : ""])`)
		cancel()
		var parts []string
		if err == nil && json.Unmarshal([]byte(v), &parts) == nil && len(parts) == 3 && parts[1] == "complete" {
			last = page{URL: parts[0], Text: parts[2]}
			if ok(last) {
				return last
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("the browser never reached %s; last page %s: %q\n%s", what, last.URL, last.Text, b.stderr)
	return page{}
}

// click clicks the first element matching a CSS selector.
func (b *browser) click(selector string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sel, _ := json.Marshal(selector)
	v, err := b.eval(ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return "missing"; e.click(); return "ok"; })()`, sel))
	if err != nil || v != "ok" {
		b.t.Fatalf("clicking %s: %v %s", selector, err, v)
	}
}

// screenshot saves a PNG of the page to path.
func (b *browser) screenshot(path string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var res struct {
		Data string `json:"data"`
	}
	if err := b.callInto(ctx, b.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &res); err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	png, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
		b.t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// intercept pauses every request of the page; those to origin
// (scheme://host:port) have their URL handed to answer, which returns the URL
// to send it to instead, or "" to fail it as a connection refused: the browser
// on another machine, for which 127.0.0.1 is not this one. Others go on as they
// are. It runs until the test ends.
func (b *browser) intercept(origin string, answer func(u string) string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := b.call(ctx, b.session, "Fetch.enable", map[string]any{"patterns": []map[string]any{{"urlPattern": "*"}}}); err != nil {
		b.t.Fatal(err)
	}
	go func() {
		for {
			var m cdpMessage
			select {
			case m = <-b.paused:
			case <-b.closed:
				return
			}
			var ev struct {
				RequestID string `json:"requestId"`
				Request   struct {
					URL string `json:"url"`
				} `json:"request"`
			}
			if json.Unmarshal(m.Params, &ev) != nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if !strings.HasPrefix(ev.Request.URL, origin+"/") {
				_, _ = b.call(ctx, b.session, "Fetch.continueRequest", map[string]any{"requestId": ev.RequestID})
			} else if to := answer(ev.Request.URL); to != "" {
				_, _ = b.call(ctx, b.session, "Fetch.continueRequest", map[string]any{"requestId": ev.RequestID, "url": to})
			} else {
				_, _ = b.call(ctx, b.session, "Fetch.failRequest", map[string]any{"requestId": ev.RequestID, "errorReason": "ConnectionRefused"})
			}
			cancel()
		}
	}()
}
