package pushtest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/hkdf"
)

// Decrypt opens an aes128gcm Web Push body (RFC 8188 framing, RFC 8291
// keys) as the browser does: priv is the subscription's private key
// (p256dh's), auth its 16-byte secret. A push is one record (RFC 8291 §4).
func Decrypt(body []byte, priv *ecdh.PrivateKey, auth []byte) ([]byte, error) {
	// Header: salt(16) rs(4) idlen(1) keyid(idlen); the keyid is the
	// sender's ephemeral public key.
	if len(body) < 21 {
		return nil, errors.New("body shorter than the aes128gcm header")
	}
	salt := body[:16]
	rs := binary.BigEndian.Uint32(body[16:20])
	idlen := int(body[20])
	if len(body) < 21+idlen {
		return nil, errors.New("body shorter than its key id")
	}
	keyid, ciphertext := body[21:21+idlen], body[21+idlen:]
	if rs < 18 {
		return nil, fmt.Errorf("record size %d under 18", rs)
	}
	if uint64(len(ciphertext)) > uint64(rs) {
		return nil, fmt.Errorf("%d bytes of ciphertext in more than one record of %d", len(ciphertext), rs)
	}
	if len(ciphertext) < 17 {
		return nil, errors.New("record shorter than the GCM tag and a delimiter")
	}
	sender, err := ecdh.P256().NewPublicKey(keyid)
	if err != nil {
		return nil, fmt.Errorf("key id is not a P-256 point: %v", err)
	}
	shared, err := priv.ECDH(sender)
	if err != nil {
		return nil, fmt.Errorf("ECDH: %v", err)
	}

	gcm, nonce, err := recordCipher(shared, auth, priv.PublicKey().Bytes(), sender.Bytes(), salt)
	if err != nil {
		return nil, err
	}
	// The first (and only) record's sequence number is 0: the nonce as is.
	plain, err := gcm.Open(nil, nonce, ciphertext, nil)
	if err != nil {
		return nil, errors.New("record does not decrypt (wrong keys or corrupted)")
	}
	// Padding: the data, a delimiter (2: the last record), then zeros.
	end := len(bytes.TrimRight(plain, "\x00"))
	if end == 0 || plain[end-1] != 0x02 {
		return nil, errors.New("record has no last-record delimiter 0x02")
	}
	return plain[:end-1], nil
}

// Encrypt is the sender's side of Decrypt, for tests that make pushes by
// hand: plain in one record of 4096 with no padding, from the ephemeral
// key sender to the browser key ua, with auth and a 16-byte salt. (With
// RFC 8291 Appendix A's keys and salt it gives the RFC's body.)
func Encrypt(plain []byte, sender *ecdh.PrivateKey, ua *ecdh.PublicKey, auth, salt []byte) ([]byte, error) {
	if len(salt) != 16 {
		return nil, errors.New("salt is not 16 bytes")
	}
	shared, err := sender.ECDH(ua)
	if err != nil {
		return nil, err
	}
	gcm, nonce, err := recordCipher(shared, auth, ua.Bytes(), sender.PublicKey().Bytes(), salt)
	if err != nil {
		return nil, err
	}
	keyid := sender.PublicKey().Bytes()
	body := append([]byte(nil), salt...)
	body = binary.BigEndian.AppendUint32(body, 4096)
	body = append(append(body, byte(len(keyid))), keyid...)
	return gcm.Seal(body, nonce, append(append([]byte(nil), plain...), 0x02), nil), nil
}

// recordCipher derives a push's content key and nonce (RFC 8291 §3.3-3.4:
// IKM from the ECDH secret and the auth secret, keyed on both public
// keys; then RFC 8188's CEK and nonce from the IKM and the salt).
func recordCipher(shared, auth, uaPublic, asPublic, salt []byte) (cipher.AEAD, []byte, error) {
	info := append(append([]byte("WebPush: info\x00"), uaPublic...), asPublic...)
	ikm, err := expand(hkdf.New(sha256.New, shared, auth, info), 32)
	if err != nil {
		return nil, nil, err
	}
	cek, err := expand(hkdf.New(sha256.New, ikm, salt, []byte("Content-Encoding: aes128gcm\x00")), 16)
	if err != nil {
		return nil, nil, err
	}
	nonce, err := expand(hkdf.New(sha256.New, ikm, salt, []byte("Content-Encoding: nonce\x00")), 12)
	if err != nil {
		return nil, nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, nil, err
	}
	gcm, err := cipher.NewGCM(block)
	return gcm, nonce, err
}

func expand(r io.Reader, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}
