package rest_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
)

// TestSearchRateLimit: past its burst a user's searches get 429 with the
// ConnectyCube error body and a Retry-After; other users are not affected,
// a mistaken search is answered with its mistake, and the budget comes back
// with time (the server's clock, moved by the test).
func TestSearchRateLimit(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.SearchRate, c.SearchBurst = 6, 3 })
	a, b := env.NewUser(t), env.NewUser(t)
	search := func(u *servertest.User, text string) *servertest.Response {
		return env.Do(t, req{Method: "GET", Path: "/chat/search.json?search_text=" + text, Token: u.Token})
	}
	for range 3 {
		wantStatus(t, search(a, "hello"), http.StatusOK)
	}
	resp := search(a, "hello")
	wantError(t, resp, http.StatusTooManyRequests, "base")
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 || s > 10 {
		t.Fatalf("Retry-After = %q, want 1..10 seconds (one search every 10 s)", resp.Header.Get("Retry-After"))
	}
	wantError(t, search(a, "abc"), http.StatusUnprocessableEntity, "search_text") // checked before counting
	wantStatus(t, search(b, "hello"), http.StatusOK)
	env.Clock.Advance(10 * time.Second)
	wantStatus(t, search(a, "hello"), http.StatusOK)
	wantError(t, search(a, "hello"), http.StatusTooManyRequests, "base")
}
