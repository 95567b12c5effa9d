package xmpp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// EventKind says what a Decoder event carries.
type EventKind uint8

// Decoder events.
const (
	// StreamOpen: a stream header (<stream:stream ...>, the XML declaration
	// before it consumed); Element holds its name and attributes and no
	// children. A header that arrives inside an open stream (a client's
	// stream restart after SASL) is also reported as StreamOpen.
	StreamOpen EventKind = iota + 1
	// Stanza: one complete top-level child of the stream.
	Stanza
	// StreamClose: the end tag of the stream; Element is nil.
	StreamClose
)

// String returns the event kind's name.
func (k EventKind) String() string {
	switch k {
	case StreamOpen:
		return "StreamOpen"
	case Stanza:
		return "Stanza"
	case StreamClose:
		return "StreamClose"
	}
	return "EventKind(?)"
}

// Event is one unit of an XML stream.
type Event struct {
	Kind    EventKind
	Element *Element
}

// readBufferSize is the size of the Decoder's bufio.Reader.
const readBufferSize = 4096

const (
	stateHeader = iota // expecting an optional XML declaration, then a stream header
	stateOpen          // inside the stream: stanzas, whitespace, or the end tag
	stateClosed        // the stream's end tag has been read
)

// Decoder reads an RFC 6120 XML stream (XMPP over TCP): an optional XML
// declaration, the stream header, which is reported as soon as its start
// tag is complete (the stream element stays open for the life of the
// connection), then each top-level child as one complete Element, then
// the stream's end tag. Whitespace between stanzas (keep-alives) is
// skipped.
//
// A Decoder never holds more than Limits.MaxStanzaBytes of one stanza plus
// its read buffer, and it reports the first error (an *Error, io.EOF,
// io.ErrUnexpectedEOF, or the reader's error) from every later call to
// Next. It is not safe for concurrent use.
type Decoder struct {
	br  *bufio.Reader
	lim Limits
	p   parser

	state      int
	streamName string // name of the open stream element, for its end tag
	closeNext  bool   // a self-closing stream header: report StreamClose next
	sbuf       []byte // raw bytes of the stanza being read, reused
	offset     int64  // bytes consumed since NewDecoder or Reset
	err        error  // sticky
}

// NewDecoder returns a Decoder reading the stream from r with the given
// limits (zero fields take their defaults).
func NewDecoder(r io.Reader, limits Limits) *Decoder {
	lim := limits.withDefaults()
	return &Decoder{br: bufio.NewReaderSize(r, readBufferSize), lim: lim, p: parser{lim: lim}}
}

// Restart makes the Decoder expect a new stream header, optionally preceded
// by an XML declaration: call it when the stream restarts (after SASL
// success). A stream header that arrives without Restart is reported as
// StreamOpen too, but then an XML declaration before it is refused.
func (d *Decoder) Restart() {
	d.state = stateHeader
	d.closeNext = false
}

// Reset discards any buffered input, clears a previous error and starts
// reading a new stream from r: use it after STARTTLS with the TLS
// connection. Check Buffered first: bytes that arrived in plaintext after
// <starttls/> must not be carried into the encrypted stream.
func (d *Decoder) Reset(r io.Reader) {
	d.br.Reset(r)
	d.state, d.streamName, d.closeNext, d.offset, d.err = stateHeader, "", false, 0, nil
	d.sbuf = d.sbuf[:0]
}

// Buffered returns the number of bytes read from the underlying reader and
// not yet consumed.
func (d *Decoder) Buffered() int { return d.br.Buffered() }

// DiscardBufferedSpace drops the XML whitespace at the head of the
// buffered bytes (never reading more) and returns how many bytes remain
// buffered. Whitespace between top-level elements means nothing, and
// clients send a newline after <starttls/> in the same packet.
func (d *Decoder) DiscardBufferedSpace() int {
	for d.br.Buffered() > 0 {
		b, err := d.br.Peek(1)
		if err != nil || (b[0] != ' ' && b[0] != '\t' && b[0] != '\r' && b[0] != '\n') {
			break
		}
		d.br.Discard(1)
		d.offset++
	}
	return d.br.Buffered()
}

// InputOffset returns the number of bytes consumed from the stream since
// NewDecoder or Reset.
func (d *Decoder) InputOffset() int64 { return d.offset }

// Next returns the next event of the stream. At the end of input it
// returns io.EOF before a stream header or after the stream's end tag, and
// io.ErrUnexpectedEOF inside an open stream or a stanza. After the stream's
// end tag it returns io.EOF without reading further.
func (d *Decoder) Next() (Event, error) {
	if d.err != nil {
		return Event{}, d.err
	}
	ev, err := d.next()
	if err != nil {
		d.err = err
	}
	return ev, err
}

func (d *Decoder) next() (Event, error) {
	if d.closeNext {
		d.closeNext, d.state = false, stateClosed
		return Event{Kind: StreamClose}, nil
	}
	if d.state == stateClosed {
		return Event{}, io.EOF
	}
	if d.state == stateHeader {
		return d.header()
	}
	c, err := d.skipSpace()
	if err != nil {
		return Event{}, eofIn(err, true)
	}
	if c != '<' {
		return Event{}, d.fail(ErrStreamText, 0, "")
	}
	c2, err := d.peekAt(1)
	if err != nil {
		return Event{}, eofIn(err, true)
	}
	switch c2 {
	case '/':
		return d.streamEnd()
	case '!':
		c3, _ := d.peekAt(2)
		return Event{}, d.fail(bangKind("<!"+string(c3), 0), 0, "")
	case '?':
		return Event{}, d.fail(ErrProcInst, 0, "")
	}
	return d.stanza()
}

// header reads an optional XML declaration and the stream header.
func (d *Decoder) header() (Event, error) {
	decl := false
	for {
		c, err := d.skipSpace()
		if err != nil {
			return Event{}, eofIn(err, decl)
		}
		if c == 0xEF && d.offset == 0 { // a UTF-8 byte order mark
			if b, err := d.br.Peek(3); err == nil && string(b) == "\uFEFF" {
				d.discard(3)
				continue
			}
		}
		if c != '<' {
			return Event{}, d.fail(ErrSyntax, 0, "data before the stream header")
		}
		c2, err := d.peekAt(1)
		if err != nil {
			return Event{}, eofIn(err, true)
		}
		switch c2 {
		case '?':
			if decl {
				return Event{}, d.fail(ErrProcInst, 0, "")
			}
			if err := d.xmlDecl(); err != nil {
				return Event{}, err
			}
			decl = true
			continue
		case '!':
			c3, _ := d.peekAt(2)
			return Event{}, d.fail(bangKind("<!"+string(c3), 0), 0, "")
		case '/':
			return Event{}, d.fail(ErrSyntax, 0, "end tag before the stream header")
		}
		st := scanner{maxDepth: d.lim.MaxDepth}
		ev, err := d.scan(&st)
		if err != nil {
			return Event{}, err
		}
		return d.streamOpen(ev == scanDone)
	}
}

// streamOpen parses the start tag in sbuf as a stream header.
func (d *Decoder) streamOpen(selfClosing bool) (Event, error) {
	p := &d.p
	p.s, p.pos, p.base = string(d.sbuf), 0, d.offset-int64(len(d.sbuf))
	if !utf8.ValidString(p.s) {
		return Event{}, p.fail(ErrInvalidChar, invalidUTF8At(p.s), "invalid UTF-8")
	}
	p.elems, p.left, p.attrs = nil, 1, nil
	e, _, err := p.startTag()
	if err != nil {
		return Event{}, err
	}
	if p.pos != len(p.s) {
		return Event{}, p.fail(ErrSyntax, p.pos, "data after the stream header")
	}
	p.s = ""
	d.state, d.streamName, d.closeNext = stateOpen, e.Name, selfClosing
	return Event{Kind: StreamOpen, Element: e}, nil
}

// xmlDecl reads and checks "<?xml ...?>": pseudo-attributes in attribute
// syntax, and an encoding, if named, of UTF-8.
func (d *Decoder) xmlDecl() error {
	d.sbuf = d.sbuf[:0]
	for {
		if len(d.sbuf) >= d.lim.MaxStanzaBytes {
			return d.fail(ErrTooLarge, 0, "")
		}
		chunk, err := d.peek()
		if err != nil {
			return eofIn(err, true)
		}
		chunk = chunk[:min(len(chunk), d.lim.MaxStanzaBytes-len(d.sbuf))]
		n := len(chunk)
		if i := bytes.IndexByte(chunk, '>'); i >= 0 {
			n = i + 1
		}
		d.sbuf = append(d.sbuf, chunk[:n]...)
		d.discard(n)
		if len(d.sbuf) >= 3 && d.sbuf[len(d.sbuf)-1] == '>' && d.sbuf[len(d.sbuf)-2] == '?' {
			break
		}
	}
	p := &d.p
	p.s, p.base = string(d.sbuf), d.offset-int64(len(d.sbuf))
	defer func() { p.s = "" }()
	if !utf8.ValidString(p.s) {
		return p.fail(ErrInvalidChar, invalidUTF8At(p.s), "invalid UTF-8")
	}
	n := nameLen(p.s[2:])
	if p.s[2:2+n] != "xml" {
		return p.fail(ErrProcInst, 0, "")
	}
	p.pos, p.attrs = 2+n, nil
	var e Element
	if _, err := p.attributes(&e, '?'); err != nil {
		return err
	}
	if enc, ok := e.LookupAttr("encoding"); ok && !strings.EqualFold(enc, "UTF-8") && !strings.EqualFold(enc, "UTF8") {
		return p.fail(ErrEncoding, 0, "")
	}
	return nil
}

// streamEnd reads "</name>" at stream level, which must close the stream.
func (d *Decoder) streamEnd() (Event, error) {
	d.sbuf = d.sbuf[:0]
	for {
		if len(d.sbuf) >= d.lim.MaxStanzaBytes {
			return Event{}, d.fail(ErrTooLarge, 0, "")
		}
		chunk, err := d.peek()
		if err != nil {
			return Event{}, eofIn(err, true)
		}
		chunk = chunk[:min(len(chunk), d.lim.MaxStanzaBytes-len(d.sbuf))]
		if i := bytes.IndexByte(chunk, '>'); i >= 0 {
			d.sbuf = append(d.sbuf, chunk[:i+1]...)
			d.discard(i + 1)
			break
		}
		d.sbuf = append(d.sbuf, chunk...)
		d.discard(len(chunk))
	}
	p := &d.p
	p.s, p.pos, p.base = string(d.sbuf), 0, d.offset-int64(len(d.sbuf))
	err := p.endTag(d.streamName)
	p.s = ""
	if err != nil {
		return Event{}, err
	}
	d.state = stateClosed
	return Event{Kind: StreamClose}, nil
}

// stanza reads one top-level element: its raw bytes first (scanner), then
// the parse of the complete buffer.
func (d *Decoder) stanza() (Event, error) {
	st := scanner{maxDepth: d.lim.MaxDepth}
	ev, err := d.scan(&st)
	if err != nil {
		return Event{}, err
	}
	if d.isStreamHeader() {
		return d.streamOpen(ev == scanDone)
	}
	if ev == scanRootStart {
		if ev, err = d.scanMore(&st); err != nil {
			return Event{}, err
		}
	}
	e, err := d.p.parse(string(d.sbuf), d.offset-int64(len(d.sbuf)))
	if err != nil {
		return Event{}, err
	}
	return Event{Kind: Stanza, Element: e}, nil
}

// isStreamHeader reports whether sbuf starts with the open stream's name
// (a stream restart without Restart).
func (d *Decoder) isStreamHeader() bool {
	b := d.sbuf
	n := len(d.streamName)
	if len(b) < n+2 || string(b[1:1+n]) != d.streamName {
		return false
	}
	c := b[1+n]
	return space[c] || c == '>' || c == '/'
}

// scan reads into sbuf (from scratch) until the scanner reports the end of
// the root start tag or of the whole element.
func (d *Decoder) scan(st *scanner) (int, error) {
	d.sbuf = d.sbuf[:0]
	return d.scanMore(st)
}

// scanMore continues scan.
func (d *Decoder) scanMore(st *scanner) (int, error) {
	for {
		room := d.lim.MaxStanzaBytes - len(d.sbuf)
		if room <= 0 {
			return 0, d.fail(ErrTooLarge, 0, "")
		}
		chunk, err := d.peek()
		if err != nil {
			return 0, eofIn(err, true)
		}
		chunk = chunk[:min(len(chunk), room)]
		n, ev, k := st.scan(chunk)
		d.sbuf = append(d.sbuf, chunk[:n]...)
		if k != nil {
			return 0, d.fail(k, n, "")
		}
		d.discard(n)
		if ev != scanMore {
			return ev, nil
		}
	}
}

// fail returns an *Error at offset+at.
func (d *Decoder) fail(k *kind, at int, detail string) error {
	return &Error{Kind: k, Offset: d.offset + int64(at), Detail: detail}
}

// eofIn maps the end of input: io.EOF where the stream may end (before a
// header), io.ErrUnexpectedEOF inside it.
func eofIn(err error, inside bool) error {
	if inside && errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// peek returns the buffered bytes, reading once when none are buffered.
func (d *Decoder) peek() ([]byte, error) {
	if d.br.Buffered() == 0 {
		if _, err := d.br.Peek(1); err != nil {
			return nil, err
		}
	}
	return d.br.Peek(d.br.Buffered())
}

// peekAt returns the byte i positions ahead without consuming it.
func (d *Decoder) peekAt(i int) (byte, error) {
	b, err := d.br.Peek(i + 1)
	if len(b) <= i {
		return 0, err
	}
	return b[i], nil
}

func (d *Decoder) discard(n int) {
	d.br.Discard(n) //nolint:errcheck // n bytes are buffered
	d.offset += int64(n)
}

// skipSpace consumes whitespace and returns the next byte, unconsumed.
func (d *Decoder) skipSpace() (byte, error) {
	for {
		chunk, err := d.peek()
		if err != nil {
			return 0, err
		}
		i := 0
		for i < len(chunk) && space[chunk[i]] {
			i++
		}
		d.discard(i)
		if i < len(chunk) {
			return chunk[i], nil
		}
	}
}

// Scanner results.
const (
	scanMore      = iota // the element continues past the chunk
	scanRootStart        // the root's start tag ended (root still open)
	scanDone             // the element is complete
)

// Scanner states.
const (
	sText  = iota // element content
	sLT           // just after '<'
	sBang         // just after "<!"
	sStart        // inside a start tag, outside attribute values
	sQuote        // inside an attribute value
	sEnd          // inside an end tag
)

// scanner finds where one element ends in a byte stream fed chunk by chunk,
// tracking only what that needs (tags, quotes, depth). It refuses early
// what the parser would refuse anyway and what would otherwise make it
// wait for more input (restricted markup, too deep nesting); the parser
// does the full validation once the element is complete.
type scanner struct {
	state    int
	depth    int // open elements
	maxDepth int
	quote    byte
	slash    bool // the previous byte of a start tag was '/'
}

// scan consumes chunk up to the first event and returns how many bytes it
// consumed, the event, or the error kind with n the offending byte.
func (st *scanner) scan(chunk []byte) (n int, ev int, k *kind) {
	i := 0
	for i < len(chunk) {
		switch st.state {
		case sText:
			j := bytes.IndexByte(chunk[i:], '<')
			if j < 0 {
				return len(chunk), scanMore, nil
			}
			i += j + 1
			st.state = sLT
		case sLT:
			switch c := chunk[i]; {
			case c == '/':
				st.state = sEnd
			case c == '!':
				st.state = sBang
			case c == '?':
				return i, 0, ErrProcInst
			case c < 0x80 && !nameByte[c]:
				return i, 0, ErrSyntax
			default:
				if st.depth >= st.maxDepth {
					return i, 0, ErrTooDeep
				}
				st.state, st.slash = sStart, false
			}
			i++
		case sBang:
			switch chunk[i] {
			case '-':
				return i, 0, ErrComment
			case '[':
				return i, 0, ErrCDATA
			}
			return i, 0, ErrDTD
		case sStart:
			if !st.slash {
				for i < len(chunk) && !tagStop[chunk[i]] {
					i++
				}
				if i == len(chunk) {
					return i, scanMore, nil
				}
			}
			c := chunk[i]
			if st.slash && c != '>' {
				return i, 0, ErrSyntax
			}
			i++
			switch c {
			case '"', '\'':
				st.quote, st.state = c, sQuote
			case '<':
				return i - 1, 0, ErrSyntax
			case '>':
				st.state = sText
				if st.slash {
					if st.depth == 0 {
						return i, scanDone, nil
					}
					continue
				}
				st.depth++
				if st.depth == 1 {
					return i, scanRootStart, nil
				}
			case '/':
				st.slash = true
			}
		case sQuote:
			j := bytes.IndexByte(chunk[i:], st.quote)
			if j < 0 {
				return len(chunk), scanMore, nil
			}
			i += j + 1
			st.state = sStart
		case sEnd:
			j := bytes.IndexByte(chunk[i:], '>')
			if j < 0 {
				return len(chunk), scanMore, nil
			}
			i += j + 1
			st.state = sText
			st.depth--
			if st.depth <= 0 {
				return i, scanDone, nil
			}
		}
	}
	return i, scanMore, nil
}
