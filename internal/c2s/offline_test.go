package c2s_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the crash image is taken with the store's own driver

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
)

// sendChats sends n 1-1 messages m0000.. from a to jid, padded to about
// size bytes, and waits until they are processed.
func sendChats(a *client, jid string, n, size int) {
	a.t.Helper()
	body := strings.Repeat("w", size)
	for i := 0; i < n; i++ {
		a.send(chatTo(jid, fmt.Sprintf("m%04d", i), body))
		if i%50 == 49 { // each wait for processing stays short, even on a loaded machine
			a.sync(fmt.Sprint("sent-", i))
		}
	}
	a.sync("sent")
}

// wantInOrder checks that ids are m0000..m(n-1), each once, in order.
func wantInOrder(t *testing.T, ids []string, n int) {
	t.Helper()
	if len(ids) != n {
		t.Fatalf("%d kept messages arrived, want %d", len(ids), n)
	}
	for i, id := range ids {
		if id != fmt.Sprintf("m%04d", i) {
			t.Fatalf("kept message %d is %s, want m%04d (in order, each once)", i, id, i)
		}
	}
}

// A login that receives its offline messages and goes away before
// acknowledging them leaves them kept: a crash at that moment must not
// lose them. The crash image is the store as a process crash leaves it
// (every committed transaction, synchronous=NORMAL): a consistent copy
// taken while the client holds the messages unacknowledged; a server
// started on it delivers them again. (Before, they were deleted as they
// were read, and only put back when the session ended in an orderly way.)
func TestOfflineMessagesStayKeptUntilAcknowledged(t *testing.T) {
	var dataDir string
	env := servertest.Start(t, func(c *config.Config) { dataDir = c.DataDir })
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	sendChats(a, userJID(env, bob), 5, 10)

	b, _ := loginToPresence(t, env, bob, bob.Password)
	b.manualAcks = true // holds them unacknowledged
	var ids []string
	for len(ids) < 5 {
		if el := b.recv(); el.Name == "message" {
			ids = append(ids, el.Attr("id"))
		}
	}
	wantInOrder(t, ids, 5)

	// The crash image, while bob holds them unacknowledged.
	image := t.TempDir()
	src, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "parley.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Exec(`VACUUM INTO ?`, filepath.Join(image, "parley.db")); err != nil {
		t.Fatal(err)
	}
	after := servertest.Start(t, func(c *config.Config) { c.DataDir = image })
	b2, _ := loginToPresence(t, after, bob, bob.Password)
	wantInOrder(t, b2.kept("after-crash"), 5)

	// The same without a crash: the connection drops unacknowledged, the
	// next login gets them again, exactly once.
	b.c.CloseNow()
	b3, _ := loginToPresence(t, env, bob, bob.Password)
	wantInOrder(t, b3.kept("again"), 5)
	// Acknowledged now: gone (the rows go before the next stanza is
	// handled).
	b3.ack()
	b3.sync("acked")
	b4, _ := loginToPresence(t, env, bob, bob.Password)
	if ids := b4.kept("none"); len(ids) != 0 {
		t.Fatalf("acknowledged offline messages delivered again: %v", ids)
	}
}

// Past --offline-max kept for a user, a message is not kept for offline
// delivery, and that is counted and logged with the user's id: never
// dropped silently. The oldest stay (before, the oldest were dropped
// without a word).
func TestOfflineOverTheLimitIsCountedAndLogged(t *testing.T) {
	var logs servertest.Log
	env := servertest.StartLogged(t, &logs, func(c *config.Config) { c.OfflineMax = 3 })
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	sendChats(a, userJID(env, bob), 5, 10)

	warns := logs.Lines(t, "offline messages over the limit")
	if len(warns) != 2 {
		t.Fatalf("%d warnings for the 2 messages over the limit: %v", len(warns), warns)
	}
	for i, w := range warns {
		if w["level"] != "WARN" || w["to"] != float64(bob.ID) || w["limit"] != float64(3) || w["not_kept_total"] != float64(i+1) {
			t.Fatalf("warning %d = %v: want WARN naming user %d, the limit and the count", i, w, bob.ID)
		}
	}
	if n := env.Server.OfflineNotKept(); n != 2 {
		t.Fatalf("OfflineNotKept = %d, want 2", n)
	}
	b, _ := loginToPresence(t, env, bob, bob.Password)
	wantInOrder(t, b.kept("done"), 3)
}

// 3,000 offline messages to a client that reads slowly all arrive, in
// order, each once, read from the store a page at a time (before, the cap
// of 1,000 dropped the oldest 2,000 silently, and all were read at once).
func TestThousandsOfOfflineMessagesArriveInPages(t *testing.T) {
	var logs servertest.Log
	// The sender's burst of 3,000 is far over a client's stanza rate;
	// this test is about the recipient's side.
	env := servertest.StartLogged(t, &logs, func(c *config.Config) { c.OfflineMax, c.MaxStanzaRate = 5000, 0 })
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	const n = 3000
	sendChats(a, userJID(env, bob), n, 300)

	b, _ := loginToPresence(t, env, bob, bob.Password)
	var ids []string
	for len(ids) < n {
		el := b.recv() // answers the server's <r/> as it reads
		if el.Name == "message" {
			ids = append(ids, el.Attr("id"))
			if len(ids)%50 == 0 {
				time.Sleep(2 * time.Millisecond) // a slow reader
			}
		}
	}
	wantInOrder(t, append(ids, b.kept("done")...), n)
	pages := logs.Lines(t, "offline page")
	total := 0
	for _, p := range pages {
		rows := int(p["rows"].(float64))
		if rows > 100 {
			t.Fatalf("a page of %d rows", rows)
		}
		total += rows
	}
	if len(pages) < n/100 || total < n {
		t.Fatalf("%d pages of %d rows in all, want at least %d pages covering %d", len(pages), total, n/100, n)
	}
}

// Kept messages older than --offline-max-age are not delivered; they are
// removed, counted and logged at the next login.
func TestExpiredOfflineMessagesAreCountedAndLogged(t *testing.T) {
	var logs servertest.Log
	env := servertest.StartLogged(t, &logs, func(c *config.Config) { c.OfflineMaxAge = time.Hour })
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	sendChats(a, userJID(env, bob), 3, 10)
	env.Clock.Advance(2 * time.Hour)
	b, _ := loginToPresence(t, env, bob, bob.Password)
	if ids := b.kept("done"); len(ids) != 0 {
		t.Fatalf("expired messages delivered: %v", ids)
	}
	w := logs.Lines(t, "offline messages expired undelivered")
	if len(w) != 1 || w[0]["level"] != "WARN" || w[0]["count"] != float64(3) || w[0]["user"] != float64(bob.ID) {
		t.Fatalf("expiry warnings %v: want one naming user %d and the count 3", w, bob.ID)
	}
}

// Without stream management a kept message counts as delivered once it is
// written to the socket: its row goes then, and not before the page is
// written.
func TestOfflineMessagesWithoutStreamManagementGoOnceWritten(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	sendChats(a, userJID(env, bob), 150, 10) // two pages
	plainLogin := func() *client {
		c := authenticated(t, env, bob)
		c.send(`<iq type="set" id="b1" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`)
		c.expect("iq")
		c.send(`<presence xmlns="jabber:client"/>`)
		return c
	}
	b := plainLogin()
	wantInOrder(t, b.kept("done"), 150)
	b2 := plainLogin()
	if ids := b2.kept("again"); len(ids) != 0 {
		t.Fatalf("written offline messages delivered again: %d", len(ids))
	}
}

// keptRows counts the offline rows of user in the store under dataDir,
// read directly (read-only) from the file.
func keptRows(t *testing.T, dataDir string, user int64) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "parley.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM offline WHERE user_id = ?`, user).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
