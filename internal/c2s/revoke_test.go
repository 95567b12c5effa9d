package c2s_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/xmpp"
)

// wantEnded reads until the stream error the SDK gets when its credentials
// are ended (<not-authorized/>), then the closing element, then the end of
// the socket.
func (c *client) wantEnded() {
	c.t.Helper()
	e := c.skipTo("stream:error")
	if e.Child("not-authorized", xmpp.NSStreams) == nil {
		c.t.Fatalf("stream error = %s; want <not-authorized/>", e.AppendXML(nil))
	}
	c.skipTo("close")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if _, _, err := c.c.Read(ctx); err != nil {
			if ctx.Err() != nil {
				c.t.Fatal("the connection stayed open after the stream error")
			}
			return
		}
	}
}

// alive proves a connection still works: a ping is answered.
func (c *client) alive(id string) {
	c.t.Helper()
	c.sync(id)
}

// wantRefused opens a new connection and checks that password no longer
// authenticates user u; the stream stays open after the failure, which is
// what stops the SDK's reconnect loop (REALTIME.md §1.3).
func wantRefused(t *testing.T, env *servertest.Env, u *servertest.User, password string) {
	t.Helper()
	c := dial(t, env.WSURL)
	c.send(openFrame)
	c.expect("open")
	c.expect("stream:features")
	for range 2 { // the second attempt is answered: the stream stayed open
		c.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` + plain("", fmt.Sprintf("%d-%d", u.ID, env.App.ID), password) + `</auth>`)
		if f := c.expect("failure"); f.Child("not-authorized", "") == nil {
			t.Fatalf("failure = %s", f.AppendXML(nil))
		}
	}
}

// Deleting an account closes every connection of it, bound or not, with a
// stream error; its messages no longer reach it, and its credentials no
// longer log in.
func TestDeletedUserConnectionsAreClosed(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := env.NewUser(t), env.NewUser(t)
	byPassword, _ := login(t, env, alice, alice.Password)
	byToken, _ := login(t, env, alice, alice.Token)
	unbound := authenticated(t, env, alice)
	b, _ := login(t, env, bob, bob.Password)

	restJSON(t, env, servertest.Req{Method: "DELETE", Path: fmt.Sprintf("/users/%d.json", alice.ID), Token: alice.Token}, http.StatusOK)
	for _, c := range []*client{byPassword, byToken, unbound} {
		c.wantEnded()
	}
	// Bob's message to the deleted account is refused, not delivered.
	b.send(chatTo(userJID(env, alice), "65a1f3d9c81a4f0e2b000001", "are you there?"))
	if e := b.expect("message"); e.Attr("type") != "error" {
		t.Fatalf("a message to a deleted user was answered %s", e.AppendXML(nil))
	}
	b.alive("bob-ok")
	wantRefused(t, env, alice, alice.Password)
	wantRefused(t, env, alice, alice.Token)
}

// DELETE /session closes the connections that logged in with that token,
// and only those.
func TestDestroySessionClosesItsConnections(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	other := env.Login(t, u.Login, u.Password)
	byToken, _ := login(t, env, u, u.Token)
	byPassword, _ := login(t, env, u, u.Password)
	byOther, _ := login(t, env, u, other)

	restJSON(t, env, servertest.Req{Method: "DELETE", Path: "/session.json", Token: u.Token}, http.StatusOK)
	byToken.wantEnded()
	byPassword.alive("password-ok")
	byOther.alive("other-ok")
	wantRefused(t, env, u, u.Token)
}

// A password change ends every other session of the user: their tokens,
// the connections that logged in with them, and the connections that
// logged in with the old password. The caller's own session and its
// connections stay, and the new password logs in.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	bystander := env.NewUser(t)
	other := env.Login(t, u.Login, u.Password)
	byCaller, _ := login(t, env, u, u.Token)
	byOther, _ := login(t, env, u, other)
	byPassword, _ := login(t, env, u, u.Password)
	unrelated, _ := login(t, env, bystander, bystander.Password)

	restJSON(t, env, servertest.Req{Method: "PUT", Path: fmt.Sprintf("/users/%d.json", u.ID), Token: u.Token,
		Body: map[string]any{"user": map[string]any{"password": "a-new-password", "old_password": u.Password}}}, http.StatusOK)
	byOther.wantEnded()
	byPassword.wantEnded()
	byCaller.alive("caller-ok")
	unrelated.alive("bystander-ok")
	if resp := env.Do(t, servertest.Req{Method: "GET", Path: "/session.json", Token: other}); resp.Status != http.StatusUnauthorized {
		t.Fatalf("the other session's token after the change: %d %s", resp.Status, resp.Raw)
	}
	restJSON(t, env, servertest.Req{Method: "GET", Path: "/session.json", Token: u.Token}, http.StatusOK)
	wantRefused(t, env, u, u.Password)
	wantRefused(t, env, u, other)
	login(t, env, u, "a-new-password")
	byCaller.alive("caller-still-ok")
}

// A session parked for resumption is ended with its credential: after a
// password change it cannot be resumed, even by the user with the new
// password.
func TestPasswordChangeEndsParkedSessions(t *testing.T) {
	env := servertest.Start(t)
	u := env.NewUser(t)
	b, _, id := resumable(t, env, u) // logged in with the password
	b.c.CloseNow()
	restJSON(t, env, servertest.Req{Method: "PUT", Path: fmt.Sprintf("/users/%d.json", u.ID), Token: u.Token,
		Body: map[string]any{"user": map[string]any{"password": "a-new-password", "old_password": u.Password}}}, http.StatusOK)
	renewed := *u
	renewed.Password = "a-new-password"
	c := authenticated(t, env, &renewed)
	c.send(`<resume xmlns="urn:xmpp:sm:3" previd="` + id + `" h="0"/>`)
	if f := c.expect("failed"); f.Child("item-not-found", xmpp.NSStanzas) == nil {
		t.Fatalf("resume of a session of the old password answered %s", f.AppendXML(nil))
	}
}

// DELETE /login turns the session back into an application session, so
// its token no longer logs the user in: the connections made with it end.
// Logging the token in as another user ends them too.
func TestLogoutAndReloginEndTheTokensConnections(t *testing.T) {
	env := servertest.Start(t)
	u, other := env.NewUser(t), env.NewUser(t)
	byToken, _ := login(t, env, u, u.Token)
	byPassword, _ := login(t, env, u, u.Password)
	restJSON(t, env, servertest.Req{Method: "DELETE", Path: "/login.json", Token: u.Token}, http.StatusOK)
	byToken.wantEnded()
	byPassword.alive("password-ok")

	tok := env.Login(t, u.Login, u.Password)
	again, _ := login(t, env, u, tok)
	restJSON(t, env, servertest.Req{Method: "POST", Path: "/login.json", Token: tok,
		Body: map[string]any{"login": other.Login, "password": other.Password}}, http.StatusAccepted)
	again.wantEnded()
	byPassword.alive("password-still-ok")
}
