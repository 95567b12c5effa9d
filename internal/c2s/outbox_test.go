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
