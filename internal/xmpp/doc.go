// Package xmpp is Parley's XMPP wire model: a bounded, streaming XML
// tokenizer and an append-style encoder for the subset of XML that RFC 6120
// streams and RFC 7395 WebSocket frames carry, the Element tree both produce
// and consume, JIDs (RFC 7622, simplified, plus Parley's user and room
// addressing), and the stanza and stream error conditions with their wire
// shapes.
//
// Everything here is sized for hostile input: every decoder has explicit
// limits (Limits) on stanza size, nesting depth and attribute count, never
// buffers more than the stanza limit, never panics, and reports every
// refusal as an *Error whose Condition is the RFC 6120 stream error the
// stream engine should send (StreamErrorCondition).
//
// The XML dialect is deliberately not encoding/xml's: element names that
// start with a digit (<0>, <1>, produced by the connectycube SDK for arrays
// inside <extraParams>) are accepted and forwarded unchanged, an element may
// be named xmlns, names and attributes (including xmlns and xmlns:prefix
// declarations) are kept verbatim in document order, and comments,
// processing instructions, DTDs, CDATA sections and entity references other
// than the five predefined ones are refused as RFC 6120 requires.
//
// The package is a leaf: it imports only the standard library.
package xmpp
