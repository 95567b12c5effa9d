package chat

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	mrand "math/rand/v2"
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

// NewMessageID returns a fresh message id: 4 bytes of Unix time, then 8
// bytes of a per-process sequence that starts at a random point and
// advances by a random step of 1 to 2^32 for each id.
//
// Within a second the ids one process makes increase, so a batch of new
// messages lands at the end of the id index (a few pages written per
// commit) instead of on a random page of the current second's range for
// every message: those page writes were more than half of what a batch of
// 64 messages wrote to the WAL. (With the average step, the sequence wraps
// after about four billion ids; a wrap only costs that locality once.)
//
// The step is what keeps ids unguessable. With a fixed process part and a
// counter, a user who saw one id knew the next ones, and by claiming them
// first as its own message ids (a client may choose its ids, REALTIME.md
// §6.2) made other tenants' messages fail or vanish. Now the id after one
// a user saw is any of four billion values. Uniqueness is not promised by
// construction, across processes or against ids clients chose: the store
// refuses a taken id and the domain makes another (insertMessages), so a
// clash costs a retry, never a message.
func NewMessageID(now time.Time) string {
	msgIDs.once.Do(func() {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			panic("chat: crypto/rand failed: " + err.Error())
		}
		// A start in the lower half leaves 2^63 to climb before a wrap.
		msgIDs.seq.Store(binary.BigEndian.Uint64(b[:]) >> 1)
	})
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(now.Unix()))
	for {
		// math/rand/v2's generator (ChaCha8, seeded by the runtime from
		// the system's entropy) is not observable from outside and, unlike
		// crypto/rand, costs nanoseconds on the group commit's path.
		binary.BigEndian.PutUint64(b[4:], msgIDs.seq.Add(1+mrand.Uint64N(1<<32)))
		// The SDK takes an all-digit string for a user id; one in about
		// 1,800 draws has no letter in its last 16 characters.
		if s := hex.EncodeToString(b[:]); hasLetter(s) {
			return s
		}
	}
}

var msgIDs struct {
	once sync.Once
	seq  atomic.Uint64
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
