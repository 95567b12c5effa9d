package chat

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// NewMessageID returns a fresh message id in MongoDB's ObjectId layout: 4
// bytes of Unix time, 5 random bytes drawn once per process, then a 3-byte
// counter. Unlike NewID's, the ids one process makes in one second
// increase, so a batch of new messages lands at the end of the id index
// (a few pages written per commit) instead of on a random page of the
// current second's range for every message: those page writes were more
// than half of what a batch of 64 messages wrote to the WAL. Ids stay
// unique across processes through the random part, and within one
// process through the counter (16.7 million ids per second). Nothing
// relies on message ids being unguessable: every use checks the caller's
// role in the message's dialog.
func NewMessageID(now time.Time) string {
	msgIDs.once.Do(func() {
		var b [8]byte
		for {
			if _, err := rand.Read(b[:]); err != nil {
				panic("chat: crypto/rand failed: " + err.Error())
			}
			// A letter in the fixed part puts one in every id.
			if hasLetter(hex.EncodeToString(b[:5])) {
				break
			}
		}
		copy(msgIDs.process[:], b[:5])
		// A random start in the lower half: 8 million ids before the
		// counter wraps, so ids keep increasing within any second.
		msgIDs.counter.Store(binary.BigEndian.Uint32(b[4:]) & 0x7fffff)
	})
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(now.Unix()))
	copy(b[4:9], msgIDs.process[:])
	c := msgIDs.counter.Add(1)
	b[9], b[10], b[11] = byte(c>>16), byte(c>>8), byte(c)
	return hex.EncodeToString(b[:])
}

var msgIDs struct {
	once    sync.Once
	process [5]byte
	counter atomic.Uint32
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
	x, y, ok := splitPair(pair)
	if !ok {
		return 0
	}
	if x == user {
		return y
	}
	return x
}

// splitPair returns the two users of a pair key.
func splitPair(pair string) (int64, int64, bool) {
	a, b, ok := strings.Cut(pair, ":")
	if !ok {
		return 0, 0, false
	}
	x, err1 := strconv.ParseInt(a, 10, 64)
	y, err2 := strconv.ParseInt(b, 10, 64)
	return x, y, err1 == nil && err2 == nil
}
