package c2s

import "time"

// Memory held for clients. Every session's outbox counts the stanza bytes
// it holds: queued, in the writer's hands, and, with stream management,
// written but unacknowledged (those are kept in memory until the client's
// <a h/>, so they cost the same as queued ones; counting them is what
// bounds a client that reads but never acknowledges). Past OutQueueBytes
// the session is closed like past OutQueue stanzas, and its pending 1-1
// messages become offline messages.
//
// The engine sums every outbox's bytes in one atomic counter (an add per
// queued stanza, under the outbox's mutex already held). Past
// OutQueueTotalBytes the session holding the most is closed: it is the one
// whose client is furthest behind, and closing the session that happened
// to enqueue last would punish a healthy client for another's backlog.
// The stanza being queued is queued anyway; finding the largest walks the
// available sessions once, on a goroutine of its own, one at a time,
// only while the server is over its budget.

// reclaim closes the session holding the most bytes, unless a reclaim is
// already under way.
func (e *Engine) reclaim() {
	if !e.mem.reclaiming.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer e.mem.reclaiming.Store(false)
		var victim *Session
		var most int64
		for _, rs := range e.router.Available(func(string) bool { return true }) {
			s, ok := rs.(*Session)
			if !ok {
				continue
			}
			if b := s.out.heldBytes(); b > most {
				victim, most = s, b
			}
		}
		if victim == nil {
			return
		}
		victim.log.Warn("server over its outbound memory budget; closing the session holding most",
			"held_bytes", most, "total_bytes", e.mem.total.Load(), "limit_bytes", e.mem.max)
		e.slowMemory.Add(1)
		victim.endNow()
		// Wait (bounded) until its bytes are released, so that the next
		// stanza over the budget does not pick a second victim for the
		// same excess.
		deadline := time.Now().Add(writeTimeout + time.Second)
		for victim.out.heldBytes() > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}()
}
