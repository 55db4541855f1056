package oauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

// The ES256 path is checked by the real server (cmd/mcpcred
// TestLoginClientCredentialsPrivateKeyJWT); here both algorithms are verified
// with the standard library, and the key formats and refusals.
func TestClientAssertion(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	now := time.Unix(1_800_000_000, 0)
	for _, c := range []struct {
		name  string
		block *pem.Block
		alg   string
	}{
		{"EC PKCS#8", pkcs8(t, ec), "ES256"},
		{"EC SEC 1", func() *pem.Block {
			d, _ := x509.MarshalECPrivateKey(ec)
			return &pem.Block{Type: "EC PRIVATE KEY", Bytes: d}
		}(), "ES256"},
		{"RSA PKCS#1", &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}, "RS256"},
	} {
		t.Run(c.name, func(t *testing.T) {
			stored, err := EncodeClientKey(pem.EncodeToMemory(c.block))
			if err != nil || strings.ContainsAny(stored, "\r\n") {
				t.Fatalf("EncodeClientKey: %q, %v", stored, err)
			}
			jwt, err := clientAssertion(stored, "bot", "https://as.test/token", now)
			if err != nil {
				t.Fatal(err)
			}
			parts := strings.Split(jwt, ".")
			if len(parts) != 3 {
				t.Fatalf("jwt %q", jwt)
			}
			var header, claims map[string]any
			hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
			cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
			_ = json.Unmarshal(hb, &header)
			_ = json.Unmarshal(cb, &claims)
			if header["alg"] != c.alg || claims["iss"] != "bot" || claims["sub"] != "bot" || claims["aud"] != "https://as.test/token" ||
				claims["exp"].(float64) != float64(now.Unix()+60) || claims["jti"] == "" {
				t.Fatalf("header %v claims %v", header, claims)
			}
			sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
			sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
			ok := false
			if c.alg == "ES256" {
				ok = len(sig) == 64 && ecdsa.Verify(&ec.PublicKey, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
			} else {
				ok = rsa.VerifyPKCS1v15(&rk.PublicKey, crypto.SHA256, sum[:], sig) == nil
			}
			if !ok {
				t.Fatal("the signature does not verify")
			}
		})
	}
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for _, c := range []struct {
		data, want string
	}{
		{"not pem", "holds no PEM block"},
		{string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})), `holds a "CERTIFICATE" block`},
		{string(pem.EncodeToMemory(pkcs8(t, small))), "under 2048 bits"},
		{string(pem.EncodeToMemory(pkcs8(t, p384))), "another curve than P-256"},
	} {
		if _, err := EncodeClientKey([]byte(c.data)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.data[:min(len(c.data), 20)], err, c.want)
		}
	}
}

func pkcs8(t *testing.T, key any) *pem.Block {
	d, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &pem.Block{Type: "PRIVATE KEY", Bytes: d}
}
