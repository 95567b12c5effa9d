package c2s

import "sync"

// A saved message is acknowledged and delivered only once its store
// transaction committed, a millisecond or more later. Handled one at a
// time, a client that sends a burst would have each message wait for the
// previous one's commit: with 8 messages in flight per sender, three
// quarters of a message's latency was that queue, while the store sat
// idle between batches. So the reader hands a saved message to the store
// and goes on reading; what must happen after the commit (delivery, the
// stanza counted as handled) is a step of the session's pipeline, and
// steps run one at a time, in the order the stanzas came. The messages of
// a burst then share a group commit.
//
// Anything else the reader meets (presence, IQs, stream management, the
// stream's end) waits until the pipeline is empty, so the order of effects
// and the XEP-0198 count are what they would be one stanza at a time.
//
// No goroutine is kept for an idle session: one is started when a step is
// queued behind a commit and ends when the queue is empty.
const maxPipelined = 32 // steps queued per session before the reader waits

type pipeline struct {
	mu      sync.Mutex
	cond    sync.Cond
	steps   []func()
	running bool
}

// run runs step now when nothing is queued and it does not wait for a
// commit (later), else queues it behind the others.
func (p *pipeline) run(later bool, step func()) {
	p.mu.Lock()
	if !p.running && !later {
		p.mu.Unlock()
		step()
		return
	}
	if p.cond.L == nil {
		p.cond.L = &p.mu
	}
	for len(p.steps) >= maxPipelined {
		p.cond.Wait()
	}
	p.steps = append(p.steps, step)
	if !p.running {
		p.running = true
		go p.loop()
	}
	p.mu.Unlock()
}

func (p *pipeline) loop() {
	p.mu.Lock()
	for len(p.steps) > 0 {
		step := p.steps[0]
		p.steps[0] = nil
		p.steps = p.steps[1:]
		p.cond.Broadcast()
		p.mu.Unlock()
		step()
		p.mu.Lock()
	}
	p.steps = nil
	p.running = false
	p.cond.Broadcast()
	p.mu.Unlock()
}

// drain waits until every queued step ran.
func (p *pipeline) drain() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cond.L == nil {
		p.cond.L = &p.mu
	}
	for p.running {
		p.cond.Wait()
	}
}
