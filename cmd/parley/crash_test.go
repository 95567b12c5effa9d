// The crash test proves the real-time reliability promise end to end:
//
//	A message the server acknowledged is never lost. A server killed with
//	SIGKILL right after its acks, and started again on the same data dir,
//	still has every acknowledged message in history, exactly once, and
//	delivers the pending offline messages, exactly once, in order.
//
// An acknowledgement here is the XEP-0198 <a h/> that answers the sender's
// <r/>: h counts the stanzas the server has handled, and handling a saved
// 1-1 message to an offline user means storing it in history and keeping
// it as an offline message. So every message counted by h must be durable
// the moment the <a/> leaves the server, not at some later flush.
//
// Why a child process: a crash cannot be simulated inside the test
// process. An in-process server.Shutdown runs the graceful path (drains,
// closes the store), and even abandoning a server in-process leaves its
// goroutines, SQLite connections and file handles alive. SIGKILL is the
// only honest crash: no deferred call, no shutdown hook, no buffered write
// is flushed. So TestMain re-executes this test binary as the real program:
// with PARLEY_CRASHTEST_SERVE=1 in its environment it runs main(), the
// program's own entry point (signals, cli.Run, exit code), on the serve
// arguments it was given, instead of the tests. Listeners are bound on
// 127.0.0.1:0 and their addresses read from the "parley ready" log line
// (--log-format json), so no port is guessed.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/cli"
	"github.com/parley-chat/parley/internal/xmpp"
)

// serveEnv switches a re-executed test binary into the server.
const serveEnv = "PARLEY_CRASHTEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" {
		main() // os.Args[1:] are `serve --data-dir ...`; main exits
		return
	}
	os.Exit(m.Run())
}

// crashMessages is how many messages are acknowledged before the kill.
const crashMessages = 300

func TestAckedMessagesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server twice as a child process")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dataDir := t.TempDir()

	// The app is made up front with the documented command (one JSON
	// object on stdout), so the server finds it instead of creating the
	// default one.
	var appOut, appErr strings.Builder
	if code := cli.Run(ctx, []string{"app", "create", "--name", "crashtest", "--data-dir", dataDir},
		cli.Env{Stdout: &appOut, Stderr: &appErr}); code != 0 {
		t.Fatalf("app create: exit %d: %s", code, appErr.String())
	}
	var a app
	if err := json.Unmarshal([]byte(appOut.String()), &a); err != nil || a.ID <= 0 || a.AuthKey == "" {
		t.Fatalf("app create printed %q (%v)", appOut.String(), err)
	}

	// 1. First server: Alice online with stream management, Bob never
	// connected.
	srv := startServer(ctx, t, dataDir)
	alice := signUp(ctx, t, srv.HTTP, a, "alice")
	bob := signUp(ctx, t, srv.HTTP, a, "bob")
	bobBare := bob.local(a) + "@localhost"

	ac := dialXMPP(ctx, t, srv.WS)
	aliceJID := ac.login(alice.local(a), alice.Password)
	ac.send(`<presence xmlns="jabber:client"/>`)

	// 2. N saved messages, pipelined, then one request for an ack. Ids
	// are valid 24-hex message ids (the server stores the message under
	// the client's id), increasing with the send order.
	ids := messageIDs(t, crashMessages)
	bodies := map[string]string{}
	for i, id := range ids {
		bodies[id] = fmt.Sprintf("crash test message %d", i)
		ac.send(`<message type="chat" to="` + bobBare + `" id="` + id + `" xmlns="jabber:client"><body>` + bodies[id] + `</body>` +
			`<extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams></message>`)
	}
	ac.send(`<r xmlns="urn:xmpp:sm:3"/>`)
	// h counts every stanza Alice sent after <enabled/>: her presence and
	// the N messages.
	// The <a/>s the server sends unasked, ahead of each message's copy
	// (internal/c2s/sm.go), count fewer, each more than the one before.
	wantH := fmt.Sprint(crashMessages + 1)
	for last := 0; ; {
		el := ac.recv()
		if el.Name == "message" {
			t.Fatalf("Alice got a message (a refusal?) before her ack: %s", el.AppendXML(nil))
		}
		if el.Name != "a" || el.Attr("xmlns") != xmpp.NSSM {
			continue
		}
		if el.Attr("h") == wantH {
			break
		}
		n, err := strconv.Atoi(el.Attr("h"))
		if err != nil || n <= last || n > crashMessages+1 {
			t.Fatalf("ack = %s after h=%d; want counts up to h=%s (presence + %d messages)", el.AppendXML(nil), last, wantH, crashMessages)
		}
		last = n
	}

	// 3. The crash: SIGKILL right after the ack, nothing graceful runs.
	srv.Kill()
	if srv.waitErr == nil || !strings.Contains(srv.waitErr.Error(), "killed") {
		t.Fatalf("server exit = %v; want killed by SIGKILL", srv.waitErr)
	}

	// 4. Restart on the same data dir (new ports).
	srv = startServer(ctx, t, dataDir)
	bobToken := session(ctx, t, srv.HTTP, a, bob)

	// History: exactly the N acknowledged messages, each once, in the one
	// private dialog between Alice and Bob, with Bob's unread count exact.
	dialogs := call(ctx, t, srv.HTTP, "GET", "/chat/Dialog.json", bobToken, nil, nil, http.StatusOK)
	items, _ := dialogs["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("Bob has %d dialogs after the restart; want 1: %v", len(items), dialogs)
	}
	dialog := items[0].(map[string]any)
	dialogID, _ := dialog["_id"].(string)
	if dialog["type"] != 3.0 || dialogID == "" {
		t.Fatalf("Bob's dialog is not a private dialog: %v", dialog)
	}
	if dialog["unread_messages_count"] != float64(crashMessages) {
		t.Errorf("Bob's unread count = %v; want %d", dialog["unread_messages_count"], crashMessages)
	}
	stored := map[string]int{}
	for skip := 0; ; skip += 100 {
		page := call(ctx, t, srv.HTTP, "GET", fmt.Sprintf("/chat/Message.json?chat_dialog_id=%s&limit=100&skip=%d&mark_as_read=0", dialogID, skip),
			bobToken, nil, nil, http.StatusOK)
		msgs, _ := page["items"].([]any)
		for _, m := range msgs {
			msg := m.(map[string]any)
			id, _ := msg["_id"].(string)
			stored[id]++
			if want, ok := bodies[id]; !ok || msg["message"] != want || msg["sender_id"] != float64(alice.ID) {
				t.Errorf("stored message %v; not one Alice sent", msg)
			}
		}
		if len(msgs) < 100 {
			break
		}
		if skip > 10*crashMessages {
			t.Fatalf("history pages never end")
		}
	}
	var lost, dup []string
	for _, id := range ids {
		switch stored[id] {
		case 0:
			lost = append(lost, id)
		case 1:
		default:
			dup = append(dup, id)
		}
	}
	if len(lost) > 0 || len(dup) > 0 || len(stored) != crashMessages {
		t.Fatalf("history after the crash: %d distinct messages, %d acked ones missing (%v), %d stored more than once (%v); want exactly %d",
			len(stored), len(lost), firstFew(lost), len(dup), firstFew(dup), crashMessages)
	}

	// 5. A second crash, while Bob holds his offline messages unacknowledged:
	// they were delivered but not acknowledged, so they are still kept.
	b0 := dialXMPP(ctx, t, srv.WS)
	b0.noAcks = true
	b0.login(bob.local(a), bob.Password)
	b0.send(`<presence xmlns="jabber:client"/>`)
	if n := len(b0.ping("unacked-offline")); n < crashMessages {
		t.Fatalf("Bob's first login got %d stanzas before the ping answer; want the %d offline messages", n, crashMessages)
	}
	srv.Kill()
	srv = startServer(ctx, t, dataDir)

	// Offline delivery: Bob's next initial presence brings exactly the N
	// messages, in the order sent, each with a delay element; a ping
	// round trip then proves nothing more was pending.
	bc := dialXMPP(ctx, t, srv.WS)
	bc.login(bob.local(a), bob.Password)
	bc.send(`<presence xmlns="jabber:client"/>`)
	var got []string
	for _, el := range bc.ping("after-offline") {
		switch el.Name {
		case "presence":
			continue
		case "message":
		default:
			t.Fatalf("Bob got %s among his offline messages", el.AppendXML(nil))
		}
		id := el.Attr("id")
		got = append(got, id)
		from, err := xmpp.ParseJID(el.Attr("from"))
		if err != nil || from.Bare() != aliceJID.Bare() || el.Attr("type") != "chat" {
			t.Errorf("offline message %s: want a chat message from %s", el.AppendXML(nil), aliceJID.Bare())
		}
		if b := el.Child("body", ""); b == nil || b.Text() != bodies[id] {
			t.Errorf("offline message %s: want body %q", el.AppendXML(nil), bodies[id])
		}
		if d := el.Child("delay", xmpp.NSDelay); d == nil || d.Attr("stamp") == "" {
			t.Errorf("offline message %s has no <delay xmlns=%q stamp=.../>", el.AppendXML(nil), xmpp.NSDelay)
		}
		if x := el.Child("extraParams", ""); x == nil || x.Child("dialog_id", "") == nil || x.Child("dialog_id", "").Text() != dialogID {
			t.Errorf("offline message %s: want extraParams/dialog_id %s", el.AppendXML(nil), dialogID)
		}
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("Bob's offline delivery: %d messages; want exactly the %d acked ones, once each, in send order (first differing at %d)",
			len(got), len(ids), firstDiff(got, ids))
	}
	bc.closeStream()

	// Once: the next connection gets nothing.
	bc2 := dialXMPP(ctx, t, srv.WS)
	bc2.login(bob.local(a), bob.Password)
	bc2.send(`<presence xmlns="jabber:client"/>`)
	for _, el := range bc2.ping("after-reconnect") {
		if el.Name != "presence" {
			t.Fatalf("Bob's second connection got %s; offline messages are delivered once", el.AppendXML(nil))
		}
	}
	bc2.closeStream()
}

// messageIDs returns n distinct 24-hex-char message ids in increasing
// order: 4 bytes of time (like an ObjectId), a fixed "cafe" so each holds
// a letter, 3 random bytes for this run and a 3-byte sequence number.
func messageIDs(t *testing.T, n int) []string {
	t.Helper()
	var r [3]byte
	if _, err := rand.Read(r[:]); err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("%08x", uint32(time.Now().Unix())) + "cafe" + hex.EncodeToString(r[:])
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%06x", prefix, i)
	}
	return ids
}

func firstFew(ids []string) []string { return ids[:min(len(ids), 5)] }

// firstDiff is the first index where a and b differ.
func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
