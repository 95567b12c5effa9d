package loadgen_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/loadgen"
	"github.com/parley-chat/parley/internal/servertest"
)

// The load tool against a real server: every message sent is delivered.
func TestRunXMPPDeliversEverything(t *testing.T) {
	env := servertest.Start(t)
	rep, err := loadgen.RunXMPP(context.Background(), loadgen.XMPPConfig{
		APIURL: env.URL, WSURL: env.WSURL, AppID: env.App.ID, AuthKey: env.App.AuthKey, Domain: "localhost",
		Conns: 6, Pairs: 2, Messages: 25, Window: 3, Drain: 10e9,
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 50 || rep.Delivered != 50 || rep.Lost != 0 || rep.ConnectRate <= 0 || rep.P99 <= 0 {
		t.Fatalf("report = %+v", rep)
	}
}

// A small seeded data set obeys the server's rules: the seeded user lists
// its dialogs, and every unread counter equals its recount.
func TestSeedSmall(t *testing.T) {
	env := servertest.Start(t)
	var progress bytes.Buffer
	res, err := loadgen.Seed(context.Background(), env.Server.Auth, env.Server.Chat,
		loadgen.SeedConfig{Users: 8, Dialogs: 20, Messages: 600, HeavyDialogs: 6, Seed: 7}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.UserIDs) != 8 || res.HeavyDialog == "" || !bytes.Contains(progress.Bytes(), []byte("600/600")) {
		t.Fatalf("seed result %+v, progress %q", res, progress.String())
	}
	me := chat.Caller{AppID: res.AppID, UserID: res.HeavyUser}
	views, total, err := env.Server.Chat.ListDialogs(context.Background(), me, chat.Query{Limit: 100})
	if err != nil || total < 6 || len(views) != total {
		t.Fatalf("heavy user's dialogs: %d listed of %d, %v", len(views), total, err)
	}
	rep, err := loadgen.MeasureChat(context.Background(), env.Server.Chat, res, 3, 2, 20, io.Discard)
	if err != nil || len(rep.Timings) == 0 || rep.StoreRate <= 0 {
		t.Fatalf("measure: %+v, %v", rep, err)
	}
}
