package xmpp

import (
	"errors"
	"strings"
	"testing"
)

// Examples from REALTIME.md, verbatim. Each parses and re-encodes to
// exactly its input: they use double quotes, no references, and write
// empty elements self-closing, which is the encoder's canonical form.
var realtimeExamples = []struct{ name, xml string }{
	{"1.1 client open", `<open version="1.0" xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="chat.example.com"/>`},
	{"1.1 server open", `<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" from="chat.example.com" id="c2s-8c1f4a2e" version="1.0" xml:lang="en"/>`},
	{"1.1 close", `<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>`},
	{"1.1 stream error", `<stream:error xmlns:stream="http://etherx.jabber.org/streams"><conflict xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error>`},
	{"2.1 features before auth", `<stream:features xmlns:stream="http://etherx.jabber.org/streams">
     <mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>PLAIN</mechanism></mechanisms>
   </stream:features>`},
	{"2.1 auth", `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">ADI5MDg1LTEAYXdlc29tZXB3ZA==</auth>`},
	{"2.1 success", `<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>`},
	{"2.1 features after auth", `<stream:features xmlns:stream="http://etherx.jabber.org/streams">
     <bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/>
     <sm xmlns="urn:xmpp:sm:3"/>
   </stream:features>`},
	{"2.1 bind request", `<iq type="set" id="8v5pn5npxx" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`},
	{"2.1 bind result", `<iq xmlns="jabber:client" type="result" id="8v5pn5npxx" to="29085-1@chat.example.com/pk3QZ8vT0aLr6wYx2cNe">
     <bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><jid>29085-1@chat.example.com/pk3QZ8vT0aLr6wYx2cNe</jid></bind>
   </iq>`},
	{"2.1 sm enable", `<enable xmlns="urn:xmpp:sm:3"/>`},
	{"2.1 carbons", `<iq type="set" from="29085-1@chat.example.com/pk3QZ8vT0aLr6wYx2cNe" id="0b8e5c1d-6f4a-4c2e-9d3b-7a1e2f3c4d5e:enableCarbons" xmlns="jabber:client"><enable xmlns="urn:xmpp:carbons:2"/></iq>`},
	{"2.1 presence", `<presence xmlns="jabber:client"/>`},
	{"2.1 sm enabled", `<enabled xmlns="urn:xmpp:sm:3"/>`},
	{"2.1 carbons result", `<iq xmlns="jabber:client" type="result" id="0b8e5c1d-6f4a-4c2e-9d3b-7a1e2f3c4d5e:enableCarbons" to="29085-1@chat.example.com/pk3QZ8vT0aLr6wYx2cNe"/>`},
	{"2.5 failure", `<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><not-authorized/><text xml:lang="en">Password not verified</text></failure>`},
	{"4.3 carbon", `<message xmlns="jabber:client" from="29085-1@chat.example.com" to="29085-1@chat.example.com/Zr8pD1qKs6VwY3mLc0Ta" type="chat">
  <sent xmlns="urn:xmpp:carbons:2">
    <forwarded xmlns="urn:xmpp:forward:0">
      <message xmlns="jabber:client" from="29085-1@chat.example.com/pk3QZ8vT0aLr6wYx2cNe" to="29086-1@chat.example.com" type="chat" id="65a1f3d9c81a4f0e2b000000">
        <body>How are you today?</body>
        <extraParams xmlns="jabber:client"><save_to_history>1</save_to_history><dialog_id>65a1f0c2e4b0a1b2c3d4e5f6</dialog_id><date_sent>1705311705</date_sent></extraParams>
      </message>
    </forwarded>
  </sent>
</message>`},
	{"5.1 extension with digit names", sdkWireMessage},
	{"6.3 delivered copy", deliveredCopy},
	{"8.1 received marker", `<message type="chat" from="29086-1@chat.example.com/Hq7mB2nXc9LkT4eRz1Ws" id="65a1f3da77e02d4c51000000" to="29085-1@chat.example.com" xmlns="jabber:client">
  <received xmlns="urn:xmpp:chat-markers:0" id="65a1f3d9c81a4f0e2b000000"/>
  <extraParams xmlns="jabber:client"><dialog_id>65a1f0c2e4b0a1b2c3d4e5f6</dialog_id></extraParams>
</message>`},
	{"10 edit", `<message from="29085-1@chat.example.com/pk3QZ8vT0aLr6wYx2cNe" to="29086-1@chat.example.com" type="chat" id="65a1f4c9c81a4f0e2b000000" xmlns="jabber:client">
  <body>corrected message body</body>
  <replace xmlns="urn:xmpp:message-correct:0" id="65a1f3d9c81a4f0e2b000000" last="false"/>
  <extraParams xmlns="jabber:client"><dialog_id>65a1f0c2e4b0a1b2c3d4e5f6</dialog_id></extraParams>
</message>`},
	{"15.1 join", `<presence id="5038096b-2828-4d07-b87b-1a82cdc5df1d:join" from="29085-1@chat.example.com/pk3QZ8vT0aLr6wYx2cNe" to="1_65a1f0c2e4b0a1b2c3d4e5f7@muc.chat.example.com/29085" xmlns="jabber:client">
  <x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x>
</presence>`},
	{"15.2 self-presence with <xmlns>", `<presence xmlns="jabber:client" id="5038096b-2828-4d07-b87b-1a82cdc5df1d:join" from="1_65a1f0c2e4b0a1b2c3d4e5f7@muc.chat.example.com/29085" to="29085-1@chat.example.com/pk3QZ8vT0aLr6wYx2cNe">
  <x xmlns="http://jabber.org/protocol/muc#user">
    <item affiliation="member" role="participant" jid="29085-1@chat.example.com/pk3QZ8vT0aLr6wYx2cNe"/>
    <status code="110"/>
    <xmlns><code>110</code></xmlns>
  </x>
</presence>`},
	{"15.3 join error", `<presence xmlns="jabber:client" id="5038096b-2828-4d07-b87b-1a82cdc5df1d:join" type="error" from="1_65a1f0c2e4b0a1b2c3d4e5f7@muc.chat.example.com/29085" to="29085-1@chat.example.com/pk3QZ8vT0aLr6wYx2cNe">
  <x xmlns="http://jabber.org/protocol/muc"/>
  <error code="407" type="auth">
    <registration-required xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>
    <text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">You are not a member of this dialog</text>
  </error>
</presence>`},
}

// REALTIME.md §5.1: what the SDK puts on the wire for an extension with
// attachments and arrays (digit-named elements).
const sdkWireMessage = `<message from="29085-1@chat.example.com/pk3QZ8vT0aLr6wYx2cNe" to="29086-1@chat.example.com" type="chat" id="65a1f3d9c81a4f0e2b000000" xmlns="jabber:client">
  <body>How are you today?</body>
  <extraParams xmlns="jabber:client">
    <save_to_history>1</save_to_history>
    <dialog_id>65a1f0c2e4b0a1b2c3d4e5f6</dialog_id>
    <markable>1</markable>
    <silent>1</silent>
    <attachment uid="7cafb6030d3e4348ba49cab24c0cf10800" id="421517" type="photo" size="48213"/>
    <attachment latitude="64.7964274" longitude="-23.7391878" type="place"/>
    <trip><city>Reykjavik</city><dates><0>2024-02-01</0><1>2024-02-03</1></dates></trip>
  </extraParams>
</message>`

// REALTIME.md §6.3: the copy of a chat message delivered to the recipient.
const deliveredCopy = `<message xmlns="jabber:client" from="29085-1@chat.example.com/pk3QZ8vT0aLr6wYx2cNe" to="29086-1@chat.example.com" type="chat" id="65a1f3d9c81a4f0e2b000000">
  <body>How are you today?</body>
  <extraParams xmlns="jabber:client">
    <save_to_history>1</save_to_history>
    <dialog_id>65a1f0c2e4b0a1b2c3d4e5f6</dialog_id>
    <date_sent>1705311705</date_sent>
  </extraParams>
</message>`

func TestRoundTripRealtimeExamples(t *testing.T) {
	for _, tt := range realtimeExamples {
		t.Run(tt.name, func(t *testing.T) {
			e := mustParse(t, tt.xml)
			if got := string(e.AppendXML(nil)); got != tt.xml {
				t.Errorf("round trip:\ngot  %s\nwant %s", got, tt.xml)
			}
		})
	}
}

func TestParseStructure(t *testing.T) {
	m := mustParse(t, sdkWireMessage)
	ep := m.Child("extraParams", NSClient)
	dates := ep.Child("trip", "").Child("dates", "")
	if dates == nil || len(dates.Children) != 2 {
		t.Fatalf("dates = %v", dates)
	}
	if c := dates.Children[0].Elem; c.Name != "0" || c.Text() != "2024-02-01" {
		t.Errorf("<0> = %v", c)
	}
	if c := dates.Child("1", ""); c.Text() != "2024-02-03" {
		t.Errorf("<1> = %v", c)
	}
	var atts []string
	for c := range ep.Elements() {
		if c.Name == "attachment" {
			atts = append(atts, c.Attr("type"))
		}
	}
	if strings.Join(atts, ",") != "photo,place" {
		t.Errorf("attachments = %v", atts)
	}
	if got := m.Child("body", NSClient).Text(); got != "How are you today?" {
		t.Errorf("body = %q", got)
	}
	// Whitespace between children is kept as text nodes.
	if n := m.Children[0]; n.IsElement() || n.Text != "\n  " {
		t.Errorf("first child = %#v", n)
	}
}

func TestParseCanonicalization(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<a x='1'  y = "2" ></a >`, `<a x="1" y="2"/>`},
		{"\r\n\t <a/> \n", `<a/>`},
		{`<a x="&lt;&#65;&#x42;&#x0000043;&apos;&gt;&amp;&quot;"/>`, `<a x="&lt;ABC&apos;&gt;&amp;&quot;"/>`},
		{`<a x="'" y='"'/>`, `<a x="&apos;" y="&quot;"/>`},
		{`<b>&quot;&apos;&gt;&lt;&amp;</b>`, `<b>"'&gt;&lt;&amp;</b>`},
		{"<b>a\rb\r\nc</b>", "<b>a&#xD;b&#xD;\nc</b>"},
		{"<a v=\"t\tn\nr\r\"/>", `<a v="t&#x9;n&#xA;r&#xD;"/>`},
		{`<b>]] ]> > ]]</b>`, `<b>]] ]&gt; &gt; ]]</b>`},
		{`<b>&#x1F600;&#128512;</b>`, `<b>😀😀</b>`},
		{`<ключ атрибут="значение">текст</ключ>`, `<ключ атрибут="значение">текст</ключ>`},
		{`<a:b xmlns:a="u:a"><a:c/></a:b>`, `<a:b xmlns:a="u:a"><a:c/></a:b>`},
		{`<0><1/><-/><./><_/><:/></0>`, `<0><1/><-/><./><_/><:/></0>`},
		{`<a x=""></a>`, `<a x=""/>`},
		{"<a>\uFFFD\uFFFC\U0010FFFD</a>", "<a>\uFFFD\uFFFC\U0010FFFD</a>"},
	}
	for _, tt := range tests {
		e, err := ParseElement([]byte(tt.in), Limits{})
		if err != nil {
			t.Errorf("ParseElement(%q): %v", tt.in, err)
			continue
		}
		if got := e.String(); got != tt.want {
			t.Errorf("ParseElement(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// refusals lists malformed or restricted input with the error kind and the
// stream error condition each must produce. Each input is also fed to the
// Decoder as a stanza (decoder_test.go).
var refusals = []struct {
	name string
	in   string
	kind error
	cond string
}{
	{"comment", `<a><!-- hi --></a>`, ErrComment, "restricted-xml"},
	{"comment at start", `<!-- hi --><a/>`, ErrComment, "restricted-xml"},
	{"CDATA", `<a><![CDATA[x]]></a>`, ErrCDATA, "restricted-xml"},
	{"DTD", `<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`, ErrDTD, "restricted-xml"},
	{"markup declaration", `<a><!ENTITY e "x"></a>`, ErrDTD, "restricted-xml"},
	{"PI", `<a><?php x ?></a>`, ErrProcInst, "restricted-xml"},
	{"XML declaration in a frame", `<?xml version="1.0"?><a/>`, ErrProcInst, "restricted-xml"},
	{"undefined entity", `<a>&nbsp;</a>`, ErrEntity, "restricted-xml"},
	{"undefined entity in attribute", `<a x="&e;"/>`, ErrEntity, "restricted-xml"},
	{"entity case", `<a>&LT;</a>`, ErrEntity, "restricted-xml"},
	{"bare ampersand", `<a>fish & chips</a>`, ErrSyntax, "not-well-formed"},
	{"unterminated entity", `<a>&amp</a>`, ErrSyntax, "not-well-formed"},
	{"empty char ref", `<a>&#;</a>`, ErrSyntax, "not-well-formed"},
	{"empty hex char ref", `<a>&#x;</a>`, ErrSyntax, "not-well-formed"},
	{"bad digit in char ref", `<a>&#12a;</a>`, ErrSyntax, "not-well-formed"},
	{"uppercase X char ref", `<a>&#X41;</a>`, ErrSyntax, "not-well-formed"},
	{"char ref to NUL", `<a>&#0;</a>`, ErrInvalidChar, "not-well-formed"},
	{"char ref to control", `<a x="&#x1b;"/>`, ErrInvalidChar, "not-well-formed"},
	{"char ref to surrogate", `<a>&#xD800;</a>`, ErrInvalidChar, "not-well-formed"},
	{"char ref to FFFE", `<a>&#xFFFE;</a>`, ErrInvalidChar, "not-well-formed"},
	{"char ref beyond Unicode", `<a>&#x110000;</a>`, ErrInvalidChar, "not-well-formed"},
	{"huge char ref", `<a>&#99999999999999999999999999;</a>`, ErrInvalidChar, "not-well-formed"},
	{"mismatched end tag", `<a><b></a></b>`, ErrSyntax, "not-well-formed"},
	{"wrong end tag", `<a></b>`, ErrSyntax, "not-well-formed"},
	{"prefix mismatch", `<a:b></b>`, ErrSyntax, "not-well-formed"},
	{"unclosed", `<a><b/>`, ErrSyntax, "not-well-formed"},
	{"unclosed start tag", `<a x="1"`, ErrSyntax, "not-well-formed"},
	{"end tag only", `</a>`, ErrSyntax, "not-well-formed"},
	{"two roots", `<a/><b/>`, ErrSyntax, "not-well-formed"},
	{"trailing text", `<a/>x`, ErrSyntax, "not-well-formed"},
	{"leading text", `x<a/>`, ErrSyntax, "not-well-formed"},
	{"unquoted attribute", `<a x=1/>`, ErrSyntax, "not-well-formed"},
	{"attribute without value", `<a x/>`, ErrSyntax, "not-well-formed"},
	{"attribute without equals", `<a x "1"/>`, ErrSyntax, "not-well-formed"},
	{"duplicate attribute", `<a x="1" x='2'/>`, ErrSyntax, "not-well-formed"},
	{"duplicate xmlns", `<a xmlns="u:1" xmlns="u:1"/>`, ErrSyntax, "not-well-formed"},
	{"no space between attributes", `<a x="1"y="2"/>`, ErrSyntax, "not-well-formed"},
	{"lt in attribute", `<a x="<"/>`, ErrSyntax, "not-well-formed"},
	{"unterminated attribute", `<a x="1/>`, ErrSyntax, "not-well-formed"},
	{"space before name", `< a/>`, ErrSyntax, "not-well-formed"},
	{"empty name", `<>x</>`, ErrSyntax, "not-well-formed"},
	{"name with invalid char", `<a$b/>`, ErrSyntax, "not-well-formed"},
	{"attribute name invalid", `<a $="1"/>`, ErrSyntax, "not-well-formed"},
	{"slash then space", `<a/ >`, ErrSyntax, "not-well-formed"},
	{"slash inside tag", `<a / x="1">`, ErrSyntax, "not-well-formed"},
	{"lt in tag", `<a <b/>`, ErrSyntax, "not-well-formed"},
	{"cdata end in text", `<a>]]></a>`, ErrSyntax, "not-well-formed"},
	{"invalid UTF-8 in text", "<a>\xff</a>", ErrInvalidChar, "not-well-formed"},
	{"invalid UTF-8 in name", "<a\xc3\x28/>", ErrInvalidChar, "not-well-formed"},
	{"overlong UTF-8", "<a>\xc0\xbc</a>", ErrInvalidChar, "not-well-formed"},
	{"UTF-8 surrogate", "<a>\xed\xa0\x80</a>", ErrInvalidChar, "not-well-formed"},
	{"NUL in text", "<a>\x00</a>", ErrInvalidChar, "not-well-formed"},
	{"control in text", "<a>x\x1by</a>", ErrInvalidChar, "not-well-formed"},
	{"control in attribute", "<a x=\"\x01\"/>", ErrInvalidChar, "not-well-formed"},
	{"FFFF in text", "<a>\uFFFF</a>", ErrInvalidChar, "not-well-formed"},
	{"FFFE in attribute", "<a x='\uFFFE'/>", ErrInvalidChar, "not-well-formed"},
}

func TestParseRefusals(t *testing.T) {
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseElement([]byte(tt.in), Limits{})
			checkRefusal(t, e, err, tt.kind, tt.cond)
		})
	}
	for _, in := range []string{"", "   \n\t"} {
		_, err := ParseElement([]byte(in), Limits{})
		checkRefusal(t, nil, err, ErrSyntax, "not-well-formed")
	}
}

func checkRefusal(t *testing.T, e *Element, err error, kind error, cond string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, got %s", e)
	}
	if !errors.Is(err, kind) {
		t.Errorf("error %v is not %v", err, kind)
	}
	var xe *Error
	if !errors.As(err, &xe) {
		t.Fatalf("error %T is not *Error", err)
	}
	if got := StreamErrorCondition(err); got != cond {
		t.Errorf("condition = %q, want %q (%v)", got, cond, err)
	}
	if xe.Condition() != cond {
		t.Errorf("Error.Condition() = %q", xe.Condition())
	}
}

func TestParseErrorOffset(t *testing.T) {
	_, err := ParseElement([]byte("  <a><b>&bad;</b></a>"), Limits{})
	var xe *Error
	if !errors.As(err, &xe) || xe.Offset != 8 {
		t.Fatalf("err = %v, want offset 8", err)
	}
	if got, want := err.Error(), "xmpp: entity reference at offset 8: undefined entity"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	_, err = ParseElement([]byte("<a>\xff</a>"), Limits{})
	if !errors.As(err, &xe) || xe.Offset != 3 {
		t.Fatalf("err = %v, want offset 3", err)
	}
}

// nested returns depth nested elements: <e><e>...</e></e>.
func nested(depth int) string {
	return strings.Repeat("<e>", depth) + strings.Repeat("</e>", depth)
}

// withAttrs returns an element with n attributes.
func withAttrs(n int) string {
	var b strings.Builder
	b.WriteString("<e")
	for i := range n {
		b.WriteString(" a")
		b.WriteString(strings.Repeat("x", i))
		b.WriteString(`="v"`)
	}
	b.WriteString("/>")
	return b.String()
}

// sized returns an element of exactly n bytes (n >= 7): <e>xxx</e>.
func sized(n int) string {
	return "<e>" + strings.Repeat("x", n-7) + "</e>"
}

func TestParseLimits(t *testing.T) {
	lim := Limits{MaxStanzaBytes: 100, MaxDepth: 5, MaxAttrs: 3}
	tests := []struct {
		name string
		in   string
		kind error // nil: accepted
	}{
		{"size at limit", sized(100), nil},
		{"size at limit, surrounding space not counted", "  \n" + sized(100) + "\n ", nil},
		{"size over limit", sized(101), ErrTooLarge},
		{"depth at limit", nested(5), nil},
		{"depth over limit", nested(6), ErrTooDeep},
		{"depth over limit, self-closing", "<a><b><c><d><e><f/></e></d></c></b></a>", ErrTooDeep},
		{"attrs at limit", withAttrs(3), nil},
		{"attrs over limit", withAttrs(4), ErrTooManyAttrs},
		{"attrs over limit on a child", "<a><b x='1' y='2' z='3' w='4'/></a>", ErrTooManyAttrs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseElement([]byte(tt.in), lim)
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			checkRefusal(t, e, err, tt.kind, "policy-violation")
		})
	}
}

func TestDefaultLimits(t *testing.T) {
	if _, err := ParseElement([]byte(sized(DefaultMaxStanzaBytes)), Limits{}); err != nil {
		t.Errorf("default size: %v", err)
	}
	if _, err := ParseElement([]byte(sized(DefaultMaxStanzaBytes+1)), Limits{MaxStanzaBytes: -1}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("default size + 1: %v", err)
	}
	if _, err := ParseElement([]byte(nested(DefaultMaxDepth)), Limits{}); err != nil {
		t.Errorf("default depth: %v", err)
	}
	if _, err := ParseElement([]byte(nested(DefaultMaxDepth+1)), Limits{}); !errors.Is(err, ErrTooDeep) {
		t.Errorf("default depth + 1: %v", err)
	}
	if _, err := ParseElement([]byte(withAttrs(DefaultMaxAttrs)), Limits{}); err != nil {
		t.Errorf("default attrs: %v", err)
	}
	if _, err := ParseElement([]byte(withAttrs(DefaultMaxAttrs+1)), Limits{}); !errors.Is(err, ErrTooManyAttrs) {
		t.Errorf("default attrs + 1: %v", err)
	}
}

// A hostile frame must not make the parser allocate in proportion to what
// it merely counts before failing.
func TestParseHostileAllocation(t *testing.T) {
	in := []byte("<a><" + strings.Repeat("<", 60000) + ">")
	allocs := testing.AllocsPerRun(10, func() {
		if _, err := ParseElement(in, Limits{}); err == nil {
			t.Fatal("accepted")
		}
	})
	if allocs > 10 {
		t.Errorf("allocs = %v", allocs)
	}
	// Many elements still parse, across several slab chunks.
	many := "<r>" + strings.Repeat("<a x='1'>t</a>", 3000) + "</r>"
	e := mustParse(t, many)
	if len(e.Children) != 3000 || e.String() != strings.ReplaceAll(many, "'", `"`) {
		t.Error("many elements: bad round trip")
	}
}

func TestParseDoesNotRetainInput(t *testing.T) {
	b := []byte(`<a x="v">text</a>`)
	e, err := ParseElement(b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 'z'
	}
	if got := e.String(); got != `<a x="v">text</a>` {
		t.Errorf("result changed with input buffer: %s", got)
	}
}
