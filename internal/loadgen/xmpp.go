package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// XMPPConfig drives a real-time load run against a running server: Parley
// (users signed up over REST, JIDs {id}-{app}@domain) or any standard XMPP
// server (existing accounts, such as the user1..userN of bench-peers).
type XMPPConfig struct {
	APIURL  string // REST base URL, for creating the users
	WSURL   string // XMPP over WebSocket
	AppID   int64
	AuthKey string
	Domain  string

	// Transport is "ws" (XMPP over WebSocket at WSURL, the default) or
	// "tcp" (RFC 6120 c2s at XMPPAddr, host:port, without TLS).
	Transport string
	XMPPAddr  string
	// Accounts, when set, are existing accounts to log in as (the first
	// Conns of them) instead of users signed up over REST.
	Accounts []Account
	// LoginPrefix names the users signed up over REST: LoginPrefix+index,
	// password SignupPassword. Empty means a fresh random prefix, so that
	// runs against one data dir do not collide.
	LoginPrefix string

	Conns    int           // connections to open and hold
	Pairs    int           // of those, pairs that chat (2 per pair: sender i, receiver i+Pairs)
	Messages int           // count-based phases: messages each sender sends
	Window   int           // closed loop: messages a sender may have in flight
	Drain    time.Duration // how long to wait for stragglers
	// NoHistory sends messages without <extraParams><save_to_history>:
	// Parley routes them and stores nothing, like the peer servers.
	NoHistory bool
	// Markers has each receiver answer every message with a 'received'
	// chat marker (XEP-0333) naming its id and dialog, as the SDK does
	// with automatic 'delivered' status; the server records it and routes
	// it to the sender.
	Markers bool
	// GroupSize, from 3 up, makes each pair a group dialog of that many
	// members instead: sender i and GroupSize-1 receivers (the connections
	// after the senders, in order), created over REST, where the sender
	// posts groupchat messages to the room. Every receiver's copy counts
	// as a delivery (latency from the send); the sender's echo gives its
	// closed-loop window back. 0: 1-1 pairs. Parley only (not --peer).
	GroupSize int
	// Rates are the chat phases, run one after another over the same
	// sessions: 0 is a closed loop (Window messages in flight per sender,
	// which saturates the server), N > 0 an open loop offering N messages
	// per second across all senders, each on a fixed schedule, latency
	// counted from the scheduled send time (so a server that falls behind
	// is charged for the whole delay, not just for the messages it let
	// through). Empty means one closed-loop phase.
	Rates []float64
	// Duration > 0 makes every phase time-based: Warmup, then Duration
	// measured (delivery rate, latency of the messages scheduled in it,
	// server CPU), then at most Drain for the last deliveries. Otherwise
	// each sender sends Messages and the whole phase is measured.
	Warmup, Duration time.Duration
	// LoginConcurrency is how many logins are in flight (default 50).
	LoginConcurrency int
	// LoginTimeout bounds one login (default 30 s).
	LoginTimeout time.Duration
	// PrivacyItems, when positive (and even), gives every session's user
	// a default privacy list of that many items before the chat starts, in
	// the SDK's shape: a one-way block of PrivacyItems/2 users, two items
	// each (REALTIME.md §18.2). The blocked users are extra users signed
	// up for it that never connect, so the lists block nothing in the run
	// while the server checks every stanza against a full list. Parley
	// only (users signed up over REST).
	PrivacyItems int
	// PushAlerts has every session's user subscribe to Web Push at a sink
	// the run starts in the load tool (PushSink) before the chat, and every
	// session mark itself inactive (XEP-0352) right after its initial
	// presence: every recipient then counts as away, so the server pushes
	// a chat alert for every message delivered while still delivering it
	// live (REALTIME.md §16.4, §20.4). Parley only (users signed up over
	// REST); the app needs VAPID keys.
	PushAlerts bool
	// PushSinkDelay holds each of the sink's answers this long: a slow
	// push provider.
	PushSinkDelay time.Duration
	// StanzaBytes pads every chat stanza's body to make the stanza this
	// long (when it is shorter), so that every server and mode carries the
	// same bytes; 0 sends no padding.
	StanzaBytes int

	// ServerPID, when set, is read for the server's memory (VmRSS) before
	// and after the connections open, and for its CPU time (utime+stime)
	// over each measured window.
	ServerPID int
	// Settle is how long the connections are held idle before the
	// server's memory is read: the garbage of the login burst (password
	// checks, queries) is in RSS until the Go runtime returns it to the
	// OS, which takes tens of seconds.
	Settle time.Duration

	runCtx context.Context // the run's context, for WebSocket reads and writes
	sink   *PushSink       // the run's push sink, with PushAlerts
}

// SignupPassword is the password of the users RunXMPP signs up.
const SignupPassword = "load-password-1"

// XMPPReport is what a run measured. Sent through P99 repeat the first
// phase's figures.
type XMPPReport struct {
	Transport     string  `json:"transport"`
	Conns         int     `json:"conns"`
	ConnectRate   float64 `json:"logins_per_second"`
	RSSPerConnKiB float64 `json:"rss_per_conn_kib"` // server memory per held connection, 0 when not measured
	// RSSBeforeKiB and RSSAfterKiB are the server's VmRSS before the
	// logins and after Settle with every connection held.
	RSSBeforeKiB   int64         `json:"rss_before_kib"`
	RSSAfterKiB    int64         `json:"rss_after_kib"`
	Sent           int64         `json:"sent"`
	Delivered      int64         `json:"delivered"`
	Lost           int64         `json:"lost"`
	DeliveredRate  float64       `json:"delivered_per_second"`
	P50            time.Duration `json:"p50_ns"`
	P99            time.Duration `json:"p99_ns"`
	ConnectSeconds float64       `json:"connect_seconds"`
	// PrivacyItems is the length of every user's default block list (0:
	// none); BlockListSeconds how long setting them all took.
	PrivacyItems     int     `json:"privacy_items"`
	BlockListSeconds float64 `json:"block_list_seconds,omitempty"`
	// With PushAlerts: PushSetupSeconds is how long creating every user's
	// subscription took (a REST login and a POST each); PushesExpected
	// the alerts the run called for (every copy delivered, all recipients
	// being inactive); PushesRun what the sink had received when the chat
	// ended, PushesDrained after waiting at most Drain more for the rest
	// (alerts are sent after delivery, asynchronously); PushBytes their
	// bodies' bytes.
	PushAlerts       bool          `json:"push_alerts,omitempty"`
	PushSinkDelayNs  int64         `json:"push_sink_delay_ns,omitempty"`
	PushSetupSeconds float64       `json:"push_setup_seconds,omitempty"`
	PushesExpected   int64         `json:"pushes_expected"`
	PushesRun        int64         `json:"pushes_run"`
	PushesDrained    int64         `json:"pushes_drained"`
	PushBytes        int64         `json:"push_bytes,omitempty"`
	ChatSeconds      float64       `json:"chat_seconds"`
	Phases           []PhaseReport `json:"phases"`
}

// PhaseReport is one chat phase.
type PhaseReport struct {
	Name   string  `json:"name"`
	Rate   float64 `json:"offered_per_second"` // open loop; 0 for a closed loop
	Window int     `json:"window"`             // closed loop: in flight per sender
	// Seconds is the measured window: Duration, or the whole phase when
	// count-based.
	Seconds float64 `json:"seconds"`
	// Offered is how many messages the open-loop schedule held (warm-up
	// included); Sent fewer means the senders could not keep up.
	Offered   int64 `json:"offered"`
	Sent      int64 `json:"sent"`
	Delivered int64 `json:"delivered"`
	// Lost is Sent minus Delivered after the drain (bounced ones included).
	Lost   int64 `json:"lost"`
	Errors int64 `json:"errors"` // bounced as type='error'
	Late   int64 `json:"late"`   // arrived after the drain (counted lost)
	// Measured is the deliveries that arrived within the window;
	// DeliveredRate is Measured per second of the window.
	Measured      int64         `json:"measured"`
	DeliveredRate float64       `json:"delivered_per_second"`
	P50           time.Duration `json:"p50_ns"`
	P90           time.Duration `json:"p90_ns"`
	P99           time.Duration `json:"p99_ns"`
	Max           time.Duration `json:"max_ns"`
	// SendLagP99 is how late (p99) the open-loop senders sent against
	// their schedule: the load tool's own delay (or the server's
	// back-pressure), included in the latencies above.
	SendLagP99 time.Duration `json:"send_lag_p99_ns"`
	// CPUMsPer1000 is the server's CPU time (user+system) over the window
	// per 1,000 messages delivered in it; 0 without ServerPID.
	CPUMsPer1000 float64 `json:"cpu_ms_per_1000"`
	// ToolCPU is the load tool's own CPU use over the window, in cores:
	// near 1 with the tool pinned to one core means the tool, not the
	// server, set the pace. OtherCPU is what the rest of the machine used
	// (neither the server nor the tool), in cores: other work sharing the
	// machine, which the figures of this phase then include.
	ToolCPU     float64 `json:"tool_cpu_cores"`
	OtherCPU    float64 `json:"other_cpu_cores"`
	StanzaBytes int     `json:"stanza_bytes"` // the longest chat stanza sent
	// Pushes is what the push sink received within the measured window
	// (PushAlerts only).
	Pushes int64 `json:"pushes,omitempty"`
	// Aborted says why the run stopped after this phase, if it did.
	Aborted string `json:"aborted,omitempty"`
}

// signUp creates n users through REST with the app's auth key and returns
// them as accounts {id}-{app}@domain.
func signUp(ctx context.Context, cfg *XMPPConfig, n int, progress io.Writer) ([]Account, error) {
	prefix := cfg.LoginPrefix
	if prefix == "" {
		prefix = fmt.Sprintf("load%d_", time.Now().UnixNano()%1e9)
	}
	accounts := make([]Account, n)
	var next atomic.Int64
	var done atomic.Int64
	errc := make(chan error, 8)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				body, _ := json.Marshal(map[string]any{"user": map[string]any{"login": prefix + strconv.Itoa(i), "password": SignupPassword}})
				req, _ := http.NewRequestWithContext(ctx, "POST", cfg.APIURL+"/users.json", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("CB-AuthKey", cfg.AuthKey)
				resp, err := client.Do(req)
				if err != nil {
					errc <- err
					return
				}
				var out struct {
					User struct{ ID int64 } `json:"user"`
				}
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusCreated {
					errc <- fmt.Errorf("sign up: status %d, %v", resp.StatusCode, err)
					return
				}
				accounts[i] = Account{JID: fmt.Sprintf("%d-%d@%s", out.User.ID, cfg.AppID, cfg.Domain), Password: SignupPassword,
					Login: prefix + strconv.Itoa(i), ID: out.User.ID}
				if d := done.Add(1); d%500 == 0 || int(d) == n {
					fmt.Fprintf(progress, "\rusers       %6d/%d", d, n)
				}
			}
		}()
	}
	wg.Wait()
	fmt.Fprintln(progress)
	select {
	case err := <-errc:
		return nil, err
	default:
	}
	return accounts, nil
}

// connectAll logs the accounts in, LoginConcurrency at a time; on the
// first failure it stops and closes what it opened.
func connectAll(ctx context.Context, cfg *XMPPConfig, accounts []Account, progress io.Writer) ([]conn, error) {
	clients := make([]conn, len(accounts))
	err := inParallel(ctx, cfg.LoginConcurrency, len(accounts), "connections", progress, func(ctx context.Context, i int) error {
		c, err := login(ctx, cfg, accounts[i], time.Now().Add(cfg.LoginTimeout))
		clients[i] = c
		return err
	})
	if err != nil {
		closeAll(clients)
		return nil, err
	}
	return clients, nil
}

// eachConn runs fn on every connection, LoginConcurrency at a time, each
// call bounded by LoginTimeout (fn exchanges stanzas while no reader runs
// on its connection: the passes between the logins and the measurement,
// such as setting privacy lists or subscribing). It stops at the first
// failure and returns it; progress gets one line a second, labelled.
func eachConn(ctx context.Context, cfg *XMPPConfig, clients []conn, label string, progress io.Writer, fn func(i int, c conn) error) error {
	return inParallel(ctx, cfg.LoginConcurrency, len(clients), label, progress, func(_ context.Context, i int) error {
		c := clients[i]
		return withDeadline(cfg, c, time.Now().Add(cfg.LoginTimeout), func() error { return fn(i, c) })
	})
}

// inParallel runs fn(0..n-1), workers at a time, until the first failure,
// which cancels the context the others run with and is returned (or the
// caller's context's error); progress gets one line a second, labelled,
// with the count done and the rate.
func inParallel(ctx context.Context, workers, n int, label string, progress io.Writer, fn func(ctx context.Context, i int) error) error {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	var next, done atomic.Int64
	var once sync.Once
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(lctx, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
				done.Add(1)
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	line := func() {
		d := done.Load()
		fmt.Fprintf(progress, "\r%-11s %6d/%d  %6.0f/s", label, d, n, float64(d)/time.Since(start).Seconds())
	}
	for wait := true; wait; {
		select {
		case <-tick.C:
			line()
		case <-finished:
			wait = false
		}
	}
	line()
	fmt.Fprintln(progress)
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

func closeAll(clients []conn) {
	for _, c := range clients {
		if c != nil {
			c.close()
		}
	}
}

// connDefaults checks the transport and fills in the connection settings
// every scenario shares (ws, 50 logins in flight, 30 s a login).
func (cfg *XMPPConfig) connDefaults() error {
	switch cfg.Transport {
	case "":
		cfg.Transport = "ws"
	case "ws", "tcp":
	default:
		return fmt.Errorf("transport %q: want ws or tcp", cfg.Transport)
	}
	if cfg.LoginConcurrency <= 0 {
		cfg.LoginConcurrency = 50
	}
	if cfg.LoginTimeout <= 0 {
		cfg.LoginTimeout = 30 * time.Second
	}
	return nil
}

// RunXMPP signs the users up (or takes the given accounts), opens the
// connections (measuring the login rate and, with a server PID, the server
// memory they hold), then runs the chat phases between the pairs and
// measures delivery rate, latency, losses and the server's CPU time per
// message. Progress goes to progress once a second. Every wait is bounded
// (LoginTimeout per login, Drain per phase), and every goroutine it starts
// has ended when it returns.
func RunXMPP(ctx context.Context, cfg XMPPConfig, progress io.Writer) (*XMPPReport, error) {
	switch {
	case cfg.GroupSize == 0 && cfg.Pairs*2 > cfg.Conns:
		return nil, errors.New("pairs need two connections each: --pairs at most --conns/2")
	case cfg.GroupSize != 0 && cfg.GroupSize < 3:
		return nil, errors.New("a group needs at least 3 members (2 is a pair)")
	case cfg.GroupSize != 0 && cfg.Pairs*cfg.GroupSize > cfg.Conns:
		return nil, fmt.Errorf("%d groups of %d need %d connections", cfg.Pairs, cfg.GroupSize, cfg.Pairs*cfg.GroupSize)
	case cfg.GroupSize != 0 && cfg.Accounts != nil:
		return nil, errors.New("groups are created over Parley's REST API: not with peer accounts")
	case cfg.GroupSize != 0 && cfg.Markers:
		return nil, errors.New("markers are sent in 1-1 chat only")
	case cfg.PrivacyItems < 0 || cfg.PrivacyItems%2 != 0:
		return nil, fmt.Errorf("privacy items %d: the SDK writes two per blocked user, so an even number, 0 or more", cfg.PrivacyItems)
	case cfg.PrivacyItems > 0 && cfg.Accounts != nil:
		return nil, errors.New("block lists name users signed up over Parley's REST API: not with peer accounts")
	case cfg.PushAlerts && cfg.Accounts != nil:
		return nil, errors.New("push subscriptions are created over Parley's REST API: not with peer accounts")
	case cfg.PushSinkDelay < 0 || (cfg.PushSinkDelay > 0 && !cfg.PushAlerts):
		return nil, errors.New("a push sink delay needs push alerts, and must not be negative")
	}
	if err := cfg.connDefaults(); err != nil {
		return nil, err
	}
	if cfg.Window <= 0 {
		cfg.Window = 10
	}
	if cfg.Drain <= 0 {
		cfg.Drain = 10 * time.Second
	}
	if cfg.Duration <= 0 && cfg.Messages <= 0 {
		return nil, errors.New("give either a duration or a number of messages per sender")
	}
	if len(cfg.Rates) == 0 {
		cfg.Rates = []float64{0}
	}
	for _, r := range cfg.Rates {
		if r < 0 {
			return nil, fmt.Errorf("rate %v: must not be negative", r)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg.runCtx = ctx

	accounts := cfg.Accounts
	var outsiders []int64 // the users the block lists name
	if accounts == nil {
		var err error
		if accounts, err = signUp(ctx, &cfg, cfg.Conns+cfg.PrivacyItems/2, progress); err != nil {
			return nil, err
		}
		for _, a := range accounts[cfg.Conns:] {
			outsiders = append(outsiders, a.ID)
		}
		accounts = accounts[:cfg.Conns]
	} else if len(accounts) < cfg.Conns {
		return nil, fmt.Errorf("%d accounts for %d connections", len(accounts), cfg.Conns)
	}
	rep := &XMPPReport{Transport: cfg.Transport, Conns: cfg.Conns, PrivacyItems: cfg.PrivacyItems,
		PushAlerts: cfg.PushAlerts, PushSinkDelayNs: int64(cfg.PushSinkDelay)}
	if cfg.PushAlerts {
		sink, err := StartPushSink(cfg.PushSinkDelay)
		if err != nil {
			return nil, fmt.Errorf("push sink: %w", err)
		}
		defer sink.Close()
		cfg.sink = sink
	}
	rss0 := rssKiB(cfg.ServerPID)
	start := time.Now()
	clients, err := connectAll(ctx, &cfg, accounts[:cfg.Conns], progress)
	if err != nil {
		return nil, err
	}
	defer closeAll(clients)
	rep.ConnectSeconds = time.Since(start).Seconds()
	rep.ConnectRate = float64(cfg.Conns) / rep.ConnectSeconds
	if cfg.ServerPID > 0 {
		settle := cfg.Settle
		if settle <= 0 {
			settle = 2 * time.Second
		}
		// Held idle: let the server's heap settle before reading its RSS.
		select {
		case <-time.After(settle):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		rss1 := rssKiB(cfg.ServerPID)
		rep.RSSBeforeKiB, rep.RSSAfterKiB = rss0, rss1
		if rss1 > rss0 && cfg.Conns > 0 {
			rep.RSSPerConnKiB = float64(rss1-rss0) / float64(cfg.Conns)
		}
	}
	if len(outsiders) > 0 {
		// After the memory is read, so that the figure is the same idle
		// sessions' as without lists (the garbage of parsing the lists
		// would stay in RSS for tens of seconds), before the chat.
		start := time.Now()
		if err := setBlockLists(ctx, &cfg, clients, outsiders, progress); err != nil {
			return nil, err
		}
		rep.BlockListSeconds = time.Since(start).Seconds()
	}
	if cfg.sink != nil {
		// Like the block lists: after the memory is read, before the chat.
		start := time.Now()
		if err := subscribeAll(ctx, &cfg, accounts, cfg.sink.URL(), progress); err != nil {
			return nil, err
		}
		rep.PushSetupSeconds = time.Since(start).Seconds()
	}
	if cfg.Pairs == 0 {
		return rep, nil
	}
	chatStart := time.Now()
	phases, err := runChat(ctx, &cfg, clients, accounts, progress)
	rep.Phases = phases
	rep.ChatSeconds = time.Since(chatStart).Seconds()
	if len(phases) > 0 {
		p := phases[0]
		rep.Sent, rep.Delivered, rep.Lost, rep.DeliveredRate, rep.P50, rep.P99 = p.Sent, p.Delivered, p.Lost, p.DeliveredRate, p.P50, p.P99
	}
	if cfg.sink != nil {
		for _, p := range phases {
			rep.PushesExpected += p.Delivered
		}
		rep.PushesRun = cfg.sink.Requests()
		rep.PushesDrained = awaitPushes(ctx, cfg.sink, rep.PushesExpected, cfg.Drain)
		rep.PushBytes = cfg.sink.Bytes()
	}
	return rep, err
}

// createGroups creates group p's dialog over REST, owned by its sender,
// with its receivers as occupants, and returns the dialogs' ids.
func createGroups(ctx context.Context, cfg *XMPPConfig, accounts []Account) ([]string, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	call := func(path, token string, in any, out any) error {
		body, err := json.Marshal(in)
		if err != nil {
			return err
		}
		return postJSON(ctx, client, cfg.APIURL+path, token, body, out)
	}
	ids := make([]string, cfg.Pairs)
	for p := range ids {
		owner := accounts[p]
		var sess struct {
			Session struct{ Token string } `json:"session"`
		}
		if err := call("/session.json", "", map[string]any{"application_id": cfg.AppID, "auth_key": cfg.AuthKey,
			"user": map[string]any{"login": owner.Login, "password": owner.Password}}, &sess); err != nil {
			return nil, fmt.Errorf("group %d: %w", p, err)
		}
		var occupants []int64
		for _, r := range groupReceivers(cfg, p) {
			occupants = append(occupants, accounts[r].ID)
		}
		var d struct {
			ID string `json:"_id"`
		}
		if err := call("/chat/Dialog.json", sess.Session.Token, map[string]any{"type": 2, "name": fmt.Sprintf("load group %d", p),
			"occupants_ids": occupants}, &d); err != nil {
			return nil, fmt.Errorf("group %d: %w", p, err)
		}
		ids[p] = d.ID
	}
	return ids, nil
}

// groupReceivers are the connections of group p other than its sender.
func groupReceivers(cfg *XMPPConfig, p int) []int {
	var out []int
	for k := 0; k < cfg.GroupSize-1; k++ {
		out = append(out, cfg.Pairs+p*(cfg.GroupSize-1)+k)
	}
	return out
}
