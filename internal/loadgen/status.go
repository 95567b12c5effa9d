package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/xmpp"
)

// StatusConfig drives the status fan-out scenario against a running
// Parley server: Watchers sessions each subscribe (status streaming,
// REALTIME.md §16.3) to the same Watched users, who are offline; then the
// watched users come online one after another, and the run measures how
// long each one's "online" push takes to reach every watcher.
//
// The connection fields of the embedded XMPPConfig apply (APIURL, WSURL,
// Transport, XMPPAddr, AppID, AuthKey, Domain, LoginPrefix,
// LoginConcurrency, LoginTimeout, ServerPID); its chat fields do not.
type StatusConfig struct {
	XMPPConfig
	Watchers int // sessions that subscribe, one user each
	Watched  int // users every watcher subscribes to
	// Wait bounds how long one watched user's pushes may take to arrive
	// (all of them): a push not in by then is missing, and the run fails.
	Wait time.Duration
	// Quiet is how long the run waits after the subscriptions before the
	// first watched user comes online: the pushes a server may send right
	// after a subscribe (§16.3) arrive then and are not counted.
	Quiet time.Duration
}

// StatusReport is what a status run measured. Latencies run from the
// moment a watched user's initial presence was written (just before the
// write) to the moment a watcher's reader had the push.
type StatusReport struct {
	Transport   string  `json:"transport"`
	Watchers    int     `json:"watchers"`
	Watched     int     `json:"watched"`
	ConnectRate float64 `json:"logins_per_second"`
	// SubscribeSeconds is how long the Watchers*Watched subscriptions
	// took, answers included.
	SubscribeSeconds float64 `json:"subscribe_seconds"`
	// Expected is Watchers*Watched pushes; Received those that arrived
	// within the wait; Missing the rest.
	Expected int64 `json:"expected"`
	Received int64 `json:"received"`
	Missing  int64 `json:"missing"`
	// Other counts pushes outside the measurement: before a watched user
	// came online (after a subscribe), with seconds other than 0, repeats,
	// or from users not watched.
	Other int64         `json:"other_pushes"`
	P50   time.Duration `json:"p50_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns"`
	// CPUMsPerUser is the server's CPU time (user+system) from the first
	// presence to the last push, per watched user coming online (one
	// fan-out to every watcher); 0 without ServerPID.
	CPUMsPerUser float64             `json:"server_cpu_ms_per_fanout"`
	Users        []StatusWatchedUser `json:"users"`
}

// StatusWatchedUser is one watched user's fan-out.
type StatusWatchedUser struct {
	JID      string        `json:"jid"`
	Received int64         `json:"received"`
	P50      time.Duration `json:"p50_ns"`
	P99      time.Duration `json:"p99_ns"`
	Max      time.Duration `json:"max_ns"`
	// Seconds is from the presence to the last push (or the end of the
	// wait).
	Seconds float64 `json:"seconds"`
}

// statusPush reads a status streaming update (§16.3): an IQ result with
// a jabber:iq:last query and the watched user's JID in from. It returns
// that user's bare JID and the seconds; ok is false for anything else.
func statusPush(el *xmpp.Element) (from string, seconds int64, ok bool) {
	if el.Name != "iq" || el.Attr("type") != "result" || el.Attr("from") == "" {
		return "", 0, false
	}
	q := el.Child("query", xmpp.NSLast)
	if q == nil || xmpp.Namespace(q, "") != xmpp.NSLast {
		return "", 0, false
	}
	s, err := strconv.ParseInt(q.Attr("seconds"), 10, 64)
	if err != nil || s < 0 {
		return "", 0, false
	}
	from, _, _ = strings.Cut(el.Attr("from"), "/")
	return from, s, true
}

// quantiles returns the p50, p99 and maximum of sorted durations in
// nanoseconds, picked as the load tool's chat phases pick them: the
// element at index n*q (at most the last), no interpolation.
func quantiles(sorted []int64) (p50, p99, top time.Duration) {
	n := len(sorted)
	if n == 0 {
		return 0, 0, 0
	}
	q := func(f float64) time.Duration { return time.Duration(sorted[min(n-1, int(float64(n)*f))]) }
	return q(0.50), q(0.99), time.Duration(sorted[n-1])
}

// subscribeIQ subscribes the session to jid's status (enable="true").
func subscribeIQ(id, jid string) []byte {
	iq := xmpp.NewElement("iq", "xmlns", xmpp.NSClient, "type", "set", "id", id)
	iq.AppendChild(xmpp.NewElement("subscribe", "xmlns", xmpp.NSStatusStreaming, "user_jid", jid, "enable", "true"))
	return iq.Encode()
}

// statusRun is the measurement state the watchers' readers share with
// the run: per watched user, when its presence was written and how many
// watchers have its push; per watcher and watched user, when the push
// arrived.
type statusRun struct {
	t0       time.Time
	watched  map[string]int // bare JID -> index
	nWatched int
	start    []atomic.Int64 // per watched user: ns since t0 (+1, so 0 means not yet)
	arrival  []atomic.Int64 // [watcher*nWatched+k]: ns since t0 (+1)
	count    []atomic.Int64 // per watched user
	all      []chan struct{}
	watchers int64
	other    atomic.Int64
}

func (r *statusRun) now() int64 { return int64(time.Since(r.t0)) + 1 }

// handle records a push arriving on watcher w's session.
func (r *statusRun) handle(w int, el *xmpp.Element) {
	at := r.now()
	from, secs, ok := statusPush(el)
	if !ok {
		return // an answer, or not a push
	}
	k, known := r.watched[from]
	if !known || secs != 0 || r.start[k].Load() == 0 || !r.arrival[w*r.nWatched+k].CompareAndSwap(0, at) {
		r.other.Add(1)
		return
	}
	if r.count[k].Add(1) == r.watchers {
		close(r.all[k])
	}
}

// RunStatus signs up the watchers and the watched users over REST, logs
// the watchers in (available), subscribes each to every watched user,
// connects the watched users without presence, waits Quiet, then brings
// them online one at a time (initial presence), each after the previous
// one's pushes are all in or its Wait ran out. It fails when a push is
// missing. Every goroutine it starts has ended when it returns.
func RunStatus(ctx context.Context, cfg StatusConfig, progress io.Writer) (*StatusReport, error) {
	switch {
	case cfg.Watchers < 1 || cfg.Watched < 1:
		return nil, errors.New("at least one watcher and one watched user")
	case cfg.Accounts != nil:
		return nil, errors.New("status streaming is Parley's: the users are signed up over its REST API")
	}
	if err := cfg.connDefaults(); err != nil {
		return nil, err
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 30 * time.Second
	}
	if cfg.Quiet < 0 {
		cfg.Quiet = 0
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg.runCtx = ctx
	xc := &cfg.XMPPConfig

	accounts, err := signUp(ctx, xc, cfg.Watched+cfg.Watchers, progress)
	if err != nil {
		return nil, err
	}
	watched, watchers := accounts[:cfg.Watched], accounts[cfg.Watched:]
	rep := &StatusReport{Transport: cfg.Transport, Watchers: cfg.Watchers, Watched: cfg.Watched,
		Expected: int64(cfg.Watchers) * int64(cfg.Watched)}
	start := time.Now()
	clients, err := connectAll(ctx, xc, watchers, progress)
	if err != nil {
		return nil, err
	}
	defer closeAll(clients)
	rep.ConnectRate = float64(len(clients)) / time.Since(start).Seconds()

	// Subscribe, pipelined per session: every request, then every answer.
	subs := make([][]byte, cfg.Watched)
	for k, a := range watched {
		subs[k] = subscribeIQ("sub-"+strconv.Itoa(k), a.JID)
	}
	start = time.Now()
	err = eachConn(ctx, xc, clients, "subscribed", progress, func(i int, c conn) error {
		for _, s := range subs {
			if err := c.send(s); err != nil {
				return err
			}
		}
		for k := range subs {
			if _, err := awaitIQ(c, "sub-"+strconv.Itoa(k)); err != nil {
				return fmt.Errorf("subscription of %s to %s: %w", watchers[i].JID, watched[k].JID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep.SubscribeSeconds = time.Since(start).Seconds()

	// The watched users' sessions, bound but not yet available.
	wconns := make([]conn, cfg.Watched)
	defer closeAll(wconns)
	for k, a := range watched {
		if wconns[k], err = loginAs(ctx, xc, a, time.Now().Add(cfg.LoginTimeout), false); err != nil {
			return nil, err
		}
	}

	r := &statusRun{t0: time.Now(), watched: map[string]int{}, nWatched: cfg.Watched,
		start: make([]atomic.Int64, cfg.Watched), arrival: make([]atomic.Int64, cfg.Watchers*cfg.Watched),
		count: make([]atomic.Int64, cfg.Watched), all: make([]chan struct{}, cfg.Watched), watchers: int64(cfg.Watchers)}
	for k, a := range watched {
		r.watched[a.JID] = k
		r.all[k] = make(chan struct{})
	}
	var readers sync.WaitGroup
	defer func() {
		// Closing the connections ends their readers.
		closeAll(clients)
		closeAll(wconns)
		readers.Wait()
	}()
	for w, c := range clients {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				el, err := c.recv()
				if err != nil {
					return
				}
				r.handle(w, el)
			}
		}()
	}
	for _, c := range wconns {
		// Whatever the watched sessions get (their presence's echo) is
		// read and dropped, so nothing backs up.
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				if _, err := c.recv(); err != nil {
					return
				}
			}
		}()
	}
	select {
	case <-time.After(cfg.Quiet):
	case <-ctx.Done():
		return nil, ctx.Err()
	}

	presence := []byte(`<presence xmlns='jabber:client'/>`)
	cpu0 := cpuSeconds(cfg.ServerPID)
	ends := make([]int64, cfg.Watched)
	for k, c := range wconns {
		// The start is taken before the write: a push cannot be
		// recorded before its user's start is known.
		r.start[k].Store(r.now())
		if err := c.send(presence); err != nil {
			return nil, fmt.Errorf("presence of %s: %w", watched[k].JID, err)
		}
		timer := time.NewTimer(cfg.Wait)
		select {
		case <-r.all[k]:
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		}
		timer.Stop()
		ends[k] = r.now()
		fmt.Fprintf(progress, "\ronline      %6d/%d  pushes %d/%d", k+1, cfg.Watched, r.count[k].Load(), cfg.Watchers)
	}
	fmt.Fprintln(progress)
	if cfg.ServerPID > 0 {
		if cpu1 := cpuSeconds(cfg.ServerPID); cpu1 > cpu0 {
			rep.CPUMsPerUser = (cpu1 - cpu0) * 1000 / float64(cfg.Watched)
		}
	}

	// Readers may still be recording (a late push): the figures are the
	// pushes in by each user's end.
	var all []int64
	for k := range watched {
		s := r.start[k].Load()
		var lat []int64
		for w := range cfg.Watchers {
			if a := r.arrival[w*cfg.Watched+k].Load(); a != 0 && a <= ends[k] {
				lat = append(lat, a-s)
			}
		}
		slices.Sort(lat)
		u := StatusWatchedUser{JID: watched[k].JID, Received: int64(len(lat)), Seconds: float64(ends[k]-s) / 1e9}
		u.P50, u.P99, u.Max = quantiles(lat)
		rep.Users = append(rep.Users, u)
		rep.Received += u.Received
		all = append(all, lat...)
	}
	slices.Sort(all)
	rep.P50, rep.P99, rep.Max = quantiles(all)
	rep.Missing = rep.Expected - rep.Received
	rep.Other = r.other.Load()
	if rep.Missing > 0 {
		return rep, fmt.Errorf("%d of %d pushes missing after waiting %v for each watched user", rep.Missing, rep.Expected, cfg.Wait)
	}
	return rep, nil
}
