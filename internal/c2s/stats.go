package c2s

// What the engine tells an operator (internal/server exports it as
// metrics). Counters are atomics bumped where the event happens, once per
// message copy or closed session; everything that needs a walk or a lock
// (connections, sessions, outbox sizes) is read only when Stats is
// called, at scrape time, so the message path pays nothing for it.

// TransportConn is a transport that names itself ("tcp", "ws"); both of
// ours do. Connections of a transport that does not are counted as
// "other".
type TransportConn interface {
	Transport() string
}

func transportOf(c Conn) string {
	if t, ok := c.(TransportConn); ok {
		return t.Transport()
	}
	return "other"
}

// Stats is the engine's state and counts since start.
type Stats struct {
	// Connections are the open client connections by transport.
	Connections map[string]int
	// Sessions are the bound sessions, including those waiting for their
	// client to resume (XEP-0198).
	Sessions int
	// OutboxBytes is the stanza bytes every session holds together
	// (queued or unacknowledged, see memory.go); OutboxMaxBytes what the
	// session holding most holds.
	OutboxBytes, OutboxMaxBytes int64
	// Routed counts message copies queued for recipients' sessions (1-1,
	// group and broadcast copies; carbons and offline copies not).
	Routed int64
	// SlowQueue counts sessions closed because their client read too
	// slowly for their own bound (--out-queue, --out-queue-bytes, or
	// unacknowledged stanzas); SlowMemory those closed because the server
	// was over --out-queue-total-bytes and they held the most.
	SlowQueue, SlowMemory int64
	// OfflineNotKept counts messages not kept for offline delivery
	// because their recipient had --offline-max kept already.
	OfflineNotKept int64
}

// Stats reads the engine's state; it walks the available sessions once,
// so it is for scrapes, not for the message path.
func (e *Engine) Stats() Stats {
	st := Stats{Connections: map[string]int{}, OutboxBytes: e.mem.total.Load(), Routed: e.routed.Load(),
		SlowQueue: e.slowQueue.Load(), SlowMemory: e.slowMemory.Load(), OfflineNotKept: e.offlineRefused.Load()}
	e.mu.Lock()
	for t, n := range e.conns {
		st.Connections[t] = n
	}
	st.Sessions = e.bound
	e.mu.Unlock()
	for _, rs := range e.router.Available(func(string) bool { return true }) {
		if s, ok := rs.(*Session); ok {
			st.OutboxMaxBytes = max(st.OutboxMaxBytes, s.out.heldBytes())
		}
	}
	return st
}

// connOpened and connClosed count a connection of transport t.
func (e *Engine) connOpened(t string) {
	e.mu.Lock()
	e.conns[t]++
	e.mu.Unlock()
}

func (e *Engine) connClosed(t string) {
	e.mu.Lock()
	if e.conns[t]--; e.conns[t] <= 0 {
		delete(e.conns, t)
	}
	e.mu.Unlock()
}
