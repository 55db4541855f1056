package helper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/file"
	"github.com/mcpcred/mcpcred/backends/memory"
)

// memGit is an in-memory keyring that also keeps git credentials, with an error
// to inject on every git call.
type memGit struct {
	*memory.Keyring
	mu    sync.Mutex
	creds []backends.GitCredential
	next  int
	err   error
}

func (m *memGit) GitSearch(_ context.Context, q backends.GitQuery) ([]backends.GitCredential, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	var out []backends.GitCredential
	for _, c := range m.creds {
		if q.Matches(&c) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *memGit) GitStore(_ context.Context, c backends.GitCredential) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	q := c.Query()
	kept := m.creds[:0]
	for _, o := range m.creds {
		if !q.Matches(&o) {
			kept = append(kept, o)
		}
	}
	m.next++
	c.ID = fmt.Sprint(m.next)
	m.creds = append(kept, c)
	return nil
}

func (m *memGit) GitDelete(_ context.Context, c backends.GitCredential) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	for i, o := range m.creds {
		if o.ID == c.ID {
			m.creds = append(m.creds[:i], m.creds[i+1:]...)
			return nil
		}
	}
	return backends.ErrNotFound
}

func (m *memGit) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.creds)
}

func newGitHelper(t *testing.T, mode Mode, kr backends.Keyring) (*Helper, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	var notices bytes.Buffer
	h := &Helper{
		Mode:    mode,
		Service: "mcpcred",
		Keyring: kr,
		Tokens: file.New(filepath.Join(dir, ".credentials.json"),
			filepath.Join(dir, "mcp-oauth-locks", "file-store.lock"), time.Second),
		Notices: &notices,
		Timeout: time.Second,
	}
	if kr == nil {
		h.NoKeyring = "none in this test"
	}
	return h, &notices
}

func serve(t *testing.T, h *Helper, verb, req string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := h.Serve(context.Background(), verb, strings.NewReader(req), &out, KV)
	return out.String(), err
}

func mustServe(t *testing.T, h *Helper, verb, req string) string {
	t.Helper()
	out, err := serve(t, h, verb, req)
	if err != nil {
		t.Fatalf("%s: %v", verb, err)
	}
	return out
}

const (
	aliceStore = "protocol=https\nhost=example.com\nusername=alice\npassword=pw\n"
	hostGet    = "protocol=https\nhost=example.com\n"
	aliceOut   = "username=alice\npassword=pw\n"
)

func TestGitAutoWritesKeyringAndMigrates(t *testing.T) {
	kr := &memGit{Keyring: memory.New()}
	h, notices := newGitHelper(t, Auto, kr)

	// A copy in the file from an earlier fallback.
	hf, _ := newGitHelper(t, File, nil)
	hf.Tokens = h.Tokens
	mustServe(t, hf, "store", aliceStore)
	if cs, _ := h.gitFileRead(); len(cs) != 1 {
		t.Fatalf("file holds %d credentials, want 1", len(cs))
	}

	mustServe(t, h, "store", "protocol=https\nhost=example.com\nusername=alice\npassword=new\n")
	if kr.count() != 1 {
		t.Fatalf("keyring holds %d credentials, want 1", kr.count())
	}
	if cs, _ := h.gitFileRead(); len(cs) != 0 {
		t.Fatalf("the file copy was not removed after a keyring write: %d left", len(cs))
	}
	if notices.Len() != 0 {
		t.Fatalf("notices on a keyring write: %q", notices)
	}
	if got := mustServe(t, h, "get", hostGet); got != "username=alice\npassword=new\n" {
		t.Fatalf("get = %q", got)
	}
}

// newAutoAndFileGitHelpers are an auto Helper over a memory keyring and a file
// mode Helper over the same files, to put a copy in the file beside the keyring's.
func newAutoAndFileGitHelpers(t *testing.T) (*memGit, *Helper, *Helper) {
	t.Helper()
	kr := &memGit{Keyring: memory.New()}
	h, _ := newGitHelper(t, Auto, kr)
	hf, _ := newGitHelper(t, File, nil)
	hf.Tokens = h.Tokens
	return kr, h, hf
}

func TestGitAutoReadsKeyringBeforeFile(t *testing.T) {
	kr, h, hf := newAutoAndFileGitHelpers(t)
	mustServe(t, hf, "store", "protocol=https\nhost=example.com\nusername=alice\npassword=file-pw\n")
	mustServe(t, h, "store", "protocol=https\nhost=example.com\nusername=bob\npassword=keyring-pw\n")
	if got := mustServe(t, h, "get", hostGet); got != "username=bob\npassword=keyring-pw\n" {
		t.Fatalf("get = %q, want the keyring's", got)
	}
	// Only in the file: found there.
	if got := mustServe(t, h, "get", hostGet+"username=alice\n"); got != "username=alice\npassword=file-pw\n" {
		t.Fatalf("get = %q, want the file's", got)
	}
	// An expired keyring credential falls through to the file.
	kr.creds[0].Expiry = 1000
	if got := mustServe(t, h, "get", hostGet); got != "username=alice\npassword=file-pw\n" {
		t.Fatalf("get = %q, want the file's", got)
	}
}

// A credential the file got while the keyring could not be used is newer than
// the keyring's copy of the same credential, unless the expiries say otherwise.
func TestGitAutoFileCopyIsNewer(t *testing.T) {
	_, h, hf := newAutoAndFileGitHelpers(t)
	const id = "protocol=https\nhost=example.com\nusername=alice\n"
	for _, step := range []struct {
		h           *Helper
		stored, got string
	}{
		{h, "password=keyring-pw\npassword_expiry_utc=4000000000\n", "password=keyring-pw\npassword_expiry_utc=4000000000\n"},
		{hf, "password=file-pw\npassword_expiry_utc=4000000001\n", "password=file-pw\npassword_expiry_utc=4000000001\n"},
		// The file's copy expires before the keyring's: it is the older one.
		{hf, "password=stale-pw\npassword_expiry_utc=3999999999\n", "password=keyring-pw\npassword_expiry_utc=4000000000\n"},
	} {
		mustServe(t, step.h, "store", id+step.stored)
		if got := mustServe(t, h, "get", hostGet); got != "username=alice\n"+step.got {
			t.Fatalf("after storing %q in the %s: get = %q", step.stored, step.h.Mode, got)
		}
	}
}

func TestGitAutoFallsBackWithNotice(t *testing.T) {
	kr := &memGit{Keyring: memory.New(), err: fmt.Errorf("dbus gone: %w", backends.ErrUnavailable)}
	h, notices := newGitHelper(t, Auto, kr)
	mustServe(t, h, "store", aliceStore)
	if got, want := notices.String(), "mcpcred: keyring not used (dbus gone: keyring unavailable); stored in the plaintext file "+h.gitFile().Path()+"\n"; got != want {
		t.Fatalf("notice = %q", got)
	}
	if got := mustServe(t, h, "get", hostGet); got != aliceOut {
		t.Fatalf("get = %q", got)
	}
	// Each fallback says so again.
	notices.Reset()
	mustServe(t, h, "store", aliceStore)
	if strings.Count(notices.String(), "\n") != 1 {
		t.Fatalf("second fallback: notices %q, want one line", notices)
	}
	// A keyring without git support falls back the same way.
	h2, notices2 := newGitHelper(t, Auto, memory.New())
	mustServe(t, h2, "store", aliceStore)
	if !strings.Contains(notices2.String(), "keeps no git credentials") {
		t.Fatalf("notice = %q", notices2)
	}
}

func TestGitKeyringModeTouchesNoFile(t *testing.T) {
	kr := &memGit{Keyring: memory.New()}
	h, notices := newGitHelper(t, Keyring, kr)
	mustServe(t, h, "store", aliceStore)
	if cs, _ := h.gitFileRead(); len(cs) != 0 {
		t.Fatal("--store keyring wrote the file")
	}
	if got := mustServe(t, h, "get", hostGet); got != aliceOut {
		t.Fatalf("get = %q", got)
	}
	kr.err = fmt.Errorf("locked: %w", backends.ErrLocked)
	if _, err := serve(t, h, "store", aliceStore); err == nil || !strings.Contains(err.Error(), "failed to write the git credential to the keyring") {
		t.Fatalf("store with a locked keyring: err = %v", err)
	}
	if _, err := serve(t, h, "get", hostGet); err == nil {
		t.Fatal("get with a locked keyring in keyring mode succeeded")
	}
	if cs, _ := h.gitFileRead(); len(cs) != 0 || notices.Len() != 0 {
		t.Fatalf("keyring mode wrote the file or noticed: %d, %q", len(cs), notices)
	}
}

func TestGitFileModeTouchesNoKeyring(t *testing.T) {
	kr := &memGit{Keyring: memory.New()}
	h, _ := newGitHelper(t, Keyring, kr)
	mustServe(t, h, "store", aliceStore)
	hf, notices := newGitHelper(t, File, kr)
	mustServe(t, hf, "store", "protocol=https\nhost=example.com\nusername=alice\npassword=file\n")
	mustServe(t, hf, "erase", hostGet)
	if kr.count() != 1 {
		t.Fatal("--store file erased from the keyring")
	}
	if got := mustServe(t, hf, "get", hostGet); got != "" {
		t.Fatalf("--store file get = %q, want nothing (the keyring is not read)", got)
	}
	// A failing keyring is not even asked.
	kr.err = errors.New("boom")
	mustServe(t, hf, "store", aliceStore)
	mustServe(t, hf, "erase", hostGet)
	if notices.Len() != 0 {
		t.Fatalf("notices in file mode: %q", notices)
	}
}

func TestGitAutoEraseRules(t *testing.T) {
	kr := &memGit{Keyring: memory.New()}
	h, _ := newGitHelper(t, Auto, kr)
	hf, _ := newGitHelper(t, File, nil)
	hf.Tokens = h.Tokens
	mustServe(t, h, "store", aliceStore)
	mustServe(t, hf, "store", "protocol=https\nhost=example.com\nusername=bob\npassword=pw\n")

	// A password that differs erases nothing anywhere.
	mustServe(t, h, "erase", hostGet+"password=other\n")
	if cs, _ := h.gitFileRead(); kr.count() != 1 || len(cs) != 1 {
		t.Fatal("erase with a different password erased something")
	}
	// The keyring failing (not unavailable) fails before the file is touched.
	kr.err = errors.New("boom")
	if _, err := serve(t, h, "erase", hostGet); err == nil {
		t.Fatal("erase with a failing keyring succeeded")
	}
	if cs, _ := h.gitFileRead(); len(cs) != 1 {
		t.Fatal("the file was touched although the keyring failed")
	}
	// Locked: fails too.
	kr.err = backends.ErrLocked
	if _, err := serve(t, h, "erase", hostGet); err == nil {
		t.Fatal("erase with a locked keyring succeeded")
	}
	// Unavailable: nothing there to erase; the file copy goes.
	kr.err = backends.ErrUnavailable
	mustServe(t, h, "erase", hostGet)
	if cs, _ := h.gitFileRead(); len(cs) != 0 {
		t.Fatal("file copy kept")
	}
	kr.err = nil
	mustServe(t, h, "erase", hostGet+"password=pw\n")
	if kr.count() != 0 {
		t.Fatal("keyring copy kept")
	}
}

func TestGitList(t *testing.T) {
	kr := &memGit{Keyring: memory.New()}
	h, notices := newGitHelper(t, Auto, kr)
	hf, _ := newGitHelper(t, File, nil)
	hf.Tokens = h.Tokens
	mustServe(t, h, "store", aliceStore+"password_expiry_utc=9999999999\n")
	mustServe(t, hf, "store", "protocol=https\nhost=b.example\npath=r.git\nusername=\npassword=x\n")
	kr.creds = append(kr.creds, backends.GitCredential{ID: "bad", Protocol: "https", Host: "evil\nhost=x", Password: "p"})
	got := mustServe(t, h, "list", "")
	want := "protocol=https\nhost=example.com\nusername=alice\nexpires_at=9999999999\nstore=keyring\n\n" +
		"protocol=https\nhost=b.example\npath=r.git\nusername=\nstore=file\n"
	if got != want {
		t.Fatalf("list =\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(notices.String(), "1 git credential(s) not listed") {
		t.Fatalf("notices = %q", notices)
	}
}

func TestParseGitURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want string // protocol|host|path|user|pass, "-" for absent
		ok   bool
	}{
		{"https://example.com", "https|example.com|-|-|-", true},
		{"https://example.com/", "https|example.com|-|-|-", true},
		{"https://u@example.com/a/b/", "https|example.com|a/b|u|-", true},
		{"https://u:p@h:8080//x//", "https|h:8080|x|u|p", true},
		{"https://@h", "https|h|-||-", true},
		{"https://u:@h", "https|h|-|u|", true},
		{"https://h?u@x/y", "https|h|?u@x/y|-|-", true},
		{"https://h#frag", "https|h|#frag|-|-", true},
		{"cert:///etc/cert.p12", "cert||etc/cert.p12|-|-", true},
		{"https://h/%2Fa%2F", "https|h|/a|-|-", true},
		{"https://h/a%zz%4", "https|h|a%zz%4|-|-", true},
		{"https://us%3Aer:p%40ss@h", "https|h|-|us:er|p@ss", true},
		{"https://a:b:c@h", "https|h|-|a|b:c", true},
		{"example.com", "", false},
		{"://example.com", "", false},
	} {
		u, ok := parseGitURL(tc.url)
		if ok != tc.ok {
			t.Errorf("%q: ok = %v", tc.url, ok)
			continue
		}
		if !ok {
			continue
		}
		s := func(p *string) string {
			if p == nil {
				return "-"
			}
			return *p
		}
		got := strings.Join([]string{s(u.protocol), s(u.host), s(u.path), s(u.username), s(u.password)}, "|")
		if got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.url, got, tc.want)
		}
	}
}

func TestParseGitExpiry(t *testing.T) {
	for in, want := range map[string]int64{
		"1700000000": 1700000000, "0": 0, "": 0, "soon": 0, " \t+42x": 42, "-5": 0, "-0": 0,
		"18446744073709551615": 0, "18446744073709551616": 0, "9223372036854775807": 9223372036854775807,
		"007": 7,
	} {
		if got := backends.ParseGitExpiry(in); got != want {
			t.Errorf("ParseGitExpiry(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestGitFileKey(t *testing.T) {
	for _, tc := range []struct {
		c    backends.GitCredential
		want string
	}{
		{backends.GitCredential{Protocol: "https", Host: "h"}, "https://h"},
		{backends.GitCredential{Protocol: "https", Host: "h", HasUser: true}, "https://@h"},
		{backends.GitCredential{Protocol: "https", Host: "h", HasPath: true}, "https://h/"},
		{backends.GitCredential{Protocol: "a:/b", Host: "h@/x%", Username: "u@:/%", HasUser: true, Path: "p/%q", HasPath: true},
			"a%3A%2Fb://u%40%3A%2F%25@h%40%2Fx%25/p/%25q"},
	} {
		if got := gitFileKey(&tc.c); got != tc.want {
			t.Errorf("gitFileKey(%+v) = %q, want %q", tc.c, got, tc.want)
		}
	}
}

// A wwwauth[] line longer than 64 KiB stays one attribute: the host=
// after it never becomes a second key.
func TestGitLongHeader(t *testing.T) {
	h, _ := newGitHelper(t, File, nil)
	mustServe(t, h, "store", "protocol=https\nhost=victim.example.com\nusername=user\npassword=to-be-stolen\n")
	for _, n := range []int{1023, 1024, 4095, 65535, 65536, 70000} {
		v := strings.Repeat("A", n) + "host=victim.example.com"
		out := mustServe(t, h, "get", "protocol=https\nhost=badguy.example.com\nwwwauth[]="+v+"\n")
		if out != "" {
			t.Fatalf("long header of %d bytes: get printed %q", n, out)
		}
	}
}
