package webpush

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/hkdf"
)

// The aes128gcm body (RFC 8188 §2.1, RFC 8291 §4): salt(16) rs(4)
// idlen(1) keyid(65, the sender's ephemeral public key), then one record:
// the padded plaintext sealed with a 16-byte GCM tag.
const (
	headerLen  = 16 + 4 + 1 + 65
	tagLen     = 16
	recordSize = 4096 // rs: one record holds any body a push service takes
	maxBody    = 4096 // RFC 8030 §7.2: the most a push service must accept
)

// paddedLen is the length of the plaintext record (data, delimiter,
// zeros) for n bytes of data: the body is rounded up to 512, 1024, 2048
// or 4096 bytes. Padding hides a message's length from the push service
// and the network (RFC 8291 §4); a power-of-two bucket leaks only its
// rough size while a chat alert (a few hundred bytes) travels in 512
// bytes instead of webpush-go's fixed 4096 — 8× less on mobile data for
// the push service to store and the browser to decrypt.
func paddedLen(n int) int {
	body := headerLen + n + 1 + tagLen
	bucket := 512
	for bucket < body && bucket < maxBody {
		bucket *= 2
	}
	return bucket - headerLen - tagLen
}

// encrypt seals plain for the subscription's key ua and auth secret with
// a fresh ephemeral key and salt: RFC 8291 wants both new for every push.
func encrypt(plain []byte, ua *ecdh.PublicKey, auth []byte) ([]byte, error) {
	as, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	return seal(plain, as, ua, auth, salt, paddedLen(len(plain)))
}

// seal is encrypt with the ephemeral key as and the salt given (the RFC's
// example fixes both), the plaintext padded to padded bytes.
func seal(plain []byte, as *ecdh.PrivateKey, ua *ecdh.PublicKey, auth, salt []byte, padded int) ([]byte, error) {
	if len(salt) != 16 || len(auth) != 16 {
		return nil, errors.New("webpush: salt and auth secret must be 16 bytes")
	}
	if padded < len(plain)+1 || headerLen+padded+tagLen > maxBody {
		return nil, fmt.Errorf("webpush: %d bytes padded to %d: %w", len(plain), padded, ErrPayloadTooLarge)
	}
	shared, err := as.ECDH(ua)
	if err != nil {
		return nil, fmt.Errorf("webpush: ECDH: %w", err)
	}
	keyid := as.PublicKey().Bytes()
	// RFC 8291 §3.3-3.4: the IKM from the ECDH secret, keyed by the auth
	// secret and both public keys; then RFC 8188's content key and nonce.
	info := make([]byte, 0, 14+65+65)
	info = append(append(append(info, "WebPush: info\x00"...), ua.Bytes()...), keyid...)
	ikm, err := hkdfRead(shared, auth, info, 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdfRead(ikm, salt, []byte("Content-Encoding: aes128gcm\x00"), 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdfRead(ikm, salt, []byte("Content-Encoding: nonce\x00"), 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}

	body := make([]byte, 0, headerLen+padded+tagLen)
	body = append(body, salt...)
	body = binary.BigEndian.AppendUint32(body, recordSize)
	body = append(append(body, byte(len(keyid))), keyid...)
	// The record's plaintext, sealed in place after the header: the data,
	// the last-record delimiter 0x02, zeros.
	rec := body[len(body) : len(body)+padded]
	copy(rec, plain)
	rec[len(plain)] = 0x02
	clear(rec[len(plain)+1:])
	// The only record's sequence number is 0: the nonce as derived.
	return gcm.Seal(body, nonce, rec, nil), nil
}

// hkdfRead is n bytes of HKDF-SHA-256 (RFC 5869) of secret, salt and info.
func hkdfRead(secret, salt, info []byte, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, salt, info), b); err != nil {
		return nil, err
	}
	return b, nil
}
