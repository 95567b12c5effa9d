package apns

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/push"
	"github.com/sideshow/apns2"
)

// maxRetryAfter caps the wait APNs may ask for.
const maxRetryAfter = time.Hour

// answer turns APNs' answer into Send's error (push.Provider's rules).
func (c *client) answer(res *apns2.Response, s *sent) error {
	if res.StatusCode == http.StatusOK {
		return nil
	}
	reason := res.Reason
	if reason == "" {
		reason = http.StatusText(res.StatusCode)
	}
	err := fmt.Errorf("apns: %d %s", res.StatusCode, reason)
	switch {
	case res.StatusCode == http.StatusGone,
		res.StatusCode == http.StatusBadRequest && (res.Reason == apns2.ReasonBadDeviceToken || res.Reason == apns2.ReasonDeviceTokenNotForTopic):
		return fmt.Errorf("%w: %w", push.ErrGone, err)
	case res.StatusCode == http.StatusForbidden && res.Reason == apns2.ReasonExpiredProviderToken:
		c.expire(s.bearer)
		return &push.RetryError{Err: err}
	case res.StatusCode == http.StatusTooManyRequests,
		res.StatusCode >= 500:
		return &push.RetryError{After: retryAfter(s.retryAfter, time.Now()), Err: err}
	}
	return err
}

// retryAfter reads a Retry-After header: seconds or an HTTP date, capped.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
