package fcm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/parley-chat/parley/internal/push"
)

// apiError is FCM v1's error body (google.rpc.Status).
type apiError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type            string `json:"@type"`
			ErrorCode       string `json:"errorCode"`
			FieldViolations []struct {
				Field       string `json:"field"`
				Description string `json:"description"`
			} `json:"fieldViolations"`
		} `json:"details"`
	} `json:"error"`
}

func (e *apiError) errorCode() string {
	for _, d := range e.Error.Details {
		if d.ErrorCode != "" {
			return d.ErrorCode
		}
	}
	return ""
}

// namesToken reports whether an INVALID_ARGUMENT is about the device
// token (FCM's "The registration token is not a valid FCM registration
// token", field message.token) rather than the payload.
func (e *apiError) namesToken() bool {
	if strings.Contains(strings.ToLower(e.Error.Message), "registration token") {
		return true
	}
	for _, d := range e.Error.Details {
		for _, v := range d.FieldViolations {
			if v.Field == "message.token" {
				return true
			}
		}
	}
	return false
}

// answer classifies FCM's answer to a send (push.Provider's contract).
func answer(resp *http.Response, body []byte, now time.Time) error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	var e apiError
	parsed := json.Unmarshal(body, &e) == nil && e.Error.Status != ""
	what := fmt.Sprintf("fcm: %d %s", code, excerptOf(body))
	switch {
	case code == http.StatusNotFound && parsed && (e.Error.Status == "NOT_FOUND" || e.errorCode() == "UNREGISTERED"):
		return fmt.Errorf("%s: %w", what, push.ErrGone)
	case code == http.StatusBadRequest && parsed && e.Error.Status == "INVALID_ARGUMENT" && e.namesToken():
		return fmt.Errorf("%s: %w", what, push.ErrGone)
	case code == http.StatusUnauthorized:
		return &push.RetryError{Err: errors.New(what)}
	case code == http.StatusTooManyRequests || code >= 500:
		return &push.RetryError{After: push.RetryAfter(resp.Header.Get("Retry-After"), now), Err: errors.New(what)}
	}
	return errors.New(what)
}

// excerptOf is a short, single-line excerpt of an answer's body for an
// error message.
func excerptOf(body []byte) string {
	const n = 200
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > n {
		s = s[:n]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

func asRetrieve(err error) (*oauth2.RetrieveError, bool) {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		return re, true
	}
	return nil, false
}
