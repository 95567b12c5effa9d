package webpush

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/push"
)

// maxRetryAfter caps a push service's Retry-After: the outbox retries
// with its own backoff anyway, and a far date would only park the push.
const maxRetryAfter = time.Hour

// answerOf reads the push service's answer (RFC 8030 §5, RFC 8292 §4.2)
// into push.Provider's three kinds of result, and closes the body.
func answerOf(resp *http.Response, now time.Time) error {
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// Drained so the connection is reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	err := fmt.Errorf("webpush: push service answered %d: %s", resp.StatusCode, strings.TrimSpace(string(head)))
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return fmt.Errorf("%w (%w)", push.ErrGone, err)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return &push.RetryError{After: retryAfter(resp.Header.Get("Retry-After"), now), Err: err}
	}
	return err
}

// retryAfter parses Retry-After: delta-seconds or an HTTP-date; 0 when
// absent, unreadable or past; at most maxRetryAfter.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, maxRetryAfter))
}
