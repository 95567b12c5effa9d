package privacy_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/privacy"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

const domain = "chat.example.com"

// clock is an injected time that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type fixture struct {
	db    *sqlite.DB
	svc   *privacy.Service
	clock *clock
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
	return &fixture{db: db, svc: privacy.NewService(db, domain, privacy.Limits{}, nil, c.now), clock: c}
}

const app, owner = int64(1), int64(100)

func userJID(id int64) string { return fmt.Sprintf("%d-%d@%s", id, app, domain) }
func occJID(id int64) string  { return fmt.Sprintf("muc.%s/%d", domain, id) }

const oneWay = privacy.Message | privacy.IQ | privacy.PresenceIn | privacy.PresenceOut

// sdkItems builds what the SDK writes for users (§18.2): two items each.
func sdkItems(users []int64, action string, kinds privacy.Kind) []privacy.Item {
	var out []privacy.Item
	for k, u := range users {
		out = append(out,
			privacy.Item{Type: "jid", Value: userJID(u), Action: action, Order: uint32(2*k + 1), Kinds: kinds},
			privacy.Item{Type: "jid", Value: occJID(u), Action: action, Order: uint32(2*k + 2), Kinds: kinds})
	}
	return out
}

func (f *fixture) putDefault(t *testing.T, items ...privacy.Item) {
	t.Helper()
	ctx := context.Background()
	_ = f.svc.SetDefault(ctx, app, owner, "")
	if err := f.svc.Put(ctx, app, owner, privacy.List{Name: "l", Items: items}); err != nil {
		t.Fatalf("put: %v", err)
	}
	if err := f.svc.SetDefault(ctx, app, owner, "l"); err != nil {
		t.Fatalf("set default: %v", err)
	}
}

func TestDeniesFirstMatch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	d := func(other int64, scope privacy.Scope, kind privacy.Kind) bool {
		return f.svc.Denies(ctx, app, owner, other, scope, kind)
	}
	// No default list: nothing is denied, though a list exists.
	if err := f.svc.Put(ctx, app, owner, privacy.List{Name: "l", Items: sdkItems([]int64{2}, "deny", 0)}); err != nil {
		t.Fatal(err)
	}
	if d(2, privacy.Direct, privacy.Message) {
		t.Fatal("a list that is not the default denies")
	}

	// The seed's list: 18 allowed, 34 one-way, 48 mutual.
	f.putDefault(t, append(append(sdkItems([]int64{18}, "allow", oneWay), shift(sdkItems([]int64{34}, "deny", oneWay), 2)...),
		shift(sdkItems([]int64{48}, "deny", 0), 4)...)...)
	for _, c := range []struct {
		other int64
		scope privacy.Scope
		kind  privacy.Kind
		want  bool
	}{
		{18, privacy.Direct, privacy.Message, false},
		{34, privacy.Direct, privacy.Message, true},
		{34, privacy.Direct, privacy.IQ, true},
		{34, privacy.Room, privacy.PresenceIn, true},
		{34, privacy.Direct, privacy.MessageOut, false}, // one-way: the owner may still write
		{48, privacy.Direct, privacy.MessageOut, true},  // mutual
		{48, privacy.Room, privacy.MessageOut, true},
		{48, privacy.Room, privacy.Message, true},
		{99, privacy.Direct, privacy.Message, false}, // no match = allow
	} {
		if got := d(c.other, c.scope, c.kind); got != c.want {
			t.Errorf("Denies(%d, scope %d, kind %d) = %v, want %v", c.other, c.scope, c.kind, got, c.want)
		}
	}

	// An allow shadows a later deny, a catch-all deny catches the rest.
	f.putDefault(t,
		privacy.Item{Type: "jid", Value: userJID(5), Action: "allow", Order: 10},
		privacy.Item{Type: "jid", Value: userJID(5), Action: "deny", Order: 20},
		privacy.Item{Action: "deny", Order: 30, Kinds: privacy.Message},
	)
	if d(5, privacy.Direct, privacy.Message) {
		t.Error("allow at order 10 did not shadow deny at order 20")
	}
	if !d(6, privacy.Direct, privacy.Message) || !d(6, privacy.Room, privacy.Message) {
		t.Error("a typeless deny did not catch everyone")
	}
	if d(6, privacy.Direct, privacy.IQ) || d(6, privacy.Direct, privacy.MessageOut) {
		t.Error("a <message/> item applied to other kinds")
	}

	// A catch-all before a user item wins; a user JID item does not match
	// in Room scope, nor an occupant item in Direct scope.
	f.putDefault(t,
		privacy.Item{Type: "subscription", Value: "none", Action: "deny", Order: 1, Kinds: privacy.IQ},
		privacy.Item{Type: "jid", Value: userJID(7), Action: "allow", Order: 2},
		privacy.Item{Type: "jid", Value: occJID(8), Action: "deny", Order: 3},
		privacy.Item{Type: "subscription", Value: "both", Action: "deny", Order: 4},
		privacy.Item{Type: "jid", Value: userJID(9) + "/res", Action: "deny", Order: 5},
		privacy.Item{Type: "jid", Value: "1-2@" + domain + ".other", Action: "deny", Order: 6},
	)
	if !d(7, privacy.Direct, privacy.IQ) {
		t.Error("subscription none at order 1 did not decide before the allow at order 2")
	}
	if d(7, privacy.Direct, privacy.Message) {
		t.Error("allow for 7 did not decide")
	}
	if d(8, privacy.Direct, privacy.Message) || !d(8, privacy.Room, privacy.Message) {
		t.Error("an occupant item matched in the wrong scope")
	}
	if d(10, privacy.Direct, privacy.Message) {
		t.Error("subscription both matched (Parley's subscriptions are all none)")
	}
	if !d(9, privacy.Direct, privacy.Message) || d(9, privacy.Room, privacy.Message) {
		t.Error("a full user JID item did not match the user in Direct scope only")
	}

	// The bare domain and the muc domain.
	f.putDefault(t,
		privacy.Item{Type: "jid", Value: domain, Action: "deny", Order: 1, Kinds: privacy.Message},
		privacy.Item{Type: "jid", Value: "muc." + domain, Action: "deny", Order: 2, Kinds: privacy.PresenceIn},
	)
	if !d(3, privacy.Direct, privacy.Message) || d(3, privacy.Room, privacy.Message) {
		t.Error("the domain item did not match every user directly (and only directly)")
	}
	if !d(3, privacy.Room, privacy.PresenceIn) || d(3, privacy.Direct, privacy.PresenceIn) {
		t.Error("the muc domain item did not match every occupant (and only occupants)")
	}
}

func shift(items []privacy.Item, by uint32) []privacy.Item {
	for i := range items {
		items[i].Order += by
	}
	return items
}

func TestListsAndErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s := f.svc
	l := privacy.List{Name: "myList", Items: sdkItems([]int64{34, 18}, "deny", oneWay)}
	if err := s.Put(ctx, app, owner, l); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, app, owner, privacy.List{Name: "blockedusers", Items: sdkItems([]int64{1}, "deny", 0)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, app, owner, "myList")
	if err != nil || !slices.Equal(got.Items, l.Items) || got.Name != "myList" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	n, _ := s.Names(ctx, app, owner)
	if n.Default != "" || !slices.Equal(n.Lists, []string{"myList", "blockedusers"}) {
		t.Fatalf("Names = %+v", n)
	}
	// Replacing keeps the creation order; items come back sorted.
	rev := privacy.List{Name: "myList", Items: []privacy.Item{
		{Type: "jid", Value: userJID(3), Action: "deny", Order: 9},
		{Type: "jid", Value: userJID(2), Action: "allow", Order: 4},
	}}
	if err := s.Put(ctx, app, owner, rev); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Get(ctx, app, owner, "myList")
	if len(got.Items) != 2 || got.Items[0].Order != 4 || got.Items[1].Order != 9 {
		t.Fatalf("replaced list = %+v", got)
	}
	n, _ = s.Names(ctx, app, owner)
	if !slices.Equal(n.Lists, []string{"myList", "blockedusers"}) {
		t.Fatalf("Names after replace = %+v", n)
	}
	if err := s.SetDefault(ctx, app, owner, "myList"); err != nil {
		t.Fatal(err)
	}

	snapshot := func() string {
		n, err := s.Names(ctx, app, owner)
		if err != nil {
			t.Fatal(err)
		}
		out := fmt.Sprintf("%+v", n)
		for _, name := range n.Lists {
			l, err := s.Get(ctx, app, owner, name)
			if err != nil {
				t.Fatal(err)
			}
			out += fmt.Sprintf("%+v", l)
		}
		return out
	}
	before := snapshot()
	item := func(typ, value, action string) []privacy.Item {
		return []privacy.Item{{Type: typ, Value: value, Action: action, Order: 1}}
	}
	long := make([]byte, 1024)
	for i := range long {
		long[i] = 'a'
	}
	for _, c := range []struct {
		name string
		err  error
		want apperr.Kind
	}{
		{"empty name", s.Put(ctx, app, owner, privacy.List{Name: "", Items: item("", "", "deny")}), apperr.KindMalformed},
		{"1 KiB name", s.Put(ctx, app, owner, privacy.List{Name: string(long), Items: item("", "", "deny")}), apperr.KindMalformed},
		{"control char", s.Put(ctx, app, owner, privacy.List{Name: "a\nb", Items: item("", "", "deny")}), apperr.KindMalformed},
		{"bad utf8", s.Put(ctx, app, owner, privacy.List{Name: "a\xff", Items: item("", "", "deny")}), apperr.KindMalformed},
		{"unknown action", s.Put(ctx, app, owner, privacy.List{Name: "x", Items: item("", "", "block")}), apperr.KindMalformed},
		{"unknown type", s.Put(ctx, app, owner, privacy.List{Name: "x", Items: item("user", "1", "deny")}), apperr.KindMalformed},
		{"group", s.Put(ctx, app, owner, privacy.List{Name: "x", Items: item("group", "friends", "deny")}), apperr.KindNotFound},
		{"bad subscription", s.Put(ctx, app, owner, privacy.List{Name: "x", Items: item("subscription", "all", "deny")}), apperr.KindMalformed},
		{"other app", s.Put(ctx, app, owner, privacy.List{Name: "x", Items: item("jid", "5-2@"+domain, "deny")}), apperr.KindMalformed},
		{"bad jid", s.Put(ctx, app, owner, privacy.List{Name: "x", Items: item("jid", "a@b@c", "deny")}), apperr.KindMalformed},
		{"dup order", s.Put(ctx, app, owner, privacy.List{Name: "x", Items: append(item("", "", "deny"), item("", "", "allow")...)}), apperr.KindMalformed},
		{"too many items", s.Put(ctx, app, owner, privacy.List{Name: "x", Items: make1001()}), apperr.KindMalformed},
		{"replace default", s.Put(ctx, app, owner, privacy.List{Name: "myList", Items: item("", "", "deny")}), apperr.KindConflict},
		{"delete default", s.Delete(ctx, app, owner, "myList"), apperr.KindConflict},
		{"delete default by empty put", s.Put(ctx, app, owner, privacy.List{Name: "myList"}), apperr.KindConflict},
		{"delete unknown", s.Delete(ctx, app, owner, "nope"), apperr.KindNotFound},
		{"default unknown", s.SetDefault(ctx, app, owner, "nope"), apperr.KindNotFound},
	} {
		if k := apperr.KindOf(c.err); c.err == nil || k != c.want {
			t.Errorf("%s: err %v (kind %d), want kind %d", c.name, c.err, k, c.want)
		}
		if c.want == apperr.KindConflict {
			if e, _ := apperr.As(c.err); e == nil || e.Message != privacy.ConflictText {
				t.Errorf("%s: message %v", c.name, c.err)
			}
		}
	}
	if after := snapshot(); after != before {
		t.Fatalf("refused writes changed the store:\n%s\n%s", before, after)
	}
	// Foreign and room JIDs are stored (and match nothing).
	if err := s.Put(ctx, app, owner, privacy.List{Name: "foreign", Items: []privacy.Item{
		{Type: "jid", Value: "someone@elsewhere.org", Action: "deny", Order: 1},
		{Type: "jid", Value: "1_abc@muc." + domain, Action: "deny", Order: 2},
	}}); err != nil {
		t.Fatal(err)
	}

	// The list limit.
	lim := privacy.NewService(f.db, domain, privacy.Limits{MaxLists: 3}, nil, f.clock.now)
	err = lim.Put(ctx, app, owner, privacy.List{Name: "fourth", Items: item("", "", "deny")})
	if apperr.KindOf(err) != apperr.KindTooLarge {
		t.Fatalf("over the list limit: %v", err)
	}
	if err := lim.Put(ctx, app, owner, privacy.List{Name: "foreign", Items: item("", "", "deny")}); err != nil {
		t.Fatalf("replacing at the list limit: %v", err)
	}
	// Decline, then delete through an empty Put.
	if err := s.SetDefault(ctx, app, owner, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, app, owner, privacy.List{Name: "myList"}); err != nil {
		t.Fatal(err)
	}
	n, _ = s.Names(ctx, app, owner)
	if n.Default != "" || !slices.Equal(n.Lists, []string{"blockedusers", "foreign"}) {
		t.Fatalf("Names = %+v", n)
	}
	// Another user and another app see nothing.
	if n, _ := s.Names(ctx, app, owner+1); len(n.Lists) != 0 {
		t.Fatalf("another user sees %+v", n)
	}
	if n, _ := s.Names(ctx, app+1, owner); len(n.Lists) != 0 {
		t.Fatalf("another app sees %+v", n)
	}
}

func make1001() []privacy.Item {
	out := make([]privacy.Item, 1001)
	for i := range out {
		out[i] = privacy.Item{Type: "jid", Value: userJID(int64(i + 1)), Action: "deny", Order: uint32(i + 1)}
	}
	return out
}

func TestDeniesCache(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	d := func() bool { return f.svc.Denies(ctx, app, owner, 2, privacy.Direct, privacy.Message) }
	if d() {
		t.Fatal("denied with no list")
	}
	// The service's own writes apply at once, though "no default" was cached.
	f.putDefault(t, sdkItems([]int64{2}, "deny", 0)...)
	if !d() {
		t.Fatal("a new default list did not apply at once")
	}
	if err := f.svc.SetDefault(ctx, app, owner, ""); err != nil {
		t.Fatal(err)
	}
	if d() {
		t.Fatal("declining did not apply at once")
	}
	if err := f.svc.SetDefault(ctx, app, owner, "l"); err != nil {
		t.Fatal(err)
	}
	if !d() {
		t.Fatal("setting the default again did not apply at once")
	}
	// A change made behind the service's back (another process writing the
	// same store) is seen only once the entry expires, 30 s later.
	if err := f.db.SetDefaultPrivacyList(ctx, app, owner, ""); err != nil {
		t.Fatal(err)
	}
	f.clock.advance(29 * time.Second)
	if !d() {
		t.Fatal("the cache did not answer within 30 s")
	}
	f.clock.advance(2 * time.Second)
	if d() {
		t.Fatal("the cache entry did not expire after 30 s")
	}
}

func TestDeniesFailsClosed(t *testing.T) {
	f := newFixture(t)
	f.db.Close()
	if !f.svc.Denies(context.Background(), app, owner, 2, privacy.Direct, privacy.Message) {
		t.Fatal("a store failure did not deny")
	}
}

func BenchmarkDenies(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	users := make([]int64, 50)
	for i := range users {
		users[i] = int64(i + 2)
	}
	if err := f.svc.Put(ctx, app, owner, privacy.List{Name: "l", Items: sdkItems(users, "deny", oneWay)}); err != nil {
		b.Fatal(err)
	}
	if err := f.svc.SetDefault(ctx, app, owner, "l"); err != nil {
		b.Fatal(err)
	}
	f.svc.Denies(ctx, app, owner, 1000, privacy.Direct, privacy.Message)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		f.svc.Denies(ctx, app, owner, int64(i%100)+2, privacy.Direct, privacy.Message)
	}
}
