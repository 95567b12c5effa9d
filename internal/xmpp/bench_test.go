package xmpp

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// compactCopy is the §6.3 delivered copy as the SDK and Parley put it on
// the wire: no indentation.
const compactCopy = `<message xmlns="jabber:client" from="29085-1@chat.example.com/pk3QZ8vT0aLr6wYx2cNe" to="29086-1@chat.example.com" type="chat" id="65a1f3d9c81a4f0e2b000000"><body>How are you today?</body><extraParams xmlns="jabber:client"><save_to_history>1</save_to_history><dialog_id>65a1f0c2e4b0a1b2c3d4e5f6</dialog_id><date_sent>1705311705</date_sent></extraParams></message>`

func BenchmarkParseElement(b *testing.B) {
	for _, bc := range []struct{ name, xml string }{
		{"delivered", compactCopy},
		{"delivered-indented", deliveredCopy},
		{"sdk-extension", sdkWireMessage},
	} {
		in := []byte(bc.xml)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := ParseElement(in, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendXML(b *testing.B) {
	e := mustParse(b, compactCopy)
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(compactCopy)))
	for b.Loop() {
		buf = e.AppendXML(buf[:0])
	}
}

func BenchmarkWriteTo(b *testing.B) {
	e := mustParse(b, compactCopy)
	b.ReportAllocs()
	b.SetBytes(int64(len(compactCopy)))
	for b.Loop() {
		e.WriteTo(io.Discard) //nolint:errcheck
	}
}

// loopReader replays one stream header and then the same stanza forever.
type loopReader struct {
	head, body []byte
	pos        int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := 0
	if len(r.head) > 0 {
		n = copy(p, r.head)
		r.head = r.head[n:]
	}
	for n < len(p) {
		c := copy(p[n:], r.body[r.pos:])
		n += c
		r.pos = (r.pos + c) % len(r.body)
	}
	return n, nil
}

func BenchmarkDecoder(b *testing.B) {
	body := []byte(compactCopy + "\n")
	d := NewDecoder(&loopReader{head: []byte(tcpHeader), body: body}, Limits{})
	if _, err := d.Next(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := d.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseJID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseJID("29085-1@chat.example.com/pk3QZ8vT0aLr6wYx2cNe"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCompactCopy(t *testing.T) {
	// The same stanza as deliveredCopy without the indentation.
	if got := mustParse(t, compactCopy).String(); got != compactCopy {
		t.Errorf("round trip: %s", got)
	}
	var buf bytes.Buffer
	mustParse(t, compactCopy).WriteTo(&buf) //nolint:errcheck
	if buf.String() != compactCopy {
		t.Error("WriteTo differs")
	}
	stripped := mustParse(t, deliveredCopy)
	var strip func(e *Element)
	strip = func(e *Element) {
		kids := e.Children[:0:0]
		for _, n := range e.Children {
			if n.Elem != nil {
				strip(n.Elem)
				kids = append(kids, n)
			} else if strings.TrimSpace(n.Text) != "" {
				kids = append(kids, n)
			}
		}
		e.Children = kids
	}
	strip(stripped)
	if !stripped.Equal(mustParse(t, compactCopy)) {
		t.Errorf("compactCopy is not deliveredCopy: %s", stripped)
	}
}
