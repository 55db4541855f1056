package wincred

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/keyringtest"
)

// The scenarios below run against the in-memory store everywhere, and against
// the real Credential Manager in the Windows test binary (under Wine in CI).

func testService(t *testing.T) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "mcpcred-test-" + hex.EncodeToString(b[:])
}

// cleanupService removes every credential a test left under service.
func cleanupService(t *testing.T, st store, service string) {
	t.Cleanup(func() {
		list, err := st.enum("")
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		for _, c := range list {
			if strings.Contains(strings.ToLower(c.Target), strings.ToLower(service)) {
				_ = st.remove(c.Target)
			}
		}
	})
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// utf16le is an encoder independent of the package's, as keyring-rs writes.
func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// parts lists the part credentials of main, by generation.
func parts(t *testing.T, st store, main string) map[string]int {
	t.Helper()
	list, err := st.enum(main + "#")
	if err != nil {
		t.Fatalf("enum: %v", err)
	}
	gens := map[string]int{}
	for _, c := range list {
		if gen, _, ok := parsePartTarget(main, c.Target); ok {
			gens[gen]++
		}
	}
	return gens
}

func bigSecret(n int) []byte {
	b := make([]byte, 0, n)
	for i := 0; len(b) < n; i++ {
		b = fmt.Appendf(b, `{"access_token":"tok%06d","é":"ü"},`, i)
	}
	return b[:n]
}

func runConformance(t *testing.T, st store) {
	t.Run("Conformance", func(t *testing.T) {
		service := testService(t)
		cleanupService(t, st, service)
		keyringtest.Run(t, newKeyring(st, backends.Options{Timeout: 10 * time.Second}), service)
	})
	t.Run("ConformanceCodexLayout", func(t *testing.T) {
		service := testService(t)
		cleanupService(t, st, service)
		keyringtest.Run(t, newKeyring(st, backends.Options{Timeout: 10 * time.Second, CodexLayout: true}), service)
	})
}

func runScenarios(t *testing.T, st store) {
	def := newKeyring(st, backends.Options{Timeout: 10 * time.Second})
	codex := newKeyring(st, backends.Options{Timeout: 10 * time.Second, CodexLayout: true})
	layouts := []*Keyring{def, codex}

	t.Run("Split10KiB", func(t *testing.T) {
		service := testService(t)
		cleanupService(t, st, service)
		const acct = "linear|638130d5ab3558f4"
		main := acct + "." + service
		want := bigSecret(10*1024 + 17)
		if err := def.Set(ctxT(t), service, acct, want); err != nil {
			t.Fatalf("Set: %v", err)
		}
		c, err := st.read(main)
		if err != nil || c.Comment != commentManifest || c.User != acct {
			t.Fatalf("main credential = %+v, %v; want an index", c, err)
		}
		if g := parts(t, st, main); len(g) != 1 || sum(g) != 5 {
			t.Fatalf("parts by generation = %v, want one generation of 5", g)
		}
		for _, kr := range layouts {
			got, err := kr.Get(ctxT(t), service, acct)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("Get (codex layout %v): %d bytes, %v; want %d bytes", kr.opts.CodexLayout, len(got), err, len(want))
			}
		}
		accts, err := def.List(ctxT(t), service)
		if err != nil || len(accts) != 1 || accts[0] != acct {
			t.Fatalf("List = %q, %v; want only %q", accts, err, acct)
		}
	})

	t.Run("ResetRemovesLeftoverParts", func(t *testing.T) {
		service := testService(t)
		cleanupService(t, st, service)
		main := "a." + service
		for _, n := range []int{5 * MaxBlob, 2*MaxBlob - 1, 3 * MaxBlob, 10, 0, MaxBlob, MaxBlob + 1} {
			want := bigSecret(n)
			if err := def.Set(ctxT(t), service, "a", want); err != nil {
				t.Fatalf("Set %d bytes: %v", n, err)
			}
			got, err := def.Get(ctxT(t), service, "a")
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("Get after Set of %d bytes: %d bytes, %v", n, len(got), err)
			}
			wantParts := 0
			if n > MaxBlob {
				wantParts = (n + MaxBlob - 1) / MaxBlob
			}
			if g := parts(t, st, main); sum(g) != wantParts || len(g) > 1 {
				t.Fatalf("after Set of %d bytes, parts by generation = %v; want %d parts of one generation", n, g, wantParts)
			}
		}
		// Codex's layout over a split record removes its parts too.
		if err := def.Set(ctxT(t), service, "a", bigSecret(3*MaxBlob)); err != nil {
			t.Fatal(err)
		}
		if err := codex.Set(ctxT(t), service, "a", []byte("small")); err != nil {
			t.Fatal(err)
		}
		if g := parts(t, st, main); len(g) != 0 {
			t.Fatalf("parts left after a Codex-layout Set: %v", g)
		}
	})

	t.Run("HalfWrittenNotReturned", func(t *testing.T) {
		service := testService(t)
		cleanupService(t, st, service)
		secret := bigSecret(4*MaxBlob + 100) // 5 parts
		for _, tc := range []struct {
			name   string
			break_ func(main, gen string) error
			msg    string
		}{
			{"MainMissing", func(main, _ string) error { return st.remove(main) }, "not found"},
			{"FirstPartMissing", func(main, gen string) error { return st.remove(partTarget(main, gen, 1)) }, "part 1"},
			{"MiddlePartMissing", func(main, gen string) error { return st.remove(partTarget(main, gen, 3)) }, "part 3"},
			{"LastPartMissing", func(main, gen string) error { return st.remove(partTarget(main, gen, 5)) }, "part 5"},
			{"PartAltered", func(main, gen string) error {
				c, err := st.read(partTarget(main, gen, 2))
				if err != nil {
					return err
				}
				c.Blob[0] ^= 1
				return st.write(c)
			}, "SHA-256"},
			{"PartShortened", func(main, gen string) error {
				c, err := st.read(partTarget(main, gen, 5))
				if err != nil {
					return err
				}
				c.Blob = c.Blob[:len(c.Blob)-1]
				return st.write(c)
			}, "length"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				acct := "half-" + tc.name
				main := acct + "." + service
				if err := def.Set(ctxT(t), service, acct, secret); err != nil {
					t.Fatal(err)
				}
				c, err := st.read(main)
				if err != nil {
					t.Fatal(err)
				}
				m, err := parseManifest(c.Blob)
				if err != nil {
					t.Fatal(err)
				}
				if err := tc.break_(main, m.Gen); err != nil {
					t.Fatal(err)
				}
				for _, kr := range layouts {
					got, err := kr.Get(ctxT(t), service, acct)
					if err == nil || got != nil {
						t.Fatalf("Get of a broken split record returned %d bytes, %v", len(got), err)
					}
					if !errors.Is(err, backends.ErrNotFound) || !strings.Contains(err.Error(), tc.msg) {
						t.Fatalf("Get: err = %v; want ErrNotFound saying %q", err, tc.msg)
					}
				}
				if tc.name == "MainMissing" {
					accts, _ := def.List(ctxT(t), service)
					for _, a := range accts {
						if a == acct {
							t.Fatalf("List shows an account with no main credential: %q", accts)
						}
					}
				}
				// Delete removes what is left, parts included.
				err = def.Delete(ctxT(t), service, acct)
				if tc.name == "MainMissing" && !errors.Is(err, backends.ErrNotFound) {
					t.Fatalf("Delete with no main credential: %v; want ErrNotFound", err)
				} else if tc.name != "MainMissing" && err != nil {
					t.Fatalf("Delete: %v", err)
				}
				if g := parts(t, st, main); len(g) != 0 {
					t.Fatalf("Delete left parts: %v", g)
				}
				// And a new Set works.
				if err := def.Set(ctxT(t), service, acct, secret); err != nil {
					t.Fatal(err)
				}
				if got, err := def.Get(ctxT(t), service, acct); err != nil || !bytes.Equal(got, secret) {
					t.Fatalf("Get after a new Set: %d bytes, %v", len(got), err)
				}
			})
		}
	})

	t.Run("UnfinishedWriteKeepsOldRecord", func(t *testing.T) {
		// A writer that stopped after some of its parts: the previous record is
		// still read whole, and the next write removes the strays.
		service := testService(t)
		cleanupService(t, st, service)
		main := "u." + service
		old := bigSecret(3 * MaxBlob)
		if err := def.Set(ctxT(t), service, "u", old); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 2; i++ {
			if err := st.write(&cred{Target: partTarget(main, "0badc0de", i), User: "u", Comment: commentPart, Blob: []byte("stray")}); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := def.Get(ctxT(t), service, "u"); err != nil || !bytes.Equal(got, old) {
			t.Fatalf("Get with stray parts: %d bytes, %v", len(got), err)
		}
		if err := def.Set(ctxT(t), service, "u", []byte("new")); err != nil {
			t.Fatal(err)
		}
		if g := parts(t, st, main); len(g) != 0 {
			t.Fatalf("parts left after a Set: %v", g)
		}
	})

	t.Run("DeleteRemovesAllParts", func(t *testing.T) {
		service := testService(t)
		cleanupService(t, st, service)
		main := "d." + service
		if err := def.Set(ctxT(t), service, "d", bigSecret(7*MaxBlob)); err != nil {
			t.Fatal(err)
		}
		if err := def.Delete(ctxT(t), service, "d"); err != nil {
			t.Fatal(err)
		}
		if g := parts(t, st, main); len(g) != 0 {
			t.Fatalf("parts left after Delete: %v", g)
		}
		if _, err := st.read(main); !errors.Is(err, errNoCred) {
			t.Fatalf("main credential after Delete: %v", err)
		}
		if _, err := def.Get(ctxT(t), service, "d"); !errors.Is(err, backends.ErrNotFound) {
			t.Fatalf("Get after Delete: %v", err)
		}
	})

	t.Run("ReadsCodexCredential", func(t *testing.T) {
		service := testService(t)
		cleanupService(t, st, service)
		acct := "linear|638130d5ab3558f4"
		main := acct + "." + service
		want := `{"server_name":"linear","url":"https://mcp.linear.app/mcp","é":"ü","emoji":"🔑"}`
		// As keyring-rs writes it.
		if err := st.write(&cred{Target: main, User: acct, Comment: acct + "@" + service + ":" + main + " (keyring v3.6.3)", Blob: utf16le(want)}); err != nil {
			t.Fatal(err)
		}
		for _, kr := range layouts {
			got, err := kr.Get(ctxT(t), service, acct)
			if err != nil || string(got) != want {
				t.Fatalf("Get (codex layout %v) = %q, %v; want %q", kr.opts.CodexLayout, got, err, want)
			}
		}
		// With no comment at all, the content decides.
		if err := st.write(&cred{Target: main, User: acct, Blob: utf16le(want)}); err != nil {
			t.Fatal(err)
		}
		if got, err := def.Get(ctxT(t), service, acct); err != nil || string(got) != want {
			t.Fatalf("Get of an uncommented UTF-16LE credential = %q, %v", got, err)
		}
		if err := st.write(&cred{Target: main, User: acct, Blob: []byte(want)}); err != nil {
			t.Fatal(err)
		}
		if got, err := def.Get(ctxT(t), service, acct); err != nil || string(got) != want {
			t.Fatalf("Get of an uncommented UTF-8 credential = %q, %v", got, err)
		}
		// An odd-length blob under keyring-rs's comment is a clear error.
		if err := st.write(&cred{Target: main, User: acct, Comment: acct + "@" + service + ":" + main + " (keyring v3.6.3)", Blob: []byte("Q7Z")}); err != nil {
			t.Fatal(err)
		}
		if _, err := def.Get(ctxT(t), service, acct); err == nil || !strings.Contains(err.Error(), "odd length") || strings.Contains(err.Error(), "Q7Z") {
			t.Fatalf("Get of an odd-length UTF-16 blob: %v", err)
		}
		accts, err := def.List(ctxT(t), service)
		if err != nil || len(accts) != 1 || accts[0] != acct {
			t.Fatalf("List = %q, %v", accts, err)
		}
	})

	t.Run("CodexLayoutWritesWhatCodexReads", func(t *testing.T) {
		service := testService(t)
		cleanupService(t, st, service)
		main := "c." + service
		want := `{"k":"é🔑"}`
		if err := codex.Set(ctxT(t), service, "c", []byte(want)); err != nil {
			t.Fatal(err)
		}
		c, err := st.read(main)
		if err != nil || !bytes.Equal(c.Blob, utf16le(want)) || c.User != "c" || !strings.Contains(c.Comment, "mcpcred") {
			t.Fatalf("credential = %+v, %v; want UTF-16LE %x", c, err, utf16le(want))
		}
		if got, err := def.Get(ctxT(t), service, "c"); err != nil || string(got) != want {
			t.Fatalf("default-layout Get = %q, %v", got, err)
		}
		// 1280 UTF-16 units fit; 1281 do not, and nothing is written.
		if err := codex.Set(ctxT(t), service, "c", bytes.Repeat([]byte("x"), MaxBlob/2)); err != nil {
			t.Fatalf("Set of 1280 characters: %v", err)
		}
		err = codex.Set(ctxT(t), service, "c", bytes.Repeat([]byte("y"), MaxBlob/2+1))
		var tl *backends.TooLongError
		if !errors.As(err, &tl) || tl.Limit != MaxBlob || tl.Len != MaxBlob+2 {
			t.Fatalf("Set of 1281 characters: err = %#v; want a TooLongError of %d over %d", err, MaxBlob+2, MaxBlob)
		}
		if got, _ := def.Get(ctxT(t), service, "c"); len(got) != MaxBlob/2 || got[0] != 'x' {
			t.Fatalf("a refused Set changed the record: %d bytes", len(got))
		}
		// Non-ASCII counts in UTF-16 units: 641 "🔑" are 1282 units.
		if err := codex.Set(ctxT(t), service, "c", []byte(strings.Repeat("🔑", 641))); !errors.As(err, &tl) {
			t.Fatalf("Set of 641 emoji: %v; want a TooLongError", err)
		}
		if err := codex.Set(ctxT(t), service, "c", []byte{0xff, 0xfe}); err == nil || errors.As(err, &tl) {
			t.Fatalf("Set of non-UTF-8 bytes in Codex layout: %v; want an error", err)
		}
	})

	t.Run("BinarySecretDefaultLayout", func(t *testing.T) {
		service := testService(t)
		cleanupService(t, st, service)
		// Looks like UTF-16LE by content; mcpcred's comment says UTF-8.
		for _, want := range [][]byte{{'a', 0, 'b', 0}, {0, 0, 0xff}, {}, bigSecret(MaxBlob)} {
			if err := def.Set(ctxT(t), service, "b", want); err != nil {
				t.Fatal(err)
			}
			if got, err := def.Get(ctxT(t), service, "b"); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("Get = %x, %v; want %x", got, err, want)
			}
		}
	})

	t.Run("TooLong", func(t *testing.T) {
		service := testService(t)
		cleanupService(t, st, service)
		var tl *backends.TooLongError

		err := def.Set(ctxT(t), service, "big", make([]byte, MaxSecret+1))
		if !errors.As(err, &tl) || tl.Limit != MaxSecret || tl.Len != MaxSecret+1 {
			t.Fatalf("Set of %d bytes: %v; want a TooLongError with limit %d", MaxSecret+1, err, MaxSecret)
		}
		if !strings.Contains(err.Error(), fmt.Sprint(MaxSecret)) {
			t.Fatalf("error does not name the limit: %v", err)
		}
		if g := parts(t, st, "big."+service); len(g) != 0 {
			t.Fatalf("a refused Set wrote parts: %v", g)
		}

		long := strings.Repeat("s", MaxTargetName)
		for _, kr := range layouts {
			err := kr.Set(ctxT(t), long, "acct", []byte("x"))
			if !errors.As(err, &tl) || !strings.Contains(tl.What, "target name") || tl.Len != 2*(MaxTargetName+5) {
				t.Fatalf("Set with a %d-character target name: %v; want a TooLongError", MaxTargetName+5, err)
			}
			if _, err := kr.Get(ctxT(t), long, "acct"); !errors.As(err, &tl) {
				t.Fatalf("Get with a long target name: %v", err)
			}
		}
		// Room for the parts' suffix is kept in the default layout only.
		edge := strings.Repeat("s", MaxTargetName-len("acct.")-partSuffixMax+1)
		if err := def.Set(ctxT(t), edge, "acct", []byte("x")); !errors.As(err, &tl) || tl.Limit != 2*(MaxTargetName-partSuffixMax) {
			t.Fatalf("default Set with target name of %d: %v", MaxTargetName-partSuffixMax+1, err)
		}
		err = def.Set(ctxT(t), service, strings.Repeat("a", MaxUserName+1), []byte("x"))
		if !errors.As(err, &tl) || tl.Limit != 2*MaxUserName || !strings.Contains(tl.What, "user name") {
			t.Fatalf("Set with a %d-character account: %v", MaxUserName+1, err)
		}
	})

	t.Run("EmptyNames", func(t *testing.T) {
		var tl *backends.TooLongError
		for _, kr := range layouts {
			for _, sa := range [][2]string{{"", "a"}, {"s", ""}, {"s\x00", "a"}} {
				err := kr.Set(ctxT(t), sa[0], sa[1], []byte("x"))
				if err == nil || errors.As(err, &tl) || errors.Is(err, backends.ErrUnavailable) {
					t.Fatalf("Set(%q, %q): %v; want a plain error", sa[0], sa[1], err)
				}
				if _, err := kr.Get(ctxT(t), sa[0], sa[1]); err == nil || errors.Is(err, backends.ErrNotFound) {
					t.Fatalf("Get(%q, %q): %v", sa[0], sa[1], err)
				}
			}
			if _, err := kr.List(ctxT(t), ""); err == nil {
				t.Fatal("List of an empty service: no error")
			}
		}
	})

	t.Run("ListAndDottedNames", func(t *testing.T) {
		service := testService(t)
		cleanupService(t, st, service)
		// "a.b" under service and "a" under "b.<service>" share a target; the
		// user name tells them apart.
		if err := def.Set(ctxT(t), service, "a.b", []byte("1")); err != nil {
			t.Fatal(err)
		}
		if err := def.Set(ctxT(t), service, "big", bigSecret(3*MaxBlob)); err != nil {
			t.Fatal(err)
		}
		accts, err := def.List(ctxT(t), service)
		if err != nil || len(accts) != 2 {
			t.Fatalf("List = %q, %v; want a.b and big", accts, err)
		}
		if accts, _ := def.List(ctxT(t), "b."+service); len(accts) != 0 {
			t.Fatalf("List of b.<service> = %q; want nothing", accts)
		}
	})

	t.Run("CanceledAndClosed", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := def.Get(ctx, "s", "a"); !errors.Is(err, backends.ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Fatalf("Get with a canceled ctx: %v", err)
		}
		kr := newKeyring(st, backends.Options{})
		if len(kr.Doctor(ctxT(t))) < 3 {
			t.Fatal("Doctor: too few lines")
		}
		_ = kr.Close()
		if err := kr.Set(ctxT(t), "s", "a", nil); !errors.Is(err, backends.ErrUnavailable) {
			t.Fatalf("Set after Close: %v", err)
		}
	})
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
