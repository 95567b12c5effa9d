package xmpp

import (
	"slices"
	"testing"
)

func mustParse(t testing.TB, s string) *Element {
	t.Helper()
	e, err := ParseElement([]byte(s), Limits{})
	if err != nil {
		t.Fatalf("ParseElement(%q): %v", s, err)
	}
	return e
}

func TestAttrs(t *testing.T) {
	e := mustParse(t, `<iq type="get" id="1" xmlns="jabber:client"/>`)
	if got := e.Attr("id"); got != "1" {
		t.Errorf("Attr(id) = %q", got)
	}
	if got := e.Attr("to"); got != "" {
		t.Errorf("Attr(to) = %q", got)
	}
	if _, ok := e.LookupAttr("to"); ok {
		t.Error("LookupAttr(to) found")
	}
	e.SetAttr("type", "result")
	e.SetAttr("to", "a@b/c")
	if got, want := e.String(), `<iq type="result" id="1" xmlns="jabber:client" to="a@b/c"/>`; got != want {
		t.Errorf("after SetAttr: %s, want %s", got, want)
	}
	if !e.RemoveAttr("id") || e.RemoveAttr("id") {
		t.Error("RemoveAttr(id) twice: want true then false")
	}
	if got, want := e.String(), `<iq type="result" xmlns="jabber:client" to="a@b/c"/>`; got != want {
		t.Errorf("after RemoveAttr: %s, want %s", got, want)
	}
}

// Decoded siblings share slabs; growing one must not clobber another.
func TestSlabIsolation(t *testing.T) {
	e := mustParse(t, `<r><a x="1"/><b y="2"><c/></b><d z="3"/></r>`)
	a, b := e.Children[0].Elem, e.Children[1].Elem
	a.SetAttr("x2", "new")
	b.AppendChild(NewElement("e"))
	b.AppendText("t")
	e.Children[0].Elem.AppendText("in-a")
	if got, want := e.String(), `<r><a x="1" x2="new">in-a</a><b y="2"><c/><e/>t</b><d z="3"/></r>`; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestChild(t *testing.T) {
	x := mustParse(t, `<presence xmlns="jabber:client"><x xmlns="vcard-temp:x:update"/><x xmlns="http://jabber.org/protocol/muc#user"><item role="participant"/><status code="110"/><xmlns><code>110</code></xmlns></x><status>away</status></presence>`)
	tests := []struct {
		name, ns string
		want     string // serialization of the match, "" for nil
	}{
		{"x", "", `<x xmlns="vcard-temp:x:update"/>`},
		{"x", NSMUCUser, `<x xmlns="http://jabber.org/protocol/muc#user"><item role="participant"/><status code="110"/><xmlns><code>110</code></xmlns></x>`},
		{"x", NSMUC, ""},
		{"status", NSClient, `<status>away</status>`}, // inherited from presence
		{"status", "urn:other", ""},                   // inherited, no match
		{"missing", "", ""},
	}
	for _, tt := range tests {
		got := x.Child(tt.name, tt.ns)
		if (got == nil) != (tt.want == "") || got != nil && got.String() != tt.want {
			t.Errorf("Child(%q, %q) = %v, want %s", tt.name, tt.ns, got, tt.want)
		}
	}
	muc := x.Child("x", NSMUCUser)
	// muc declares its own namespace: children without xmlns inherit it.
	if c := muc.Child("xmlns", NSMUCUser); c == nil || c.Child("code", "").Text() != "110" {
		t.Errorf("xmlns/code not found")
	}
	if c := muc.Child("status", NSClient); c != nil {
		t.Errorf("status in muc#user matched jabber:client")
	}
	// Neither the element nor the child declares a namespace: any matches.
	inner := muc.Child("xmlns", "")
	if inner.Child("code", "anything") == nil {
		t.Error("undeclared namespace should match")
	}
}

func TestNamespace(t *testing.T) {
	e := mustParse(t, `<stream:features xmlns:stream="http://etherx.jabber.org/streams"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/><sm xmlns="urn:xmpp:sm:3"/></stream:features>`)
	if got := Namespace(e, NSClient); got != NSClient {
		t.Errorf("Namespace(features) = %q", got)
	}
	if got := Namespace(e.Children[0].Elem, NSClient); got != NSBind {
		t.Errorf("Namespace(bind) = %q", got)
	}
	var names []string
	for c := range e.Elements() {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"bind", "sm"}) {
		t.Errorf("Elements() = %v", names)
	}
	for range e.Elements() {
		break // early stop must not panic
	}
}

func TestText(t *testing.T) {
	e := mustParse(t, `<body>a<b>x</b>c&amp;d</body>`)
	if got := e.Text(); got != "ac&d" {
		t.Errorf("Text() = %q", got)
	}
	if got := e.Children[1].Elem.Text(); got != "x" {
		t.Errorf("Text() = %q", got)
	}
	if got := NewElement("empty").Text(); got != "" {
		t.Errorf("Text() = %q", got)
	}
	e.SetText("new")
	if got := e.String(); got != `<body>new</body>` {
		t.Errorf("SetText: %s", got)
	}
	e.SetText("")
	if got := e.String(); got != `<body/>` {
		t.Errorf("SetText empty: %s", got)
	}
	n := Node{Text: "t"}
	if n.IsElement() || !(Node{Elem: e}).IsElement() {
		t.Error("IsElement")
	}
}

func TestAppendRemoveChild(t *testing.T) {
	m := mustParse(t, `<message><body>hi</body><extraParams><a>1</a></extraParams></message>`)
	body := m.Child("body", "")
	if !m.RemoveChild(body) || m.RemoveChild(body) || m.RemoveChild(nil) {
		t.Error("RemoveChild: want true, then false, false")
	}
	m.AppendChild(NewElement("delay", "xmlns", NSDelay, "stamp", "2024-01-15T09:41:45Z"))
	ep := m.Child("extraParams", "")
	ep.AppendChild(NewElement("date_sent")).SetText("1705311705")
	ep.AppendText("")
	want := `<message><extraParams><a>1</a><date_sent>1705311705</date_sent></extraParams><delay xmlns="urn:xmpp:delay" stamp="2024-01-15T09:41:45Z"/></message>`
	if got := m.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestCloneEqual(t *testing.T) {
	src := `<message to="a" xmlns="jabber:client"><body>x</body><extraParams><trip><dates><0>d</0></dates></trip></extraParams></message>`
	m := mustParse(t, src)
	c := m.Clone()
	if !c.Equal(m) || !m.Equal(c) {
		t.Fatal("clone not equal")
	}
	c.SetAttr("to", "b")
	c.Children[1].Elem.Children[0].Elem.Name = "changed"
	c.Child("body", "").SetText("y")
	if got := m.String(); got != src {
		t.Errorf("original changed by clone mutation: %s", got)
	}
	if c.Equal(m) {
		t.Error("mutated clone still equal")
	}
	var nilE *Element
	if nilE.Clone() != nil || !nilE.Equal(nil) || nilE.Equal(m) || m.Equal(nil) {
		t.Error("nil handling")
	}
	for _, other := range []string{
		`<message to="a" xmlns="jabber:client"><body>x</body></message>`,
		`<message xmlns="jabber:client" to="a"><body>x</body><extraParams><trip><dates><0>d</0></dates></trip></extraParams></message>`,
		`<message to="a" xmlns="jabber:client"><body>x</body><extraParams><trip><dates><1>d</1></dates></trip></extraParams></message>`,
		`<message to="a" xmlns="jabber:client">x<extraParams><trip><dates><0>d</0></dates></trip></extraParams></message>`,
		`<message to="a" xmlns="jabber:client"><body>y</body><extraParams><trip><dates><0>d</0></dates></trip></extraParams></message>`,
	} {
		if mustParse(t, other).Equal(m) {
			t.Errorf("%s equal to %s", other, src)
		}
	}
}

func TestNewElementOdd(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for odd attribute list")
		}
	}()
	NewElement("a", "x")
}
