package loadgen

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/xmpp"
)

// chatRun is the chat part of a run: sender p (clients[p]) writes to
// receiver p (clients[p+Pairs]); one reader per connection of a pair.
type chatRun struct {
	cfg     *XMPPConfig
	t0      time.Time // every timestamp is monotonic time since t0
	clients []conn
	builds  []stanzaBuilder // per sender
	phases  []*phase
	cur     atomic.Pointer[phase] // for bounces without a body and for progress
	// senders has one channel per phase, closed when its senders are done;
	// runChat waits for all of them before it returns.
	senders []chan struct{}
}

func (r *chatRun) now() int64 { return int64(time.Since(r.t0)) }

// phase is one chat phase. Everything a reader touches is either set
// before the readers start or atomic/mutex-guarded: readers learn of a
// phase's messages through the network, which the race detector does not
// see as synchronisation.
type phase struct {
	id        int
	fanout    int     // deliveries a message makes: 1, or a group's receivers
	rate      float64 // 0: closed loop
	window    int
	perSender int // count-based: messages per sender; 0 when time-based
	credits   []chan struct{}
	rec       []recorder // per pair: latencies of the window's messages
	lag       [][]int64  // per sender (owned by it): open-loop send lag
	stop      chan struct{}

	mStart, mEnd                            atomic.Int64 // measured window, ns since t0
	sent, delivered, errors, inWindow, late atomic.Int64
	offered, maxBytes                       atomic.Int64
	lastProgress                            atomic.Int64 // time of the last delivery
	closed                                  atomic.Bool  // drained: later arrivals are late
}

type recorder struct {
	mu  sync.Mutex
	lat []int64
}

func (ph *phase) name() string {
	if ph.rate > 0 {
		return fmt.Sprintf("open loop %.0f msg/s", ph.rate)
	}
	return fmt.Sprintf("closed loop %d in flight", ph.window)
}

// credit gives a closed-loop sender back one message in flight; it never
// blocks (a stray answer must not stall a reader).
func (ph *phase) credit(pair int) {
	if ph.credits == nil {
		return
	}
	select {
	case ph.credits[pair] <- struct{}{}:
	default:
	}
}

// stanzaBuilder writes one sender's chat stanzas. The body is "PHASE
// SCHEDULED-NS" and words up to the stanza size: the phase lets a
// straggler of an earlier phase be told apart, the time is when the
// message was due.
type stanzaBuilder struct {
	prefix, suffix []byte
	size           int
}

func newStanzaBuilder(cfg *XMPPConfig, to, typ string) stanzaBuilder {
	// Over TCP the stream's default namespace is jabber:client; a
	// WebSocket frame carries its namespace itself (RFC 7395 §3.4). The
	// extraParams element is the SDK's.
	var b stanzaBuilder
	if cfg.Transport == "tcp" {
		b.prefix = []byte(`<message type='` + typ + `' to='` + to + `'><body>`)
		b.suffix = []byte(`</body></message>`)
		if !cfg.NoHistory {
			b.suffix = []byte(`</body><extraParams><save_to_history>1</save_to_history></extraParams></message>`)
		}
	} else {
		b.prefix = []byte(`<message type="` + typ + `" to="` + to + `" xmlns="jabber:client"><body>`)
		b.suffix = []byte(`</body></message>`)
		if !cfg.NoHistory {
			b.suffix = []byte(`</body><extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams></message>`)
		}
	}
	b.size = cfg.StanzaBytes
	return b
}

func (b *stanzaBuilder) build(buf []byte, phase int, sched int64) []byte {
	buf = append(buf[:0], b.prefix...)
	buf = strconv.AppendInt(buf, int64(phase), 10)
	buf = append(buf, ' ')
	buf = strconv.AppendInt(buf, sched, 10)
	if n := b.size - len(buf) - len(b.suffix); n > 0 {
		buf = append(buf, ' ')
		buf = appendWords(buf, n-1, uint64(sched))
	}
	return append(buf, b.suffix...)
}

// appendWords appends n bytes of words (the seeder's vocabulary) picked
// from seed. Real text keeps the server's full-text index as busy as real
// messages do: padding of one repeated letter is a single trigram, which
// the index stores almost for free (measured: about half the indexing CPU
// of these words).
func appendWords(buf []byte, n int, seed uint64) []byte {
	x := seed
	for n > 0 {
		x = x*6364136223846793005 + 1442695040888963407 // a 64-bit LCG step
		w := words[(x>>33)%uint64(len(words))]
		if len(w) >= n {
			return append(buf, w[:n]...)
		}
		buf = append(append(buf, w...), ' ')
		n -= len(w) + 1
	}
	return buf
}

// parseBody reads "PHASE SCHEDULED-NS[ padding]".
func parseBody(s string) (phase int, sched int64, ok bool) {
	a, rest, ok := strings.Cut(s, " ")
	if !ok {
		return 0, 0, false
	}
	b, _, _ := strings.Cut(rest, " ")
	p, err1 := strconv.Atoi(a)
	t, err2 := strconv.ParseInt(b, 10, 64)
	return p, t, err1 == nil && err2 == nil
}

// runChat runs the configured phases in order over the pairs' sessions.
// It closes the pairs' connections before it returns, which ends their
// readers.
func runChat(ctx context.Context, cfg *XMPPConfig, clients []conn, accounts []Account, progress io.Writer) ([]PhaseReport, error) {
	r := &chatRun{cfg: cfg, t0: time.Now(), clients: clients}
	pairs := cfg.Pairs
	// members[p] are pair (or group) p's connections, the sender first.
	members := make([][]int, pairs)
	fanout := 1
	if cfg.GroupSize > 0 {
		groups, err := createGroups(ctx, cfg, accounts)
		if err != nil {
			return nil, err
		}
		fanout = cfg.GroupSize - 1
		for p := 0; p < pairs; p++ {
			members[p] = append([]int{p}, groupReceivers(cfg, p)...)
			room := fmt.Sprintf("%d_%s@muc.%s", cfg.AppID, groups[p], cfg.Domain)
			r.builds = append(r.builds, newStanzaBuilder(cfg, room, "groupchat"))
		}
	} else {
		for p := 0; p < pairs; p++ {
			members[p] = []int{p, p + pairs}
			r.builds = append(r.builds, newStanzaBuilder(cfg, accounts[p+pairs].JID, "chat"))
		}
	}
	for i, rate := range cfg.Rates {
		ph := &phase{id: i, fanout: fanout, rate: rate, window: cfg.Window, rec: make([]recorder, pairs),
			lag: make([][]int64, pairs), stop: make(chan struct{})}
		if cfg.Duration <= 0 {
			ph.perSender = cfg.Messages
		}
		if rate == 0 {
			ph.credits = make([]chan struct{}, pairs)
			for p := range ph.credits {
				ph.credits[p] = make(chan struct{}, cfg.Window)
				for k := 0; k < cfg.Window; k++ {
					ph.credits[p] <- struct{}{}
				}
			}
		}
		r.phases = append(r.phases, ph)
	}
	r.cur.Store(r.phases[0])

	var readers sync.WaitGroup
	for p := 0; p < pairs; p++ {
		for k, i := range members[p] {
			readers.Add(1)
			go func() {
				defer readers.Done()
				r.read(clients[i], p, k == 0)
			}()
		}
	}
	defer func() {
		// Closing the pairs' connections ends their readers (and any
		// sender still blocked in a write).
		for p := 0; p < pairs; p++ {
			for _, i := range members[p] {
				clients[i].close()
			}
		}
		readers.Wait()
		for _, done := range r.senders {
			<-done
		}
	}()

	tickDone := make(chan struct{})
	var ticker sync.WaitGroup
	ticker.Add(1)
	go func() {
		defer ticker.Done()
		r.progress(progress, tickDone)
	}()
	var out []PhaseReport
	var err error
	for _, ph := range r.phases {
		r.cur.Store(ph)
		rep := r.runPhase(ctx, ph)
		out = append(out, rep)
		if rep.Aborted != "" {
			err = fmt.Errorf("%s: %s", rep.Name, rep.Aborted)
			break
		}
	}
	close(tickDone)
	ticker.Wait()
	fmt.Fprintln(progress)
	return out, err
}

// progress prints one line a second: the phase, its totals and the
// delivery rate of the last second.
func (r *chatRun) progress(w io.Writer, done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var last int64
	var lastPh *phase
	for {
		select {
		case <-t.C:
			ph := r.cur.Load()
			d := ph.delivered.Load()
			if ph != lastPh {
				last, lastPh = 0, ph
			}
			fmt.Fprintf(w, "\rchat %-26s sent %8d  delivered %8d  %7d msg/s", ph.name(), ph.sent.Load(), d, d-last)
			last = d
		case <-done:
			return
		}
	}
}

// read handles everything that arrives on one connection of a pair:
// deliveries on the receiver's, bounces (and a group's echoes) on the
// sender's.
func (r *chatRun) read(c conn, pair int, sender bool) {
	for {
		el, err := c.recv()
		if err != nil {
			return
		}
		if el.Name != "message" {
			continue
		}
		if r.handle(el, pair, sender) && r.cfg.Markers {
			if err := c.send(marker(el)); err != nil {
				return
			}
		}
	}
}

// marker is the receiver's 'received' marker for a delivered message.
func marker(el *xmpp.Element) []byte {
	m := xmpp.NewElement("message", "xmlns", xmpp.NSClient, "type", "chat", "to", el.Attr("from"))
	m.AppendChild(xmpp.NewElement("received", "xmlns", xmpp.NSMarkers, "id", el.Attr("id")))
	if x := el.Child("extraParams", ""); x != nil {
		if d := x.Child("dialog_id", ""); d != nil {
			m.AppendChild(xmpp.NewElement("extraParams", "xmlns", xmpp.NSClient)).
				AppendChild(xmpp.NewElement("dialog_id")).AppendText(d.Text())
		}
	}
	return m.Encode()
}

// handle counts a message arriving on a pair's connection; true when it
// is one of ours delivered (not a bounce, not late).
func (r *chatRun) handle(el *xmpp.Element, pair int, sender bool) bool {
	now := r.now()
	isErr := el.Attr("type") == "error"
	var ph *phase
	var sched int64
	if b := el.Child("body", ""); b != nil {
		id, t, ok := parseBody(b.Text())
		if ok && id >= 0 && id < len(r.phases) {
			ph, sched = r.phases[id], t
		}
	}
	if ph == nil {
		if !isErr {
			return false // not one of ours
		}
		ph = r.cur.Load() // a bounce without the original body
	}
	if ph.closed.Load() {
		ph.late.Add(1)
		return false
	}
	if isErr {
		ph.errors.Add(1)
		ph.credit(pair)
		return false
	}
	if ph.fanout > 1 && sender {
		// A group message's echo: stored and fanned out; the sender may
		// send another.
		ph.credit(pair)
		return false
	}
	ph.delivered.Add(1)
	ph.lastProgress.Store(now)
	ms, me := ph.mStart.Load(), ph.mEnd.Load()
	if now >= ms && now < me {
		ph.inWindow.Add(1)
	}
	if sched >= ms && sched < me {
		rec := &ph.rec[pair]
		rec.mu.Lock()
		rec.lat = append(rec.lat, now-sched)
		rec.mu.Unlock()
	}
	if ph.fanout == 1 {
		ph.credit(pair) // a group's sender gets its window back from the echo
	}
	return true
}

// sender sends pair p's messages of one phase until its schedule (what is
// due before end) or count is done, or the phase stops (after the drain).
func (r *chatRun) sender(ph *phase, p int, start, end int64) {
	c, b := r.clients[p], &r.builds[p]
	buf := make([]byte, 0, 256)
	var longest int
	defer func() {
		for {
			m := ph.maxBytes.Load()
			if int64(longest) <= m || ph.maxBytes.CompareAndSwap(m, int64(longest)) {
				return
			}
		}
	}()
	ms, me := ph.mStart.Load(), ph.mEnd.Load()
	send := func(sched int64) bool {
		buf = b.build(buf, ph.id, sched)
		longest = max(longest, len(buf))
		if err := c.send(buf); err != nil {
			return false
		}
		ph.sent.Add(1)
		return true
	}
	if ph.rate > 0 {
		// Sender p's k-th message is due at start + (k + p/Pairs) *
		// interval: the senders are staggered, so the server sees an even
		// stream at the offered rate rather than bursts of Pairs.
		interval := float64(time.Second) * float64(r.cfg.Pairs) / ph.rate
		frac := float64(p) / float64(r.cfg.Pairs)
		timer := time.NewTimer(time.Hour)
		defer timer.Stop()
		for k := 0; ph.perSender == 0 || k < ph.perSender; k++ {
			sched := start + int64((float64(k)+frac)*interval)
			if end > 0 && sched >= end {
				return
			}
			if wait := sched - r.now(); wait > 0 {
				timer.Reset(time.Duration(wait))
				select {
				case <-timer.C:
				case <-ph.stop:
					return
				}
			} else {
				select {
				case <-ph.stop:
					return
				default:
				}
			}
			if !send(sched) {
				return
			}
			if sched >= ms && sched < me {
				ph.lag[p] = append(ph.lag[p], r.now()-sched)
			}
		}
		return
	}
	for m := 0; ph.perSender == 0 || m < ph.perSender; m++ {
		select {
		case <-ph.credits[p]:
		case <-ph.stop:
			return
		}
		now := r.now()
		if end > 0 && now >= end {
			return
		}
		if !send(now) {
			return
		}
	}
}

// runPhase runs one phase: senders, the measured window, the drain.
func (r *chatRun) runPhase(ctx context.Context, ph *phase) PhaseReport {
	cfg := r.cfg
	timed := cfg.Duration > 0
	start := r.now()
	var end int64
	if timed {
		ph.mStart.Store(start + int64(cfg.Warmup))
		ph.mEnd.Store(start + int64(cfg.Warmup+cfg.Duration))
		end = ph.mEnd.Load()
	} else {
		ph.mStart.Store(start)
		ph.mEnd.Store(math.MaxInt64)
	}
	if ph.rate > 0 {
		// What the schedule holds: the open-loop senders' k's below end.
		var n int64
		for p := 0; p < cfg.Pairs; p++ {
			if timed {
				interval := float64(time.Second) * float64(cfg.Pairs) / ph.rate
				n += int64(math.Ceil((float64(end-start))/interval - float64(p)/float64(cfg.Pairs)))
			} else {
				n += int64(ph.perSender)
			}
		}
		ph.offered.Store(n)
	}
	ph.lastProgress.Store(start)
	var senders sync.WaitGroup
	for p := 0; p < cfg.Pairs; p++ {
		senders.Add(1)
		go func() {
			defer senders.Done()
			r.sender(ph, p, start, end)
		}()
	}
	sendersDone := make(chan struct{})
	go func() { senders.Wait(); close(sendersDone) }()
	r.senders = append(r.senders, sendersDone)
	settled := func() bool {
		select {
		case <-sendersDone:
			return ph.delivered.Load()+ph.errors.Load()*int64(ph.fanout) >= ph.sent.Load()*int64(ph.fanout)
		default:
			return false
		}
	}

	rep := PhaseReport{Name: ph.name(), Rate: ph.rate}
	if ph.rate == 0 {
		rep.Window = ph.window
	}
	var cpu0, cpu1 cpuSample
	var push0, push1 int64 // the sink's count at the window's ends
	pushes := func() int64 {
		if cfg.sink == nil {
			return 0
		}
		return cfg.sink.Requests()
	}
	var measureEnd int64
	if timed {
		cpu0 = r.sleepUntilCPU(ctx, ph.mStart.Load())
		push0 = pushes()
		cpu1 = r.sleepUntilCPU(ctx, end)
		push1 = pushes()
		measureEnd = end
		rep.Measured = ph.inWindow.Load()
		// The drain: up to Drain after the window for what is in flight.
		// An open-loop sender that fell behind still sends what was due
		// before the end (late, and charged for it) meanwhile.
		deadline := end + int64(cfg.Drain)
		for !settled() && r.now() < deadline && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		close(ph.stop)
	} else {
		cpu0 = sampleCPU(cfg.ServerPID)
		push0 = pushes()
		// Until everything is delivered, or nothing arrived for Drain.
		for !settled() && ctx.Err() == nil && r.now()-ph.lastProgress.Load() < int64(cfg.Drain) {
			time.Sleep(2 * time.Millisecond)
		}
		cpu1 = sampleCPU(cfg.ServerPID)
		push1 = pushes()
		measureEnd = r.now()
		if settled() {
			measureEnd = ph.lastProgress.Load()
		}
		rep.Measured = ph.delivered.Load()
		close(ph.stop)
	}
	ph.closed.Store(true)
	select {
	case <-sendersDone:
	case <-time.After(time.Second):
		// A sender still blocked in a write after the drain: the server
		// stopped reading. Its connection is unusable (a stanza is half
		// written), so the run ends here; runChat's closing of the
		// connections releases it.
		rep.Aborted = "a sender was still blocked writing to the server after the drain"
	}
	if ctx.Err() != nil && rep.Aborted == "" {
		rep.Aborted = ctx.Err().Error()
	}

	if timed {
		rep.Seconds = cfg.Duration.Seconds()
	} else {
		rep.Seconds = float64(measureEnd-start) / 1e9
	}
	rep.Offered = ph.offered.Load()
	rep.Sent, rep.Delivered, rep.Errors, rep.Late = ph.sent.Load(), ph.delivered.Load(), ph.errors.Load(), ph.late.Load()
	rep.Lost = rep.Sent*int64(ph.fanout) - rep.Delivered
	if rep.Seconds > 0 {
		rep.DeliveredRate = float64(rep.Measured) / rep.Seconds
	}
	if cfg.ServerPID > 0 && rep.Measured > 0 && cpu1.server > cpu0.server {
		rep.CPUMsPer1000 = (cpu1.server - cpu0.server) * 1000 / (float64(rep.Measured) / 1000)
	}
	rep.ToolCPU, rep.OtherCPU = cpu1.since(cpu0)
	rep.StanzaBytes = int(ph.maxBytes.Load())
	rep.Pushes = push1 - push0
	var all []int64
	for p := range ph.rec {
		ph.rec[p].mu.Lock()
		all = append(all, ph.rec[p].lat...)
		ph.rec[p].mu.Unlock()
	}
	if len(all) > 0 {
		slices.Sort(all)
		q := func(f float64) time.Duration { return time.Duration(all[min(len(all)-1, int(float64(len(all))*f))]) }
		rep.P50, rep.P90, rep.P99, rep.Max = q(0.50), q(0.90), q(0.99), time.Duration(all[len(all)-1])
	}
	if rep.Aborted == "" { // the senders are done: their lag slices are theirs no more
		var lag []int64
		for _, l := range ph.lag {
			lag = append(lag, l...)
		}
		if len(lag) > 0 {
			slices.Sort(lag)
			rep.SendLagP99 = time.Duration(lag[min(len(lag)-1, len(lag)*99/100)])
		}
	}
	return rep
}

// sleepUntilCPU sleeps until t (ns since t0) and samples the CPU times
// then.
func (r *chatRun) sleepUntilCPU(ctx context.Context, t int64) cpuSample {
	if d := t - r.now(); d > 0 {
		select {
		case <-time.After(time.Duration(d)):
		case <-ctx.Done():
		}
	}
	return sampleCPU(r.cfg.ServerPID)
}
