package c2s_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/internal/c2s"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/privacy"
	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/xmpp"
)

// privacyIQ sends a jabber:iq:privacy IQ with payload inner and returns
// the answer as text.
func privacyIQ(c *client, typ, id, inner string) string {
	c.t.Helper()
	c.send(`<iq type="` + typ + `" id="` + id + `" xmlns="jabber:client"><query xmlns="jabber:iq:privacy">` + inner + `</query></iq>`)
	for {
		el := c.expect("iq")
		if el.Attr("id") == id {
			return string(el.AppendXML(nil))
		}
	}
}

// seedList is the list of §18.2 for the seed's users 18 (allow), 34
// (one-way) and 48 (mutual) of app.
func seedList(app int64, name string) string {
	kids := `<message/><presence-in/><presence-out/><iq/>`
	item := func(value, action string, order int, children string) string {
		if children == "" {
			return fmt.Sprintf(`<item type="jid" value="%s" action="%s" order="%d"/>`, value, action, order)
		}
		return fmt.Sprintf(`<item type="jid" value="%s" action="%s" order="%d">%s</item>`, value, action, order, children)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<list name="%s">`, name)
	for i, u := range []struct {
		id     int
		action string
		kids   string
	}{{18, "allow", kids}, {34, "deny", kids}, {48, "deny", ""}} {
		b.WriteString(item(fmt.Sprintf("%d-%d@localhost", u.id, app), u.action, 2*i+1, u.kids))
		b.WriteString(item(fmt.Sprintf("muc.localhost/%d", u.id), u.action, 2*i+2, u.kids))
	}
	b.WriteString(`</list>`)
	return b.String()
}

func result(jid xmpp.JID, id string) string {
	return `<iq xmlns="jabber:client" type="result" id="` + id + `" to="` + jid.String() + `"/>`
}

func queryResult(jid xmpp.JID, id, inner string) string {
	if inner == "" {
		return `<iq xmlns="jabber:client" type="result" id="` + id + `" to="` + jid.String() + `"><query xmlns="jabber:iq:privacy"/></iq>`
	}
	return `<iq xmlns="jabber:client" type="result" id="` + id + `" to="` + jid.String() + `"><query xmlns="jabber:iq:privacy">` + inner + `</query></iq>`
}

func privacyErr(jid xmpp.JID, id, echo, cond string, code int, typ, text string) string {
	t := ""
	if text != "" {
		t = `<text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">` + text + `</text>`
	}
	q := `<query xmlns="jabber:iq:privacy"/>`
	if echo != "" {
		q = `<query xmlns="jabber:iq:privacy">` + echo + `</query>`
	}
	return `<iq type="error" id="` + id + `" xmlns="jabber:client" to="` + jid.String() + `">` + q +
		fmt.Sprintf(`<error code="%d" type="%s"><%s xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>%s</error></iq>`, code, typ, cond, t)
}

func wantXML(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s:\n got %s\nwant %s", what, got, want)
	}
}

// Every exchange of REALTIME.md §18.2–§18.7 and §18.10, answered exactly.
func TestPrivacyListIQs(t *testing.T) {
	env := servertest.Start(t)
	alice := env.NewUser(t)
	a, jid := login(t, env, alice, alice.Password)
	app := env.App.ID
	ctx := context.Background()

	// §18.6 with no lists: an empty query, no <default>, no <active>.
	wantXML(t, "getNames, none", privacyIQ(a, "get", "n1:getNames", ""), queryResult(jid, "n1:getNames", ""))

	// §18.2: create.
	wantXML(t, "create", privacyIQ(a, "set", "c1:edit", seedList(app, "myList")), result(jid, "c1:edit"))
	// §18.7: the same body back.
	wantXML(t, "getList", privacyIQ(a, "get", "g1:getlist", `<list name="myList"/>`), queryResult(jid, "g1:getlist", seedList(app, "myList")))
	wantXML(t, "create another", privacyIQ(a, "set", "c2:edit", `<list name="blockedusers"><item type="jid" value="5-`+fmt.Sprint(app)+`@localhost" action="deny" order="1"/></list>`), result(jid, "c2:edit"))
	// Creation order, still no default.
	wantXML(t, "getNames, no default", privacyIQ(a, "get", "n2:getNames", ""),
		queryResult(jid, "n2:getNames", `<list name="myList"/><list name="blockedusers"/>`))
	if env.Server.Privacy.Denies(ctx, app, alice.ID, 34, privacy.Direct, privacy.Message) {
		t.Fatal("a list that is not the default denies")
	}

	// §18.4: set the default; getNames reports it first.
	wantXML(t, "set default", privacyIQ(a, "set", "d1:default", `<default name="myList"/>`), result(jid, "d1:default"))
	wantXML(t, "getNames, default", privacyIQ(a, "get", "n3:getNames", ""),
		queryResult(jid, "n3:getNames", `<default name="myList"/><list name="myList"/><list name="blockedusers"/>`))
	if !env.Server.Privacy.Denies(ctx, app, alice.ID, 34, privacy.Direct, privacy.Message) ||
		!env.Server.Privacy.Denies(ctx, app, alice.ID, 48, privacy.Direct, privacy.MessageOut) ||
		env.Server.Privacy.Denies(ctx, app, alice.ID, 34, privacy.Direct, privacy.MessageOut) {
		t.Fatal("the default list does not decide as §18.3 says")
	}

	// §18.10: replacing or deleting the default list.
	conflict := privacyErr(jid, "e1:edit", `<list name="myList"/>`, "conflict", 409, "cancel", privacy.ConflictText)
	wantXML(t, "replace default", privacyIQ(a, "set", "e1:edit", seedList(app, "myList")), conflict)
	wantXML(t, "delete default", privacyIQ(a, "set", "e2:remove", `<list name="myList"/>`),
		strings.ReplaceAll(conflict, "e1:edit", "e2:remove"))

	// Unknown names.
	wantXML(t, "getList unknown", privacyIQ(a, "get", "g2:getlist", `<list name="nope"/>`),
		privacyErr(jid, "g2:getlist", `<list name="nope"/>`, "item-not-found", 404, "cancel", "Privacy list not found"))
	wantXML(t, "default unknown", privacyIQ(a, "set", "d2:default", `<default name="nope"/>`),
		privacyErr(jid, "d2:default", `<default name="nope"/>`, "item-not-found", 404, "cancel", "Privacy list not found"))
	wantXML(t, "delete unknown", privacyIQ(a, "set", "r0:remove", `<list name="nope"/>`),
		privacyErr(jid, "r0:remove", `<list name="nope"/>`, "item-not-found", 404, "cancel", "Privacy list not found"))

	// Active lists: not supported.
	wantXML(t, "active", privacyIQ(a, "set", "a1", `<active name="myList"/>`),
		privacyErr(jid, "a1", `<active name="myList"/>`, "feature-not-implemented", 501, "cancel",
			"Active lists are not supported: Parley applies the default list to every session"))
	// More than one element, two lists asked for, an unknown element.
	wantXML(t, "two lists", privacyIQ(a, "get", "x1", `<list name="myList"/><list name="blockedusers"/>`),
		privacyErr(jid, "x1", `<list name="myList"/><list name="blockedusers"/>`, "bad-request", 400, "modify", "A privacy query carries at most one element"))
	wantXML(t, "two changes", privacyIQ(a, "set", "x2", `<default/><list name="blockedusers"/>`),
		privacyErr(jid, "x2", `<default/><list name="blockedusers"/>`, "bad-request", 400, "modify", "A privacy query carries at most one element"))
	wantXML(t, "empty set", privacyIQ(a, "set", "x3", ``),
		privacyErr(jid, "x3", ``, "bad-request", 400, "modify", "A privacy set carries one list, default or active element"))
	wantXML(t, "default in get", privacyIQ(a, "get", "x4", `<default/>`),
		privacyErr(jid, "x4", `<default/>`, "bad-request", 400, "modify", "A privacy get asks for the names or for one list"))

	// §18.4: decline; the default disappears from getNames and stops applying.
	wantXML(t, "decline", privacyIQ(a, "set", "d3:default", `<default/>`), result(jid, "d3:default"))
	wantXML(t, "getNames, declined", privacyIQ(a, "get", "n4:getNames", ""),
		queryResult(jid, "n4:getNames", `<list name="myList"/><list name="blockedusers"/>`))
	if env.Server.Privacy.Denies(ctx, app, alice.ID, 34, privacy.Direct, privacy.Message) {
		t.Fatal("a declined list still denies")
	}
	// §18.5: delete, now allowed.
	wantXML(t, "delete", privacyIQ(a, "set", "r1:remove", `<list name="myList"/>`), result(jid, "r1:remove"))
	wantXML(t, "getNames, deleted", privacyIQ(a, "get", "n5:getNames", ""),
		queryResult(jid, "n5:getNames", `<list name="blockedusers"/>`))
}

// Lists and the default survive a restart on the same data directory.
func TestPrivacyListsSurviveRestart(t *testing.T) {
	var dataDir string
	env := servertest.Start(t, func(c *config.Config) { dataDir = c.DataDir })
	alice := env.NewUser(t)
	a, jid := login(t, env, alice, alice.Password)
	app := env.App.ID
	privacyIQ(a, "set", "c1", seedList(app, "myList"))
	privacyIQ(a, "set", "c2", seedList(app, "other"))
	wantXML(t, "set default", privacyIQ(a, "set", "d1", `<default name="other"/>`), result(jid, "d1"))
	a.c.CloseNow()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := env.Server.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}

	after := servertest.Start(t, func(c *config.Config) { c.DataDir = dataDir })
	b, jid := login(t, after, alice, alice.Password)
	wantXML(t, "getNames after restart", privacyIQ(b, "get", "n1", ""),
		queryResult(jid, "n1", `<default name="other"/><list name="myList"/><list name="other"/>`))
	wantXML(t, "getList after restart", privacyIQ(b, "get", "g1", `<list name="myList"/>`), queryResult(jid, "g1", seedList(app, "myList")))
	if !after.Server.Privacy.Denies(context.Background(), app, alice.ID, 48, privacy.Room, privacy.Message) {
		t.Fatal("the default list does not apply after the restart")
	}
}

// A default list set by one session applies at once to the user's other
// sessions, connected before the change, and to the blocked user's.
func TestPrivacyDefaultAppliesAtOnce(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	a1, _ := login(t, env, alice, alice.Password)
	login(t, env, bob, bob.Password)
	ctx, app := context.Background(), env.App.ID
	p := env.Server.Privacy
	// Asked before: the cache holds "no default list" for alice.
	if p.Denies(ctx, app, alice.ID, bob.ID, privacy.Direct, privacy.Message) {
		t.Fatal("denied without a list")
	}
	a2, jid2 := login(t, env, alice, alice.Password)
	list := fmt.Sprintf(`<list name="block"><item type="jid" value="%d-%d@localhost" action="deny" order="1"/></list>`, bob.ID, app)
	privacyIQ(a2, "set", "c1", list)
	wantXML(t, "set default", privacyIQ(a2, "set", "d1", `<default name="block"/>`), result(jid2, "d1"))
	if !p.Denies(ctx, app, alice.ID, bob.ID, privacy.Direct, privacy.Message) {
		t.Fatal("the new default list did not apply at once")
	}
	// The first session sees the change too: it declines it.
	privacyIQ(a1, "set", "d2", `<default/>`)
	if p.Denies(ctx, app, alice.ID, bob.ID, privacy.Direct, privacy.Message) {
		t.Fatal("declining did not apply at once")
	}
}

// privacySnapshot is everything the store holds for a user, read back
// through the domain.
func privacySnapshot(t *testing.T, env *servertest.Env, userID int64) string {
	t.Helper()
	ctx := context.Background()
	p := env.Server.Privacy
	n, err := p.Names(ctx, env.App.ID, userID)
	if err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprintf("%+v", n)
	for _, name := range n.Lists {
		l, err := p.Get(ctx, env.App.ID, userID, name)
		if err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintf("%+v", l)
	}
	return out
}

// Bad input gets bad-request (or the error its rule names) and changes
// nothing.
func TestPrivacyBadInput(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.PrivacyMaxLists = 3 })
	alice := env.NewUser(t)
	a, _ := login(t, env, alice, alice.Password)
	app := env.App.ID
	privacyIQ(a, "set", "c1", seedList(app, "myList"))
	privacyIQ(a, "set", "c2", seedList(app, "second"))
	privacyIQ(a, "set", "c3", seedList(app, "third"))
	privacyIQ(a, "set", "d1", `<default name="myList"/>`)
	before := privacySnapshot(t, env, alice.ID)

	items := func(n int) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, `<item action="deny" order="%d"/>`, i)
		}
		return b.String()
	}
	one := func(attrs string) string { return `<list name="x"><item ` + attrs + `/></list>` }
	badRequest := func(text string) string {
		return `<bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">` + text + `</text>`
	}
	for i, c := range []struct {
		name, payload, want string
	}{
		{"1001 items", `<list name="x">` + items(1001) + `</list>`, badRequest("A privacy list has at most 1000 items")},
		{"empty name", `<list name="">` + items(1) + `</list>`, badRequest("A privacy list needs a name")},
		{"1 KiB name", `<list name="` + strings.Repeat("n", 1024) + `">` + items(1) + `</list>`, badRequest("A privacy list name has at most 128 bytes")},
		{"no name", `<list>` + items(1) + `</list>`, badRequest("A list needs a name")},
		{"unknown action", one(`action="block" order="1"`), badRequest("A privacy list item's action is allow or deny")},
		{"unknown type", one(`type="user" value="1" action="deny" order="1"`), badRequest("A privacy list item's type is jid, group or subscription")},
		{"group", one(`type="group" value="friends" action="deny" order="1"`), `<item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">Roster group not found</text>`},
		{"another app's user", one(fmt.Sprintf(`type="jid" value="5-%d@localhost" action="deny" order="1"`, app+1)), badRequest("A privacy list item names a user of another app")},
		{"not a JID", one(`type="jid" value="a@b@c" action="deny" order="1"`), badRequest("A privacy list item's value is not a JID")},
		{"no order", one(`action="deny"`), badRequest("An item needs an order: an unsigned integer")},
		{"negative order", one(`action="deny" order="-1"`), badRequest("An item needs an order: an unsigned integer")},
		{"same order twice", `<list name="x">` + items(1) + items(1) + `</list>`, badRequest("Two privacy list items have order 1")},
		{"unknown child", `<list name="x"><item action="deny" order="1"><presence/></item></list>`, badRequest("An item's children are message, iq, presence-in and presence-out")},
		{"replace default", seedList(app, "myList"), `<conflict xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">Decline the default list before changing it</text>`},
		{"delete default", `<list name="myList"/>`, `<conflict xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">Decline the default list before changing it</text>`},
		{"fourth list", seedList(app, "fourth"), `<resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">Too many privacy lists: at most 3</text>`},
	} {
		id := fmt.Sprintf("bad%d", i)
		got := privacyIQ(a, "set", id, c.payload)
		if !strings.Contains(got, `type="error"`) || !strings.Contains(got, c.want) {
			t.Errorf("%s: got %s\nwant the error %s", c.name, got, c.want)
		}
		if after := privacySnapshot(t, env, alice.ID); after != before {
			t.Fatalf("%s changed the store:\n%s\n%s", c.name, before, after)
		}
	}

	// 10,001 items is far over --max-stanza-bytes (64 KiB by default): the
	// frame is dropped as it arrives, the stream ends with policy-violation
	// and <close/>, and nothing changes.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	huge := `<iq type="set" id="huge" xmlns="jabber:client"><query xmlns="jabber:iq:privacy"><list name="x">` + items(10001) + `</list></query></iq>`
	if err := a.c.Write(ctx, websocket.MessageText, []byte(huge)); err != nil {
		t.Fatalf("10,001 items: %v", err)
	}
	var frames []string
	for {
		_, b, err := a.c.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatal("the connection stayed open after a stanza over the limit")
			}
			break
		}
		frames = append(frames, string(b))
	}
	if n := len(frames); n < 2 || !strings.Contains(frames[n-2], "policy-violation") || !strings.HasPrefix(frames[n-1], "<close") {
		t.Fatalf("10,001 items: got %q; want the stream error policy-violation, then <close/>", frames)
	}
	if after := privacySnapshot(t, env, alice.ID); after != before {
		t.Fatalf("10,001 items changed the store:\n%s\n%s", before, after)
	}
}

// FuzzPrivacyList: whatever ParsePrivacyList accepts, the domain
// validates or refuses without a panic, and what it stores reads back as
// it was written.
func FuzzPrivacyList(f *testing.F) {
	f.Add([]byte(seedList(1, "myList")))
	f.Add([]byte(`<list name="x"><item action="allow" order="4294967295"><iq/><iq/></item><item type="subscription" value="none" action="deny" order="0"/></list>`))
	f.Add([]byte(`<list name="l"><item type="jid" value="muc.localhost" action="deny" order="2"/><item type="group" value="g" action="deny" order="1"/></list>`))
	db, err := sqlite.Open(context.Background(), f.TempDir(), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	svc := privacy.NewService(db, "localhost", privacy.Limits{}, nil, nil)
	var user int64
	f.Fuzz(func(t *testing.T, b []byte) {
		el, err := xmpp.ParseElement(b, xmpp.Limits{})
		if err != nil || el.Name != "list" {
			return
		}
		l, err := c2sParsePrivacyList(el)
		if err != nil {
			return
		}
		user++
		ctx := context.Background()
		if err := svc.Put(ctx, 1, user, l); err != nil || len(l.Items) == 0 {
			return
		}
		got, err := svc.Get(ctx, 1, user, l.Name)
		if err != nil || len(got.Items) != len(l.Items) {
			t.Fatalf("stored %+v, read %+v, %v", l, got, err)
		}
		svc.Denies(ctx, 1, user, 18, privacy.Direct, privacy.Message)
		svc.SetDefault(ctx, 1, user, l.Name)
		svc.Denies(ctx, 1, user, 18, privacy.Room, privacy.MessageOut)
	})
}

var c2sParsePrivacyList = c2s.ParsePrivacyList
