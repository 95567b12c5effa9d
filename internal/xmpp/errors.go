package xmpp

import (
	"errors"
	"strconv"
)

// Stream error conditions (RFC 6120 §4.9.3), the names of the child element
// of <stream:error>.
const (
	StreamBadFormat             = "bad-format"
	StreamBadNamespacePrefix    = "bad-namespace-prefix"
	StreamConflict              = "conflict"
	StreamConnectionTimeout     = "connection-timeout"
	StreamHostGone              = "host-gone"
	StreamHostUnknown           = "host-unknown"
	StreamImproperAddressing    = "improper-addressing"
	StreamInternalServerError   = "internal-server-error"
	StreamInvalidFrom           = "invalid-from"
	StreamInvalidNamespace      = "invalid-namespace"
	StreamInvalidXML            = "invalid-xml"
	StreamNotAuthorized         = "not-authorized"
	StreamNotWellFormed         = "not-well-formed"
	StreamPolicyViolation       = "policy-violation"
	StreamRemoteConnFailed      = "remote-connection-failed"
	StreamReset                 = "reset"
	StreamResourceConstraint    = "resource-constraint"
	StreamRestrictedXML         = "restricted-xml"
	StreamSeeOtherHost          = "see-other-host"
	StreamSystemShutdown        = "system-shutdown"
	StreamUndefinedCondition    = "undefined-condition"
	StreamUnsupportedEncoding   = "unsupported-encoding"
	StreamUnsupportedFeature    = "unsupported-feature"
	StreamUnsupportedStanzaType = "unsupported-stanza-type"
	StreamUnsupportedVersion    = "unsupported-version"
)

// Stanza error conditions (RFC 6120 §8.3.3), the names of the condition
// element inside <error>.
const (
	BadRequest            = "bad-request"
	Conflict              = "conflict"
	FeatureNotImplemented = "feature-not-implemented"
	Forbidden             = "forbidden"
	Gone                  = "gone"
	InternalServerError   = "internal-server-error"
	ItemNotFound          = "item-not-found"
	JIDMalformed          = "jid-malformed"
	NotAcceptable         = "not-acceptable"
	NotAllowed            = "not-allowed"
	NotAuthorized         = "not-authorized"
	PolicyViolation       = "policy-violation"
	RecipientUnavailable  = "recipient-unavailable"
	Redirect              = "redirect"
	RegistrationRequired  = "registration-required"
	RemoteServerNotFound  = "remote-server-not-found"
	RemoteServerTimeout   = "remote-server-timeout"
	ResourceConstraint    = "resource-constraint"
	ServiceUnavailable    = "service-unavailable"
	SubscriptionRequired  = "subscription-required"
	UndefinedCondition    = "undefined-condition"
	UnexpectedRequest     = "unexpected-request"
)

// Stanza error types (RFC 6120 §8.3.2).
const (
	ErrorTypeAuth     = "auth"
	ErrorTypeCancel   = "cancel"
	ErrorTypeContinue = "continue"
	ErrorTypeModify   = "modify"
	ErrorTypeWait     = "wait"
)

type stanzaCond struct {
	code int
	typ  string
}

// stanzaConds gives each condition its legacy code (XEP-0086, which the
// connectycube SDK reads) and its error type, as REALTIME.md §19 lists
// them. policy-violation postdates XEP-0086; it gets 406 like
// not-acceptable.
var stanzaConds = map[string]stanzaCond{
	BadRequest:            {400, ErrorTypeModify},
	Conflict:              {409, ErrorTypeCancel},
	FeatureNotImplemented: {501, ErrorTypeCancel},
	Forbidden:             {403, ErrorTypeAuth},
	Gone:                  {302, ErrorTypeCancel},
	InternalServerError:   {500, ErrorTypeWait},
	ItemNotFound:          {404, ErrorTypeCancel},
	JIDMalformed:          {400, ErrorTypeModify},
	NotAcceptable:         {406, ErrorTypeModify},
	NotAllowed:            {405, ErrorTypeCancel},
	NotAuthorized:         {401, ErrorTypeAuth},
	PolicyViolation:       {406, ErrorTypeModify},
	RecipientUnavailable:  {404, ErrorTypeWait},
	Redirect:              {302, ErrorTypeModify},
	RegistrationRequired:  {407, ErrorTypeAuth},
	RemoteServerNotFound:  {404, ErrorTypeCancel},
	RemoteServerTimeout:   {504, ErrorTypeWait},
	ResourceConstraint:    {500, ErrorTypeWait},
	ServiceUnavailable:    {503, ErrorTypeCancel},
	SubscriptionRequired:  {407, ErrorTypeAuth},
	UndefinedCondition:    {500, ErrorTypeCancel},
	UnexpectedRequest:     {400, ErrorTypeWait},
}

// StanzaCondition returns the legacy numeric code and the error type of a
// stanza error condition, and whether cond is a known condition.
func StanzaCondition(cond string) (code int, typ string, ok bool) {
	c, ok := stanzaConds[cond]
	return c.code, c.typ, ok
}

// StanzaError builds the error reply to stanza: same element name, the id
// and every other attribute kept, to and from swapped, type="error", and
// one child:
//
//	<error code="403" type="auth">
//	  <forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>
//	  <text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">text</text>
//	</error>
//
// The <text> child is omitted when text is empty. The original payload is
// not copied (RFC 6120 makes that optional); append children to the reply
// when a client needs them (a MUC join error needs its <x/>, REALTIME.md
// §15.3). An unknown cond is replaced by undefined-condition so that the
// reply is always valid. The stanza itself is not modified.
func StanzaError(stanza *Element, cond, text string) *Element {
	info, ok := stanzaConds[cond]
	if !ok {
		cond, info = UndefinedCondition, stanzaConds[UndefinedCondition]
	}
	reply := &Element{Name: stanza.Name, Attrs: make([]Attr, 0, len(stanza.Attrs)+1)}
	typed := false
	for _, a := range stanza.Attrs {
		switch a.Name {
		case "to":
			a.Name = "from"
		case "from":
			a.Name = "to"
		case "type":
			a.Value, typed = "error", true
		}
		reply.Attrs = append(reply.Attrs, a)
	}
	if !typed {
		reply.Attrs = append(reply.Attrs, Attr{Name: "type", Value: "error"})
	}
	reply.AppendChild(ErrorElement(cond, info.code, info.typ, text))
	return reply
}

// ErrorElement builds the <error/> child of a stanza error with an explicit
// code and type (StanzaError picks them from the condition).
func ErrorElement(cond string, code int, typ, text string) *Element {
	e := &Element{Name: "error", Attrs: []Attr{{"code", strconv.Itoa(code)}, {"type", typ}}}
	e.AppendChild(NewElement(cond, "xmlns", NSStanzas))
	if text != "" {
		t := NewElement("text", "xmlns", NSStanzas, "xml:lang", "en")
		t.SetText(text)
		e.AppendChild(t)
	}
	return e
}

// StreamError builds a stream error:
//
//	<stream:error><not-well-formed xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error>
//
// with a <text xml:lang="en"> child when text is non-empty. With
// declarePrefix the element also declares
// xmlns:stream="http://etherx.jabber.org/streams", as it must over
// WebSocket (RFC 7395), where there is no enclosing <stream:stream>; over
// TCP the stream header already declares the prefix.
func StreamError(cond, text string, declarePrefix bool) *Element {
	e := &Element{Name: "stream:error"}
	if declarePrefix {
		e.Attrs = []Attr{{"xmlns:stream", NSStream}}
	}
	e.AppendChild(NewElement(cond, "xmlns", NSStreams))
	if text != "" {
		t := NewElement("text", "xmlns", NSStreams, "xml:lang", "en")
		t.SetText(text)
		e.AppendChild(t)
	}
	return e
}

// Decoding failures. Every error the tokenizer reports is an *Error whose
// Kind is one of these; errors.Is(err, ErrComment) and similar work, and
// StreamErrorCondition maps each to the stream error to send.
var (
	// ErrSyntax: input that is not well-formed XML (bad or mismatched
	// tags, unquoted or duplicate attributes, bad character references,
	// text or a second element outside the root, "]]>" in text).
	ErrSyntax = &kind{"syntax error", StreamNotWellFormed}
	// ErrInvalidChar: bytes that are not UTF-8, or characters XML 1.0
	// forbids (C0 controls other than TAB, LF, CR; U+FFFE; U+FFFF).
	ErrInvalidChar = &kind{"invalid character", StreamNotWellFormed}
	// ErrComment: an XML comment, which RFC 6120 §11.1 forbids.
	ErrComment = &kind{"comment", StreamRestrictedXML}
	// ErrCDATA: a CDATA section, refused like other restricted XML.
	ErrCDATA = &kind{"CDATA section", StreamRestrictedXML}
	// ErrDTD: a document type declaration or other <! markup.
	ErrDTD = &kind{"DTD", StreamRestrictedXML}
	// ErrProcInst: a processing instruction other than the XML
	// declaration at the start of a TCP stream.
	ErrProcInst = &kind{"processing instruction", StreamRestrictedXML}
	// ErrEntity: a reference to an entity other than lt, gt, amp, quot
	// and apos.
	ErrEntity = &kind{"entity reference", StreamRestrictedXML}
	// ErrTooLarge: a stanza (or stream header) larger than
	// Limits.MaxStanzaBytes.
	ErrTooLarge = &kind{"stanza too large", StreamPolicyViolation}
	// ErrTooDeep: elements nested deeper than Limits.MaxDepth.
	ErrTooDeep = &kind{"elements nested too deeply", StreamPolicyViolation}
	// ErrTooManyAttrs: an element with more than Limits.MaxAttrs
	// attributes.
	ErrTooManyAttrs = &kind{"too many attributes", StreamPolicyViolation}
	// ErrEncoding: an XML declaration naming an encoding other than
	// UTF-8.
	ErrEncoding = &kind{"unsupported encoding", StreamUnsupportedEncoding}
	// ErrStreamText: non-whitespace character data between stanzas of a
	// TCP stream. It is well-formed XML but not a valid XMPP stream.
	ErrStreamText = &kind{"text between stanzas", StreamInvalidXML}
)

// kind is the type of the Err* sentinels.
type kind struct {
	msg  string
	cond string
}

func (k *kind) Error() string { return "xmpp: " + k.msg }

// Error is a decoding failure: what went wrong (Kind, one of the Err*
// sentinels), where (Offset, in bytes from the start of the input given to
// ParseElement, or from the start of the stream for a Decoder), and a short
// detail.
type Error struct {
	Kind   error
	Offset int64
	Detail string
}

// Error formats the failure without echoing input bytes (only the kind,
// the offset and a fixed detail), so it is safe to log.
func (e *Error) Error() string {
	s := e.Kind.Error() + " at offset " + strconv.FormatInt(e.Offset, 10)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns the Kind, for errors.Is.
func (e *Error) Unwrap() error { return e.Kind }

// Condition returns the RFC 6120 stream error condition for e.
func (e *Error) Condition() string { return StreamErrorCondition(e) }

// StreamErrorCondition returns the RFC 6120 stream error condition
// (not-well-formed, restricted-xml, policy-violation, invalid-xml,
// unsupported-encoding) to send for a decoding error from this package,
// and "" for nil, io.EOF, io.ErrUnexpectedEOF and any other error (a
// transport failure: the peer is gone, there is no one to send a stream
// error to).
func StreamErrorCondition(err error) string {
	var k *kind
	if errors.As(err, &k) {
		return k.cond
	}
	return ""
}
