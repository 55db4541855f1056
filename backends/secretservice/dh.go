//go:build linux || freebsd || openbsd || netbsd || (dragonfly && cgo)

package secretservice

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"sync"
)

// groupSize is the byte length of the RFC 2409 "Second Oakley Group" prime; public
// keys and the shared secret are left-padded to it.
const groupSize = 128

// oakley2 is the 1024-bit MODP prime of RFC 2409 section 6.2 (generator 2),
// parsed on first use: a process that opens no session (a file get, version)
// does not pay for it at start-up.
var oakley2 = sync.OnceValue(func() *big.Int {
	p, _ := new(big.Int).SetString(
		"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"+
			"29024E088A67CC74020BBEA63B139B22514A08798E3404DD"+
			"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"+
			"E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"+
			"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381"+
			"FFFFFFFFFFFFFFFF", 16)
	return p
})

// dhKey is the client's half of a DH session: a private exponent and the public key
// as sent on the wire (left-padded to groupSize bytes).
type dhKey struct {
	priv *big.Int
	pub  []byte
}

// privateSize is the byte length of the private exponent. 256 bits is well over
// the 160 that the group's ~80-bit strength asks for (NIST SP 800-56A: twice the
// security strength), and a modexp with it costs a quarter of a full 1024-bit one:
// about 0.35 ms less on every process that opens a session, twice.
const privateSize = 32

func newDHKey() (*dhKey, error) {
	b := make([]byte, privateSize)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("random DH key: %w", err)
	}
	priv := new(big.Int).SetBytes(b)
	pub := new(big.Int).Exp(big.NewInt(2), priv, oakley2())
	return &dhKey{priv: priv, pub: pub.FillBytes(make([]byte, groupSize))}, nil
}

// aesKey derives the session's AES-128 key from the service's public key: the DH
// shared secret left-padded to 128 bytes, then HKDF-SHA256 with no salt, empty info.
func (k *dhKey) aesKey(servicePub []byte) ([]byte, error) {
	y := new(big.Int).SetBytes(servicePub)
	pMinus1 := new(big.Int).Sub(oakley2(), big.NewInt(1))
	if y.Cmp(big.NewInt(1)) <= 0 || y.Cmp(pMinus1) >= 0 {
		return nil, errors.New("service sent an invalid DH public key")
	}
	return deriveKey(new(big.Int).Exp(y, k.priv, oakley2()))
}

// deriveKey is HKDF-SHA256 (no salt, empty info) of the shared secret z, left-padded
// to groupSize bytes as gnome-keyring, libsecret and keyring-rs do: about 1 session
// in 256 has a z shorter than that.
func deriveKey(z *big.Int) ([]byte, error) {
	return hkdf.Key(sha256.New, z.FillBytes(make([]byte, groupSize)), nil, "", 16)
}

// encrypt returns a fresh random IV and the AES-128-CBC ciphertext of PKCS#7-padded
// plaintext.
func encrypt(key, plaintext []byte) (iv, ciphertext []byte, err error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, nil, err
	}
	iv = make([]byte, aes.BlockSize)
	if _, err := rand.Read(iv); err != nil {
		return nil, nil, fmt.Errorf("random IV: %w", err)
	}
	n := aes.BlockSize - len(plaintext)%aes.BlockSize
	buf := make([]byte, len(plaintext)+n)
	copy(buf, plaintext)
	for i := len(plaintext); i < len(buf); i++ {
		buf[i] = byte(n)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)
	return iv, buf, nil
}

// errDecrypt reports a secret that did not decrypt: wrong length, bad padding. It
// usually means the session key is not the service's; the caller opens a new session.
var errDecrypt = errors.New("secret did not decrypt with the session key")

func decrypt(key, iv, ciphertext []byte) ([]byte, error) {
	if len(iv) != aes.BlockSize || len(ciphertext) == 0 || len(ciphertext)%aes.BlockSize != 0 {
		return nil, errDecrypt
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(buf, ciphertext)
	n := int(buf[len(buf)-1])
	if n == 0 || n > aes.BlockSize {
		clear(buf)
		return nil, errDecrypt
	}
	for _, b := range buf[len(buf)-n:] {
		if int(b) != n {
			clear(buf)
			return nil, errDecrypt
		}
	}
	return buf[:len(buf)-n], nil
}
