package xmpp

import (
	"strings"
	"unicode/utf8"
)

// Default limits (see Limits).
const (
	DefaultMaxStanzaBytes = 64 << 10
	DefaultMaxDepth       = 32
	DefaultMaxAttrs       = 64
)

// Limits bound what the tokenizer accepts. A zero or negative field means
// its default.
type Limits struct {
	// MaxStanzaBytes bounds one stanza (or stream header, or WebSocket
	// element), counted from its '<' to its last '>'. Default 64 KiB.
	MaxStanzaBytes int
	// MaxDepth bounds element nesting within a stanza: the stanza element
	// itself is depth 1 (the TCP stream element is not counted). Default 32.
	MaxDepth int
	// MaxAttrs bounds the number of attributes of any one element,
	// namespace declarations included. Default 64.
	MaxAttrs int
}

// withDefaults returns l with every unset field set to its default.
func (l Limits) withDefaults() Limits {
	if l.MaxStanzaBytes <= 0 {
		l.MaxStanzaBytes = DefaultMaxStanzaBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxAttrs <= 0 {
		l.MaxAttrs = DefaultMaxAttrs
	}
	return l
}

// ParseElement parses exactly one element from b, as carried by one
// RFC 7395 WebSocket frame: whitespace may surround it; anything else
// (text, a second element, an XML declaration, a comment) is an error. The
// element may not exceed limits.MaxStanzaBytes, counted without the
// surrounding whitespace.
//
// b is copied once into a string that backs every name, attribute value
// and text of the result that needed no unescaping, so the caller may reuse
// b and the result holds no reference to it. Errors are *Error values (see
// StreamErrorCondition); ParseElement never panics.
func ParseElement(b []byte, limits Limits) (*Element, error) {
	lim := limits.withDefaults()
	start, end := 0, len(b)
	for start < end && space[b[start]] {
		start++
	}
	for end > start && space[b[end-1]] {
		end--
	}
	if start == end {
		return nil, &Error{Kind: ErrSyntax, Offset: int64(len(b)), Detail: "no element"}
	}
	if end-start > lim.MaxStanzaBytes {
		return nil, &Error{Kind: ErrTooLarge, Offset: int64(start + lim.MaxStanzaBytes)}
	}
	p := parser{lim: lim}
	return p.parse(string(b[start:end]), int64(start))
}

// parser turns one complete, already delimited element (a string that
// starts with '<' and ends where the element should end) into an Element.
// Every name and every value that needs no unescaping is a substring of
// the input; Elements, Attrs and Children are carved from a few shared
// slabs, so a typical stanza costs a handful of allocations.
type parser struct {
	s    string
	pos  int
	base int64 // offset of s[0] in the caller's input, for errors
	lim  Limits

	elems []Element // current element slab; elements never move
	left  int       // estimated number of elements not yet allocated
	attrs []Attr    // attribute slab; each element gets a capped window
	nodes []Node    // children slab; each element gets a capped window
	buf   []byte    // scratch for unescaping, reused across parses
}

// frame is one open element while parsing.
type frame struct {
	e   *Element
	kid int // index in the pending-children stack where e's children start
}

func (p *parser) fail(k *kind, at int, detail string) error {
	return &Error{Kind: k, Offset: p.base + int64(at), Detail: detail}
}

// parse parses s (one element, nothing after it) into a fresh tree.
func (p *parser) parse(s string, base int64) (*Element, error) {
	p.s, p.base, p.pos = s, base, 0
	if !utf8.ValidString(s) {
		return nil, p.fail(ErrInvalidChar, invalidUTF8At(s), "invalid UTF-8")
	}
	// Size the slabs from cheap counts: every element but the
	// self-closing ones has one "</"; every attribute has one '='.
	lt, closing := 0, 0
	for i := 0; ; {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			break
		}
		i += j + 1
		lt++
		if i < len(s) && s[i] == '/' {
			closing++
		}
	}
	p.left = lt - closing
	p.elems = nil
	p.attrs = make([]Attr, 0, min(strings.Count(s, "="), 64))
	p.nodes = nil
	if lt > 1 {
		p.nodes = make([]Node, 0, min(p.left-1+lt, 128))
	}

	var stackArr [16]frame
	stack := stackArr[:0]
	var kidsArr [32]Node
	kids := kidsArr[:0]
	var root *Element
	for {
		if p.pos >= len(s) {
			return nil, p.fail(ErrSyntax, p.pos, "unexpected end of element")
		}
		if s[p.pos] != '<' {
			if len(stack) == 0 {
				return nil, p.fail(ErrSyntax, p.pos, "text outside the root element")
			}
			text, err := p.chars(&textStop, '<')
			if err != nil {
				return nil, err
			}
			if text != "" {
				kids = append(kids, Node{Text: text})
			}
			continue
		}
		if p.pos+1 >= len(s) {
			return nil, p.fail(ErrSyntax, p.pos, "unexpected end of element")
		}
		switch s[p.pos+1] {
		case '/':
			if len(stack) == 0 {
				return nil, p.fail(ErrSyntax, p.pos, "end tag outside the root element")
			}
			top := stack[len(stack)-1]
			if err := p.endTag(top.e.Name); err != nil {
				return nil, err
			}
			if n := len(kids) - top.kid; n > 0 {
				start := len(p.nodes)
				p.nodes = append(p.nodes, kids[top.kid:]...)
				top.e.Children = p.nodes[start : start+n : start+n]
			}
			kids = kids[:top.kid]
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return p.finish(root)
			}
		case '!':
			return nil, p.fail(bangKind(s, p.pos), p.pos, "")
		case '?':
			return nil, p.fail(ErrProcInst, p.pos, "")
		default:
			if len(stack) >= p.lim.MaxDepth {
				return nil, p.fail(ErrTooDeep, p.pos, "")
			}
			if root != nil && len(stack) == 0 {
				return nil, p.fail(ErrSyntax, p.pos, "second root element")
			}
			e, empty, err := p.startTag()
			if err != nil {
				return nil, err
			}
			if root == nil {
				root = e
			} else {
				kids = append(kids, Node{Elem: e})
			}
			if !empty {
				stack = append(stack, frame{e: e, kid: len(kids)})
			} else if len(stack) == 0 {
				return p.finish(root)
			}
		}
	}
}

// finish checks that nothing follows the root element.
func (p *parser) finish(root *Element) (*Element, error) {
	if p.pos != len(p.s) {
		return nil, p.fail(ErrSyntax, p.pos, "data after the root element")
	}
	p.s = ""
	return root, nil
}

// bangKind classifies "<!" markup at s[i:]: a comment, a CDATA section, or
// (anything else) a DTD declaration.
func bangKind(s string, i int) *kind {
	if i+2 < len(s) {
		switch s[i+2] {
		case '-':
			return ErrComment
		case '[':
			return ErrCDATA
		}
	}
	return ErrDTD
}

// invalidUTF8At returns the offset of the first byte of s that is not part
// of a valid UTF-8 sequence.
func invalidUTF8At(s string) int {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(s)
}

// newElem returns a zeroed Element from the slab. Slab chunks double in
// size up to the estimate, so a hostile input that inflates the estimate
// (many '<' in a document that fails early) cannot force a large up-front
// allocation.
func (p *parser) newElem() *Element {
	if len(p.elems) == cap(p.elems) {
		n := min(max(p.left, 1), 64)
		if c := cap(p.elems); c > 0 {
			n = min(max(p.left, 4), 2*c, 1024)
		}
		p.elems = make([]Element, 0, n)
	}
	p.left--
	p.elems = p.elems[:len(p.elems)+1]
	return &p.elems[len(p.elems)-1]
}

// startTag parses "<name attrs>" or "<name attrs/>" at p.pos.
func (p *parser) startTag() (e *Element, empty bool, err error) {
	s := p.s
	i := p.pos + 1
	n := nameLen(s[i:])
	if n == 0 {
		return nil, false, p.fail(ErrSyntax, i, "invalid element name")
	}
	e = p.newElem()
	e.Name = s[i : i+n]
	p.pos = i + n
	empty, err = p.attributes(e, '>')
	return e, empty, err
}

// attributes parses the attributes of the tag whose name ends at p.pos,
// through the end of the tag: '>' or "/>" for an element (term '>'), "?>"
// for an XML declaration (term '?'). It reports whether the tag was "/>".
func (p *parser) attributes(e *Element, term byte) (empty bool, err error) {
	s := p.s
	i := p.pos
	first := len(p.attrs)
	for {
		j := i
		for j < len(s) && space[s[j]] {
			j++
		}
		if j >= len(s) {
			return false, p.fail(ErrSyntax, j, "unexpected end of tag")
		}
		switch c := s[j]; {
		case c == '>' && term == '>':
			p.pos = j + 1
			p.setAttrs(e, first)
			return false, nil
		case c == '/' && term == '>' || c == '?' && term == '?':
			if j+1 >= len(s) || s[j+1] != '>' {
				return false, p.fail(ErrSyntax, j, "invalid tag end")
			}
			p.pos = j + 2
			p.setAttrs(e, first)
			return c == '/', nil
		}
		if j == i {
			return false, p.fail(ErrSyntax, j, "invalid character in tag")
		}
		i = j
		n := nameLen(s[i:])
		if n == 0 {
			return false, p.fail(ErrSyntax, i, "invalid attribute name")
		}
		name := s[i : i+n]
		i += n
		for i < len(s) && space[s[i]] {
			i++
		}
		if i >= len(s) || s[i] != '=' {
			return false, p.fail(ErrSyntax, i, "attribute without value")
		}
		i++
		for i < len(s) && space[s[i]] {
			i++
		}
		if i >= len(s) || (s[i] != '"' && s[i] != '\'') {
			return false, p.fail(ErrSyntax, i, "attribute value without quotes")
		}
		q := s[i]
		p.pos = i + 1
		value, err := p.chars(&attrStop, q)
		if err != nil {
			return false, err
		}
		if len(p.attrs)-first >= p.lim.MaxAttrs {
			return false, p.fail(ErrTooManyAttrs, i-n, "")
		}
		for k := first; k < len(p.attrs); k++ {
			if p.attrs[k].Name == name {
				return false, p.fail(ErrSyntax, i-n, "duplicate attribute")
			}
		}
		p.attrs = append(p.attrs, Attr{Name: name, Value: value})
		i = p.pos + 1 // past the closing quote
	}
}

// setAttrs gives e the attributes appended to the slab since first, as a
// window whose capacity is clipped so that appending to it copies.
func (p *parser) setAttrs(e *Element, first int) {
	if n := len(p.attrs); n > first {
		e.Attrs = p.attrs[first:n:n]
	}
}

// endTag parses "</name>" at p.pos and checks that it closes name.
func (p *parser) endTag(name string) error {
	s := p.s
	i := p.pos + 2
	n := nameLen(s[i:])
	if n == 0 || s[i:i+n] != name {
		return p.fail(ErrSyntax, p.pos, "mismatched end tag")
	}
	i += n
	for i < len(s) && space[s[i]] {
		i++
	}
	if i >= len(s) || s[i] != '>' {
		return p.fail(ErrSyntax, i, "invalid end tag")
	}
	p.pos = i + 1
	return nil
}

// chars scans character data from p.pos up to delim ('<' for element
// content, the opening quote for an attribute value), resolving
// references, and leaves p.pos at delim. table is textStop or attrStop.
// The result is a substring of the input unless a reference had to be
// resolved.
func (p *parser) chars(table *[256]bool, delim byte) (string, error) {
	s := p.s
	start := p.pos
	i := start
	last := start      // start of the literal run not yet copied to buf
	unescaped := false // whether buf holds the value so far
	for {
		for i < len(s) && !table[s[i]] {
			i++
		}
		if i >= len(s) {
			return "", p.fail(ErrSyntax, i, "unexpected end of character data")
		}
		switch c := s[i]; c {
		case delim:
			p.pos = i
			if !unescaped {
				return s[start:i], nil
			}
			p.buf = append(p.buf, s[last:i]...)
			return string(p.buf), nil
		case '<':
			return "", p.fail(ErrSyntax, i, "'<' in attribute value")
		case '"', '\'':
			i++ // the other quote inside an attribute value
		case ']':
			if strings.HasPrefix(s[i:], "]]>") {
				return "", p.fail(ErrSyntax, i, "']]>' in text")
			}
			i++
		case 0xEF:
			if i+2 < len(s) && s[i+1] == 0xBF && (s[i+2] == 0xBE || s[i+2] == 0xBF) {
				return "", p.fail(ErrInvalidChar, i, "U+FFFE or U+FFFF")
			}
			i++
		case '&':
			if !unescaped {
				unescaped = true
				p.buf = p.buf[:0]
			}
			p.buf = append(p.buf, s[last:i]...)
			r, next, err := p.reference(i)
			if err != nil {
				return "", err
			}
			p.buf = utf8.AppendRune(p.buf, r)
			i, last = next, next
		default:
			return "", p.fail(ErrInvalidChar, i, "control character")
		}
	}
}

// reference resolves the reference at s[i] == '&' and returns the
// character and the offset just past the ';'.
func (p *parser) reference(i int) (rune, int, error) {
	s := p.s
	j := i + 1
	if j < len(s) && s[j] == '#' {
		j++
		hex := j < len(s) && s[j] == 'x'
		if hex {
			j++
		}
		digits := j
		v := 0
		for ; j < len(s); j++ {
			c := s[j]
			var d int
			switch {
			case c >= '0' && c <= '9':
				d = int(c - '0')
			case hex && c >= 'a' && c <= 'f':
				d = int(c-'a') + 10
			case hex && c >= 'A' && c <= 'F':
				d = int(c-'A') + 10
			default:
				d = -1
			}
			if d < 0 {
				break
			}
			if hex {
				v = v*16 + d
			} else {
				v = v*10 + d
			}
			if v > utf8.MaxRune {
				v = utf8.MaxRune + 1 // saturate: invalid, and no overflow
			}
		}
		if j == digits || j >= len(s) || s[j] != ';' {
			return 0, 0, p.fail(ErrSyntax, i, "malformed character reference")
		}
		if !isXMLChar(rune(v)) {
			return 0, 0, p.fail(ErrInvalidChar, i, "character reference to a forbidden character")
		}
		return rune(v), j + 1, nil
	}
	n := nameLen(s[j:])
	if n == 0 || j+n >= len(s) || s[j+n] != ';' {
		return 0, 0, p.fail(ErrSyntax, i, "malformed entity reference")
	}
	switch s[j : j+n] {
	case "lt":
		return '<', j + n + 1, nil
	case "gt":
		return '>', j + n + 1, nil
	case "amp":
		return '&', j + n + 1, nil
	case "quot":
		return '"', j + n + 1, nil
	case "apos":
		return '\'', j + n + 1, nil
	}
	return 0, 0, p.fail(ErrEntity, i, "undefined entity")
}
