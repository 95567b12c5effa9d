package rest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/apperr"
)

// middleware wraps next with, outermost first: panic recovery, the request
// log line, CORS, the body limit and path normalization.
func (a *API) middleware(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		// An outer mux (the server's, which serves /ws beside the API) set
		// its own pattern; the route observed is the one our mux matches,
		// or none (an OPTIONS preflight, an unknown path).
		r.Pattern = ""
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				a.log.ErrorContext(r.Context(), "panic in handler", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p))
				if !rec.wrote {
					writeJSON(rec, http.StatusInternalServerError, errorBody("base", "Internal server error"))
				}
			}
			took := time.Since(start)
			// The path only, never the query: download URLs carry a token there.
			a.log.LogAttrs(r.Context(), levelFor(rec.status), "request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.status), slog.Duration("duration", took),
				slog.Int("bytes", rec.bytes), slog.String("remote", r.RemoteAddr))
			// ServeMux set r.Pattern on this very request when a route
			// matched (dispatch passes it on unchanged).
			a.observe.Request(r.Pattern, rec.status, took)
		}()
		h := rec.Header()
		h.Set("Access-Control-Allow-Origin", a.cfg.CORSOrigin)
		if a.cfg.CORSOrigin != "*" {
			h.Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "CB-Token, CB-AuthKey, CB-SDK, Content-Type")
			h.Set("Access-Control-Max-Age", "86400")
			rec.WriteHeader(http.StatusOK)
			return
		}
		path, hadJSON := normalizePath(r.URL.Path)
		if !(r.Method == http.MethodPost && path == uploadPath) {
			// The upload streams its file and applies the app's own limit.
			r.Body = http.MaxBytesReader(rec, r.Body, a.cfg.MaxBodyBytes)
		}
		r.URL.Path = path
		r.URL.RawPath = ""
		r = r.WithContext(context.WithValue(r.Context(), jsonSuffixKey, hadJSON))
		next(rec, r)
	})
}

// normalizePath collapses repeated slashes, strips one ".json" suffix, drops
// a trailing slash and spells the chat segments Dialog and Message the way
// the routes do (the docs sometimes write them in lower case).
func normalizePath(p string) (string, bool) {
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	hadJSON := strings.HasSuffix(p, ".json")
	p = strings.TrimSuffix(p, ".json")
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	if strings.HasPrefix(p, "/chat/") {
		segs := strings.Split(p, "/")
		if len(segs) > 2 {
			switch strings.ToLower(segs[2]) {
			case "dialog":
				segs[2] = "Dialog"
			case "message":
				segs[2] = "Message"
			}
		}
		p = strings.Join(segs, "/")
	}
	if p == "" {
		p = "/"
	}
	return p, hadJSON
}

// dispatch routes through the mux, answering unknown paths and methods with
// a JSON error instead of ServeMux's plain text.
func (a *API) dispatch(w http.ResponseWriter, r *http.Request) {
	h, pattern := a.mux.Handler(r)
	if pattern != "" {
		a.mux.ServeHTTP(w, r)
		return
	}
	// ServeMux's own 404 or 405 (with its Allow header): keep the status,
	// replace the body.
	probe := &bufferedWriter{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if allow := probe.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	if probe.status == http.StatusMethodNotAllowed {
		writeJSON(w, http.StatusMethodNotAllowed, errorBody("base", "Method not allowed"))
		return
	}
	writeError(w, r, a.log, &apperr.Error{Kind: apperr.KindNotFound, Message: "Not found"})
}

type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
func (b *bufferedWriter) WriteHeader(s int) { b.status = s }

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	s.wrote = true
	n, err := s.ResponseWriter.Write(p)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
