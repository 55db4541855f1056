//go:build linux || freebsd || openbsd || netbsd || (dragonfly && cgo)

package secretservice

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"math/big"
	"testing"
)

// TestDHAgreement plays both sides of a session: the keys agree, and the derivation
// matches RFC 5869 done by hand with HMAC over the 128-byte padded shared secret.
func TestDHAgreement(t *testing.T) {
	for range 5 {
		client, err := newDHKey()
		if err != nil {
			t.Fatal(err)
		}
		service, err := newDHKey()
		if err != nil {
			t.Fatal(err)
		}
		if len(client.pub) != groupSize || len(service.pub) != groupSize {
			t.Fatalf("public key lengths %d, %d; want %d", len(client.pub), len(service.pub), groupSize)
		}
		// The service may send its key minimal-length; parse any length.
		k1, err := client.aesKey(new(big.Int).SetBytes(service.pub).Bytes())
		if err != nil {
			t.Fatal(err)
		}
		k2, err := service.aesKey(client.pub)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(k1, k2) || len(k1) != 16 {
			t.Fatalf("keys differ or wrong length: %x %x", k1, k2)
		}
		z := new(big.Int).Exp(new(big.Int).SetBytes(service.pub), client.priv, oakley2()).FillBytes(make([]byte, groupSize))
		if want := hmacSHA256(hmacSHA256(make([]byte, 32), z), []byte{1})[:16]; !bytes.Equal(k1, want) {
			t.Fatalf("HKDF mismatch: got %x want %x", k1, want)
		}
	}
}

// TestDeriveKeyPads: a shared secret with leading zero bytes is padded to 128 bytes
// before HKDF, not fed in minimal length.
func TestDeriveKeyPads(t *testing.T) {
	for _, z := range []*big.Int{big.NewInt(5), new(big.Int).Rsh(oakley2(), 8)} {
		got, err := deriveKey(z)
		if err != nil {
			t.Fatal(err)
		}
		padded := z.FillBytes(make([]byte, groupSize))
		if want := hmacSHA256(hmacSHA256(make([]byte, 32), padded), []byte{1})[:16]; !bytes.Equal(got, want) {
			t.Fatalf("z=%x...: key %x, want %x", z.Bytes()[:1], got, want)
		}
		if unpadded := hmacSHA256(hmacSHA256(make([]byte, 32), z.Bytes()), []byte{1})[:16]; bytes.Equal(got, unpadded) {
			t.Fatal("key derived from the unpadded secret")
		}
	}
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

func TestDHRejectsBadPeerKey(t *testing.T) {
	k, err := newDHKey()
	if err != nil {
		t.Fatal(err)
	}
	pm1 := new(big.Int).Sub(oakley2(), big.NewInt(1)).Bytes()
	for _, pub := range [][]byte{nil, {0}, {1}, pm1, oakley2().Bytes()} {
		if _, err := k.aesKey(pub); err == nil {
			t.Errorf("aesKey(%x) accepted an invalid key", pub)
		}
	}
}

func TestCBCRoundTrip(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 16)
	for n := 0; n <= 33; n++ {
		msg := bytes.Repeat([]byte{'x'}, n)
		iv, ct, err := encrypt(key, msg)
		if err != nil {
			t.Fatal(err)
		}
		if len(iv) != 16 || len(ct)%16 != 0 || len(ct) <= n {
			t.Fatalf("n=%d: iv %d bytes, ciphertext %d bytes", n, len(iv), len(ct))
		}
		got, err := decrypt(key, iv, ct)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("n=%d: decrypt = %q, %v", n, got, err)
		}
		iv2, _, _ := encrypt(key, msg)
		if bytes.Equal(iv, iv2) {
			t.Fatalf("IV reused")
		}
	}
}

func TestDecryptRejects(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 16)
	iv, ct, _ := encrypt(key, []byte("secret"))
	cases := map[string][2][]byte{
		"short iv":        {iv[:8], ct},
		"empty":           {iv, nil},
		"not block-sized": {iv, ct[:15]},
	}
	for name, c := range cases {
		if _, err := decrypt(key, c[0], c[1]); !errors.Is(err, errDecrypt) {
			t.Errorf("%s: err = %v, want errDecrypt", name, err)
		}
	}
	// Corrupt the padding: the last plaintext byte 0x0a becomes 0x00 when the
	// previous ciphertext block (here the IV) is flipped the same way.
	bad := append([]byte(nil), iv...)
	bad[15] ^= 0x0a
	if _, err := decrypt(key, bad, ct); !errors.Is(err, errDecrypt) {
		t.Errorf("bad padding: err = %v, want errDecrypt", err)
	}
}
