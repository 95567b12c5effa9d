package sqlite_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// TestSearchAcrossTenants: a search finds exactly the caller's visible
// matches (its app, its listed dialogs, after its cleared mark, not hidden
// for it, in the named dialogs and the window), newest first, whether it
// reads the caller's messages or walks the shared index; another app's
// matches, however many, are never in the answer. The reading path's plan
// starts from the caller's dialogs (an index of messages by dialog), never
// from the whole table.
func TestSearchAcrossTenants(t *testing.T) {
	ctx := t.Context()
	// The small app holds a seventh of the index: its searches walk its own
	// matches only.
	w := seedTenants(t, ctx, t.TempDir(), 12_000, 2000)
	db := w.db
	// The few-messages caller also sees a second dialog, partly cleared,
	// with a hidden message; a group it left is not searched.
	second, left := "e00000000000000000000001", "e00000000000000000000002"
	var secondMsgs []*chat.Message
	if err := db.Tx(ctx, func(tx chat.Tx) error {
		for _, id := range []string{second, left} {
			if err := tx.InsertDialog(ctx, &chat.Dialog{ID: id, AppID: w.small, Type: chat.Group, Name: "g", OwnerID: w.manyUse,
				CreatedAt: base, UpdatedAt: base}); err != nil {
				return err
			}
		}
		for i := range 12 {
			dialog := second
			if i%4 == 3 {
				dialog = left
			}
			body := fmt.Sprintf("Dinner \"quoted\" é %02d dinner", i)
			m := &chat.Message{ID: fmt.Sprintf("f%023x", i), AppID: w.small, DialogID: dialog, SenderID: w.manyUse,
				Body: body, DateSent: base.Unix() + 1000 + int64(i), CreatedAt: base, UpdatedAt: base}
			if n, _, err := tx.InsertMessages(ctx, []*chat.Message{m}); err != nil || n != 1 {
				return fmt.Errorf("insert %s: %d stored, %v", m.ID, n, err)
			}
			if dialog == second {
				secondMsgs = append(secondMsgs, m)
			}
		}
		return tx.PutMember(ctx, &chat.Member{DialogID: second, UserID: w.fewUser, IsMember: true, Notifications: true,
			ClearedSeq: secondMsgs[1].Seq})
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Tx(ctx, func(tx chat.Tx) error {
		_, err := tx.Hide(ctx, second, w.fewUser, []string{secondMsgs[4].ID}, 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	visibleSecond := func(text string) []string {
		var out []string
		for i, m := range secondMsgs {
			if i > 1 && i != 4 && strings.Contains(m.Body, text) {
				out = append(out, m.ID)
			}
		}
		slices.Reverse(out)
		return out
	}
	type query struct {
		name string
		s    chat.Search
		want func(found []*chat.Message) error
	}
	ids := func(found []*chat.Message) []string {
		var out []string
		for _, m := range found {
			out = append(out, m.ID)
		}
		return out
	}
	exact := func(want []string) func([]*chat.Message) error {
		return func(found []*chat.Message) error {
			if got := ids(found); !slices.Equal(got, want) {
				return fmt.Errorf("got %q, want %q", got, want)
			}
			return nil
		}
	}
	queries := []query{
		{"quoted text of the second dialog", chat.Search{Text: `"quoted" é`, Limit: 100}, exact(visibleSecond(`"quoted" é`))},
		{"case-sensitive", chat.Search{Text: "Dinner", Limit: 100}, exact(visibleSecond("Dinner"))},
		{"no match", chat.Search{Text: "supper", Limit: 100}, exact(nil)},
		{"named dialog", chat.Search{Text: "dinner", Limit: 100, DialogIDs: []string{second}}, exact(visibleSecond("dinner"))},
		{"dialog it left", chat.Search{Text: "dinner", Limit: 100, DialogIDs: []string{left}}, exact(nil)},
		{"common elsewhere", chat.Search{Text: "dinner", Limit: 100}, func(found []*chat.Message) error {
			// The 20 "dinner for two" of its own dialog and the visible
			// ones of the second, newest first; none of the big app's.
			var own int
			for i, m := range found {
				if m.AppID != w.small {
					return fmt.Errorf("found %s of app %d", m.ID, m.AppID)
				}
				if strings.HasPrefix(m.Body, "dinner for two") {
					own++
				}
				if i > 0 && found[i-1].Seq < m.Seq {
					return fmt.Errorf("not newest first at %d", i)
				}
			}
			if own != benchFew/3 || len(found) != own+len(visibleSecond("dinner")) {
				return fmt.Errorf("found %d (%d own), want %d own + %d", len(found), own, benchFew/3, len(visibleSecond("dinner")))
			}
			return nil
		}},
		{"page", chat.Search{Text: "dinner", Limit: 3}, exact(visibleSecond("dinner")[:3])},
		{"window", chat.Search{Text: "dinner", Limit: 100, From: base.Unix() + 1005, To: base.Unix() + 1008}, func(found []*chat.Message) error {
			for _, m := range found {
				if m.DateSent < base.Unix()+1005 || m.DateSent > base.Unix()+1008 {
					return fmt.Errorf("%s sent at %d, outside the window", m.ID, m.DateSent)
				}
			}
			if len(found) != 2 { // 05 and 08 (06 hidden, 07 in the dialog it left)
				return fmt.Errorf("found %q, want 2", ids(found))
			}
			return nil
		}},
	}
	paths := []struct {
		name        string
		scan, probe int
	}{{"reads the caller's messages", 5000, 2000}, {"index, all matches", -1, 1 << 20}, {"index, newest first", -1, 5}}
	for _, p := range paths {
		db.SetSearchScan(p.scan)
		restore := setProbe(p.probe)
		for _, q := range queries {
			found, err := db.SearchMessages(ctx, w.small, w.fewUser, q.s)
			if err != nil {
				t.Fatalf("%s, %s: %v", p.name, q.name, err)
			}
			if err := q.want(found); err != nil {
				t.Errorf("%s, %s: %v", p.name, q.name, err)
			}
		}
		// The app column is never matched as text, even by its own
		// characters.
		for _, text := range []string{sqlite.AppToken(w.small), sqlite.AppToken(w.small) + "d", "r" + sqlite.AppToken(w.small)} {
			found, err := db.SearchMessages(ctx, w.small, w.fewUser, chat.Search{Text: text, Limit: 100})
			if err != nil || len(found) != 0 {
				t.Errorf("%s: the app token as text found %d (%v), want none", p.name, len(found), err)
			}
		}
		// The caller with many messages is never shown the big app's.
		found, err := db.SearchMessages(ctx, w.small, w.manyUse, chat.Search{Text: "dinner at eight", Limit: 100})
		if err != nil || len(found) != 0 {
			t.Errorf("%s: many-messages caller found %d (%v), want none", p.name, len(found), err)
		}
		restore()
	}
	// The index walk itself is restricted to the caller's app when the
	// app is small: the big app's thousands of matches are not visited.
	for app, want := range map[int64]bool{w.small: true, w.big: false} {
		if own, err := db.SearchesOwnApp(ctx, app); err != nil || own != want {
			t.Errorf("app %d walks its own matches only: %v (%v), want %v", app, own, err, want)
		}
	}
	if walked, err := db.IndexWalk(ctx, w.small, "dinner at eight", true); err != nil || len(walked) != 0 {
		t.Errorf("index walk of the small app visits %d rows (%v), want none", len(walked), err)
	}
	if walked, err := db.IndexWalk(ctx, w.small, "dinner", true); err != nil || len(walked) != benchFew/3+12 {
		t.Errorf("index walk of the small app visits %d rows (%v), want its %d matches", len(walked), err, benchFew/3+12)
	}
	if walked, err := db.IndexWalk(ctx, w.big, "dinner at eight", false); err != nil || len(walked) != 12_000*9/10 {
		t.Errorf("index walk of the big app visits %d rows (%v), want 10,800", len(walked), err)
	}
	plan, err := db.SearchScanPlan(ctx, w.small, w.fewUser, chat.Search{Text: "dinner", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var fromDialogs bool
	for _, step := range plan {
		if strings.HasPrefix(step, "SCAN m") {
			t.Errorf("the reading path scans the messages table: %q", plan)
		}
		fromDialogs = fromDialogs || strings.HasPrefix(step, "SEARCH m USING INDEX messages_dialog_date (dialog_id=?)")
	}
	if !fromDialogs {
		t.Errorf("the reading path does not start from the caller's dialogs: %q", plan)
	}
}

func setProbe(n int) func() { return sqlite.SetSearchProbe(n) }
