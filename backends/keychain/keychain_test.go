//go:build darwin && cgo

package keychain

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/mcpcred/mcpcred/backends"
	"github.com/mcpcred/mcpcred/backends/keyringtest"
)

// These run on a Mac, for real, against the default keychain, which must be
// unlocked. They are not skipped anywhere: where the Keychain cannot be used they
// fail. The CI workflow's macOS job (.github/workflows/ci.yml) runs them on a
// throwaway keychain made the default one; on Linux, scripts/darwin-typecheck
// only type-checks them.

func service(t *testing.T) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "mcpcred-test-" + hex.EncodeToString(b[:])
}

func TestConformance(t *testing.T) {
	keyringtest.Run(t, New(backends.Options{Timeout: 20 * time.Second}), service(t))
}

func TestUpdateInPlace(t *testing.T) {
	kr := New(backends.Options{Timeout: 20 * time.Second})
	svc := service(t)
	ctx := context.Background()
	t.Cleanup(func() { _ = kr.Delete(ctx, svc, "a") })
	for _, v := range []string{"one", "", "two"} {
		if err := kr.Set(ctx, svc, "a", []byte(v)); err != nil {
			t.Fatalf("Set %q: %v", v, err)
		}
		got, err := kr.Get(ctx, svc, "a")
		if err != nil || string(got) != v {
			t.Fatalf("Get = %q, %v; want %q", got, err, v)
		}
	}
	if accts, err := kr.List(ctx, svc); err != nil || len(accts) != 1 {
		t.Fatalf("List = %q, %v", accts, err)
	}
}

func TestNamesAndTimeout(t *testing.T) {
	kr := New(backends.Options{})
	if err := kr.Set(context.Background(), "", "a", []byte("x")); err == nil {
		t.Fatal("Set with an empty service: no error")
	}
	if _, err := kr.Get(context.Background(), "s", ""); err == nil {
		t.Fatal("Get with an empty account: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := kr.Get(ctx, "s", "a"); !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("Get with a canceled ctx: %v", err)
	}
}
