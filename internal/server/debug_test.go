package server_test

import (
	"net/http"
	"testing"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
)

// The profiler is served only on --debug-addr, never on the public
// listener, and not at all by default.
func TestProfilerOnlyOnTheDebugAddress(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.DebugAddr = "127.0.0.1:0" })
	resp, err := http.Get("http://" + env.Server.DebugAddr() + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("profiler answered %d", resp.StatusCode)
	}
	if r := env.Do(t, servertest.Req{Method: "GET", Path: "/debug/pprof/"}); r.Status == http.StatusOK {
		t.Fatalf("the public listener serves the profiler: %d", r.Status)
	}
	if off := servertest.Start(t); off.Server.DebugAddr() != "" {
		t.Fatal("a profiler listener without --debug-addr")
	}
}
