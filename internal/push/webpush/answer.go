package webpush

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/push"
)

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
		return &push.RetryError{After: push.RetryAfter(resp.Header.Get("Retry-After"), now), Err: err}
	}
	return err
}
