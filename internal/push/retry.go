package push

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter caps the wait a provider may ask for: a longer one is the
// dispatcher's backoff to decide, not the provider's.
const MaxRetryAfter = time.Hour

// RetryAfter reads a Retry-After header (RFC 9110 §10.2.3: delay seconds
// or an HTTP-date) as a wait from now: zero when absent, unreadable or
// past, at most MaxRetryAfter. Every provider answers 429 and 503 with it.
func RetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), MaxRetryAfter)
}
