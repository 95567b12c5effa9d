package xmpp

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestEncode(t *testing.T) {
	tests := []struct {
		name string
		e    *Element
		want string
	}{
		{"empty", NewElement("a"), `<a/>`},
		{"attrs in order", NewElement("a", "z", "1", "a", "2", "xmlns", "u:x", "xml:lang", "en"), `<a z="1" a="2" xmlns="u:x" xml:lang="en"/>`},
		{"attr escapes", NewElement("a", "v", "&<>\"'\t\n\r x"), `<a v="&amp;&lt;&gt;&quot;&apos;&#x9;&#xA;&#xD; x"/>`},
		{"text escapes", textEl("b", "&<>\"'\t\n\r x"), "<b>&amp;&lt;&gt;\"'\t\n&#xD; x</b>"},
		{"controls replaced", textEl("b", "a\x00b\x1fc\x7f"), "<b>a\uFFFDb\uFFFDc\x7f</b>"},
		{"noncharacters replaced", textEl("b", "x\uFFFEy\uFFFFz\uFFFD\uF8FF"), "<b>x\uFFFDy\uFFFDz\uFFFD\uF8FF</b>"},
		{"invalid UTF-8 replaced", textEl("b", "a\xffb\xc3"), "<b>a\uFFFDb\uFFFD</b>"},
		{"attr invalid UTF-8", NewElement("a", "v", "\xff\x01\uFFFF"), "<a v=\"\uFFFD\uFFFD\uFFFD\"/>"},
		{"non-ASCII kept", textEl("b", "Grüße 👋 日本"), "<b>Grüße 👋 日本</b>"},
		{"digit names", tree("dates", tree("0", "2024-02-01"), tree("1", "2024-02-03")), `<dates><0>2024-02-01</0><1>2024-02-03</1></dates>`},
		{"element named xmlns", tree("x", tree("xmlns", tree("code", "110"))), `<x><xmlns><code>110</code></xmlns></x>`},
		{"prefixed", NewElement("stream:error", "xmlns:stream", NSStream), `<stream:error xmlns:stream="http://etherx.jabber.org/streams"/>`},
		{"invalid names sanitized", NewElement("a b<c", "x y", "1", "", "2"), `<a_b_c x_y="1" _="2"/>`},
		{"empty name", NewElement(""), `<_/>`},
		{"invalid non-ASCII name", NewElement("a\u00d7b\xff"), `<a_b_/>`},
		{"valid non-ASCII name", NewElement("ключ"), `<ключ/>`},
		{"empty text child", &Element{Name: "a", Children: []Node{{}}}, `<a></a>`},
		{"mixed", tree("p", "a", tree("b"), "c"), `<p>a<b/>c</p>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(tt.e.AppendXML(nil)); got != tt.want {
				t.Errorf("AppendXML = %q\nwant        %q", got, tt.want)
			}
			prefix := []byte("prefix")
			if got := string(tt.e.AppendXML(prefix)); got != "prefix"+tt.want {
				t.Errorf("AppendXML(prefix) = %q", got)
			}
			var w bytes.Buffer
			n, err := tt.e.WriteTo(&w)
			if err != nil || n != int64(len(tt.want)) || w.String() != tt.want {
				t.Errorf("WriteTo = %d, %v, %q", n, err, w.String())
			}
			// Whatever the encoder writes, the parser reads.
			if _, err := ParseElement([]byte(tt.want), Limits{}); err != nil {
				t.Errorf("output does not parse: %v", err)
			}
		})
	}
}

func TestAppendStartEnd(t *testing.T) {
	h := NewElement("stream:stream", "xmlns", NSClient, "xmlns:stream", NSStream, "from", "chat.example.com", "id", "c2s-1", "version", "1.0", "xml:lang", "en")
	got := string(h.AppendEnd(h.AppendStart([]byte("<?xml version='1.0'?>"), false)))
	want := `<?xml version='1.0'?><stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" from="chat.example.com" id="c2s-1" version="1.0" xml:lang="en"></stream:stream>`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := string(NewElement("a", "x", "1").AppendStart(nil, true)); got != `<a x="1"/>` {
		t.Errorf("self-closing start: %s", got)
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("boom") }

func TestWriteToError(t *testing.T) {
	if _, err := NewElement("a").WriteTo(errWriter{}); err == nil || err.Error() != "boom" {
		t.Errorf("WriteTo error = %v", err)
	}
}

func TestValidName(t *testing.T) {
	for _, s := range []string{"a", "0", "123", "stream:stream", "xml:lang", "a-b.c_d", "ключ", "日本", "-", ".", ":", "a\u00b7b", "😀"} {
		if !ValidName(s) {
			t.Errorf("ValidName(%q) = false", s)
		}
	}
	for _, s := range []string{"", "a b", "a>", "a/b", "a=b", "a\"", "a\x00", "\xff", "a\u00d7", "a\u2028"} {
		if ValidName(s) {
			t.Errorf("ValidName(%q) = true", s)
		}
	}
}

func TestEncodeNoAllocs(t *testing.T) {
	e := mustParse(t, deliveredCopy)
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() { buf = e.AppendXML(buf[:0]) })
	if allocs != 0 {
		t.Errorf("AppendXML allocs = %v, want 0", allocs)
	}
	if !strings.HasPrefix(string(buf), "<message") {
		t.Error("bad output")
	}
}

// textEl returns <name>text</name>.
func textEl(name, text string) *Element {
	e := NewElement(name)
	e.AppendText(text)
	return e
}

// tree builds an element from children given as *Element or string.
func tree(name string, kids ...any) *Element {
	e := NewElement(name)
	for _, k := range kids {
		switch k := k.(type) {
		case *Element:
			e.AppendChild(k)
		case string:
			e.AppendText(k)
		}
	}
	return e
}
