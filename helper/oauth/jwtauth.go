package oauth

// Private-key JWT client authentication (RFC 7523 section 2.2, OpenID Connect's
// private_key_jwt) for machine clients: instead of a secret, the client signs a
// short-lived assertion with its private key. The key is kept in the record's
// client_secret field as base64 of its PKCS#8 DER (no line breaks, as every
// record value), with token_endpoint_auth_method=private_key_jwt saying so.

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
	"errors"
	"fmt"
	"math/big"
	"time"
)

// AuthPrivateKeyJWT is the token_endpoint_auth_method of a client that signs
// assertions with its private key.
const AuthPrivateKeyJWT = "private_key_jwt"

// assertionType is RFC 7523's client_assertion_type.
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionLifetime bounds a client assertion: one token request.
const assertionLifetime = 60 * time.Second

// EncodeClientKey reads a PEM private key (PKCS#8, SEC 1 EC or PKCS#1 RSA; an
// ECDSA P-256 or RSA key of 2048 bits or more) and returns it in the form a
// record keeps: base64 of its PKCS#8 DER.
func EncodeClientKey(pemData []byte) (string, error) {
	block, _ := pem.Decode(pemData)
	if block == nil {
		return "", errors.New("the client key file holds no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return "", fmt.Errorf("the client key file holds a %q block, not a private key", block.Type)
	}
	if err != nil {
		return "", fmt.Errorf("the client key cannot be read: %w", err)
	}
	if _, _, err := signerOf(key); err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// signerOf checks key and names its JWS algorithm.
func signerOf(key any) (crypto.Signer, string, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, "", errors.New("the client key is an EC key on another curve than P-256: use P-256 (ES256) or RSA")
		}
		return k, "ES256", nil
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, "", errors.New("the client key is an RSA key under 2048 bits")
		}
		return k, "RS256", nil
	}
	return nil, "", fmt.Errorf("the client key is a %T: use an ECDSA P-256 or RSA key", key)
}

// clientAssertion is a signed JWT for clientID at the token endpoint aud, with
// the stored key (EncodeClientKey's form).
func clientAssertion(storedKey, clientID, aud string, now time.Time) (string, error) {
	der, err := base64.StdEncoding.DecodeString(storedKey)
	if err != nil {
		return "", errors.New("the stored client key is not base64")
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return "", errors.New("the stored client key is not a PKCS#8 private key")
	}
	signer, alg, err := signerOf(key)
	if err != nil {
		return "", err
	}
	header, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"iss": clientID, "sub": clientID, "aud": aud, "jti": randomString(),
		"iat": now.Unix(), "exp": now.Add(assertionLifetime).Unix(),
	})
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	sum := sha256.Sum256([]byte(input))
	var sig []byte
	switch k := signer.(type) {
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
		if err != nil {
			return "", err
		}
		// JWS wants r and s as two 32-byte big-endian numbers, not ASN.1.
		sig = append(pad32(r), pad32(s)...)
	default:
		if sig, err = signer.Sign(rand.Reader, sum[:], crypto.SHA256); err != nil {
			return "", err
		}
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func pad32(n *big.Int) []byte {
	b := make([]byte, 32)
	return n.FillBytes(b)
}
