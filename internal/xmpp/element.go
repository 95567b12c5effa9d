package xmpp

import (
	"iter"
	"strings"
)

// Namespaces Parley's stream engine and error builders use.
const (
	NSClient          = "jabber:client"                                      // stanzas of a client stream
	NSStream          = "http://etherx.jabber.org/streams"                   // the stream: prefix (RFC 6120)
	NSFraming         = "urn:ietf:params:xml:ns:xmpp-framing"                // <open/>, <close/> (RFC 7395)
	NSStanzas         = "urn:ietf:params:xml:ns:xmpp-stanzas"                // stanza error conditions
	NSStreams         = "urn:ietf:params:xml:ns:xmpp-streams"                // stream error conditions
	NSSASL            = "urn:ietf:params:xml:ns:xmpp-sasl"                   // SASL negotiation
	NSTLS             = "urn:ietf:params:xml:ns:xmpp-tls"                    // STARTTLS
	NSBind            = "urn:ietf:params:xml:ns:xmpp-bind"                   // resource binding
	NSSession         = "urn:ietf:params:xml:ns:xmpp-session"                // legacy session establishment
	NSSM              = "urn:xmpp:sm:3"                                      // stream management (XEP-0198)
	NSCarbons         = "urn:xmpp:carbons:2"                                 // message carbons (XEP-0280)
	NSForward         = "urn:xmpp:forward:0"                                 // stanza forwarding (XEP-0297)
	NSPing            = "urn:xmpp:ping"                                      // XMPP ping (XEP-0199)
	NSMUC             = "http://jabber.org/protocol/muc"                     // multi-user chat (XEP-0045)
	NSMUCUser         = "http://jabber.org/protocol/muc#user"                // MUC presence payloads
	NSMarkers         = "urn:xmpp:chat-markers:0"                            // chat markers (XEP-0333)
	NSChatStates      = "http://jabber.org/protocol/chatstates"              // chat states (XEP-0085)
	NSPrivacy         = "jabber:iq:privacy"                                  // privacy lists (XEP-0016)
	NSLast            = "jabber:iq:last"                                     // last activity (XEP-0012)
	NSDelay           = "urn:xmpp:delay"                                     // delayed delivery (XEP-0203)
	NSCorrect         = "urn:xmpp:message-correct:0"                         // message correction (XEP-0308)
	NSDiscoItems      = "http://jabber.org/protocol/disco#items"             // service discovery items
	NSDiscoInfo       = "http://jabber.org/protocol/disco#info"              // service discovery info
	NSXML             = "http://www.w3.org/XML/1998/namespace"               // the xml: prefix, predeclared
	NSMobile          = "http://tigase.org/protocol/mobile#v2"               // client state indication used by the SDK
	NSStatusStreaming = "https://connectycube.com/protocol/status_streaming" // last-activity subscription
)

// Attr is one attribute of an Element. Names are kept verbatim, including a
// prefix (xml:lang) and namespace declarations (xmlns, xmlns:stream).
type Attr struct {
	Name  string
	Value string
}

// Node is one child of an Element: a child element when Elem is non-nil,
// otherwise a run of character data (Text, already unescaped).
//
// A struct rather than an interface keeps text children free of boxing
// allocations; the zero Node is an empty text run.
type Node struct {
	Elem *Element
	Text string
}

// IsElement reports whether n is a child element rather than text.
func (n Node) IsElement() bool { return n.Elem != nil }

// Element is one XML element: its name as written (a prefixed name such as
// stream:features stays one string), its attributes in document order, and
// its children in document order.
//
// Namespaces are not resolved while parsing: a namespace declaration is an
// ordinary attribute named xmlns or xmlns:prefix. Use Namespace or Child to
// resolve the default namespace explicitly.
//
// Elements produced by the decoder share backing arrays with other elements
// of the same stanza, but every Attrs and Children slice has its capacity
// clipped to its length, so appending to one (SetAttr, AppendChild) never
// writes into another element. An Element is not safe for concurrent
// mutation; treat decoded stanzas as owned by the goroutine that decoded
// them, and Clone before handing a mutable copy elsewhere.
type Element struct {
	Name     string
	Attrs    []Attr
	Children []Node
}

// NewElement returns an element named name with the given attributes, given
// as name, value pairs. It panics if attrs has an odd length (a programming
// error).
func NewElement(name string, attrs ...string) *Element {
	if len(attrs)%2 != 0 {
		panic("xmpp.NewElement: odd number of attribute strings")
	}
	e := &Element{Name: name}
	if len(attrs) > 0 {
		e.Attrs = make([]Attr, 0, len(attrs)/2)
		for i := 0; i < len(attrs); i += 2 {
			e.Attrs = append(e.Attrs, Attr{Name: attrs[i], Value: attrs[i+1]})
		}
	}
	return e
}

// Attr returns the value of the attribute named name, or "" when absent.
func (e *Element) Attr(name string) string {
	v, _ := e.LookupAttr(name)
	return v
}

// LookupAttr returns the value of the attribute named name and whether it
// is present.
func (e *Element) LookupAttr(name string) (string, bool) {
	for i := range e.Attrs {
		if e.Attrs[i].Name == name {
			return e.Attrs[i].Value, true
		}
	}
	return "", false
}

// SetAttr sets the attribute named name to value, replacing it in place
// when present and appending it otherwise.
func (e *Element) SetAttr(name, value string) {
	for i := range e.Attrs {
		if e.Attrs[i].Name == name {
			e.Attrs[i].Value = value
			return
		}
	}
	e.Attrs = append(e.Attrs, Attr{Name: name, Value: value})
}

// RemoveAttr deletes the attribute named name and reports whether it was
// present. The order of the remaining attributes is kept.
func (e *Element) RemoveAttr(name string) bool {
	for i := range e.Attrs {
		if e.Attrs[i].Name == name {
			// Copy rather than shift in place: decoded elements share backing
			// arrays with their stanza, and a clone may share ours.
			attrs := make([]Attr, 0, len(e.Attrs)-1)
			attrs = append(attrs, e.Attrs[:i]...)
			e.Attrs = append(attrs, e.Attrs[i+1:]...)
			return true
		}
	}
	return false
}

// Namespace resolves the default namespace of e: the value of its own xmlns
// attribute when it has one, otherwise parentNS (the namespace in effect
// where e appears). Prefixed names are not resolved; an element written
// stream:features has whatever default namespace is in effect, and its
// prefix is visible in its Name.
func Namespace(e *Element, parentNS string) string {
	if v, ok := e.LookupAttr("xmlns"); ok {
		return v
	}
	return parentNS
}

// Child returns the first direct child element named name (compared
// verbatim, prefix included) in namespace xmlns, or nil.
//
// The child's namespace is its own xmlns attribute or, when it has none,
// the one it inherits from e: e's xmlns attribute. When neither declares a
// namespace, the child's namespace is inherited from further up, which e
// cannot see, and the child matches any xmlns. An empty xmlns matches any
// namespace.
func (e *Element) Child(name, xmlns string) *Element {
	parentNS, parentKnown := e.LookupAttr("xmlns")
	for i := range e.Children {
		c := e.Children[i].Elem
		if c == nil || c.Name != name {
			continue
		}
		if xmlns == "" {
			return c
		}
		if ns, ok := c.LookupAttr("xmlns"); ok {
			if ns == xmlns {
				return c
			}
			continue
		}
		if !parentKnown || parentNS == xmlns {
			return c
		}
	}
	return nil
}

// Elements iterates over the direct child elements of e, skipping text.
func (e *Element) Elements() iter.Seq[*Element] {
	return func(yield func(*Element) bool) {
		for i := range e.Children {
			if c := e.Children[i].Elem; c != nil {
				if !yield(c) {
					return
				}
			}
		}
	}
}

// Text returns the concatenated text of e's direct text children (the text
// of child elements is not included). It does not allocate when e has at
// most one text child.
func (e *Element) Text() string {
	var first string
	n := 0
	for i := range e.Children {
		if e.Children[i].Elem == nil && e.Children[i].Text != "" {
			if n == 0 {
				first = e.Children[i].Text
			}
			n++
		}
	}
	if n <= 1 {
		return first
	}
	var b strings.Builder
	for i := range e.Children {
		if e.Children[i].Elem == nil {
			b.WriteString(e.Children[i].Text)
		}
	}
	return b.String()
}

// SetText replaces all children of e with a single text child (none when s
// is empty).
func (e *Element) SetText(s string) {
	if s == "" {
		e.Children = nil
		return
	}
	e.Children = []Node{{Text: s}}
}

// AppendChild appends c as the last child of e and returns c.
func (e *Element) AppendChild(c *Element) *Element {
	e.Children = append(e.Children, Node{Elem: c})
	return c
}

// AppendText appends a text child to e. Empty text is ignored.
func (e *Element) AppendText(s string) {
	if s != "" {
		e.Children = append(e.Children, Node{Text: s})
	}
}

// RemoveChild removes the child element c (compared by identity) and
// reports whether it was a child of e.
func (e *Element) RemoveChild(c *Element) bool {
	for i := range e.Children {
		if e.Children[i].Elem == c && c != nil {
			kids := make([]Node, 0, len(e.Children)-1)
			kids = append(kids, e.Children[:i]...)
			e.Children = append(kids, e.Children[i+1:]...)
			return true
		}
	}
	return false
}

// Clone returns a deep copy of e: new Element values, new Attrs and
// Children slices. Strings are immutable and shared.
func (e *Element) Clone() *Element {
	if e == nil {
		return nil
	}
	c := &Element{Name: e.Name}
	if len(e.Attrs) > 0 {
		// Room for the two a copy is usually stamped with (from, to).
		c.Attrs = append(make([]Attr, 0, len(e.Attrs)+2), e.Attrs...)
	}
	if len(e.Children) > 0 {
		c.Children = make([]Node, len(e.Children))
		for i, n := range e.Children {
			if n.Elem != nil {
				c.Children[i] = Node{Elem: n.Elem.Clone()}
			} else {
				c.Children[i] = Node{Text: n.Text}
			}
		}
	}
	return c
}

// Equal reports whether e and o have the same name, the same attributes in
// the same order and equal children in the same order. Two nil elements
// are equal. Adjacent text children are not merged before comparing.
func (e *Element) Equal(o *Element) bool {
	if e == nil || o == nil {
		return e == o
	}
	if e.Name != o.Name || len(e.Attrs) != len(o.Attrs) || len(e.Children) != len(o.Children) {
		return false
	}
	for i := range e.Attrs {
		if e.Attrs[i] != o.Attrs[i] {
			return false
		}
	}
	for i := range e.Children {
		a, b := e.Children[i], o.Children[i]
		if (a.Elem == nil) != (b.Elem == nil) {
			return false
		}
		if a.Elem == nil {
			if a.Text != b.Text {
				return false
			}
		} else if !a.Elem.Equal(b.Elem) {
			return false
		}
	}
	return true
}
