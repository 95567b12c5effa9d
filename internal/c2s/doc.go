// Package c2s is the client-to-server XMPP stream engine: one Session per
// connection, a state machine over stream opening, SASL PLAIN, resource
// binding and the stanzas of a bound client, independent of the transport
// (Conn: WebSocket frames or a TCP stream). Stanzas of a session are handled
// one at a time, in order; writes go through a bounded queue drained by one
// writer goroutine, and a session whose queue overflows is closed instead of
// stalling anyone.
//
// It imports internal/xmpp, internal/router and the domain services (auth).
package c2s
