package auth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Passwords are stored as PBKDF2-HMAC-SHA-256, the KDF XMPP servers use for
// SCRAM-SHA-256 credentials, so a later SCRAM mechanism can reuse them. Every
// SASL PLAIN login verifies one hash, so the iteration count sets the login
// rate; see BenchmarkVerifyPassword and the README for the measured cost.
const (
	// DefaultPasswordIterations is the PBKDF2 iteration count for new hashes.
	DefaultPasswordIterations = 8192
	// minPasswordIterations is the floor below which a hash is refused.
	minPasswordIterations = 4096
	saltBytes             = 16
	keyBytes              = 32
	hashScheme            = "pbkdf2-sha256"
)

var b64 = base64.RawStdEncoding

// HashPassword returns the encoded hash "pbkdf2-sha256$iter$salt$key".
func HashPassword(password string, iterations int) (string, error) {
	if iterations < minPasswordIterations {
		iterations = minPasswordIterations
	}
	salt := make([]byte, saltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, keyBytes)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s$%d$%s$%s", hashScheme, iterations, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("auth: malformed password hash")

// VerifyPassword reports whether password matches the encoded hash, in time
// independent of where the two keys differ.
func VerifyPassword(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 4 || parts[0] != hashScheme {
		return false, errBadHash
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < minPasswordIterations {
		return false, errBadHash
	}
	salt, err1 := b64.DecodeString(parts[2])
	want, err2 := b64.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, errBadHash
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
