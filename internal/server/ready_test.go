package server_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
)

// syncBuffer is a log destination the server's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// readyRecord is the one "parley ready" record of a JSON log, decoded.
func readyRecord(t *testing.T, w *syncBuffer) map[string]any {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	var found []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(w.b.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if rec["msg"] == "parley ready" {
			found = append(found, rec)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d \"parley ready\" records; want one:\n%s", len(found), w.b.String())
	}
	return found[0]
}

// The ready line lists every listener with its scheme, as one JSON record:
// plain without a certificate (the XMPP listener says it has no TLS), and
// https/wss, STARTTLS and the direct-TLS listener with one; the addresses
// are the bound ones (port 0 resolved), and the domain and data dir follow.
func TestReadyLineListsEveryListenerWithItsScheme(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		var w syncBuffer
		var dir string
		env := servertest.StartLogged(t, &w, func(c *config.Config) {
			c.Domain = "chat.example"
			c.DebugAddr = "127.0.0.1:0"
			c.MetricsAddr = "127.0.0.1:0"
			dir = c.DataDir
		})
		rec := readyRecord(t, &w)
		want := map[string]string{
			"http":     env.URL,
			"ws":       env.WSURL,
			"xmpp":     "xmpp://" + env.XMPP + " (no TLS: no certificate)",
			"debug":    "http://" + env.Server.DebugAddr() + "/debug/pprof/",
			"metrics":  "http://" + env.Server.MetricsAddr() + "/metrics",
			"domain":   "chat.example",
			"data_dir": dir,
		}
		checkReady(t, rec, want, "xmpps")
	})
	t.Run("tls", func(t *testing.T) {
		certFile, keyFile, _ := servertest.SelfSignedCert(t)
		var w syncBuffer
		var dir string
		env := servertest.StartLogged(t, &w, func(c *config.Config) {
			c.TLSCert, c.TLSKey = certFile, keyFile
			c.XMPPSAddr = "127.0.0.1:0"
			dir = c.DataDir
		})
		rec := readyRecord(t, &w)
		want := map[string]string{
			"http":     "https://" + env.Server.HTTPAddr(),
			"ws":       "wss://" + env.Server.WSAddr(),
			"xmpp":     "xmpp://" + env.XMPP + " (STARTTLS)",
			"xmpps":    "xmpps://" + env.Server.XMPPSAddr() + " (direct TLS)",
			"domain":   "localhost",
			"data_dir": dir,
		}
		checkReady(t, rec, want, "debug")
	})
}

func checkReady(t *testing.T, rec map[string]any, want map[string]string, absent string) {
	t.Helper()
	for k, v := range want {
		if strings.HasSuffix(v, ":0") || strings.Contains(v, ":0 ") {
			t.Fatalf("test bug: %s %q names port 0", k, v)
		}
		if rec[k] != v {
			t.Errorf("ready line %s = %v; want %q", k, rec[k], v)
		}
	}
	if _, ok := rec[absent]; ok {
		t.Errorf("ready line has %s = %v; want none (not configured)", absent, rec[absent])
	}
}
