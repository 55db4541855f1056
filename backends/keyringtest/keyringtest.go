// Package keyringtest is the conformance suite every backends.Keyring runs: the
// contract of package backends, checked the same way against the Secret Service,
// Windows Credential Manager, the in-memory keyring and any later one.
package keyringtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends"
)

// Run checks kr against the backends.Keyring contract. service must be a service
// name no other test uses at the same time; Run removes what it wrote.
func Run(t *testing.T, kr backends.Keyring, service string) {
	t.Helper()
	ctx := func(t *testing.T) context.Context {
		c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		t.Cleanup(cancel)
		return c
	}
	acct := func(t *testing.T) string {
		a := "kt-" + strings.ReplaceAll(t.Name(), "/", "-")
		t.Cleanup(func() { _ = kr.Delete(context.Background(), service, a) })
		return a
	}

	t.Run("GetMissing", func(t *testing.T) {
		_, err := kr.Get(ctx(t), service, acct(t))
		if !errors.Is(err, backends.ErrNotFound) {
			t.Fatalf("Get of a missing item: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("SetGet", func(t *testing.T) {
		a := acct(t)
		want := []byte(`{"server_name":"s","url":"https://x.test/mcp?a=1&b=2","é":"ü"}`)
		if err := kr.Set(ctx(t), service, a, want); err != nil {
			t.Fatalf("Set: %v", err)
		}
		got, err := kr.Get(ctx(t), service, a)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Get = %q, %v; want %q", got, err, want)
		}
	})
	t.Run("SetReplaces", func(t *testing.T) {
		a := acct(t)
		for _, v := range []string{"one", "two", "three"} {
			if err := kr.Set(ctx(t), service, a, []byte(v)); err != nil {
				t.Fatalf("Set %q: %v", v, err)
			}
		}
		got, err := kr.Get(ctx(t), service, a)
		if err != nil || string(got) != "three" {
			t.Fatalf("Get = %q, %v; want three", got, err)
		}
		accts, err := kr.List(ctx(t), service)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if n := count(accts, a); n != 1 {
			t.Fatalf("List has %d entries for %q after three Sets, want 1: %q", n, a, accts)
		}
	})
	t.Run("ServicesAreSeparate", func(t *testing.T) {
		a := acct(t)
		other := service + "-other"
		t.Cleanup(func() { _ = kr.Delete(context.Background(), other, a) })
		if err := kr.Set(ctx(t), service, a, []byte("mine")); err != nil {
			t.Fatal(err)
		}
		if err := kr.Set(ctx(t), other, a, []byte("theirs")); err != nil {
			t.Fatal(err)
		}
		got, err := kr.Get(ctx(t), service, a)
		if err != nil || string(got) != "mine" {
			t.Fatalf("Get = %q, %v; want mine", got, err)
		}
		if err := kr.Delete(ctx(t), other, a); err != nil {
			t.Fatal(err)
		}
		if _, err := kr.Get(ctx(t), service, a); err != nil {
			t.Fatalf("deleting the other service's item removed ours: %v", err)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		a := acct(t)
		if err := kr.Set(ctx(t), service, a, []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := kr.Delete(ctx(t), service, a); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := kr.Get(ctx(t), service, a); !errors.Is(err, backends.ErrNotFound) {
			t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
		}
		if err := kr.Delete(ctx(t), service, a); !errors.Is(err, backends.ErrNotFound) {
			t.Fatalf("second Delete: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("List", func(t *testing.T) {
		base := acct(t)
		var want []string
		for i := range 3 {
			a := fmt.Sprintf("%s|%d", base, i)
			t.Cleanup(func() { _ = kr.Delete(context.Background(), service, a) })
			if err := kr.Set(ctx(t), service, a, []byte("v")); err != nil {
				t.Fatal(err)
			}
			want = append(want, a)
		}
		got, err := kr.List(ctx(t), service)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		for _, a := range want {
			if count(got, a) != 1 {
				t.Errorf("List = %q, missing %q", got, a)
			}
		}
	})
	t.Run("BinarySafeAndLarge", func(t *testing.T) {
		a := acct(t)
		// 8 KiB of JSON-ish text: larger than a Windows credential blob, so a
		// backend that splits records is exercised too.
		want := bytes.Repeat([]byte(`{"access_token":"abcdefghijklmnop"}`), 8192/35)
		if err := kr.Set(ctx(t), service, a, want); err != nil {
			var tl *backends.TooLongError
			if errors.As(err, &tl) {
				// The contract allows the refusal; what it does not allow is a
				// refused record half stored.
				if _, gerr := kr.Get(ctx(t), service, a); !errors.Is(gerr, backends.ErrNotFound) {
					t.Fatalf("%s refused %d bytes (%v), but Get then says %v; want ErrNotFound", kr.Name(), len(want), err, gerr)
				}
				return
			}
			t.Fatalf("Set %d bytes: %v", len(want), err)
		}
		got, err := kr.Get(ctx(t), service, a)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Get of %d bytes: got %d bytes, %v", len(want), len(got), err)
		}
	})
	t.Run("Doctor", func(t *testing.T) {
		if lines := kr.Doctor(ctx(t)); len(lines) == 0 {
			t.Fatal("Doctor returned nothing")
		}
	})
}

func count(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

// Missing ends a test whose real component (a D-Bus daemon, gnome-keyring, Wine) is
// not on this machine. Outside CI it skips, saying why; under CI (CI set in the
// environment) it fails, since CI must run every test.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI must run this test, but: %s", why)
	}
	t.Skipf("skipped on this machine: %s (CI fails instead of skipping)", why)
}
