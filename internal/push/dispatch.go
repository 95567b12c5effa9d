package push

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// DispatchConfig tunes the Dispatcher; zero fields take the defaults.
type DispatchConfig struct {
	// Workers is how many pushes of one channel are in flight at once
	// (16). Each channel has its own, so a provider that hangs holds only
	// its own workers.
	Workers int
	// MaxTries is how many times a push is tried before it is dead (8).
	MaxTries int
	// Timeout bounds one try (15 s).
	Timeout time.Duration
	// Lease is how long a claimed push is this dispatcher's before
	// another may claim it again (a minute; longer than Timeout).
	Lease time.Duration
	// Poll is how often an idle channel looks for due pushes (100 ms).
	Poll time.Duration
	// Backoff is the first retry's delay (1 s), doubled for each further
	// try up to MaxBackoff (1 h), with jitter.
	Backoff, MaxBackoff time.Duration
	// Retention is how long sent and dead pushes stay in the outbox for
	// `parley push status` (24 h).
	Retention time.Duration
	// Chat, when set, is how busy the chat path is; pushes yield to it
	// (see ChatLoad).
	Chat ChatLoad
}

// ChatLoad is the chat's store path, as busy as it is
// (chat.Service.CommitTime: the time its group commits have taken).
//
// Chat is interactive and a push is not: a push that leaves a second later
// is as good, a message that does is not. So once the chat's commits take
// more than half of the wall time (the chat is saturated: senders queue for
// the store), and until they take less than a quarter, each channel claims
// at most a quarter of its workers' worth of pushes per Poll instead of as
// fast as they come free. Pushes keep
// flowing (16 workers: at most 40 a second per channel) and the backlog
// drains at full speed once the chat calms down. Without this, on two
// cores, a push (a Web Push costs two ECDH operations) took CPU from the
// chat one to one: a third of the saturated chat throughput with an alert
// for every message.
type ChatLoad interface {
	CommitTime() time.Duration
}

// pressedAbove is the share of wall time in chat commits over which pushes
// yield, calmBelow the share under which they stop yielding. The gap keeps
// a chat that hovers about one threshold from flipping the rule every
// Poll: a saturated chat of group messages measured between 0.37 and 1.0
// from one Poll to the next, and with one threshold at 0.5 the pushes and
// their expansion went at full speed every other Poll.
const (
	pressedAbove = 0.5
	calmBelow    = 0.25
)

func (c DispatchConfig) withDefaults() DispatchConfig {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.Workers <= 0 {
		c.Workers = 16
	}
	if c.MaxTries <= 0 {
		c.MaxTries = 8
	}
	def(&c.Timeout, 15*time.Second)
	def(&c.Lease, max(time.Minute, 2*c.Timeout))
	def(&c.Poll, 100*time.Millisecond)
	def(&c.Backoff, time.Second)
	def(&c.MaxBackoff, time.Hour)
	def(&c.Retention, 24*time.Hour)
	return c
}

// Apps gives the dispatcher an application's push settings (Service.App).
type Apps interface {
	App(ctx context.Context, appID int64) (*AppPush, error)
}

// Dispatcher sends the outbox: one loop per channel claims due pushes
// (a lease, so a second dispatcher on the same store would not send them
// too), sends each through the channel's provider with at most Workers in
// flight, and records every outcome. A refusal worth retrying is queued
// again with exponential backoff and jitter (at least the provider's
// Retry-After); after MaxTries, or at once for a final refusal, the push
// is dead. A provider that names the subscription invalid deletes it.
//
// Delivery is at least once. A push is marked sent after its provider
// accepted it; a crash between the two leaves it queued, and it is sent
// again once its lease ends (a window of one try plus one batch write).
// The copy carries the same collapse key (Delivery.ID), so the device
// shows it in place of the first.
type Dispatcher struct {
	st        Store
	apps      Apps
	providers map[Channel]Provider
	render    *renderer
	cfg       DispatchConfig
	log       *slog.Logger
	now       func() time.Time

	outcomes chan Outcome
	wake     chan struct{}
	stats    map[Channel]*counters
	// pressed: the chat is saturated, pushes yield (ChatLoad).
	pressed atomic.Bool
}

type counters struct{ sent, retried, dead, gone atomic.Int64 }

// Counts are one channel's outcomes since the dispatcher started.
type Counts struct {
	Channel                   Channel
	Sent, Retried, Dead, Gone int64
}

// NewDispatcher returns a dispatcher for the channels that have a
// provider; the others' pushes stay queued.
func NewDispatcher(st Store, apps Apps, providers map[Channel]Provider, dir Directory, cfg DispatchConfig,
	log *slog.Logger, now func() time.Time) *Dispatcher {
	if now == nil {
		now = time.Now
	}
	cfg = cfg.withDefaults()
	d := &Dispatcher{st: st, apps: apps, providers: providers, render: newRenderer(dir, now), cfg: cfg, log: log,
		now: now, outcomes: make(chan Outcome, 4*cfg.Workers*len(Channels)), wake: make(chan struct{}, 1),
		stats: map[Channel]*counters{}}
	for _, ch := range Channels {
		d.stats[ch] = &counters{}
	}
	return d
}

// Wake makes the channels look for due pushes now rather than at their
// next poll (something was just queued).
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Counts reports each channel's outcomes since start.
func (d *Dispatcher) Counts() []Counts {
	out := make([]Counts, 0, len(Channels))
	for _, ch := range Channels {
		c := d.stats[ch]
		out = append(out, Counts{Channel: ch, Sent: c.sent.Load(), Retried: c.retried.Load(), Dead: c.dead.Load(), Gone: c.gone.Load()})
	}
	return out
}

// Run sends until ctx ends, then waits for the pushes in flight (each
// bounded by Timeout) and records their outcomes.
func (d *Dispatcher) Run(ctx context.Context) {
	var loops sync.WaitGroup
	wakes := map[Channel]chan struct{}{}
	for _, ch := range Channels {
		p := d.providers[ch]
		if p == nil {
			continue
		}
		w := make(chan struct{}, 1)
		wakes[ch] = w
		loops.Go(func() { d.channel(ctx, ch, p, w) })
	}
	loops.Go(func() { d.expander(ctx) })
	finished := make(chan struct{})
	go func() {
		d.finisher()
		close(finished)
	}()
	purge := time.NewTicker(10 * time.Minute)
	defer purge.Stop()
	load := time.NewTicker(d.cfg.Poll)
	defer load.Stop()
	lastBusy, lastAt := d.chatBusy(), time.Now()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case now := <-load.C:
			busy := d.chatBusy()
			if wall := now.Sub(lastAt); wall > 0 {
				switch share := float64(busy-lastBusy) / float64(wall); {
				case share > pressedAbove:
					d.pressed.Store(true)
				case share < calmBelow:
					d.pressed.Store(false)
				}
			}
			lastBusy, lastAt = busy, now
		case <-d.wake:
			for _, w := range wakes {
				select {
				case w <- struct{}{}:
				default:
				}
			}
		case <-purge.C:
			if n, err := d.st.PurgeOutbox(ctx, d.now().Add(-d.cfg.Retention)); err != nil {
				d.log.Warn("purge push outbox", "err", err)
			} else if n > 0 {
				d.log.Debug("purged push outbox", "rows", n)
			}
		}
	}
	loops.Wait()
	close(d.outcomes)
	<-finished
}

// A stored message's chat alerts are stored in its row (the chat's write
// path pays a column, not a push per subscription); the expander turns
// them into outbox rows, expandBatch messages per write transaction (a
// few milliseconds of the writer), every Poll and at once while there is
// more. While the chat is saturated it takes expandPressed per Poll: the
// outbox rows cost the single writer as much as the messages, and the
// alerts are safe in the messages meanwhile.
const (
	expandBatch   = 500
	expandPressed = 50
)

// expander queues the chat alerts stored with messages (Store.ExpandAlerts)
// and wakes the channels when it queued any.
func (d *Dispatcher) expander(ctx context.Context) {
	tick := time.NewTicker(d.cfg.Poll)
	defer tick.Stop()
	for ctx.Err() == nil {
		limit := expandBatch
		if d.pressed.Load() {
			limit = expandPressed
		}
		msgs, queued, err := d.st.ExpandAlerts(ctx, d.now(), limit)
		if err != nil && ctx.Err() == nil {
			d.log.Warn("queue chat alerts", "err", err)
		}
		if queued > 0 {
			d.Wake()
		}
		if err == nil && msgs == limit && limit == expandBatch {
			continue // more are stored
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

// chatBusy is the chat's commit time so far (0 without a ChatLoad).
func (d *Dispatcher) chatBusy() time.Duration {
	if d.cfg.Chat == nil {
		return 0
	}
	return d.cfg.Chat.CommitTime()
}

// channel is one channel's loop: claim as many due pushes as there are
// free workers, send each on a worker of its own, and claim again as soon
// as a worker comes free; sleep for Poll (or until a wake) when nothing is
// due.
func (d *Dispatcher) channel(ctx context.Context, ch Channel, p Provider, wake <-chan struct{}) {
	free := make(chan struct{}, d.cfg.Workers) // a token per idle worker
	for range d.cfg.Workers {
		free <- struct{}{}
	}
	freed := make(chan struct{}, 1) // a worker finished: there is room to claim
	var sends sync.WaitGroup
	defer sends.Wait()
	// Pushes are sent under a context that outlives ctx by one try, so
	// that a shutdown lets the sends in flight finish and be recorded.
	sendCtx := context.WithoutCancel(ctx)
	idle := time.NewTimer(0)
	defer idle.Stop()
	// A claim is a write transaction beside the chat's: with workers
	// busy, wait until a quarter of them are free rather than claim one
	// push per transaction.
	batch := max(1, d.cfg.Workers/4)
	for {
		n := len(free)
		if d.pressed.Load() {
			n = min(n, batch) // the chat is saturated: a few per Poll
		}
		if n < batch && n < d.cfg.Workers {
			// Workers are busy: wait for them, not for the poll.
			select {
			case <-ctx.Done():
				return
			case <-freed:
			}
			continue
		}
		items, err := d.st.ClaimDue(ctx, ch, d.now(), d.cfg.Lease, n)
		if err != nil && ctx.Err() == nil {
			d.log.Warn("claim pushes", "channel", ch, "err", err)
		}
		for _, it := range items {
			<-free
			sends.Go(func() {
				defer func() {
					free <- struct{}{}
					select {
					case freed <- struct{}{}:
					default:
					}
				}()
				d.outcomes <- d.deliver(sendCtx, ch, p, it)
			})
		}
		if len(items) == n && ctx.Err() == nil && !d.pressed.Load() {
			continue // maybe more are due
		}
		idle.Reset(d.cfg.Poll)
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-idle.C:
		}
	}
}

// finisher records outcomes in batches: whatever came while the previous
// batch was being written, so one write transaction carries many.
func (d *Dispatcher) finisher() {
	batch := make([]Outcome, 0, 256)
	for o := range d.outcomes {
		batch = append(batch[:0], o)
	more:
		for len(batch) < cap(batch) {
			select {
			case o, ok := <-d.outcomes:
				if !ok {
					break more
				}
				batch = append(batch, o)
			default:
				break more
			}
		}
		// Recorded even during shutdown: the store outlives the dispatcher.
		if err := d.st.Finish(context.Background(), batch); err != nil {
			// The pushes stay leased and are sent again when the lease
			// ends: at least once, as promised.
			d.log.Error("record push outcomes", "pushes", len(batch), "err", err)
		}
	}
}

// deliver makes one try of one push of channel ch and says what became
// of it. The channel is the loop's, not it.Sub's: a push whose
// subscription was deleted has a zero Sub, and its death still counts.
func (d *Dispatcher) deliver(ctx context.Context, ch Channel, p Provider, it Item) Outcome {
	tries := it.Tries + 1
	o := Outcome{ID: it.ID, AppID: it.AppID, Tries: tries, At: d.now()}
	c := d.stats[ch]
	if it.Sub.ID == 0 {
		o.State, o.Err = Dead, "the subscription was deleted"
		c.dead.Add(1)
		return o
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	del, err := d.delivery(ctx, it)
	if err == nil {
		err = p.Send(ctx, del)
	}
	var retry *RetryError
	switch {
	case err == nil:
		o.State = Sent
		c.sent.Add(1)
	case errors.Is(err, ErrGone):
		o.State, o.Err, o.DeleteSubscription = Dead, err.Error(), it.Sub.ID
		c.gone.Add(1)
		c.dead.Add(1)
	case errors.As(err, &retry) && tries < d.cfg.MaxTries:
		o.State, o.Err, o.NextAt = Queued, err.Error(), o.At.Add(d.backoff(tries, retry.After))
		c.retried.Add(1)
	default:
		o.State, o.Err = Dead, err.Error()
		c.dead.Add(1)
		d.log.Warn("push dead", "id", it.ID, "app", it.AppID, "channel", ch, "tries", tries, "err", err)
	}
	return o
}

// delivery builds what the provider sends: the app's credentials and the
// payload (a rendered chat alert, or the event's message).
func (d *Dispatcher) delivery(ctx context.Context, it Item) (Delivery, error) {
	app, err := d.apps.App(ctx, it.AppID)
	if err != nil {
		return Delivery{}, &RetryError{Err: err}
	}
	del := Delivery{ID: it.ID, Sub: it.Sub, Creds: app.Creds}
	switch it.Kind {
	case KindAlert:
		if app.AlertsOff {
			return del, errAlertsOff
		}
		del.Note, err = d.render.alert(ctx, it, app.Template)
		if err != nil {
			return del, &RetryError{Err: err}
		}
	case KindEvent:
		del.Note, del.Raw, err = DecodeEventMessage(it.Event)
	default:
		err = errors.New("push: unknown kind of push")
	}
	return del, err
}

var errAlertsOff = errors.New("push: chat alerts are off for the application")

// backoff is the delay before try number tries+1: Backoff doubled per
// try made, capped at MaxBackoff, the upper half jittered so that pushes
// refused together do not come back together; never less than the
// provider's Retry-After.
func (d *Dispatcher) backoff(tries int, after time.Duration) time.Duration {
	wait := d.cfg.Backoff << min(tries-1, 30)
	if wait <= 0 || wait > d.cfg.MaxBackoff {
		wait = d.cfg.MaxBackoff
	}
	wait = wait/2 + rand.N(wait/2+1)
	return max(wait, min(after, d.cfg.MaxBackoff))
}
