package apns

import (
	"fmt"
	"net/http"
	"time"

	"github.com/parley-chat/parley/internal/push"
	"github.com/sideshow/apns2"
)

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
		return &push.RetryError{After: push.RetryAfter(s.retryAfter, time.Now()), Err: err}
	}
	return err
}
