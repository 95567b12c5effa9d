package xmpp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// fuzzSeeds are the REALTIME.md examples and the refusal table: real
// traffic and its near misses.
func fuzzSeeds() []string {
	var seeds []string
	for _, ex := range realtimeExamples {
		seeds = append(seeds, ex.xml)
	}
	for _, r := range refusals {
		seeds = append(seeds, r.in)
	}
	return append(seeds,
		`<a x='1' y="&lt;&#65;&#x42;">t&amp;<b/>u</a>`,
		"<b>a\rb\tc\n</b>",
		`<ключ атрибут="значение">текст</ключ>`,
		nested(8), withAttrs(8),
	)
}

// roundTrip checks that e encodes to something that parses back to an
// equal element which encodes identically.
func roundTrip(t *testing.T, e *Element, lim Limits) {
	t.Helper()
	enc := e.AppendXML(nil)
	// Escaping may grow the encoding past the size limit; the property is
	// about content, not size.
	lim.MaxStanzaBytes = 8 * (len(enc) + 1)
	back, err := ParseElement(enc, lim)
	if err != nil {
		t.Fatalf("re-parse of %q: %v", enc, err)
	}
	if !back.Equal(e) {
		t.Fatalf("re-parse differs:\n%q\n%q", enc, back.AppendXML(nil))
	}
	if enc2 := back.AppendXML(nil); !bytes.Equal(enc, enc2) {
		t.Fatalf("re-encode differs:\n%q\n%q", enc, enc2)
	}
}

// fuzzLimits are small, so that the limit paths are reached often.
var fuzzLimits = Limits{MaxStanzaBytes: 4096, MaxDepth: 8, MaxAttrs: 8}

func FuzzParseElement(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseElement(b, fuzzLimits)
		if err != nil {
			if e != nil {
				t.Fatal("element and error")
			}
			if StreamErrorCondition(err) == "" {
				t.Fatalf("error without condition: %v", err)
			}
			return
		}
		roundTrip(t, e, fuzzLimits)
		if !e.Clone().Equal(e) {
			t.Fatal("clone differs")
		}
	})
}

func FuzzDecoder(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Add([]byte(tcpTranscript[strings.Index(tcpTranscript, "<auth"):]))
	f.Add([]byte("<presence/> \n <iq type='get'><ping xmlns='urn:xmpp:ping'/></iq></stream:stream>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		in := tcpHeader + string(b)
		whole := decodeAll(t, strings.NewReader(in))
		// Chunking must not change anything: same events, same error.
		bytewise := decodeAll(t, iotest.OneByteReader(strings.NewReader(in)))
		if len(whole) != len(bytewise) {
			t.Fatalf("one-byte reads: %d events, whole: %d", len(bytewise), len(whole))
		}
		for i := range whole {
			if whole[i] != bytewise[i] {
				t.Fatalf("event %d differs:\n%s\n%s", i, whole[i], bytewise[i])
			}
		}
	})
}

// decodeAll decodes a stream, checks every stanza's round trip, and
// returns a line per event plus the final error's condition.
func decodeAll(t *testing.T, r io.Reader) []string {
	d := NewDecoder(r, fuzzLimits)
	var out []string
	for {
		ev, err := d.Next()
		if err != nil {
			if err != io.EOF && err != io.ErrUnexpectedEOF && StreamErrorCondition(err) == "" {
				t.Fatalf("error without condition: %v", err)
			}
			var xe *Error
			if errors.As(err, &xe) {
				return append(out, xe.Error())
			}
			return append(out, err.Error())
		}
		switch ev.Kind {
		case StreamOpen:
			if ev.Element == nil || len(ev.Element.Children) != 0 {
				t.Fatal("bad StreamOpen")
			}
			out = append(out, "open "+ev.Element.String())
		case Stanza:
			roundTrip(t, ev.Element, fuzzLimits)
			out = append(out, ev.Element.String())
		case StreamClose:
			out = append(out, "close")
		default:
			t.Fatalf("bad event kind %d", ev.Kind)
		}
		if len(out) > 10000 {
			t.Fatal("too many events")
		}
	}
}

func FuzzParseJID(f *testing.F) {
	for _, s := range []string{
		"29085-1@chat.example.com/pk3QZ8vT0aLr6wYx2cNe",
		"1_65a1f0c2e4b0a1b2c3d4e5f7@muc.chat.example.com/29085",
		"chat.example.com", "[::1]", "User@Example.COM./r/s",
		"ñ@例え.jp/ресурс", "a@b@c", "@x", "x/", "a..b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := ParseJID(s)
		if err != nil {
			if !errors.Is(err, ErrJIDMalformed) {
				t.Fatalf("error %v is not ErrJIDMalformed", err)
			}
			return
		}
		if j.Domain == "" || len(j.Local) > MaxJIDPartBytes || len(j.Domain) > MaxJIDPartBytes || len(j.Resource) > MaxJIDPartBytes {
			t.Fatalf("bad parts: %#v", j)
		}
		str := j.String()
		if len(str) > MaxJIDBytes {
			t.Fatalf("too long: %d", len(str))
		}
		j2, err := ParseJID(str)
		if err != nil || j2 != j {
			t.Fatalf("re-parse of %q: %#v, %v; want %#v", str, j2, err, j)
		}
		if b, err := ParseJID(j.Bare().String()); err != nil || b != j.Bare() {
			t.Fatalf("bare re-parse: %#v, %v", b, err)
		}
		// A JID is always safe in an attribute value.
		e := NewElement("message", "to", str)
		back, err := ParseElement(e.AppendXML(nil), Limits{})
		if err != nil || back.Attr("to") != str {
			t.Fatalf("JID does not survive an attribute: %v", err)
		}
		if u, a, ok := ParseUserLocal(j.Local); ok && UserJID(u, a, j.Domain).Local != j.Local {
			t.Fatalf("user local round trip: %q", j.Local)
		}
		if a, d, ok := ParseRoomLocal(j.Local); ok && RoomJID(a, d, "x").Local != j.Local {
			t.Fatalf("room local round trip: %q", j.Local)
		}
	})
}
