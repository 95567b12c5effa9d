package xmpp

import (
	"io"
	"strings"
	"unicode/utf8"
)

// AppendXML appends the serialization of e to buf and returns the extended
// buffer. The output is exact and canonical:
//
//   - attributes in order, each as name="value";
//   - an element without children is written self-closing (<x/>);
//   - in text, &, < and > are escaped and CR is written &#xD;;
//   - in attribute values, &, <, >, " and ' are escaped and TAB, LF and CR
//     are written as character references, so that any XML parser reads
//     back the same value;
//   - characters XML cannot carry (C0 controls other than TAB, LF and CR,
//     U+FFFE, U+FFFF, bytes that are not UTF-8) are replaced with U+FFFD;
//   - a name that is not ValidName has each offending character replaced
//     with '_' (an empty name becomes "_"), so the output is always
//     well-formed.
//
// Whatever ParseElement accepts, AppendXML writes back so that ParseElement
// returns an equal Element. AppendXML uses no reflection and, when buf has
// enough capacity, does not allocate.
func (e *Element) AppendXML(buf []byte) []byte {
	buf = e.AppendStart(buf, len(e.Children) == 0)
	if len(e.Children) == 0 {
		return buf
	}
	for i := range e.Children {
		if c := e.Children[i].Elem; c != nil {
			buf = c.AppendXML(buf)
		} else {
			buf = appendText(buf, e.Children[i].Text)
		}
	}
	return e.AppendEnd(buf)
}

// AppendStart appends the start tag of e (name and attributes, not the
// children) to buf. With selfClose the tag is written <x .../>. The stream
// engine uses AppendStart(buf, false) to write an RFC 6120 stream header,
// which stays open.
func (e *Element) AppendStart(buf []byte, selfClose bool) []byte {
	buf = append(buf, '<')
	buf = appendName(buf, e.Name)
	for i := range e.Attrs {
		buf = append(buf, ' ')
		buf = appendName(buf, e.Attrs[i].Name)
		buf = append(buf, '=', '"')
		buf = appendAttrValue(buf, e.Attrs[i].Value)
		buf = append(buf, '"')
	}
	if selfClose {
		return append(buf, '/', '>')
	}
	return append(buf, '>')
}

// AppendEnd appends the end tag of e (</name>) to buf.
func (e *Element) AppendEnd(buf []byte) []byte {
	buf = append(buf, '<', '/')
	buf = appendName(buf, e.Name)
	return append(buf, '>')
}

// WriteTo writes the serialization of e (see AppendXML) to w in one Write
// call. It implements io.WriterTo.
func (e *Element) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(e.Encode())
	return int64(n), err
}

// sizeHint returns the length of the serialization of e when nothing needs
// escaping.
func (e *Element) sizeHint() int {
	n := 2*len(e.Name) + 5
	for i := range e.Attrs {
		n += len(e.Attrs[i].Name) + len(e.Attrs[i].Value) + 4
	}
	for i := range e.Children {
		if c := e.Children[i].Elem; c != nil {
			n += c.sizeHint()
		} else {
			n += len(e.Children[i].Text)
		}
	}
	return n
}

// Encode returns the serialization of e (see AppendXML) in a buffer sized
// for it up front: a stanza is encoded for every copy delivered, and
// growing the buffer from empty allocated several times per stanza.
func (e *Element) Encode() []byte {
	n := e.sizeHint()
	return e.AppendXML(make([]byte, 0, n+n/8))
}

// String returns the serialization of e (see AppendXML).
func (e *Element) String() string {
	return string(e.Encode())
}

// appendName appends a name verbatim when valid and sanitized otherwise.
func appendName(buf []byte, name string) []byte {
	i := 0
	for i < len(name) && name[i] < utf8.RuneSelf && nameByte[name[i]] {
		i++
	}
	if i == len(name) && i > 0 {
		return append(buf, name...)
	}
	if ValidName(name) {
		return append(buf, name...)
	}
	if name == "" {
		return append(buf, '_')
	}
	for j := 0; j < len(name); {
		n := nameLen(name[j:])
		buf = append(buf, name[j:j+n]...)
		j += n
		if j < len(name) {
			_, size := utf8.DecodeRuneInString(name[j:])
			buf = append(buf, '_')
			j += size
		}
	}
	return buf
}

// appendText appends character data, escaped for element content.
func appendText(buf []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if !textEsc[c] {
			i++
			continue
		}
		var esc string
		width := 1
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;"
		case 0xEF:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != 0xFFFE && r != 0xFFFF {
				i += size
				continue
			}
			esc, width = "\uFFFD", size
		default: // a control character XML cannot carry
			esc = "\uFFFD"
		}
		buf = append(buf, s[last:i]...)
		buf = append(buf, esc...)
		i += width
		last = i
	}
	return append(buf, s[last:]...)
}

// appendAttrValue appends an attribute value, escaped for a double-quoted
// attribute.
func appendAttrValue(buf []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if !attrEsc[c] {
			i++
			continue
		}
		var esc string
		width := 1
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&quot;"
		case '\'':
			esc = "&apos;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		case 0xEF:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != 0xFFFE && r != 0xFFFF {
				i += size
				continue
			}
			esc, width = "\uFFFD", size
		default:
			esc = "\uFFFD"
		}
		buf = append(buf, s[last:i]...)
		buf = append(buf, esc...)
		i += width
		last = i
	}
	return append(buf, s[last:]...)
}
