package xmpp

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

const tcpHeader = `<stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" version="1.0" to="chat.example.com">`

// A full client stream over TCP: declaration, header, stanzas with
// whitespace keep-alives between them, a stream restart without a
// declaration, the close.
var tcpTranscript = "<?xml version='1.0' encoding='UTF-8'?>\n" + tcpHeader + "\n" +
	`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">ADI5MDg1LTEAYXdlc29tZXB3ZA==</auth>` +
	" \n\t \r\n " +
	tcpHeader +
	`<iq type="set" id="8v5pn5npxx"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>` +
	"\n\n\n" +
	`<presence/>` + " " + `<presence/>` +
	sdkWireMessage +
	` ` + `<message to='a@b' xml:lang="en"><body>x &lt; y &amp;&#x20;z</body></message>` +
	"<r><0>a</0></r>" +
	"\n </stream:stream >"

// tcpEvents is what the transcript decodes to, one line per event.
var tcpEvents = []string{
	"StreamOpen " + tcpHeader[:len(tcpHeader)-1] + "/>",
	`Stanza <auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">ADI5MDg1LTEAYXdlc29tZXB3ZA==</auth>`,
	"StreamOpen " + tcpHeader[:len(tcpHeader)-1] + "/>",
	`Stanza <iq type="set" id="8v5pn5npxx"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`,
	`Stanza <presence/>`,
	`Stanza <presence/>`,
	"Stanza " + sdkWireMessage,
	`Stanza <message to="a@b" xml:lang="en"><body>x &lt; y &amp; z</body></message>`,
	"Stanza <r><0>a</0></r>",
	"StreamClose",
	"EOF",
}

// collect decodes r to the end, one line per event, and the final error.
func collect(r io.Reader, lim Limits) []string {
	d := NewDecoder(r, lim)
	var out []string
	for i := 0; i < 1000; i++ {
		ev, err := d.Next()
		switch {
		case errors.Is(err, io.EOF):
			return append(out, "EOF")
		case err != nil:
			return append(out, "error "+err.Error())
		case ev.Element != nil:
			out = append(out, ev.Kind.String()+" "+ev.Element.String())
		default:
			out = append(out, ev.Kind.String())
		}
	}
	return append(out, "too many events")
}

func checkEvents(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDecoderTranscript(t *testing.T) {
	checkEvents(t, collect(strings.NewReader(tcpTranscript), Limits{}), tcpEvents)
}

func TestDecoderOneByteAtATime(t *testing.T) {
	checkEvents(t, collect(iotest.OneByteReader(strings.NewReader(tcpTranscript)), Limits{}), tcpEvents)
	checkEvents(t, collect(iotest.HalfReader(strings.NewReader(tcpTranscript)), Limits{}), tcpEvents)
	checkEvents(t, collect(iotest.DataErrReader(strings.NewReader(tcpTranscript)), Limits{}), tcpEvents)
}

// splitReader returns s in two reads: s[:k] then s[k:].
type splitReader struct {
	parts []string
}

func (r *splitReader) Read(p []byte) (int, error) {
	for len(r.parts) > 0 && r.parts[0] == "" {
		r.parts = r.parts[1:]
	}
	if len(r.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.parts[0])
	r.parts[0] = r.parts[0][n:]
	return n, nil
}

func TestDecoderEverySplit(t *testing.T) {
	for k := 0; k <= len(tcpTranscript); k++ {
		got := collect(&splitReader{parts: []string{tcpTranscript[:k], tcpTranscript[k:]}}, Limits{})
		if strings.Join(got, "\n") != strings.Join(tcpEvents, "\n") {
			t.Fatalf("split at %d (%q | %q):\n%s", k, tcpTranscript[max(0, k-10):k], tcpTranscript[k:min(k+10, len(tcpTranscript))], strings.Join(got, "\n"))
		}
	}
}

func TestDecoderRestartWithDeclaration(t *testing.T) {
	in := tcpHeader + `<auth/>` + `<?xml version="1.0"?>` + tcpHeader + `<presence/>`
	d := NewDecoder(strings.NewReader(in), Limits{})
	var got []string
	for {
		ev, err := d.Next()
		if err != nil {
			got = append(got, err.Error())
			break
		}
		got = append(got, ev.Kind.String())
		if ev.Kind == Stanza && ev.Element.Name == "auth" {
			d.Restart() // what the engine does after <success/>
		}
	}
	checkEvents(t, got, []string{"StreamOpen", "Stanza", "StreamOpen", "Stanza", "unexpected EOF"})

	// Without Restart the declaration is a refused processing instruction.
	got = collect(strings.NewReader(in), Limits{})
	if len(got) != 3 || !strings.HasPrefix(got[2], "error xmpp: processing instruction") {
		t.Errorf("without Restart: %q", got)
	}
}

func TestDecoderEnd(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", []string{"EOF"}},
		{"whitespace only", " \n", []string{"EOF"}},
		{"declaration only", "<?xml version='1.0'?>", []string{"error unexpected EOF"}},
		{"inside header", "<stream:stream to='x'", []string{"error unexpected EOF"}},
		{"inside stream", tcpHeader + "<presence/> ", []string{"StreamOpen", "Stanza", "error unexpected EOF"}},
		{"inside stanza", tcpHeader + "<message><body>hi", []string{"StreamOpen", "error unexpected EOF"}},
		{"inside end tag", tcpHeader + "</stream:str", []string{"StreamOpen", "error unexpected EOF"}},
		{"self-closing header", "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>", []string{"StreamOpen", "StreamClose", "EOF"}},
		{"data after close is not read", tcpHeader + "</stream:stream><garbage", []string{"StreamOpen", "StreamClose", "EOF"}},
		{"BOM", "\uFEFF<?xml version='1.0'?>" + tcpHeader + "</stream:stream>", []string{"StreamOpen", "StreamClose", "EOF"}},
		{"websocket open as header", `<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="x" version="1.0"/>`, []string{"StreamOpen", "StreamClose", "EOF"}},
		{"encoding utf8 lower case", "<?xml version='1.0' encoding='utf-8' ?>" + tcpHeader, []string{"StreamOpen", "error unexpected EOF"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := collect(strings.NewReader(tt.in), Limits{})
			for i := range got {
				if j := strings.IndexByte(got[i], ' '); j > 0 && !strings.HasPrefix(got[i], "error") {
					got[i] = got[i][:j]
				}
			}
			checkEvents(t, got, tt.want)
		})
	}
}

func TestDecoderStreamLevelRefusals(t *testing.T) {
	tests := []struct {
		name string
		in   string
		kind error
		cond string
	}{
		{"text before header", "hello" + tcpHeader, ErrSyntax, "not-well-formed"},
		{"HTTP request", "GET / HTTP/1.1\r\n", ErrSyntax, "not-well-formed"},
		{"DOCTYPE before header", "<!DOCTYPE stream>" + tcpHeader, ErrDTD, "restricted-xml"},
		{"comment before header", "<!-- x -->" + tcpHeader, ErrComment, "restricted-xml"},
		{"end tag before header", "</stream:stream>", ErrSyntax, "not-well-formed"},
		{"two declarations", "<?xml version='1.0'?><?xml version='1.0'?>" + tcpHeader, ErrProcInst, "restricted-xml"},
		{"PI before header", "<?xml-stylesheet href='x'?>" + tcpHeader, ErrProcInst, "restricted-xml"},
		{"PI named xmlfoo", "<?xmlfoo?>" + tcpHeader, ErrProcInst, "restricted-xml"},
		{"empty PI", "<?>" + tcpHeader, ErrProcInst, "restricted-xml"},
		{"bad declaration", "<?xml version=1.0?>" + tcpHeader, ErrSyntax, "not-well-formed"},
		{"declaration encoding", "<?xml version='1.0' encoding='ISO-8859-1'?>" + tcpHeader, ErrEncoding, "unsupported-encoding"},
		{"bad BOM", "\xef\xbb" + tcpHeader, ErrSyntax, "not-well-formed"},
		{"bad header attribute", `<stream:stream to=x>`, ErrSyntax, "not-well-formed"},
		{"header invalid UTF-8", "<stream:stream to='\xff'>", ErrInvalidChar, "not-well-formed"},
		{"header name", "< stream>", ErrSyntax, "not-well-formed"},
		{"text between stanzas", tcpHeader + "<presence/>hello<presence/>", ErrStreamText, "invalid-xml"},
		{"text after header", tcpHeader + "x", ErrStreamText, "invalid-xml"},
		{"comment between stanzas", tcpHeader + "<presence/><!-- x --><presence/>", ErrComment, "restricted-xml"},
		{"CDATA between stanzas", tcpHeader + "<![CDATA[x]]>", ErrCDATA, "restricted-xml"},
		{"DTD inside stream", tcpHeader + "<!ENTITY x 'y'>", ErrDTD, "restricted-xml"},
		{"truncated bang", tcpHeader + "<!", ErrDTD, "restricted-xml"},
		{"PI between stanzas", tcpHeader + "<?php ?>", ErrProcInst, "restricted-xml"},
		{"wrong stream end tag", tcpHeader + "</stream:strean>", ErrSyntax, "not-well-formed"},
		{"stream end tag with attribute", tcpHeader + "</stream:stream x='1'>", ErrSyntax, "not-well-formed"},
		{"unmatched end tag in stanza", tcpHeader + "<a></stream:stream>", ErrSyntax, "not-well-formed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in))} {
				d := NewDecoder(r, Limits{})
				var err error
				for err == nil {
					_, err = d.Next()
				}
				checkRefusal(t, nil, err, tt.kind, tt.cond)
				// Errors are sticky.
				if _, err2 := d.Next(); err2 != err {
					t.Errorf("second Next = %v, want the same error", err2)
				}
			}
		})
	}
}

// Every refusal of ParseElement, sent as a stanza, is refused by the
// Decoder too (a few mean something else at stream level).
func TestDecoderRefusals(t *testing.T) {
	differs := map[string]error{
		"two roots":              nil, // two stanzas
		"trailing text":          ErrStreamText,
		"leading text":           ErrStreamText,
		"unclosed":               io.ErrUnexpectedEOF,
		"unclosed start tag":     io.ErrUnexpectedEOF,
		"unterminated attribute": io.ErrUnexpectedEOF,
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			want, ok := differs[tt.name]
			if !ok {
				want = tt.kind
			}
			d := NewDecoder(iotest.OneByteReader(strings.NewReader(tcpHeader+tt.in)), Limits{})
			var err error
			for err == nil {
				_, err = d.Next()
			}
			switch {
			case want == nil:
				if err != io.ErrUnexpectedEOF {
					t.Errorf("err = %v, want only unexpected EOF", err)
				}
			case want == io.ErrUnexpectedEOF || want == ErrStreamText:
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want %v", err, want)
				}
			default:
				checkRefusal(t, nil, err, tt.kind, tt.cond)
			}
		})
	}
}

func TestDecoderErrorOffset(t *testing.T) {
	d := NewDecoder(strings.NewReader(tcpHeader+"<presence/><a>&x;</a>"), Limits{})
	var err error
	for err == nil {
		_, err = d.Next()
	}
	var xe *Error
	if !errors.As(err, &xe) || xe.Offset != int64(len(tcpHeader)+len("<presence/><a>")) {
		t.Errorf("err = %v, want offset %d", err, len(tcpHeader)+len("<presence/><a>"))
	}
}

func TestDecoderLimits(t *testing.T) {
	lim := Limits{MaxStanzaBytes: 100, MaxDepth: 5, MaxAttrs: 3}
	hdr := "<s:s xmlns:s='http://etherx.jabber.org/streams'>" // 49 bytes
	tests := []struct {
		name string
		in   string
		kind error // nil: accepted
	}{
		{"size at limit", hdr + sized(100) + "  " + sized(100), nil},
		{"size over limit", hdr + sized(100) + sized(101), ErrTooLarge},
		{"size over limit, self-closing", hdr + "<e" + strings.Repeat(" ", 97) + "/>", ErrTooLarge},
		{"size over limit inside attribute", hdr + "<e a='" + strings.Repeat("x", 200) + "'/>", ErrTooLarge},
		{"header at limit", "<s:s xmlns:s='" + strings.Repeat("x", 100-16) + "'>", nil},
		{"header over limit", "<s:s xmlns:s='" + strings.Repeat("x", 101-16) + "'>", ErrTooLarge},
		{"declaration over limit", "<?xml version='" + strings.Repeat("1", 100) + "'?>" + hdr, ErrTooLarge},
		{"end tag over limit", hdr + "</s:s" + strings.Repeat(" ", 100) + ">", ErrTooLarge},
		{"depth at limit", hdr + nested(5), nil},
		{"depth over limit", hdr + nested(6), ErrTooDeep},
		{"attrs at limit", hdr + withAttrs(3), nil},
		{"attrs over limit", hdr + withAttrs(4), ErrTooManyAttrs},
		{"header attrs over limit", "<s:s a='1' b='2' c='3' d='4'>", ErrTooManyAttrs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in))} {
				d := NewDecoder(r, lim)
				var err error
				for err == nil {
					_, err = d.Next()
				}
				if tt.kind == nil {
					if err != io.ErrUnexpectedEOF {
						t.Fatalf("refused: %v", err)
					}
					continue
				}
				checkRefusal(t, nil, err, tt.kind, "policy-violation")
			}
		})
	}
}

// endless yields a prefix, then the same byte forever.
type endless struct {
	prefix string
	fill   byte
	n      int64 // bytes returned
}

func (r *endless) Read(p []byte) (int, error) {
	n := copy(p, r.prefix)
	r.prefix = r.prefix[n:]
	for i := n; i < len(p); i++ {
		p[i] = r.fill
	}
	r.n += int64(len(p))
	return len(p), nil
}

// A stanza that never ends is refused once it passes the limit, without
// reading (or buffering) much more than the limit.
func TestDecoderBounded(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		fill   byte
		kind   error
	}{
		{"endless text", tcpHeader + "<message><body>", 'x', ErrTooLarge},
		{"endless attribute", tcpHeader + "<message to='", 'x', ErrTooLarge},
		{"endless name", tcpHeader + "<m", 'x', ErrTooLarge},
		{"endless nesting", tcpHeader + "<a>", '<', ErrSyntax},
		{"endless header", "<stream:stream ", ' ', ErrTooLarge},
		{"endless declaration", "<?xml ", ' ', ErrTooLarge},
	}
	lim := Limits{MaxStanzaBytes: 10000}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &endless{prefix: tt.prefix, fill: tt.fill}
			d := NewDecoder(r, lim)
			var err error
			for err == nil {
				_, err = d.Next()
			}
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want %v", err, tt.kind)
			}
			if limit := int64(len(tt.prefix) + lim.MaxStanzaBytes + 2*readBufferSize); r.n > limit {
				t.Errorf("read %d bytes, more than %d", r.n, limit)
			}
		})
	}
	// Deep nesting is refused at the first element past the limit.
	r := &endless{prefix: tcpHeader + strings.Repeat("<a>", 40)}
	d := NewDecoder(r, Limits{})
	d.Next()
	if _, err := d.Next(); !errors.Is(err, ErrTooDeep) {
		t.Errorf("nesting: %v", err)
	}
}

// Whitespace keep-alives cost nothing and produce no events.
func TestDecoderKeepAlives(t *testing.T) {
	in := tcpHeader + strings.Repeat(" ", 100000) + "<presence/>" + strings.Repeat("\n", 100000) + "</stream:stream>"
	got := collect(strings.NewReader(in), Limits{MaxStanzaBytes: 200})
	if len(got) != 4 || got[1] != "Stanza <presence/>" || got[2] != "StreamClose" {
		t.Errorf("events: %q", got)
	}
}

func TestDecoderReset(t *testing.T) {
	d := NewDecoder(strings.NewReader(tcpHeader+"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"), Limits{})
	for range 2 {
		if _, err := d.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if d.Buffered() != 0 {
		t.Errorf("Buffered = %d after starttls", d.Buffered())
	}
	if d.InputOffset() != int64(len(tcpHeader)+len("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")) {
		t.Errorf("InputOffset = %d", d.InputOffset())
	}
	// An error, then Reset on a new reader (what STARTTLS does).
	d = NewDecoder(strings.NewReader("garbage"), Limits{})
	if _, err := d.Next(); err == nil {
		t.Fatal("garbage accepted")
	}
	d.Reset(strings.NewReader("<?xml version='1.0'?>" + tcpHeader + "<presence/>"))
	var kinds []string
	for {
		ev, err := d.Next()
		if err != nil {
			kinds = append(kinds, err.Error())
			break
		}
		kinds = append(kinds, ev.Kind.String())
	}
	checkEvents(t, kinds, []string{"StreamOpen", "Stanza", "unexpected EOF"})
	if got := EventKind(9).String(); got != "EventKind(?)" {
		t.Errorf("String = %q", got)
	}
}

// The header element carries the attributes as sent, for the engine to
// check (namespace, version, to).
func TestDecoderHeaderElement(t *testing.T) {
	d := NewDecoder(strings.NewReader(`<stream:stream
  xmlns='jabber:client' xmlns:stream="http://etherx.jabber.org/streams"
  to='chat.example.com' version='1.0' xml:lang='en'>`), Limits{})
	ev, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	e := ev.Element
	got := fmt.Sprintf("%s ns=%s stream=%s to=%s version=%s lang=%s children=%d", e.Name, e.Attr("xmlns"), e.Attr("xmlns:stream"), e.Attr("to"), e.Attr("version"), e.Attr("xml:lang"), len(e.Children))
	want := "stream:stream ns=jabber:client stream=http://etherx.jabber.org/streams to=chat.example.com version=1.0 lang=en children=0"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
