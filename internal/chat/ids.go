package chat

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// ValidID reports whether s is a dialog or message id: 24 lowercase hex
// characters (README §2 of the spec).
func ValidID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// NewID returns a fresh ObjectId-shaped id: 4 bytes of Unix time then 8
// random bytes. It always contains a letter, because the SDK takes an
// all-digit string for a user id.
func NewID(now time.Time) string {
	var b [12]byte
	for {
		binary.BigEndian.PutUint32(b[:4], uint32(now.Unix()))
		if _, err := rand.Read(b[4:]); err != nil {
			panic("chat: crypto/rand failed: " + err.Error())
		}
		s := hex.EncodeToString(b[:])
		if hasLetter(s) {
			return s
		}
	}
}

func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'a' && s[i] <= 'f' {
			return true
		}
	}
	return false
}

// PairKey is the unique key of the private dialog of two users; a Store
// indexes private dialogs by it.
func PairKey(a, b int64) string {
	if a > b {
		a, b = b, a
	}
	return strconv.FormatInt(a, 10) + ":" + strconv.FormatInt(b, 10)
}

// otherOfPair returns the participant of a private dialog's pair key that
// is not user (0 when the key is malformed).
func otherOfPair(pair string, user int64) int64 {
	a, b, ok := strings.Cut(pair, ":")
	if !ok {
		return 0
	}
	x, err1 := strconv.ParseInt(a, 10, 64)
	y, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	if x == user {
		return y
	}
	return x
}
