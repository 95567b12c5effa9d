package chat_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// benchBlocks, when set (blocks_test.go), attaches block lists to the
// benchmarks' service, so that the same benchmarks measure posting with
// and without the block checks.
var benchBlocks func(tb testing.TB, db *sqlite.DB, s *chat.Service)

// benchObserve, when set (metrics_test.go), attaches the server's commit
// metrics to the benchmarks' service.
var benchObserve func(s *chat.Service)

// benchStack is the domain over a real store, with n users.
func benchStack(b *testing.B, n int) (*chat.Service, []chat.Caller) {
	b.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, b.TempDir(), nil)
	if err != nil {
		b.Fatalf("open store: %v", err)
	}
	b.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	authSvc := auth.NewService(db, auth.Config{PasswordIterations: 4096}, log, nil)
	svc := chat.NewService(db, authSvc, nil, log, nil)
	b.Cleanup(svc.Close)
	if benchBlocks != nil {
		benchBlocks(b, db, svc)
	}
	if benchObserve != nil {
		benchObserve(svc)
	}
	app, err := authSvc.CreateApp(ctx, "bench", nil)
	if err != nil {
		b.Fatalf("create app: %v", err)
	}
	users := make([]chat.Caller, n)
	for i := range users {
		login, pw := fmt.Sprintf("bench%d", i), "password-bench"
		u, err := authSvc.SignUp(ctx, app.ID, auth.UserInput{Login: &login, Password: &pw})
		if err != nil {
			b.Fatalf("sign up: %v", err)
		}
		users[i] = chat.Caller{AppID: app.ID, UserID: u.ID}
	}
	return svc, users
}

// BenchmarkPostDirect is a saved 1-1 message from one user to another, as
// a stream sends it (StartDirect, then Wait for the commit).
func BenchmarkPostDirect(b *testing.B) {
	svc, users := benchStack(b, 2)
	ctx := context.Background()
	if _, err := svc.AcceptDirect(ctx, users[0], users[1].UserID, "", true, chat.MessageInput{Body: "first"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := svc.AcceptDirect(ctx, users[0], users[1].UserID, "", true, chat.MessageInput{Body: "hello"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPostGroup is a saved message to a group of 20 members
// (StartDialog, then Wait for the commit).
func BenchmarkPostGroup(b *testing.B) {
	svc, users := benchStack(b, 20)
	ctx := context.Background()
	name := "bench"
	ids := make([]int64, 0, len(users)-1)
	for _, u := range users[1:] {
		ids = append(ids, u.UserID)
	}
	v, _, err := svc.CreateDialog(ctx, users[0], chat.DialogInput{Type: chat.Group, Name: &name, Occupants: ids})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		acc, err := svc.AcceptDialog(ctx, users[0], v.Dialog.ID, true, chat.MessageInput{Body: "hello"})
		if err != nil {
			b.Fatal(err)
		}
		if len(acc.Recipients) != len(users) {
			b.Fatalf("recipients %d", len(acc.Recipients))
		}
	}
}

// BenchmarkDecideDirect is the domain's decision alone for a 1-1 message
// that is not stored (no commit to wait for): the pair cache and, with
// block lists attached, the block questions.
func BenchmarkDecideDirect(b *testing.B) {
	svc, users := benchStack(b, 2)
	ctx := context.Background()
	if _, err := svc.AcceptDirect(ctx, users[0], users[1].UserID, "", true, chat.MessageInput{Body: "first"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := svc.AcceptDirect(ctx, users[0], users[1].UserID, "", false, chat.MessageInput{Body: "hello"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideGroup is the domain's decision alone for a message to a
// group of 20 that is not stored: the dialog head and members (two
// reads) and, with block lists attached, one question per recipient.
func BenchmarkDecideGroup(b *testing.B) {
	svc, users := benchStack(b, 20)
	ctx := context.Background()
	name := "bench"
	ids := make([]int64, 0, len(users)-1)
	for _, u := range users[1:] {
		ids = append(ids, u.UserID)
	}
	v, _, err := svc.CreateDialog(ctx, users[0], chat.DialogInput{Type: chat.Group, Name: &name, Occupants: ids})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := svc.AcceptDialog(ctx, users[0], v.Dialog.ID, false, chat.MessageInput{Body: "hello"}); err != nil {
			b.Fatal(err)
		}
	}
}
