package rest

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/rest/form"
)

// expiredBody is the exact body the SDK recognises as an expired session
// (REST.md §1.8); it must not change by a byte.
const expiredBody = `{"errors":{"base":["Required session does not exist"]}}`

// statusOf maps a domain error kind to its HTTP status, once for all handlers.
func statusOf(k apperr.Kind) int {
	switch k {
	case apperr.KindInvalid:
		return http.StatusUnprocessableEntity
	case apperr.KindMalformed:
		return http.StatusBadRequest
	case apperr.KindNotFound:
		return http.StatusNotFound
	case apperr.KindForbidden, apperr.KindBlocked, apperr.KindBlocking:
		return http.StatusForbidden
	case apperr.KindUnauthorized, apperr.KindSessionExpired:
		return http.StatusUnauthorized
	case apperr.KindConflict:
		return http.StatusConflict
	case apperr.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case apperr.KindRateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// writeError answers err in the ConnectyCube error shape:
// {"errors":{"base":[msg]}} or {"errors":{field:[msg]}} for field errors.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		err = apperr.TooLarge("Request body is larger than %d bytes", maxErr.Limit)
	} else if errors.Is(err, form.ErrMalformed) {
		err = &apperr.Error{Kind: apperr.KindMalformed, Message: err.Error()}
	}
	e, ok := apperr.As(err)
	if !ok || e.Kind == apperr.KindInternal {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody("base", "Internal server error"))
		return
	}
	if e.Kind == apperr.KindSessionExpired {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(expiredBody))
		return
	}
	if e.Kind == apperr.KindRateLimited {
		w.Header().Set("Retry-After", strconv.FormatInt(apperr.RetrySeconds(e.RetryAfter), 10))
	}
	field, msg := "base", e.Message
	if e.Field != "" {
		field = e.Field
	}
	writeJSON(w, statusOf(e.Kind), errorBody(field, msg))
}

type errorsJSON struct {
	Errors map[string][]string `json:"errors"`
}

func errorBody(field, msg string) errorsJSON {
	return errorsJSON{Errors: map[string][]string{field: {msg}}}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":{"base":["Internal server error"]}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
