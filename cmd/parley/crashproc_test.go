package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/internal/xmpp"
)

// This file holds the plumbing of crash_test.go: the server as a child
// process, a few REST calls, and a raw XMPP-over-WebSocket client.

// serverProc is `parley serve` running in a child process (this test
// binary re-executed, see TestMain).
type serverProc struct {
	t       *testing.T
	cmd     *exec.Cmd
	out     *procOutput
	done    chan struct{} // closed once the child has exited and been reaped
	waitErr error         // set before done is closed
	HTTP    string        // bound REST address, from the "parley ready" log line
	WS      string        // bound XMPP-over-WebSocket address, from the same line
}

// startServer runs `parley serve` on dataDir with every listener on
// 127.0.0.1:0 and returns once the child has logged "parley ready" and
// answers GET /health. The child is killed at the end of the test at the
// latest.
func startServer(ctx context.Context, t *testing.T, dataDir string) *serverProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("test binary: %v", err)
	}
	cmd := exec.Command(exe, "serve",
		"--data-dir", dataDir,
		"--http-addr", "127.0.0.1:0",
		"--ws-addr", "127.0.0.1:0",
		"--xmpp-addr", "127.0.0.1:0",
		"--log-format", "json",
		"--password-iterations", "4096", // the minimum: sign-up and login stay cheap under -race
	)
	// The child sees the caller's environment minus any PARLEY_* setting
	// (a developer's PARLEY_TLS_CERT or PARLEY_XMPPS_ADDR would change what
	// starts), plus the switch that makes TestMain serve.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, serveEnv+"=1")
	out := &procOutput{ready: make(chan readyLine, 1)}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second // never wait forever for the output copiers
	if err := cmd.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	p := &serverProc{t: t, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if out.sawRace() {
			t.Errorf("the server process reported a data race:\n%s", out.text())
		}
		if t.Failed() {
			t.Logf("server output (pid %d):\n%s", cmd.Process.Pid, out.text())
		}
	})

	select {
	case r := <-out.ready:
		// The ready line gives URLs (http://host:port); this test dials
		// addresses.
		p.HTTP, p.WS = strings.TrimPrefix(r.HTTP, "http://"), strings.TrimPrefix(r.WS, "ws://")
	case <-p.done:
		t.Fatalf("server exited before it was ready (%v):\n%s", p.waitErr, out.text())
	case <-ctx.Done():
		t.Fatalf("server not ready: %v\n%s", ctx.Err(), out.text())
	}
	if p.HTTP == "" || p.WS == "" {
		t.Fatalf("ready line without addresses: http %q ws %q", p.HTTP, p.WS)
	}
	p.waitHealthy(ctx)
	return p
}

// waitHealthy polls GET /health until it answers 200, within ctx.
func (p *serverProc) waitHealthy(ctx context.Context) {
	p.t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, "GET", "http://"+p.HTTP+"/health", nil)
		if err != nil {
			p.t.Fatal(err)
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-tick.C:
		case <-p.done:
			p.t.Fatalf("server exited while starting (%v)", p.waitErr)
		case <-ctx.Done():
			p.t.Fatalf("GET /health never answered 200: %v", ctx.Err())
		}
	}
}

// Kill sends SIGKILL (no shutdown code runs in the child) and reaps the
// process. Safe to call again.
func (p *serverProc) Kill() {
	p.t.Helper()
	select {
	case <-p.done:
		return
	default:
	}
	if err := p.cmd.Process.Kill(); err != nil {
		p.t.Errorf("kill server: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Errorf("server process %d not reaped 10s after SIGKILL", p.cmd.Process.Pid)
	}
}

// readyLine is what this test reads of the server's "parley ready" log line.
type readyLine struct {
	Msg  string `json:"msg"`
	HTTP string `json:"http"`
	WS   string `json:"ws"`
}

// procOutput collects the child's stdout and stderr and reports the
// "parley ready" line (JSON log format) as soon as it is written.
type procOutput struct {
	mu      sync.Mutex
	all     bytes.Buffer
	partial []byte
	ready   chan readyLine // capacity 1; the first ready line only
	sent    bool
	race    bool
}

func (o *procOutput) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.all.Write(b)
	o.partial = append(o.partial, b...)
	for {
		i := bytes.IndexByte(o.partial, '\n')
		if i < 0 {
			break
		}
		line := o.partial[:i]
		if bytes.Contains(line, []byte("WARNING: DATA RACE")) {
			o.race = true
		}
		var r readyLine
		if !o.sent && json.Unmarshal(line, &r) == nil && r.Msg == "parley ready" {
			o.sent = true
			o.ready <- r
		}
		o.partial = o.partial[i+1:]
	}
	return len(b), nil
}

func (o *procOutput) text() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.all.String()
}

func (o *procOutput) sawRace() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.race
}

// call sends one REST request (body JSON-encoded when not nil), requires
// status want, and decodes the JSON object it answers.
func call(ctx context.Context, t *testing.T, base, method, path, token string, header map[string]string, body any, want int) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, "http://"+base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("CB-Token", token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s; want %d", method, path, resp.StatusCode, raw, want)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: answer %q is not a JSON object: %v", method, path, raw, err)
	}
	return out
}

// app is an application as `parley app create` prints it.
type app struct {
	ID      int64  `json:"id"`
	AuthKey string `json:"auth_key"`
}

// user is a signed-up user of app.
type user struct {
	ID              int64
	Login, Password string
}

// local is the user's JID localpart, {userId}-{appId}.
func (u user) local(a app) string { return fmt.Sprintf("%d-%d", u.ID, a.ID) }

// signUp creates a user over REST (POST /users with the app's auth key).
func signUp(ctx context.Context, t *testing.T, base string, a app, login string) user {
	t.Helper()
	u := user{Login: login, Password: "password-" + login}
	resp := call(ctx, t, base, "POST", "/users.json", "", map[string]string{"CB-AuthKey": a.AuthKey},
		map[string]any{"user": map[string]any{"login": u.Login, "password": u.Password}}, http.StatusCreated)
	id, ok := resp["user"].(map[string]any)["id"].(float64)
	if !ok || id <= 0 {
		t.Fatalf("sign up %s: answer %v", login, resp)
	}
	u.ID = int64(id)
	return u
}

// session opens a user session over REST and returns its token.
func session(ctx context.Context, t *testing.T, base string, a app, u user) string {
	t.Helper()
	resp := call(ctx, t, base, "POST", "/session.json", "", nil, map[string]any{
		"application_id": a.ID, "auth_key": a.AuthKey,
		"user": map[string]any{"login": u.Login, "password": u.Password}}, http.StatusCreated)
	tok, _ := resp["session"].(map[string]any)["token"].(string)
	if tok == "" {
		t.Fatalf("session for %s: answer %v", u.Login, resp)
	}
	return tok
}

// xclient is a raw XMPP-over-WebSocket client. Like any stream management
// client it answers the server's <r/> with the number of stanzas it
// received since <enabled/>.
type xclient struct {
	t        *testing.T
	ctx      context.Context
	c        *websocket.Conn
	received uint32 // stanzas received since <enabled/>
	noAcks   bool   // leave the server's <r/> unanswered
}

func dialXMPP(ctx context.Context, t *testing.T, wsAddr string) *xclient {
	t.Helper()
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(dctx, "ws://"+wsAddr, &websocket.DialOptions{Subprotocols: []string{"xmpp"}})
	if err != nil {
		t.Fatalf("dial ws://%s: %v", wsAddr, err)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return &xclient{t: t, ctx: ctx, c: c}
}

func (c *xclient) send(s string) {
	c.t.Helper()
	wctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	if err := c.c.Write(wctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("send %.80q: %v", s, err)
	}
}

// recv returns the next element the server sends, within a bounded wait;
// the server's <r/> is answered and not returned.
func (c *xclient) recv() *xmpp.Element {
	c.t.Helper()
	for {
		rctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
		_, b, err := c.c.Read(rctx)
		cancel()
		if err != nil {
			c.t.Fatalf("recv: %v", err)
		}
		el, err := xmpp.ParseElement(b, xmpp.Limits{})
		if err != nil {
			c.t.Fatalf("recv: unparsable frame %q: %v", b, err)
		}
		switch {
		case el.Name == "enabled" && el.Attr("xmlns") == xmpp.NSSM:
			c.received = 0
		case el.Name == "r" && el.Attr("xmlns") == xmpp.NSSM:
			if !c.noAcks {
				c.ack()
			}
			continue
		case el.Name == "message" || el.Name == "presence" || el.Name == "iq":
			c.received++
		}
		return el
	}
}

// ack tells the server how many stanzas this client received.
func (c *xclient) ack() {
	c.t.Helper()
	c.send(fmt.Sprintf(`<a xmlns="urn:xmpp:sm:3" h="%d"/>`, c.received))
}

func (c *xclient) expect(name string) *xmpp.Element {
	c.t.Helper()
	el := c.recv()
	if el.Name != name {
		c.t.Fatalf("got %s, want <%s>", el.AppendXML(nil), name)
	}
	return el
}

const openFrame = `<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="localhost" version="1.0"/>`

// login opens the stream, authenticates with SASL PLAIN, binds a resource
// and enables stream management (no initial presence yet); it returns the
// bound JID.
func (c *xclient) login(localpart, password string) xmpp.JID {
	c.t.Helper()
	c.send(openFrame)
	c.expect("open")
	c.expect("stream:features")
	creds := base64.StdEncoding.EncodeToString([]byte("\x00" + localpart + "\x00" + password))
	c.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` + creds + `</auth>`)
	c.expect("success")
	c.send(openFrame)
	c.expect("open")
	c.expect("stream:features")
	c.send(`<iq type="set" id="bind" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`)
	res := c.expect("iq")
	b := res.Child("bind", xmpp.NSBind)
	if res.Attr("type") != "result" || b == nil || b.Child("jid", "") == nil {
		c.t.Fatalf("bind answered %s", res.AppendXML(nil))
	}
	jid, err := xmpp.ParseJID(b.Child("jid", "").Text())
	if err != nil || jid.Local != localpart {
		c.t.Fatalf("bound JID %q (%v); want localpart %s", b.Child("jid", "").Text(), err, localpart)
	}
	c.send(`<enable xmlns="urn:xmpp:sm:3"/>`)
	c.expect("enabled")
	return jid
}

// ping sends a ping and returns every stanza the server sent before its
// answer (the server handles a client's stanzas in order, so the answer
// comes after everything the earlier ones caused).
func (c *xclient) ping(id string) []*xmpp.Element {
	c.t.Helper()
	c.send(`<iq type="get" id="` + id + `" to="localhost" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`)
	var before []*xmpp.Element
	for {
		el := c.recv()
		if el.Name == "iq" && el.Attr("id") == id {
			if el.Attr("type") != "result" {
				c.t.Fatalf("ping answered %s", el.AppendXML(nil))
			}
			return before
		}
		before = append(before, el)
	}
}

// closeStream acknowledges everything received, ends the XMPP stream and
// completes the WebSocket closing handshake.
func (c *xclient) closeStream() {
	c.t.Helper()
	c.ack()
	if extra := c.ping("acked"); len(extra) > 0 {
		c.t.Fatalf("unexpected before close: %s", extra[0].AppendXML(nil))
	}
	c.send(`<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>`)
	c.expect("close")
	if err := c.c.Close(websocket.StatusNormalClosure, ""); err != nil {
		c.t.Fatalf("websocket close: %v", err)
	}
}
