package loadgen

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/xmpp"
)

// A push is an IQ result with a jabber:iq:last query and a from; the
// watched user is its bare JID. Answers to the tool's own IQs, queries
// in other namespaces and bad seconds are not pushes.
func TestStatusPush(t *testing.T) {
	for _, c := range []struct {
		raw     string
		from    string
		seconds int64
		ok      bool
	}{
		{`<iq xmlns="jabber:client" type="result" id="status-7f3a01" from="29086-1@localhost" to="29085-1@localhost/r"><query xmlns="jabber:iq:last" seconds="0"/></iq>`,
			"29086-1@localhost", 0, true},
		{`<iq type="result" id="status-1" from="29086-1@localhost/res"><query xmlns="jabber:iq:last" seconds="42"/></iq>`,
			"29086-1@localhost", 42, true},
		{`<iq xmlns="jabber:client" type="result" id="sub-0"/>`, "", 0, false},
		{`<iq xmlns="jabber:client" type="result" id="p" from="localhost"/>`, "", 0, false},
		{`<iq xmlns="jabber:client" type="set" id="x" from="2-1@localhost"><query xmlns="jabber:iq:last" seconds="0"/></iq>`, "", 0, false},
		{`<iq xmlns="jabber:client" type="result" id="x"><query xmlns="jabber:iq:last" seconds="0"/></iq>`, "", 0, false},
		{`<iq xmlns="jabber:client" type="result" id="x" from="2-1@localhost"><query xmlns="jabber:iq:roster"/></iq>`, "", 0, false},
		{`<iq xmlns="jabber:client" type="result" id="x" from="2-1@localhost"><query xmlns="jabber:iq:last" seconds="NaN"/></iq>`, "", 0, false},
		{`<iq xmlns="jabber:client" type="result" id="x" from="2-1@localhost"><query xmlns="jabber:iq:last"/></iq>`, "", 0, false},
		{`<message xmlns="jabber:client" type="chat" from="2-1@localhost"><body>0 1</body></message>`, "", 0, false},
	} {
		el, err := xmpp.ParseElement([]byte(c.raw), xmpp.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		from, secs, ok := statusPush(el)
		if from != c.from || secs != c.seconds || ok != c.ok {
			t.Errorf("%s: %q %d %v; want %q %d %v", c.raw, from, secs, ok, c.from, c.seconds, c.ok)
		}
	}
}

// The quantiles are the elements at n*q of the sorted figures, as the
// chat phases report them.
func TestQuantiles(t *testing.T) {
	ns := func(v ...int64) []int64 { return v }
	for _, c := range []struct {
		in            []int64
		p50, p99, top time.Duration
	}{
		{nil, 0, 0, 0},
		{ns(7), 7, 7, 7},
		{ns(1, 2), 2, 2, 2},
		{ns(1, 2, 3, 4), 3, 4, 4},
	} {
		p50, p99, top := quantiles(c.in)
		if p50 != c.p50 || p99 != c.p99 || top != c.top {
			t.Errorf("%v: %v %v %v; want %v %v %v", c.in, p50, p99, top, c.p50, c.p99, c.top)
		}
	}
	var hundred []int64
	for i := int64(1); i <= 1000; i++ {
		hundred = append(hundred, i)
	}
	if p50, p99, top := quantiles(hundred); p50 != 501 || p99 != 991 || top != 1000 {
		t.Errorf("1..1000: %v %v %v; want 501 991 1000", p50, p99, top)
	}
}

// Each watcher counts a watched user's first "online" push after its
// presence was written, once; earlier pushes (a subscribe's current
// value), other seconds, repeats and strangers are other pushes. The
// last watcher's push closes the user's channel.
func TestStatusRunHandle(t *testing.T) {
	r := &statusRun{t0: time.Now(), watched: map[string]int{"10-1@localhost": 0, "11-1@localhost": 1}, nWatched: 2,
		start: make([]atomic.Int64, 2), arrival: make([]atomic.Int64, 3*2), count: make([]atomic.Int64, 2),
		all: []chan struct{}{make(chan struct{}), make(chan struct{})}, watchers: 3}
	push := func(from string, secs int) *xmpp.Element {
		el, err := xmpp.ParseElement([]byte(`<iq xmlns="jabber:client" type="result" id="status-1" from="`+from+
			`"><query xmlns="jabber:iq:last" seconds="`+strconv.Itoa(secs)+`"/></iq>`), xmpp.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return el
	}
	r.handle(0, push("10-1@localhost", 0)) // before the presence: other
	r.start[0].Store(r.now())
	r.handle(0, push("10-1@localhost", 0))
	r.handle(0, push("10-1@localhost/x", 0)) // a repeat
	r.handle(1, push("10-1@localhost", 5))   // not "online"
	r.handle(1, push("12-1@localhost", 0))   // not watched
	r.handle(1, push("11-1@localhost", 0))   // before 11's presence
	r.handle(1, push("10-1@localhost", 0))
	select {
	case <-r.all[0]:
		t.Fatal("closed after two of three watchers")
	default:
	}
	r.handle(2, push("10-1@localhost", 0))
	select {
	case <-r.all[0]:
	default:
		t.Fatal("not closed after the third watcher")
	}
	if got := r.count[0].Load(); got != 3 {
		t.Errorf("count %d; want 3", got)
	}
	if got := r.other.Load(); got != 5 {
		t.Errorf("other %d; want 5", got)
	}
	for w := range 3 {
		if r.arrival[w*2].Load() == 0 || r.arrival[w*2+1].Load() != 0 {
			t.Errorf("watcher %d: arrivals %d %d", w, r.arrival[w*2].Load(), r.arrival[w*2+1].Load())
		}
	}
}

// The block list is the SDK's create request: two items per user in
// ascending id order (user JID, then muc.{domain}/{id}), orders from 1,
// deny, with the four children; the default request names it.
func TestPrivacyListIQ(t *testing.T) {
	el, err := xmpp.ParseElement(privacyListIQ("bl", "bench", 7, "localhost", []int64{30, 4, 12}), xmpp.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if el.Name != "iq" || el.Attr("type") != "set" || el.Attr("id") != "bl" || el.Attr("xmlns") != xmpp.NSClient {
		t.Fatalf("iq %s", el)
	}
	list := el.Child("query", xmpp.NSPrivacy).Child("list", "")
	if list.Attr("name") != "bench" {
		t.Fatalf("list %s", list)
	}
	want := []string{"4-7@localhost", "muc.localhost/4", "12-7@localhost", "muc.localhost/12", "30-7@localhost", "muc.localhost/30"}
	var n int
	for it := range list.Elements() {
		if n >= len(want) || it.Name != "item" || it.Attr("type") != "jid" || it.Attr("value") != want[n] ||
			it.Attr("action") != "deny" || it.Attr("order") != strconv.Itoa(n+1) {
			t.Fatalf("item %d: %s", n, it)
		}
		var kids []string
		for k := range it.Elements() {
			kids = append(kids, k.Name)
		}
		if len(kids) != 4 || kids[0] != "message" || kids[1] != "presence-in" || kids[2] != "presence-out" || kids[3] != "iq" {
			t.Fatalf("item %d children %v", n, kids)
		}
		n++
	}
	if n != len(want) {
		t.Fatalf("%d items; want %d", n, len(want))
	}
	d, err := xmpp.ParseElement(defaultListIQ("bd", "bench"), xmpp.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if def := d.Child("query", xmpp.NSPrivacy).Child("default", ""); d.Attr("type") != "set" || def == nil || def.Attr("name") != "bench" {
		t.Fatalf("default %s", d)
	}
}
