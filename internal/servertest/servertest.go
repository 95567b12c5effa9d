// Package servertest starts a real Parley server in-process on 127.0.0.1:0
// with a fresh data directory, for tests and benchmarks of every package
// above the store. It also holds the small HTTP helpers those tests share.
package servertest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/server"
)

// Env is a running server and the default app it was started with.
type Env struct {
	Server *server.Server
	URL    string // REST base URL, e.g. http://127.0.0.1:41234
	WSURL  string // XMPP over WebSocket, e.g. ws://127.0.0.1:41235
	XMPP   string // XMPP over TCP address, e.g. 127.0.0.1:41236
	App    *auth.App
	Client *http.Client
	// Clock is the server's time: the real time plus an offset a test can
	// move forward to age sessions without waiting.
	Clock *Clock
	seq   atomic.Int64
}

// Clock is real time shifted by an adjustable offset, or, once frozen,
// a fixed time that only Advance moves.
type Clock struct {
	offset atomic.Int64
	frozen atomic.Int64 // Unix nanoseconds of the frozen time; 0 while running
}

// Now is the shifted time.
func (c *Clock) Now() time.Time {
	if f := c.frozen.Load(); f != 0 {
		return time.Unix(0, f).Add(time.Duration(c.offset.Load()))
	}
	return time.Now().Add(time.Duration(c.offset.Load()))
}

// Freeze stops the clock where it is, for tests of waits that must not
// shrink while the test runs (a rate limit's Retry-After).
func (c *Clock) Freeze() { c.frozen.CompareAndSwap(0, time.Now().UnixNano()) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// Start runs a server for the rest of the test (or benchmark); mutate may
// adjust the configuration before it starts. Its logs are discarded.
func Start(tb testing.TB, mutate ...func(*config.Config)) *Env {
	tb.Helper()
	return StartLogged(tb, io.Discard, mutate...)
}

// StartLogged is Start with the server's JSON log written to w.
func StartLogged(tb testing.TB, w io.Writer, mutate ...func(*config.Config)) *Env {
	tb.Helper()
	cfg := config.Default()
	cfg.DataDir = tb.TempDir()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.WSAddr = "127.0.0.1:0"
	cfg.XMPPAddr = "127.0.0.1:0"
	for _, m := range mutate {
		m(&cfg)
	}
	log := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	clock := &Clock{}
	srv, err := server.New(ctx, cfg, log, server.WithClock(clock.Now))
	if err != nil {
		tb.Fatalf("servertest: new server: %v", err)
	}
	app, _, err := srv.EnsureDefaultApp(ctx)
	if err != nil {
		tb.Fatalf("servertest: default app: %v", err)
	}
	if err := srv.Start(ctx); err != nil {
		tb.Fatalf("servertest: start: %v", err)
	}
	tb.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			tb.Errorf("servertest: shutdown: %v", err)
		}
	})
	scheme, wsScheme := "http://", "ws://"
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	if cfg.TLSCert != "" {
		// Trust the server's own certificate (a test certificate).
		pem, err := os.ReadFile(cfg.TLSCert)
		if err != nil {
			tb.Fatalf("servertest: read certificate: %v", err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		transport.TLSClientConfig = &tls.Config{RootCAs: pool}
		scheme, wsScheme = "https://", "wss://"
	}
	return &Env{Server: srv, URL: scheme + srv.HTTPAddr(), WSURL: wsScheme + srv.WSAddr(), XMPP: srv.XMPPAddr(), App: app, Clock: clock,
		Client: &http.Client{Timeout: 30 * time.Second, Transport: transport}}
}

// Response is a decoded HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any // nil when the body is not a JSON object
}

// Req describes a request: Body is JSON-encoded unless it is a string or
// []byte, which are sent as they are.
type Req struct {
	Method      string
	Path        string
	Token       string
	Header      map[string]string
	Body        any
	ContentType string
}

// Do sends r and decodes the answer; transport errors fail the test.
func (e *Env) Do(tb testing.TB, r Req) *Response {
	tb.Helper()
	var body io.Reader
	ct := r.ContentType
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			tb.Fatalf("servertest: encode body: %v", err)
		}
		body = bytes.NewReader(raw)
		if ct == "" {
			ct = "application/json;charset=utf-8"
		}
	}
	req, err := http.NewRequest(r.Method, e.URL+r.Path, body)
	if err != nil {
		tb.Fatalf("servertest: %v", err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if r.Token != "" {
		req.Header.Set("CB-Token", r.Token)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		tb.Fatalf("servertest: %s %s: %v", r.Method, r.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("servertest: read body: %v", err)
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil {
		out.JSON = m
	}
	return out
}

// User is a signed-up user with a live session.
type User struct {
	ID       int64
	Login    string
	Password string
	Token    string
}

// NewUser signs up a user with a unique login in the default app and
// opens a user session for it.
func (e *Env) NewUser(tb testing.TB) *User {
	tb.Helper()
	n := e.seq.Add(1)
	u := &User{Login: fmt.Sprintf("user%d_%d", n, time.Now().UnixNano()%1e6), Password: "password-" + fmt.Sprint(n)}
	resp := e.Do(tb, Req{Method: "POST", Path: "/users.json", Header: map[string]string{"CB-AuthKey": e.App.AuthKey},
		Body: map[string]any{"user": map[string]any{"login": u.Login, "password": u.Password}}})
	if resp.Status != http.StatusCreated {
		tb.Fatalf("servertest: sign up %s: %d %s", u.Login, resp.Status, resp.Raw)
	}
	u.ID = int64(resp.JSON["user"].(map[string]any)["id"].(float64))
	u.Token = e.Login(tb, u.Login, u.Password)
	return u
}

// Login opens a user session and returns its token.
func (e *Env) Login(tb testing.TB, login, password string) string {
	tb.Helper()
	resp := e.Do(tb, Req{Method: "POST", Path: "/session.json", Body: map[string]any{
		"application_id": e.App.ID, "auth_key": e.App.AuthKey,
		"user": map[string]any{"login": login, "password": password}}})
	if resp.Status != http.StatusCreated {
		tb.Fatalf("servertest: session for %s: %d %s", login, resp.Status, resp.Raw)
	}
	return resp.JSON["session"].(map[string]any)["token"].(string)
}

// AppSession opens an application-only session and returns its token.
func (e *Env) AppSession(tb testing.TB) string {
	tb.Helper()
	resp := e.Do(tb, Req{Method: "POST", Path: "/session.json", Body: map[string]any{
		"application_id": e.App.ID, "auth_key": e.App.AuthKey}})
	if resp.Status != http.StatusCreated {
		tb.Fatalf("servertest: app session: %d %s", resp.Status, resp.Raw)
	}
	return resp.JSON["session"].(map[string]any)["token"].(string)
}

// Eventually polls cond until it holds or the deadline passes.
func Eventually(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("servertest: %s did not happen within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
