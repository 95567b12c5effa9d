package c2s

import (
	"sync"
	"sync/atomic"
)

// frameKind tells the writer what a queued frame is.
type frameKind uint8

const (
	kindStanza  frameKind = iota // message, presence, iq: counted by stream management
	kindNonza                    // anything else (stream features, SM elements, errors)
	kindFlush                    // no bytes: the writer signals that it got here
	kindSMStart                  // the <enabled/> nonza: counting starts once it is written
	// kindClose is the server's closing element (RFC 7395 <close/>): the
	// last frame of a connection. The writer writes nothing after it, not
	// even an ack request: the SDK's XMPP library tears its parser down
	// when it reads <close/> and throws on any later frame.
	kindClose
)

type frame struct {
	b    []byte
	kind frameKind
	off  int64 // the offline store's row id of a kept message, else 0
}

// offMark is a written frame that came from the offline store: its row is
// deleted once the client acknowledges stanza number seq.
type offMark struct {
	seq uint32
	id  int64
}

// budget is the engine's bound on the stanza bytes every outbox holds
// together (--out-queue-total-bytes).
type budget struct {
	total      atomic.Int64
	max        int64
	reclaiming atomic.Bool // a session is being closed to get under max
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
	maxBytes   int64         // held stanza bytes before the session is ended
	queue      []frame

	// Stanza bytes held: bytes counts the queued ones, those the writer
	// holds and the unacknowledged ones (what the session costs);
	// qbytes only the queued ones (what the writer has yet to take).
	// budget, when set, sums bytes over every session.
	bytes    int64
	qbytes   int64
	budget   *budget
	reserved int64 // this outbox's share of budget.total (hold)

	phase    phase
	link     *link         // the connection writing the queue; nil while parked
	released chan struct{} // closed when a parked session is taken up again

	overflowed bool

	sm      bool     // counting since the <enabled/> was written
	unacked [][]byte // written stanzas the client has not acknowledged
	sent    uint32   // stanzas written since <enabled/> (modulo 2^32)
	acked   uint32   // the client's last h
	asked   bool     // an <r/> is outstanding

	offMarks []offMark // written offline copies not yet acknowledged
	offDone  int64     // the highest offline row id acknowledged
	offAcked int       // offline copies acknowledged so far
	offBytes int64     // bytes of those
}

func (o *outbox) init(m int, maxBytes int64, b *budget) {
	o.wake = make(chan struct{}, 1)
	o.space = make(chan struct{}, 1)
	o.max = m
	o.maxBytes, o.budget = maxBytes, b
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

// budgetChunk is the grain in which an outbox takes the server's budget:
// it reserves its held bytes rounded up to a chunk, so the shared counter
// changes when a session's bytes cross a chunk boundary, not with every
// stanza. Counted per stanza, every delivered copy moved the one counter
// twice (queued, then written or acknowledged), a cache line passed
// between the cores on each copy of a group's fan-out. A session reserves
// less than a chunk more than it holds, and nothing when it holds
// nothing.
const budgetChunk = 8 << 10

// hold counts n more stanza bytes (negative: fewer); o.mu is held. It
// reports whether the server's budget is exceeded.
func (o *outbox) hold(n int64) (overBudget bool) {
	o.bytes += n
	if o.budget == nil {
		return false
	}
	want := (o.bytes + budgetChunk - 1) / budgetChunk * budgetChunk
	if want == o.reserved {
		return false
	}
	total := o.budget.total.Add(want - o.reserved)
	o.reserved = want
	return n > 0 && total > o.budget.max
}

// push queues a frame. ok is false once the session is done; overflow is
// true (once) when the queue grew past its bound in stanzas or the
// session's bytes past their budget, and the caller must end the session;
// overBudget is true when the server's budget is exceeded. The frame is
// queued either way while the session lives, so that it can be kept for
// the user's next connection.
func (o *outbox) push(b []byte, kind frameKind) (ok, overflow, overBudget bool) {
	o.mu.Lock()
	if o.phase == phaseDone {
		o.mu.Unlock()
		return false, false, false
	}
	o.queue = append(o.queue, frame{b: b, kind: kind})
	if kind == kindStanza {
		n := int64(len(b))
		o.qbytes += n
		overBudget = o.hold(n)
	}
	if kind != kindFlush && (len(o.queue) > o.max || o.bytes > o.maxBytes) && !o.overflowed {
		o.overflowed, overflow = true, true
	}
	o.mu.Unlock()
	o.notify()
	return true, overflow, overBudget
}

// pushWait queues a frame the session answers with itself, waiting while
// the queue is full: a client that does not read its answers slows only
// its own stream (its requests stay unread). False when the session is
// done or stop closed first.
func (o *outbox) pushWait(b []byte, kind frameKind, stop <-chan struct{}) bool {
	return o.pushWaitFrame(frame{b: b, kind: kind}, stop)
}

// pushWaitFrame is pushWait of a whole frame (an offline copy carries its
// row id). It waits while the queue holds its bound in stanzas or half
// the session's budget in bytes: only the writer has to make room, never
// an acknowledgement the waiting reader would have to read.
func (o *outbox) pushWaitFrame(f frame, stop <-chan struct{}) bool {
	for {
		o.mu.Lock()
		if o.phase == phaseDone {
			o.mu.Unlock()
			return false
		}
		if (len(o.queue) < o.max && o.qbytes < o.maxBytes/2) || len(o.queue) == 0 || f.kind == kindFlush {
			o.queue = append(o.queue, f)
			if f.kind == kindStanza {
				n := int64(len(f.b))
				o.qbytes += n
				o.hold(n) // the server's budget is enforced on deliveries (push)
			}
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
	o.queue, o.qbytes = nil, 0
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
	for _, f := range fs {
		if f.kind == kindStanza {
			o.qbytes += int64(len(f.b))
		}
	}
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
		o.hold(-int64(len(f.b))) // on the wire: nothing more is kept
		return false
	}
	o.sent++
	o.unacked = append(o.unacked, f.b)
	if f.off != 0 {
		o.offMarks = append(o.offMarks, offMark{seq: o.sent, id: f.off})
	}
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
	if !o.sm {
		o.hold(int64(len(f.b))) // back in the queue
		return
	}
	if len(o.unacked) == 0 {
		return
	}
	if k := len(o.offMarks) - 1; k >= 0 && o.offMarks[k].seq == o.sent {
		o.offMarks = o.offMarks[:k]
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
// were never sent. offDone is the highest offline row id acknowledged so
// far (0: none).
func (o *outbox) ack(h uint32) (ok bool, offDone int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := h - o.acked
	if int64(n) > int64(len(o.unacked)) {
		return false, o.offDone
	}
	var freed int64
	for _, b := range o.unacked[:n] {
		freed += int64(len(b))
	}
	o.hold(-freed)
	o.ackOffline(h)
	o.unacked = o.unacked[n:]
	if len(o.unacked) == 0 {
		o.unacked = nil
	}
	o.acked, o.asked = h, false
	if len(o.unacked) > 0 {
		o.notify() // ask again: what is still unacknowledged must be settled
	}
	return true, o.offDone
}

// ackOffline settles the offline copies the client's count h covers; o.mu
// is held and o.unacked not yet cut.
func (o *outbox) ackOffline(h uint32) {
	k := 0
	for ; k < len(o.offMarks) && int32(o.offMarks[k].seq-h) <= 0; k++ {
		m := o.offMarks[k]
		o.offDone = m.id
		o.offAcked++
		o.offBytes += int64(len(o.unacked[m.seq-o.acked-1]))
	}
	if k > 0 {
		o.offMarks = o.offMarks[k:]
		if len(o.offMarks) == 0 {
			o.offMarks = nil
		}
	}
}

// offlineAcked reports how many offline copies, and how many bytes of
// them, the client acknowledged so far, and the highest row id among them.
func (o *outbox) offlineAcked() (n int, bytes, offDone int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.offAcked, o.offBytes, o.offDone
}

// heldBytes is what the session holds in stanza bytes.
func (o *outbox) heldBytes() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bytes
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
// delivered), then the queued ones. Copies from the offline store are not
// among them: their rows are still kept. offDone is the highest offline
// row id known delivered.
func (o *outbox) end(delivered bool) (out [][]byte, offDone int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.phase, o.link = phaseDone, nil
	if delivered {
		if k := len(o.offMarks); k > 0 {
			o.offDone = o.offMarks[k-1].id
		}
	} else {
		// Unacknowledged offline copies stay out: their rows are kept.
		marks := o.offMarks
		for i, b := range o.unacked {
			if len(marks) > 0 && marks[0].seq == o.acked+uint32(i)+1 {
				marks = marks[1:]
				continue
			}
			out = append(out, b)
		}
	}
	for _, f := range o.queue {
		if f.kind == kindStanza && f.off == 0 {
			out = append(out, f.b)
		}
	}
	o.hold(-o.bytes)
	o.unacked, o.queue, o.offMarks, o.qbytes = nil, nil, nil, 0
	return out, o.offDone
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
	// What h covers is delivered: settle its offline copies; the rest are
	// written again with their row ids, and counted again.
	o.ackOffline(o.acked + n)
	again := o.unacked[n:]
	q := make([]frame, 0, 1+len(again)+len(o.queue))
	q = append(q, frame{b: resumed(), kind: kindNonza})
	marks := o.offMarks
	for i, b := range again {
		f := frame{b: b, kind: kindStanza}
		if len(marks) > 0 && marks[0].seq == o.acked+n+uint32(i)+1 {
			f.off, marks = marks[0].id, marks[1:]
		}
		o.qbytes += int64(len(b))
		q = append(q, f)
	}
	var dropped int64
	for _, b := range o.unacked[:n] {
		dropped += int64(len(b))
	}
	o.hold(-dropped)
	o.queue = append(q, o.queue...)
	o.unacked, o.sent, o.acked, o.asked, o.offMarks = nil, h, h, false, nil
	o.phase = phaseResuming
	return len(again), phaseResuming
}
