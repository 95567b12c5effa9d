package c2s

import (
	"fmt"
	"testing"
)

// The outbox's counts are modulo 2^32 (XEP-0198): acknowledgements and
// resumes across the wrap, and clients that claim too little or too much.
func TestOutboxCountsAcrossTheWrapAndBadClaims(t *testing.T) {
	newBox := func(start uint32, n int) *outbox {
		o := &outbox{}
		o.init(100, 1<<30, nil)
		o.written(frame{kind: kindSMStart})
		o.sent, o.acked = start, start
		for i := 0; i < n; i++ {
			o.written(frame{b: []byte(fmt.Sprint(i)), kind: kindStanza})
		}
		return o
	}
	resent := func(o *outbox, h uint32) string {
		n, ph := o.parkAndResume(h)
		if ph != phaseResuming {
			t.Fatalf("resume in phase %d", ph)
		}
		var got []string
		for _, f := range o.queue[1 : 1+n] {
			got = append(got, string(f.b))
		}
		return fmt.Sprint(got)
	}

	o := newBox(^uint32(0)-1, 5) // sent wraps past 2^32
	if ok, _ := o.ack(1); !ok || len(o.unacked) != 2 {
		t.Fatalf("ack across the wrap left %d unacknowledged, want 2", len(o.unacked))
	}
	if ok, _ := o.ack(5); ok {
		t.Fatal("an ack of stanzas never sent was accepted")
	}
	if got := resent(o, 2); got != "[4]" {
		t.Fatalf("resume after h=2 resent %s, want [4]", got)
	}

	o = newBox(10, 4)
	o.ack(12)
	if got := resent(o, 11); got != "[2 3]" { // claims less than it acknowledged
		t.Fatalf("resume with a lower h resent %s, want everything held: [2 3]", got)
	}
	o = newBox(10, 4)
	if got := resent(o, 99); got != "[]" { // claims more than was sent
		t.Fatalf("resume with a higher h resent %s, want nothing", got)
	}
	if o.sent != 99 || o.acked != 99 {
		t.Fatalf("after resume the counts are %d/%d, want the client's 99", o.sent, o.acked)
	}
}

// parkAndResume parks a live outbox and resumes it at h.
func (o *outbox) parkAndResume(h uint32) (int, phase) {
	if _, ok := o.park(); !ok {
		return 0, o.phase
	}
	return o.resume(h, func() []byte { return []byte("<resumed/>") })
}

// Every byte an outbox counts is given back, on every path out (written
// without stream management, acknowledged, resumed past, ended), so the
// server's total does not drift; offline copies are settled by their
// acknowledgement and are never handed back as undelivered.
func TestOutboxGivesBackEveryByteItCounts(t *testing.T) {
	b := &budget{max: 1 << 30}
	o := &outbox{}
	o.init(100, 1<<20, b)
	check := func(what string, want int64) {
		t.Helper()
		// The server counts the bytes in whole chunks: what the outbox
		// holds, rounded up.
		if reserved := (want + budgetChunk - 1) / budgetChunk * budgetChunk; o.bytes != want || b.total.Load() != reserved {
			t.Fatalf("%s: outbox holds %d bytes, the server counts %d; want %d and %d", what, o.bytes, b.total.Load(), want, reserved)
		}
	}
	writeAll := func() {
		for _, f := range o.take() {
			o.written(f)
		}
	}
	o.push([]byte("12345"), kindStanza)
	o.push([]byte("<open/>"), kindNonza) // nonzas are not counted
	check("queued", 5)
	writeAll()
	check("written without stream management", 0)

	o.written(frame{kind: kindSMStart})
	o.push([]byte("abc"), kindStanza)
	o.pushWaitFrame(frame{b: []byte("offline"), kind: kindStanza, off: 42}, nil)
	o.push([]byte("defg"), kindStanza)
	writeAll()
	check("unacknowledged", 14)
	if ok, done := o.ack(1); !ok || done != 0 {
		t.Fatalf("ack 1: %v, offline done %d", ok, done)
	}
	check("one acknowledged", 11)
	if ok, done := o.ack(2); !ok || done != 42 {
		t.Fatalf("ack 2: %v, offline done %d; want 42", ok, done)
	}
	check("the offline copy acknowledged", 4)

	o.push([]byte("hi"), kindStanza)
	writeAll()
	o.pushWaitFrame(frame{b: []byte("kept"), kind: kindStanza, off: 43}, nil)
	writeAll()
	o.push([]byte("queued"), kindStanza)
	check("before the resume", 16)
	if n, ph := o.parkAndResume(3); ph != phaseResuming || n != 2 {
		t.Fatalf("resume: %d again, phase %d", n, ph)
	}
	check("resumed past one", 16-4)
	if f := o.queue[2]; string(f.b) != "kept" || f.off != 43 {
		t.Fatalf("the offline copy queued again as %q, row %d", f.b, f.off)
	}
	undelivered, done := o.end(false)
	if fmt.Sprintf("%q", undelivered) != `["hi" "queued"]` || done != 42 {
		t.Fatalf("end: undelivered %q, offline done %d; want the two others, 42", undelivered, done)
	}
	check("ended", 0)
}
