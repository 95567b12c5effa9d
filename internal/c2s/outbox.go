package c2s

import "sync"

// frameKind tells the writer what a queued frame is.
type frameKind uint8

const (
	kindStanza  frameKind = iota // message, presence, iq: counted by stream management
	kindNonza                    // anything else (stream features, SM elements, errors)
	kindFlush                    // no bytes: the writer signals that it got here
	kindSMStart                  // the <enabled/> nonza: counting starts once it is written
)

type frame struct {
	b    []byte
	kind frameKind
}

// phase is where a session is in its life (guarded by outbox.mu).
type phase uint8

const (
	phaseLive     phase = iota // a connection serves it
	phaseParked                // its connection was lost; it waits for a resume
	phaseResuming              // a new connection is taking it up
	phaseDone                  // ended: nothing more is queued
)

// outbox is a session's outbound side: the frames waiting for the writer
// and, with stream management, the stanzas written but not yet
// acknowledged by the client (XEP-0198). It is a slice under a mutex rather
// than a buffered channel so that an idle session costs a few words, not a
// preallocated buffer of OutQueue slots.
type outbox struct {
	mu         sync.Mutex
	wake       chan struct{} // capacity 1: the writer has work
	space      chan struct{} // capacity 1: the writer took the queue
	max        int           // queued stanzas before the session is ended
	maxUnacked int           // unacknowledged stanzas before the session is ended
	queue      []frame

	phase    phase
	link     *link         // the connection writing the queue; nil while parked
	released chan struct{} // closed when a parked session is taken up again

	overflowed bool

	sm      bool     // counting since the <enabled/> was written
	unacked [][]byte // written stanzas the client has not acknowledged
	sent    uint32   // stanzas written since <enabled/> (modulo 2^32)
	acked   uint32   // the client's last h
	asked   bool     // an <r/> is outstanding
}

func (o *outbox) init(m int) {
	o.wake = make(chan struct{}, 1)
	o.space = make(chan struct{}, 1)
	o.max = m
	// Acknowledgements lag a round trip behind, so a client that reads
	// and acks normally holds more in flight than one that stopped reading
	// may hold queued.
	o.maxUnacked = max(2*m, 256)
}

func (o *outbox) notify() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// push queues a frame. ok is false once the session is done; overflow is
// true (once) when the queue grew past its bound, and the caller must end
// the session. The frame is queued either way while the session lives, so
// that it can be kept for the user's next connection.
func (o *outbox) push(b []byte, kind frameKind) (ok, overflow bool) {
	o.mu.Lock()
	if o.phase == phaseDone {
		o.mu.Unlock()
		return false, false
	}
	o.queue = append(o.queue, frame{b: b, kind: kind})
	if kind != kindFlush && len(o.queue) > o.max && !o.overflowed {
		o.overflowed, overflow = true, true
	}
	o.mu.Unlock()
	o.notify()
	return true, overflow
}

// pushWait queues a frame the session answers with itself, waiting while
// the queue is full: a client that does not read its answers slows only
// its own stream (its requests stay unread). False when the session is
// done or stop closed first.
func (o *outbox) pushWait(b []byte, kind frameKind, stop <-chan struct{}) bool {
	for {
		o.mu.Lock()
		if o.phase == phaseDone {
			o.mu.Unlock()
			return false
		}
		if len(o.queue) < o.max || kind == kindFlush {
			o.queue = append(o.queue, frame{b: b, kind: kind})
			o.mu.Unlock()
			o.notify()
			return true
		}
		o.mu.Unlock()
		select {
		case <-o.space:
		case <-stop:
			return false
		}
	}
}

// take hands the writer everything queued.
func (o *outbox) take() []frame {
	o.mu.Lock()
	q := o.queue
	o.queue = nil
	o.mu.Unlock()
	select {
	case o.space <- struct{}{}:
	default:
	}
	return q
}

// putBack returns frames the writer could not write, ahead of the rest.
func (o *outbox) putBack(fs []frame) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.queue = append(fs[:len(fs):len(fs)], o.queue...)
}

// written records a frame on the wire; overflow is true (once) when the
// client leaves more stanzas unacknowledged than the bound.
func (o *outbox) written(f frame) (overflow bool) {
	if f.kind != kindStanza && f.kind != kindSMStart {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if f.kind == kindSMStart {
		o.sm, o.sent, o.acked, o.unacked, o.asked = true, 0, 0, nil, false
		return false
	}
	if !o.sm {
		return false
	}
	o.sent++
	o.unacked = append(o.unacked, f.b)
	if len(o.unacked) > o.maxUnacked && !o.overflowed {
		o.overflowed = true
		return true
	}
	return false
}

// unwritten takes back what written recorded for a frame whose write
// failed (it goes back to the queue and will be counted again).
func (o *outbox) unwritten(f frame) {
	if f.kind != kindStanza {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.sm || len(o.unacked) == 0 {
		return
	}
	o.sent--
	o.unacked = o.unacked[:len(o.unacked)-1]
}

// askNow reports whether the writer should request an acknowledgement:
// stanzas are unacknowledged and no request is outstanding.
func (o *outbox) askNow() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.sm && len(o.unacked) > 0 && !o.asked {
		o.asked = true
		return true
	}
	return false
}

// ack applies the client's <a h/>; false when h acknowledges stanzas that
// were never sent.
func (o *outbox) ack(h uint32) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := h - o.acked
	if int64(n) > int64(len(o.unacked)) {
		return false
	}
	o.unacked = o.unacked[n:]
	if len(o.unacked) == 0 {
		o.unacked = nil
	}
	o.acked, o.asked = h, false
	if len(o.unacked) > 0 {
		o.notify() // ask again: what is still unacknowledged must be settled
	}
	return true
}

func (o *outbox) currentLink() *link {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.link
}

// attach makes l the connection writing the queue; a parked session taken
// up again becomes live.
func (o *outbox) attach(l *link) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.link, o.phase = l, phaseLive
	if o.released != nil {
		close(o.released)
		o.released = nil
	}
	if len(o.queue) > 0 {
		o.notify()
	}
}

// detach forgets the connection (it was handed to a resumed session).
func (o *outbox) detach() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.link = nil
}

// park keeps a live session without a connection; the returned channel is
// closed when a new connection takes it up.
func (o *outbox) park() (released chan struct{}, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.phase != phaseLive {
		return nil, false
	}
	o.phase, o.link = phaseParked, nil
	o.released = make(chan struct{})
	return o.released, true
}

// expire ends a parked session; false when a resume took it meanwhile.
func (o *outbox) expire() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.phase != phaseParked {
		return false
	}
	o.phase = phaseDone
	return true
}

// end marks the session done and returns every stanza it did not get to
// its client: the unacknowledged ones first (unless they are known to be
// delivered), then the queued ones.
func (o *outbox) end(delivered bool) [][]byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.phase, o.link = phaseDone, nil
	var out [][]byte
	if !delivered {
		out = o.unacked
	}
	for _, f := range o.queue {
		if f.kind == kindStanza {
			out = append(out, f.b)
		}
	}
	o.unacked, o.queue = nil, nil
	return out
}

// resume takes up a parked session for a client that has received h
// stanzas: the stanzas after h are queued again, behind the <resumed/>
// answer and ahead of what waited meanwhile, and counting restarts at h.
// It reports how many are sent again, or false when the session is not
// parked (live elsewhere, being resumed, or done).
func (o *outbox) resume(h uint32, resumed func() []byte) (int, phase) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.phase != phaseParked {
		return 0, o.phase
	}
	// h and acked count modulo 2^32; a client that claims less than it
	// acknowledged before gets everything still held, one that claims
	// more than was sent gets nothing again.
	n := h - o.acked
	switch {
	case int32(n) < 0:
		n = 0
	case int64(n) > int64(len(o.unacked)):
		n = uint32(len(o.unacked))
	}
	again := o.unacked[n:]
	q := make([]frame, 0, 1+len(again)+len(o.queue))
	q = append(q, frame{b: resumed(), kind: kindNonza})
	for _, b := range again {
		q = append(q, frame{b: b, kind: kindStanza})
	}
	o.queue = append(q, o.queue...)
	o.unacked, o.sent, o.acked, o.asked = nil, h, h, false
	o.phase = phaseResuming
	return len(again), phaseResuming
}
