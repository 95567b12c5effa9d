package xmpp

import "unicode/utf8"

// Byte classes used by the tokenizer and the encoder. Each table is indexed
// by a byte; a true entry means "stop the fast loop and look closer". The
// tables are immutable after package initialization.
var (
	// nameByte marks the ASCII bytes allowed anywhere in a name:
	// [A-Za-z0-9_.:-]. Bytes >= 0x80 are checked rune by rune (isNameRune).
	nameByte = byteTable("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-", false)

	// textStop marks the bytes that end a fast run of character data in
	// element content: markup ('<', '&'), characters XML forbids (C0
	// controls other than tab, LF, CR), ']' (for the forbidden "]]>") and
	// 0xEF, the lead byte of U+FFFE and U+FFFF.
	textStop = byteTable("<&]\xef", true)

	// attrStop marks the bytes that end a fast run of an attribute value:
	// both quotes, '<', '&', forbidden controls and 0xEF.
	attrStop = byteTable("<&\"'\xef", true)

	// textEsc and attrEsc mark the bytes the encoder must escape or replace
	// in valid UTF-8 text and attribute values.
	textEsc = byteTable("&<>\r\xef", true)
	attrEsc = byteTable("&<>\"'\t\n\r\xef", true)

	// tagStop marks the bytes the scanner looks at inside a start tag.
	tagStop = byteTable("\"'<>/", false)

	// space marks XML whitespace: space, tab, LF, CR.
	space = byteTable(" \t\n\r", false)
)

// byteTable returns a table marking the bytes of set and, with controls,
// the C0 control characters XML forbids (all but TAB, LF and CR).
func byteTable(set string, controls bool) (t [256]bool) {
	for i := 0; i < len(set); i++ {
		t[set[i]] = true
	}
	if controls {
		for c := 0; c < 0x20; c++ {
			if c != '\t' && c != '\n' && c != '\r' {
				t[c] = true
			}
		}
	}
	return t
}

// isNameRune reports whether a non-ASCII rune may appear in a name: the
// NameChar ranges of XML 1.0 (fifth edition) above U+007F. The tokenizer
// lets any name character start a name (digits included), so there is no
// separate start class.
func isNameRune(r rune) bool {
	switch {
	case r == 0xB7,
		r >= 0xC0 && r <= 0xD6,
		r >= 0xD8 && r <= 0xF6,
		r >= 0xF8 && r <= 0x37D,
		r >= 0x37F && r <= 0x1FFF,
		r >= 0x200C && r <= 0x200D,
		r >= 0x203F && r <= 0x2040,
		r >= 0x2070 && r <= 0x218F,
		r >= 0x2C00 && r <= 0x2FEF,
		r >= 0x3001 && r <= 0xD7FF,
		r >= 0xF900 && r <= 0xFDCF,
		r >= 0xFDF0 && r <= 0xFFFD,
		r >= 0x10000 && r <= 0xEFFFF:
		return true
	}
	return false
}

// isXMLChar reports whether r is a character XML 1.0 allows in a document.
func isXMLChar(r rune) bool {
	switch {
	case r == 0x9 || r == 0xA || r == 0xD:
		return true
	case r >= 0x20 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// nameLen returns the length in bytes of the run of name characters at the
// start of s (0 when s does not start with one).
func nameLen(s string) int {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if !nameByte[c] {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 || !isNameRune(r) {
			return i
		}
		i += size
	}
	return i
}

// ValidName reports whether s is a name this package reads and writes
// unchanged: a non-empty run of [A-Za-z0-9_.:-] and non-ASCII XML name
// characters. Digit-initial names such as "0" are valid. Callers building
// elements from untrusted keys (for example custom message parameters given
// over REST) should check keys with ValidName; the encoder replaces the
// offending characters of an invalid name with '_' rather than emit
// malformed XML.
func ValidName(s string) bool {
	return s != "" && nameLen(s) == len(s)
}
